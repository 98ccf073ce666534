/**
 * `npm run bench`: the proxy against the least a stateful worker can do (bench/floor.ts: one Durable
 * Object per customer, the intent stored before the signed upstream call, the acceptance before
 * answering) and against a stateless passthrough (bench/baseline.ts). All three run under wrangler's
 * dev server, started through its API with the devtools inspector off (it relays every console line
 * to Node, a cost production does not have), in front of the same local fake upstream, which checks
 * every request's Standard Webhooks signature and answers at once. autocannon drives them with 20
 * connections and a unique customerId per create. The proxy runs at its defaults (`LOG_LEVEL=info`).
 *
 * Workloads: creates alone, and create+cancel pairs (each connection cancels the interaction it has
 * just created). Each runs in bounded rounds with pauses between them: local workerd caps SQLite
 * memory per process, and every create starts a Durable Object that stays in memory until ~10 s
 * idle (a local-only limit). The order of the workers rotates each round, so a noisy neighbour on
 * the machine hits all alike.
 *
 * Then a short, untimed pass counts what one call costs (bench/counted.ts, the proxy with counters):
 * an assigned call (create, then the upstream's claim) and a cancelled one (create, then cancel), each
 * followed until its record is purged (RETENTION_SECONDS=1): Worker requests, Durable Object
 * requests, storage writes (alarm changes included) and log lines, priced per million calls.
 *
 * Prints the machine, the hot path's CPU per request (bench/hot-path.ts), a table of throughput,
 * p50, p99, errors and CPU per request, the ratios proxy ÷ floor and floor ÷ passthrough, the counts
 * and their cost; exits non-zero when a budget is missed: proxy throughput ≥ 0.8 × floor, proxy p99
 * ≤ 2 × floor p99, zero errors, writes ≤ 6 per assigned and ≤ 7 per cancelled call, ≤ 3 log lines per call.
 *
 * Usage: npm run bench [-- --rounds 3 --round 600 --pause 12 --connections 20 --calls 20 --devtools off|on]
 */
import autocannon, { type Request as LoadRequest } from "autocannon";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { serve, startWorker, type DevWorker } from "../scripts/lib/processes.ts";
import { measureHotPath } from "./hot-path.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    round: { type: "string", default: "600" },
    pause: { type: "string", default: "12" },
    connections: { type: "string", default: "20" },
    calls: { type: "string", default: "20" },
    devtools: { type: "string", default: "off" },
  },
});
const ROUNDS = Number(values.rounds);
/** Requests per round (a pair round has half as many pairs). */
const ROUND = Number(values.round);
const PAUSE_MS = Number(values.pause) * 1000;
const CONNECTIONS = Number(values.connections);
/** Calls of each kind followed one by one in the counting pass. */
const CALLS = Number(values.calls);
/** `on`: `wrangler dev` with its devtools inspector, as a developer runs it (not what is budgeted). */
const DEVTOOLS = values.devtools === "on";
/** Creates sent one at a time to measure latency without load. */
const UNLOADED = 200;
const HARD_LIMIT_MS = 10 * 60_000;

const BUDGET = { throughput: 0.8, p99: 2, writesAssigned: 6, writesCancelled: 7, logLines: 3 } as const;

/**
 * Workers Paid list prices, USD per million (README "Performance" cites the pages): Worker requests,
 * Durable Object requests (RPC calls and alarms), SQLite-backed storage rows written, Workers Logs
 * events. CPU and Durable Object duration are left out: they depend on the deployment, not on counts.
 */
const PRICE = { workerRequests: 0.3, doRequests: 0.15, storageWrites: 1.0, logLines: 0.6 } as const;

/** Each key has its own 600/60 s bucket (wrangler.toml): spread over enough keys to stay far below it. */
const KEYS = Array.from({ length: 20 }, (_, i) => `bench-key-${i}-${randomBytes(16).toString("hex")}`);
const SECRET_BYTES = randomBytes(32);
const SECRET = `whsec_${SECRET_BYTES.toString("base64")}`;
const RUN = randomBytes(4).toString("hex");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Workload = "create" | "pair";
type Target = "proxy" | "floor" | "passthrough";
const TARGETS: readonly Target[] = ["proxy", "floor", "passthrough"];
const LABEL: Record<Target, string> = { proxy: "proxy", floor: "floor", passthrough: "passthrough" };

interface Tally {
  /** Latencies in ms: every create, every cancel, and each pair's create + cancel. */
  create: number[];
  cancel: number[];
  pair: number[];
  requests: number;
  errors: number;
  statuses: Map<string, number>;
  seconds: number;
  cpuTicks: { runtime: number; tooling: number };
}

const emptyTally = (): Tally => ({ create: [], cancel: [], pair: [], requests: 0, errors: 0, statuses: new Map(), seconds: 0, cpuTicks: { runtime: 0, tooling: 0 } });

/** Standard Webhooks headers for `body`, signed with the bench's secret (as the upstream signs its callbacks). */
function signHeaders(body: string): Record<string, string> {
  const id = `msg_${randomBytes(8).toString("hex")}`;
  const ts = String(Math.floor(Date.now() / 1000));
  const mac = createHmac("sha256", SECRET_BYTES).update(`${id}.${ts}.${body}`).digest("base64");
  return { "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": `v1,${mac}`, "content-type": "application/json" };
}

/** Whether a request carries a valid signature of its body (every worker's upstream calls must). */
function signatureHolds(headers: Headers, body: string): boolean {
  const id = headers.get("webhook-id");
  const ts = headers.get("webhook-timestamp");
  const presented = headers.get("webhook-signature");
  if (!id || !ts || !presented) return false;
  const expected = Buffer.from(`v1,${createHmac("sha256", SECRET_BYTES).update(`${id}.${ts}.${body}`).digest("base64")}`);
  return presented.split(" ").some((s) => s.length === expected.length && timingSafeEqual(Buffer.from(s), expected));
}

// ---- the machine and its processes -------------------------------------------------------------

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("model name"));
    return line?.split(":")[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * User + system CPU ticks of the processes in a process group (npx → wrangler → workerd), from
 * /proc, split in two: the workerd that runs the worker itself ("runtime": the worker's code, its
 * Durable Objects, SQLite, its sockets), and everything else wrangler dev adds ("tooling": its Node
 * process and the workerd of its dev proxy, which forwards every devtools event, e.g. each outbound
 * fetch and console line, to Node). The dev proxy's workerd is the one listening on the public port.
 */
function groupCpuTicks(worker: DevWorker): { runtime: number; tooling: number } {
  const ticks = { runtime: 0, tooling: 0 };
  if (worker.pid === undefined) return ticks;
  const publicPort = new URL(worker.url).port;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    let cmdline: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the parenthesised command name: state ppid pgrp … utime(14) stime(15).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) !== worker.pid) continue;
    const used = Number(fields[11]) + Number(fields[12]);
    const isRuntime = cmdline.includes("workerd") && cmdline.includes("entry=127.0.0.1:") && !cmdline.includes(`entry=127.0.0.1:${publicPort}`);
    if (isRuntime) ticks.runtime += used;
    else ticks.tooling += used;
  }
  return ticks;
}
/** Linux reports process times in clock ticks of 10 ms (USER_HZ = 100 on every mainstream build). */
const TICK_MS = 10;

// ---- load --------------------------------------------------------------------------------------

let sequence = 0;

function createRequest(): LoadRequest {
  return {
    method: "POST",
    path: "/CreateInteraction",
    setupRequest: (request, context) => {
      const n = sequence++;
      const key = KEYS[n % KEYS.length]!;
      context.key = key;
      return {
        ...request,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({
          customerId: `bench-${RUN}-${n}`,
          attachedData: [{ TRX: "Diyalog" }, { PrimaryProjectManagerId: "123456" }, { SecondaryProjectManagerId: "654321" }],
        }),
      };
    },
    onResponse: (status, body, context) => {
      lastKind = "create";
      if (status === 200) context.id = (JSON.parse(body) as { result: { interactionId: string } }).result.interactionId;
    },
  };
}

function cancelRequest(): LoadRequest {
  return {
    method: "DELETE",
    setupRequest: (request, context) => ({
      ...request,
      // A failed create leaves no id: the cancel then goes to /undefined and counts as an error.
      path: `/${String(context.id)}`,
      headers: { authorization: `Bearer ${String(context.key)}` },
    }),
    onResponse: () => {
      lastKind = "cancel";
    },
  };
}

/**
 * Set by a request's onResponse right before autocannon emits "response" for it, in the same
 * synchronous step, so the "response" listener knows which kind of request it is timing.
 */
let lastKind: "create" | "cancel" = "create";

/** One bounded round against one worker; adds its figures to `tally`. */
function drive(worker: DevWorker, workload: Workload, amount: number, tally: Tally, connections = CONNECTIONS): Promise<void> {
  return new Promise((resolve, reject) => {
    const createdAt = new Map<object, number>();
    const cpuBefore = groupCpuTicks(worker);
    const started = performance.now();
    let lastAnswer = started;
    const instance = autocannon(
      {
        url: worker.url,
        connections,
        amount,
        timeout: 15,
        requests: workload === "create" ? [createRequest()] : [createRequest(), cancelRequest()],
      },
      (err, result) => {
        if (err) return reject(err);
        // Timed to the last answer: autocannon reports "done" only at its next one-second tick.
        tally.seconds += (lastAnswer - started) / 1000;
        const cpuAfter = groupCpuTicks(worker);
        tally.cpuTicks.runtime += cpuAfter.runtime - cpuBefore.runtime;
        tally.cpuTicks.tooling += cpuAfter.tooling - cpuBefore.tooling;
        // Socket errors and timeouts have no "response" event; non-2xx answers were counted there.
        tally.errors += result.errors + result.timeouts;
        if (result.errors + result.timeouts > 0) tally.statuses.set("socket error/timeout", result.errors + result.timeouts);
        resolve();
      },
    );
    instance.on("response", (client, status, _bytes, latency) => {
      lastAnswer = performance.now();
      tally.requests += 1;
      if (status < 200 || status > 299) {
        tally.errors += 1;
        tally.statuses.set(`${lastKind} ${status}`, (tally.statuses.get(`${lastKind} ${status}`) ?? 0) + 1);
      }
      if (lastKind === "create") {
        tally.create.push(latency);
        createdAt.set(client, latency);
      } else {
        tally.cancel.push(latency);
        tally.pair.push((createdAt.get(client) ?? 0) + latency);
        createdAt.delete(client);
      }
    });
  });
}

// ---- figures -----------------------------------------------------------------------------------

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Row {
  label: string;
  rate: number;
  unit: string;
  p50: number;
  p99: number;
  errors: number;
  /** CPU per request (a pair is two), in ms: the worker's workerd, and wrangler dev's own processes. */
  runtimeCpuMs: number;
  toolingCpuMs: number;
}

function row(label: string, tally: Tally, workload: Workload): Row {
  const latencies = workload === "create" ? tally.create : tally.pair;
  const units = workload === "create" ? tally.requests : tally.pair.length;
  return {
    label,
    rate: units / tally.seconds,
    unit: workload === "create" ? "req/s" : "pairs/s",
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors: tally.errors,
    runtimeCpuMs: (tally.cpuTicks.runtime * TICK_MS) / Math.max(1, tally.requests),
    toolingCpuMs: (tally.cpuTicks.tooling * TICK_MS) / Math.max(1, tally.requests),
  };
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "–");

type Ratio = { label: string; ratio: { rate: number; p50: number; p99: number; cpu: number } };

function printTable(rows: Array<Row | Ratio>): void {
  const header = ["", "throughput", "p50", "p99", "errors", "CPU/request: workerd", "+ dev server"];
  const lines = rows.map((r) =>
    "ratio" in r
      ? [r.label, `${fmt(r.ratio.rate, 2)} ×`, `${fmt(r.ratio.p50, 2)} ×`, `${fmt(r.ratio.p99, 2)} ×`, "", `${fmt(r.ratio.cpu, 1)} ×`, ""]
      : [r.label, `${fmt(r.rate)} ${r.unit}`, `${fmt(r.p50)} ms`, `${fmt(r.p99)} ms`, String(r.errors), `${fmt(r.runtimeCpuMs, 2)} ms`, `${fmt(r.toolingCpuMs, 2)} ms`],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const print = (cells: string[]) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "));
  print(header);
  for (const l of lines) print(l);
}

// ---- cost per call -----------------------------------------------------------------------------

type Counts = { workerRequests: number; doRequests: number; storageWrites: number; logLines: number };
const COUNTERS = ["workerRequests", "doRequests", "storageWrites", "logLines"] as const;

/** Counts of the counted proxy since the last reset; `reset` zeroes them after reading. */
async function readCounts(worker: DevWorker, reset = false): Promise<Counts> {
  const res = await fetch(`${worker.url}/__bench/counts`, { method: reset ? "DELETE" : "GET" });
  return (await res.json()) as Counts;
}

/** Waits until nothing more happens (every record purged, no alarm left to fire), at most `ms`. */
async function quiesce(worker: DevWorker, ms: number): Promise<Counts> {
  let last = await readCounts(worker);
  let still = 0;
  const since = Date.now();
  while (Date.now() - since < ms) {
    await sleep(1000);
    const now = await readCounts(worker);
    still = COUNTERS.every((k) => now[k] === last[k]) ? still + 1 : 0;
    last = now;
    if (still >= 6) break; // 6 s without a change: past the dispatch fallback alarm and the purge
  }
  return last;
}

/**
 * Follows `CALLS` calls of one kind one after the other through the counted proxy, then waits until
 * they are purged: "assigned" (create, then the upstream's signed claim) or "cancelled" (create, then
 * Diyalog's cancel). Returns the counts per call and the number of failed requests.
 */
async function countCalls(worker: DevWorker, kind: "assigned" | "cancelled"): Promise<{ perCall: Counts; failures: number }> {
  await quiesce(worker, 20_000);
  await readCounts(worker, true);
  let failures = 0;
  for (let i = 0; i < CALLS; i++) {
    const key = KEYS[i % KEYS.length]!;
    const created = await fetch(`${worker.url}/CreateInteraction`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ customerId: `count-${RUN}-${kind}-${i}`, attachedData: [{ TRX: "Diyalog" }] }),
    });
    const body = (await created.json()) as { success: boolean; result?: { interactionId: string } };
    const id = body.result?.interactionId;
    if (!created.ok || id === undefined) {
      failures += 1;
      continue;
    }
    let res: Response;
    if (kind === "assigned") {
      const claim = JSON.stringify({ type: "claim", interactionId: id, agentId: "agent-1" });
      res = await fetch(`${worker.url}/v1/upstream/interactions/${id}/claim`, { method: "POST", headers: signHeaders(claim), body: claim });
    } else {
      res = await fetch(`${worker.url}/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${key}` } });
    }
    await res.arrayBuffer();
    if (!res.ok) failures += 1;
  }
  const total = await quiesce(worker, 60_000);
  const perCall = Object.fromEntries(COUNTERS.map((k) => [k, total[k] / CALLS])) as Counts;
  return { perCall, failures };
}

/** USD per million calls at `PRICE`. */
const costPerMillion = (c: Counts) => COUNTERS.reduce((sum, k) => sum + c[k] * PRICE[k], 0);

/** The project's wrangler.toml pointed at bench/counted.ts (written next to it, so relative paths hold). */
function countedConfig(): string {
  const source = readFileSync("wrangler.toml", "utf8");
  const path = "bench/.counted.wrangler.toml";
  writeFileSync(path, source.replace(/^main = .*$/m, 'main = "counted.ts"').replace(/^directory = "\.\/public"$/m, 'directory = "../public"'));
  return path;
}

// ---- main --------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const load = loadavg();
  console.log(
    `machine: ${availableParallelism()} CPUs (nproc), ${cpuModel()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
      `node ${process.version}, load average ${load.map((l) => l.toFixed(2)).join(" ")}`,
  );
  if (load[0]! > 1.5) console.log("note: the machine is busy (1-minute load > 1.5); figures will be noisy, compare only within this run");

  console.log("\nhot path CPU (Node microbenchmark of the worker's own code, no runtime or I/O):");
  const hot = await measureHotPath();
  for (const line of hot.lines) console.log(`  ${line}`);

  // The fake upstream: checks every request's signature (401 otherwise), accepts every create and
  // cancel at once.
  const seen = { creates: 0, cancels: 0, unsigned: 0 };
  const fake = await serve(async (request) => {
    const path = new URL(request.url).pathname;
    const body = await request.text();
    if (!signatureHolds(request.headers, body)) {
      seen.unsigned += 1;
      return new Response(null, { status: 401 });
    }
    if (request.method === "POST" && path === "/interactions") {
      seen.creates += 1;
      return Response.json({ id: `up-${seen.creates}` }, { status: 201 });
    }
    if (request.method === "DELETE" && path.startsWith("/interactions/")) {
      seen.cancels += 1;
      return new Response(null, { status: 200 });
    }
    return new Response(null, { status: 404 });
  });

  const workers: Partial<Record<Target | "counted", DevWorker>> = {};
  const stopAll = async () => {
    await Promise.all(Object.values(workers).map((w) => w?.stop()));
    fake.server.closeAllConnections();
    fake.server.close();
  };
  const guard = setTimeout(() => {
    console.error(`the benchmark ran past ${HARD_LIMIT_MS / 60_000} min; stopping`);
    void stopAll().finally(() => process.exit(2));
  }, HARD_LIMIT_MS);
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void stopAll().finally(() => process.exit(130)));

  try {
    const upstream = { UPSTREAM_URL: fake.url, UPSTREAM_SIGNING_SECRET: SECRET };
    const proxyVars = { ...upstream, UPSTREAM: "http", DIYALOG_API_KEYS: KEYS.join(",") };
    const options = { devtools: DEVTOOLS };
    // All settle before going on, so a failure to start one still stops the others.
    const started = await Promise.allSettled([
      startWorker(proxyVars, options).then((w) => (workers.proxy = w)),
      startWorker(upstream, { ...options, config: "bench/floor.toml" }).then((w) => (workers.floor = w)),
      startWorker(upstream, { ...options, config: "bench/wrangler.toml" }).then((w) => (workers.passthrough = w)),
    ]);
    for (const result of started) if (result.status === "rejected") throw result.reason;
    console.log(
      `\nproxy ${workers.proxy!.url} (UPSTREAM=http, defaults: LOG_LEVEL=info), floor ${workers.floor!.url}, ` +
        `passthrough ${workers.passthrough!.url}, fake upstream ${fake.url}; all: ${DEVTOOLS ? "wrangler dev with its devtools inspector" : "wrangler's dev server without the devtools inspector"}, ` +
        "--log-level error, state on /dev/shm",
    );
    console.log(`${CONNECTIONS} connections; ${ROUNDS} rounds of ${ROUND} requests per workload and worker, ${PAUSE_MS / 1000} s pauses`);

    // Warm-up (not counted): compiles, opens connections, creates the first objects.
    for (const target of TARGETS) {
      await drive(workers[target]!, "create", 100, emptyTally());
      await drive(workers[target]!, "pair", 100, emptyTally());
    }
    await sleep(PAUSE_MS);

    const tallyPerTarget = () => Object.fromEntries(TARGETS.map((t) => [t, emptyTally()])) as Record<Target, Tally>;
    const tallies = { create: tallyPerTarget(), pair: tallyPerTarget() };
    for (let round = 0; round < ROUNDS; round++) {
      for (const workload of ["create", "pair"] as const) {
        // The order rotates each round, so a noisy neighbour on the machine hits all alike.
        const order = TARGETS.map((_, i) => TARGETS[(i + round) % TARGETS.length]!);
        for (const target of order) await drive(workers[target]!, workload, ROUND, tallies[workload][target]);
        process.stdout.write(`round ${round + 1}/${ROUNDS} ${workload} done\n`);
        // Lets the Durable Objects from this round go idle and be evicted (local SQLite memory cap).
        if (round < ROUNDS - 1 || workload === "create") await sleep(PAUSE_MS);
      }
    }

    // Latency without load: one connection, one create at a time, so no request waits for another.
    await sleep(PAUSE_MS);
    const unloaded = tallyPerTarget();
    for (const target of TARGETS) await drive(workers[target]!, "create", UNLOADED, unloaded[target], 1);

    // Cost per call: the timed workers stop first, so the counting pass has the machine to itself.
    await Promise.all(TARGETS.map((t) => workers[t]!.stop()));
    for (const t of TARGETS) delete workers[t];
    workers.counted = await startWorker({ ...proxyVars, RETENTION_SECONDS: "1" }, { ...options, config: countedConfig() });
    const assigned = await countCalls(workers.counted, "assigned");
    const cancelled = await countCalls(workers.counted, "cancelled");

    const rows: Array<Row | Ratio> = [];
    let failed = false;
    const verdicts: string[] = [];
    const check = (text: string, ok: boolean) => {
      verdicts.push(`${ok ? "ok  " : "MISS"} ${text}`);
      if (!ok) failed = true;
    };
    for (const workload of ["create", "pair"] as const) {
      const name = workload === "create" ? "create" : "create+cancel";
      const [proxy, floor, passthrough] = TARGETS.map((t) => row(`${name}, ${LABEL[t]}`, tallies[workload][t], workload)) as [Row, Row, Row];
      const ratio = (a: Row, b: Row) => ({ rate: a.rate / b.rate, p50: a.p50 / b.p50, p99: a.p99 / b.p99, cpu: a.runtimeCpuMs / b.runtimeCpuMs });
      const proxyToFloor = ratio(proxy, floor);
      rows.push(proxy, floor, passthrough, { label: `${name}, proxy ÷ floor`, ratio: proxyToFloor }, { label: `${name}, floor ÷ passthrough`, ratio: ratio(floor, passthrough) });
      check(`${name} throughput ${fmt(proxyToFloor.rate, 2)} × floor (≥ ${BUDGET.throughput})`, proxyToFloor.rate >= BUDGET.throughput);
      check(`${name} p99 ${fmt(proxyToFloor.p99, 2)} × floor p99 (≤ ${BUDGET.p99})`, proxyToFloor.p99 <= BUDGET.p99);
      check(`${name} errors: proxy ${proxy.errors}, floor ${floor.errors}, passthrough ${passthrough.errors} (0)`, proxy.errors + floor.errors + passthrough.errors === 0);
      for (const [target, tally] of Object.entries(tallies[workload])) {
        if (tally.statuses.size > 0) verdicts.push(`     ${name} ${target} failures: ${[...tally.statuses].map(([k, v]) => `${k} ×${v}`).join(", ")}`);
      }
    }
    const unloadedErrors = TARGETS.reduce((sum, t) => sum + unloaded[t].errors, 0);
    check(`unloaded creates errors ${unloadedErrors} (0)`, unloadedErrors === 0);
    check(`counting pass failures ${assigned.failures + cancelled.failures} (0); upstream saw ${seen.unsigned} unsigned requests (0)`, assigned.failures + cancelled.failures + seen.unsigned === 0);
    check(`storage writes per assigned call ${fmt(assigned.perCall.storageWrites, 1)} (≤ ${BUDGET.writesAssigned})`, assigned.perCall.storageWrites <= BUDGET.writesAssigned);
    check(`storage writes per cancelled call ${fmt(cancelled.perCall.storageWrites, 1)} (≤ ${BUDGET.writesCancelled})`, cancelled.perCall.storageWrites <= BUDGET.writesCancelled);
    for (const [kind, c] of [["assigned", assigned], ["cancelled", cancelled]] as const) {
      check(`log lines per ${kind} call ${fmt(c.perCall.logLines, 1)} (≤ ${BUDGET.logLines})`, c.perCall.logLines <= BUDGET.logLines);
    }

    const cancels = (t: Target) => tallies.pair[t].cancel;
    const quiet = (t: Tally) => `p50 ${fmt(percentile(t.create, 50), 1)} ms, p99 ${fmt(percentile(t.create, 99), 1)} ms`;
    console.log("\nthroughput: creates per second, or create+cancel pairs per second; latency of a create, or of a pair (create + cancel)");
    printTable(rows);
    console.log(
      "CPU/request: \"workerd\" is the process that runs the worker (its code, Durable Objects, SQLite, sockets); " +
        "\"+ dev server\" is wrangler's Node process and dev proxy (not there in production), from /proc, 10 ms ticks over all rounds",
    );
    console.log(`cancel alone within the pairs: ${TARGETS.map((t) => `${LABEL[t]} p50 ${fmt(percentile(cancels(t), 50))} ms, p99 ${fmt(percentile(cancels(t), 99))} ms`).join("; ")}`);
    console.log(`create without load (1 connection, ${UNLOADED} in a row): ${TARGETS.map((t) => `${LABEL[t]} ${quiet(unloaded[t])}`).join("; ")}; errors ${unloadedErrors}`);
    console.log(`fake upstream received ${seen.creates} creates and ${seen.cancels} cancels (warm-up and counting included)`);

    console.log(`\ncost per call (proxy with counters, ${CALLS} calls of each kind followed until purged; USD per million: ` +
      `Worker request ${PRICE.workerRequests}, Durable Object request ${PRICE.doRequests}, row written ${PRICE.storageWrites}, log event ${PRICE.logLines}):`);
    const header = ["", "Worker requests", "DO requests", "storage writes", "log lines", "USD per million calls"];
    const lines = [["assigned call", assigned.perCall], ["cancelled call", cancelled.perCall]].map(([label, c]) => {
      const counts = c as Counts;
      return [label as string, ...COUNTERS.map((k) => fmt(counts[k], 1)), fmt(costPerMillion(counts), 2)];
    });
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
    for (const cells of [header, ...lines]) console.log(cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "));
    console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
    console.log("\nbudgets:");
    for (const v of verdicts) console.log(v);
    return failed ? 1 : 0;
  } finally {
    clearTimeout(guard);
    await stopAll();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
