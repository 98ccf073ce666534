/**
 * The proxy with counters, for `npm run bench`'s cost per call only (never deployed, never timed):
 * the same worker and Durable Object classes as src/index.ts, wrapped so that every Worker request,
 * Durable Object request (RPC call or alarm), storage write (key put or delete, alarm set or delete,
 * each row a deleteAll removes) and log line adds to a counter. `GET /__bench/counts` reads them,
 * `DELETE /__bench/counts` resets them. Production code carries none of this.
 *
 * Counters are module globals: local workerd runs a worker and its Durable Objects in one isolate.
 */
import worker, * as real from "../src/index";

const counts = { workerRequests: 0, doRequests: 0, storageWrites: 0, logLines: 0 };

for (const level of ["log", "info", "warn", "error"] as const) {
  const print = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    counts.logLines += 1;
    print(...args);
  };
}

function counting<T extends object>(target: T, writes: Record<string, (target: T, args: unknown[]) => number | Promise<number>>): T {
  return new Proxy(target, {
    get(t, p) {
      const value = Reflect.get(t, p, t) as unknown;
      if (typeof value !== "function") return value;
      const write = typeof p === "string" ? writes[p] : undefined;
      if (!write) return value.bind(t);
      return (...args: unknown[]) => {
        const rows = write(t, args);
        if (typeof rows === "number") counts.storageWrites += rows;
        else return rows.then((n) => void (counts.storageWrites += n)).then(() => (value as (...a: unknown[]) => unknown).apply(t, args));
        return (value as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}

function countedStorage(storage: DurableObjectStorage): DurableObjectStorage {
  const kv = counting(storage.kv, { put: () => 1, delete: () => 1 });
  return new Proxy(
    counting(storage, {
      put: (_t, [key]) => (typeof key === "string" ? 1 : Object.keys(key as object).length),
      delete: (_t, [key]) => (Array.isArray(key) ? key.length : 1),
      setAlarm: () => 1,
      deleteAlarm: () => 1,
      // Every stored row, and the alarm (compatibility date ≥ 2026-02-24), is deleted.
      deleteAll: async (t) => [...t.kv.list()].length + ((await t.getAlarm()) === null ? 0 : 1),
    }),
    { get: (t, p) => (p === "kv" ? kv : (Reflect.get(t, p) as unknown)) },
  );
}

/** The methods other objects and the worker call (each call is one billed Durable Object request), and alarms. */
const REQUESTS = new Set(["create", "cancel", "claim", "upstreamEvent", "get", "latest", "exists", "release", "snapshot", "enqueue", "remove", "alarm", "fetch"]);

type ObjectClass = abstract new (ctx: DurableObjectState, env: Env) => object;

function counted<C extends ObjectClass>(Base: C): C {
  abstract class Counted extends Base {
    constructor(...[ctx, env]: any[]) {
      // The runtime's base class takes only its own state object: its storage is shadowed instead.
      Object.defineProperty(ctx, "storage", { value: countedStorage((ctx as DurableObjectState).storage) });
      super(ctx, env);
    }
  }
  for (const name of Object.getOwnPropertyNames(Base.prototype)) {
    // Only what the runtime calls from outside: RPC methods and alarms (private helpers are prototype methods too).
    if (!REQUESTS.has(name)) continue;
    const method = Object.getOwnPropertyDescriptor(Base.prototype, name)?.value as unknown;
    if (typeof method !== "function") continue;
    Object.defineProperty(Counted.prototype, name, {
      value(this: object, ...args: unknown[]) {
        counts.doRequests += 1;
        return (method as (...a: unknown[]) => unknown).apply(this, args);
      },
    });
  }
  return Counted as unknown as C;
}

export const CustomerInteractions = counted(real.CustomerInteractions);
export const SimulatorObject = counted(real.SimulatorObject);

export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__bench/counts") {
      const answer = Response.json(counts);
      if (request.method === "DELETE") for (const k of Object.keys(counts) as Array<keyof typeof counts>) counts[k] = 0;
      return answer;
    }
    counts.workerRequests += 1;
    return worker.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
