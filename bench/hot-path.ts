/**
 * CPU per request of the worker's own code on the hot path, measured in Node (the same V8 as
 * workerd): the real Hono app (request id, config, auth, per-key limit, body reading, validation
 * and normalisation, envelope, security headers, log lines) calling the real `InteractionCore`
 * (state machine, record serialisation, timeline) behind the real `CustomerCalls` routing, with the real `http` adapter (Standard Webhooks
 * signature, JSON), all in one process. Left out, because the runtime does them and they are not
 * this code's: HTTP parsing, the Durable Object RPC hop (its structured clone is made here), SQLite, sockets.
 * The upstream answers synchronously; log lines are built (JSON.stringify) but not printed.
 *
 * Workers bill and limit CPU per request, so this is the figure to keep well under 5 ms.
 * Run alone: npx tsx bench/hot-path.ts
 */
import { Hono } from "hono";
import { timingSafeEqual } from "node:crypto";
import { pathToFileURL } from "node:url";
import { serialize } from "node:v8";
import { createApp } from "../src/app.ts";
import { getConfig, type Config } from "../src/config.ts";
import { normaliseCreate } from "../src/diyalog/create-request.ts";
import { parseJson } from "../src/http/body.ts";
import { InteractionCore, type Host } from "../src/interactions/interaction-core.ts";
import { CustomerCalls } from "../src/interactions/customer-calls.ts";
import { newInteractionId } from "../src/interactions/stubs.ts";
import type { Interaction } from "../src/interactions/machine.ts";
import { signWebhook } from "../src/security/webhook-signature.ts";
import { httpAdapter } from "../src/upstreams/http.ts";

// workerd's non-standard crypto.subtle.timingSafeEqual, for auth and signature checks in Node.
const subtle = globalThis.crypto.subtle as SubtleCrypto & { timingSafeEqual?: (a: ArrayBuffer | ArrayBufferView, b: ArrayBuffer | ArrayBufferView) => boolean };
subtle.timingSafeEqual ??= (a, b) => timingSafeEqual(new Uint8Array(ArrayBuffer.isView(a) ? a.buffer : a), new Uint8Array(ArrayBuffer.isView(b) ? b.buffer : b));

const KEY = "hot-path-key-0123456789abcdefghijklmnopqrstuv";
const BODY = JSON.stringify({
  customerId: "123456",
  attachedData: [{ TRX: "Diyalog" }, { PrimaryProjectManagerId: "123456" }, { SecondaryProjectManagerId: "654321" }],
  identityNumber: "12345678901",
});

/** The upstream, answering at once without I/O. */
const upstreamFetch = (async (_url: string, init?: RequestInit) =>
  init?.method === "POST" ? Response.json({ id: `up-${Math.random()}` }, { status: 201 }) : new Response(null, { status: 200 })) as typeof fetch;

/** The upstream answers at once, so no call needs a live timeout signal (Node's are costly to make). */
const NEVER = new AbortController().signal;

/** One in-memory "Durable Object" per interaction id; storage costs its V8 serialisation, as SQLite KV does. */
function interactionNamespace(config: Config) {
  const adapter = httpAdapter(config, upstreamFetch);
  const objects = new Map<string, InteractionCore>();
  const pending: Promise<unknown>[] = [];
  const get = (id: string) => {
    let core = objects.get(id);
    if (!core) {
      let stored: Buffer | undefined;
      const host: Host = {
        adapter,
        settings: { upstreamTimeoutMs: 5000, createDeadlineMs: 8000, queueTimeoutMs: 1_800_000, retentionMs: 86_400_000 },
        now: () => Date.now(),
        // Unref'd: a create leaves its deadline timer behind, which must not keep this process alive.
        sleep: (ms) => new Promise((r) => void setTimeout(r, ms).unref()),
        timeout: () => NEVER,
        load: () => undefined,
        gone: () => false,
        markGone: () => {},
        store: (ix: Interaction) => void (stored = serialize(ix)),
        deleteAll: async () => void (stored = undefined),
        setAlarm: () => {},
        waitUntil: (work) => void pending.push(work),
      };
      core = new InteractionCore(host);
      objects.set(id, core);
    }
    return core;
  };
  return { get, objects };
}

function fakeEnv() {
  const env: Record<string, unknown> = {
    UPSTREAM: "http",
    UPSTREAM_URL: "http://127.0.0.1:9",
    UPSTREAM_SIGNING_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    DIYALOG_API_KEYS: KEY,
    KEY_RATE_LIMITER: { limit: async () => ({ success: true }) },
    AUTH_FAILURE_LIMITER: { limit: async () => ({ success: true }) },
  };
  const result = getConfig(env);
  if (!result.ok) throw new Error(result.problems.join("; "));
  const interactions = interactionNamespace(result.config);
  // The customer's object: a fresh customer each time, so every create makes a new interaction
  // (the real CustomerCalls routing, over in-memory cores; RPC arguments are structured-cloned).
  const customerObject = (objectId: string) => {
    const calls = new CustomerCalls({
      latest: () => undefined,
      create: (input) => interactions.get(input.interactionId).create(input),
      newId: () => newInteractionId(objectId),
    });
    return {
      create: (input: Parameters<CustomerCalls["create"]>[0]) => calls.create(structuredClone(input)),
      cancel: (interactionId: string, requestId?: string) => interactions.get(interactionId).cancel(interactionId, requestId),
    };
  };
  env.CUSTOMER_INTERACTIONS = {
    idFromName: (name: string) => ({ toString: () => Array.from(name.slice(0, 32), (c) => c.charCodeAt(0).toString(16).padStart(2, "0").slice(-2)).join("").padEnd(64, "0") }),
    idFromString: (hex: string) => ({ toString: () => hex }),
    get: (id: { toString(): string }) => customerObject(id.toString()),
  };
  return env;
}

const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;

/** CPU µs per call of `op`, after a warm-up (user + system time of this process). */
async function cpuMicros(op: () => Promise<unknown>, iterations: number): Promise<number> {
  for (let i = 0; i < Math.min(500, iterations); i++) await op();
  const before = process.cpuUsage();
  for (let i = 0; i < iterations; i++) await op();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / iterations;
}

export async function measureHotPath(iterations = 3000): Promise<{ createMs: number; cancelMs: number; lines: string[] }> {
  const quiet = { log: console.log, info: console.info, warn: console.warn };
  console.log = console.info = console.warn = () => {};
  try {
    const app = createApp();
    const env = fakeEnv();
    const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
    const ids: string[] = [];
    const create = async () => {
      const res = await app.fetch(new Request("http://proxy/CreateInteraction", { method: "POST", headers, body: BODY }), env, ctx);
      const body = (await res.json()) as { success: boolean; result: { interactionId: string } };
      if (!body.success) throw new Error(`create failed: ${JSON.stringify(body)}`);
      ids.push(body.result.interactionId);
    };
    const cancel = async () => {
      const id = ids.pop()!;
      const res = await app.fetch(new Request(`http://proxy/${id}`, { method: "DELETE", headers }), env, ctx);
      if (res.status !== 200) throw new Error(`cancel failed: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    };
    // The same request through a bare Hono route that answers at once: what Node's own Request,
    // Response and routing cost, so it can be told apart from the proxy's code.
    const bare = new Hono().post("/CreateInteraction", async (c) => c.json({ success: true, errorMessage: null, result: { interactionId: crypto.randomUUID() } }));
    const bareUs = await cpuMicros(async () => {
      const res = await bare.fetch(new Request("http://proxy/CreateInteraction", { method: "POST", headers, body: BODY }));
      await res.json();
    }, iterations);
    const createUs = await cpuMicros(create, iterations);
    const cancelUs = await cpuMicros(cancel, iterations);
    const normaliseUs = await cpuMicros(async () => normaliseCreate(parseJson(BODY)), iterations);
    const signUs = await cpuMicros(() => signWebhook(["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], BODY), iterations);
    const ms = (us: number) => `${(us / 1000).toFixed(3)} ms`;
    return {
      createMs: createUs / 1000,
      cancelMs: cancelUs / 1000,
      lines: [
        `create (route → auth → limit → validate → core → signed upstream call → envelope): ${ms(createUs)} per request`,
        `cancel (route → auth → limit → core → signed upstream call → envelope): ${ms(cancelUs)} per request`,
        `for scale: the same request through a bare Hono route ${ms(bareUs)}; body parse + normalisation ${ms(normaliseUs)}; one webhook signature ${ms(signUs)}`,
        `(${iterations} sequential requests each in Node ${process.version}; workerd runs the same V8. Budget: well under 5 ms)`,
      ],
    };
  } finally {
    console.log = quiet.log;
    console.info = quiet.info;
    console.warn = quiet.warn;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { lines } = await measureHotPath();
  for (const line of lines) console.log(line);
}
