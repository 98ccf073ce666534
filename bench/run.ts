/**
 * `npm run bench`: the proxy against the passthrough a user might write instead (bench/baseline.ts),
 * both under `wrangler dev` on loopback, both in front of the same local fake upstream that answers
 * at once, driven by autocannon with 20 connections and a unique customerId per create.
 *
 * Workloads: creates alone, and create+cancel pairs (each connection cancels the interaction it has
 * just created). The proxy runs twice: with `LOG_LEVEL=warn` (budgeted: the passthrough writes no
 * log lines either) and with the default `LOG_LEVEL=info`, a line per request and per transition,
 * which `wrangler dev` relays through its devtools inspector to its Node process at a cost of its
 * own (shown, not budgeted; `--devtools off` starts the same dev server without the inspector).
 *
 * Each workload runs in bounded rounds with pauses between them: local workerd caps SQLite memory
 * per process, and every create makes a new Durable Object (the interaction) that stays in memory
 * until ~10 s idle (a local-only limit). The order of the workers
 * rotates each round, so a noisy neighbour on the machine hits all alike.
 *
 * Prints the machine, the hot path's CPU per request (bench/hot-path.ts), and a table of req/s,
 * p50, p99 and errors with the ratios proxy ÷ baseline; exits non-zero when a budget is missed:
 * throughput ≥ 0.5 × baseline, p99 ≤ 3 × baseline p99, zero errors.
 *
 * Usage: npm run bench [-- --rounds 3 --round 600 --pause 12 --connections 20 --devtools on|off]
 */
import autocannon, { type Request as LoadRequest } from "autocannon";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
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
    devtools: { type: "string", default: "on" },
  },
});
const ROUNDS = Number(values.rounds);
/** Requests per round (a pair round has half as many pairs). */
const ROUND = Number(values.round);
const PAUSE_MS = Number(values.pause) * 1000;
const CONNECTIONS = Number(values.connections);
/** `off`: start the dev servers through wrangler's API with the devtools inspector off. */
const DEVTOOLS = values.devtools !== "off";
/** Creates sent one at a time to measure latency without load. */
const UNLOADED = 200;
const HARD_LIMIT_MS = 10 * 60_000;

const BUDGET = { throughput: 0.5, p99: 3 } as const;

/** Each key has its own 600/60 s bucket (wrangler.toml): spread over enough keys to stay far below it. */
const KEYS = Array.from({ length: 20 }, (_, i) => `bench-key-${i}-${randomBytes(16).toString("hex")}`);
const SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const RUN = randomBytes(4).toString("hex");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Workload = "create" | "pair";
type Target = "proxy" | "proxyInfo" | "baseline";
const TARGETS: readonly Target[] = ["proxy", "proxyInfo", "baseline"];
const LABEL: Record<Target, string> = { proxy: "proxy", proxyInfo: "proxy, info logs", baseline: "baseline" };

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
  const header = ["", "throughput", "p50", "p99", "errors", "CPU/request: workerd", "+ wrangler dev"];
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

  // The fake upstream: accepts every create and cancel at once (it does not verify signatures;
  // the proxy still computes them, as in production).
  const seen = { creates: 0, cancels: 0 };
  const fake = await serve(async (request) => {
    const path = new URL(request.url).pathname;
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

  const workers: Partial<Record<Target, DevWorker>> = {};
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
    const proxyVars = { UPSTREAM: "http", UPSTREAM_URL: fake.url, UPSTREAM_SIGNING_SECRET: SECRET, DIYALOG_API_KEYS: KEYS.join(",") };
    const options = { devtools: DEVTOOLS };
    // All settle before going on, so a failure to start one still stops the others.
    const started = await Promise.allSettled([
      startWorker({ ...proxyVars, LOG_LEVEL: "warn" }, options).then((w) => (workers.proxy = w)),
      startWorker(proxyVars, options).then((w) => (workers.proxyInfo = w)),
      startWorker({ UPSTREAM_URL: fake.url }, { ...options, config: "bench/wrangler.toml" }).then((w) => (workers.baseline = w)),
    ]);
    for (const result of started) if (result.status === "rejected") throw result.reason;
    console.log(
      `\nproxy ${workers.proxy!.url} (UPSTREAM=http, LOG_LEVEL=warn), proxy ${workers.proxyInfo!.url} (the same, LOG_LEVEL=info), ` +
        `baseline ${workers.baseline!.url}, fake upstream ${fake.url}; all: wrangler dev ${DEVTOOLS ? "" : "without devtools "}--log-level error, state on /dev/shm`,
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
        // Lets the proxy's Durable Objects from this round go idle and be evicted (local SQLite memory cap).
        if (round < ROUNDS - 1 || workload === "create") await sleep(PAUSE_MS);
      }
    }

    // Latency without load: one connection, one create at a time, so no request waits for another.
    await sleep(PAUSE_MS);
    const unloaded = tallyPerTarget();
    for (const target of TARGETS) await drive(workers[target]!, "create", UNLOADED, unloaded[target], 1);

    const rows: Array<Row | Ratio> = [];
    let failed = false;
    const verdicts: string[] = [];
    for (const workload of ["create", "pair"] as const) {
      const name = workload === "create" ? "create" : "create+cancel";
      const [proxy, proxyInfo, baseline] = TARGETS.map((t) => row(`${name}, ${LABEL[t]}`, tallies[workload][t], workload)) as [Row, Row, Row];
      const ratioOf = (r: Row) => ({ rate: r.rate / baseline.rate, p50: r.p50 / baseline.p50, p99: r.p99 / baseline.p99, cpu: r.runtimeCpuMs / baseline.runtimeCpuMs });
      const ratio = ratioOf(proxy);
      const infoRatio = ratioOf(proxyInfo);
      rows.push(proxy, proxyInfo, baseline, { label: `${name}, proxy ÷ baseline`, ratio }, { label: `${name}, proxy with info logs ÷ baseline`, ratio: infoRatio });
      const checks = [
        [`${name} throughput ${fmt(ratio.rate, 2)} × baseline (≥ ${BUDGET.throughput})`, ratio.rate >= BUDGET.throughput],
        [`${name} p99 ${fmt(ratio.p99, 2)} × baseline (≤ ${BUDGET.p99})`, ratio.p99 <= BUDGET.p99],
        [`${name} errors ${proxy.errors} proxy, ${baseline.errors} baseline (0)`, proxy.errors === 0 && baseline.errors === 0],
      ] as const;
      for (const [text, ok] of checks) {
        verdicts.push(`${ok ? "ok  " : "MISS"} ${text}`);
        if (!ok) failed = true;
      }
      verdicts.push(
        `     (not budgeted) ${name} with LOG_LEVEL=info: throughput ${fmt(infoRatio.rate, 2)} ×, p99 ${fmt(infoRatio.p99, 2)} ×, errors ${proxyInfo.errors}`,
      );
      for (const [target, tally] of Object.entries(tallies[workload])) {
        if (tally.statuses.size > 0) verdicts.push(`     ${name} ${target} failures: ${[...tally.statuses].map(([k, v]) => `${k} ×${v}`).join(", ")}`);
      }
    }
    const unloadedErrors = TARGETS.reduce((sum, t) => sum + unloaded[t].errors, 0);
    verdicts.push(`${unloadedErrors === 0 ? "ok  " : "MISS"} unloaded creates errors ${unloadedErrors} (0)`);
    if (unloadedErrors > 0) failed = true;
    const cancels = (t: Target) => tallies.pair[t].cancel;
    const quiet = (t: Tally) => `p50 ${fmt(percentile(t.create, 50), 1)} ms, p99 ${fmt(percentile(t.create, 99), 1)} ms`;
    console.log("\nthroughput: creates per second, or create+cancel pairs per second; latency of a create, or of a pair (create + cancel)");
    printTable(rows);
    console.log(
      "CPU/request: \"workerd\" is the process that runs the worker (its code, Durable Objects, SQLite, sockets); " +
        "\"+ wrangler dev\" is wrangler's Node process and dev proxy (not there in production), from /proc, 10 ms ticks over all rounds",
    );
    console.log(`cancel alone within the pairs: ${TARGETS.map((t) => `${LABEL[t]} p50 ${fmt(percentile(cancels(t), 50))} ms, p99 ${fmt(percentile(cancels(t), 99))} ms`).join("; ")}`);
    console.log(`create without load (1 connection, ${UNLOADED} in a row): ${TARGETS.map((t) => `${LABEL[t]} ${quiet(unloaded[t])}`).join("; ")}; errors ${unloadedErrors}`);
    console.log(`fake upstream received ${seen.creates} creates and ${seen.cancels} cancels (warm-up included)`);
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
