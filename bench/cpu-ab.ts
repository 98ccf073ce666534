/**
 * A targeted A/B of the proxy's workerd CPU per create: two dev servers of this worker (wrangler's
 * dev server without the inspector, as `npm run bench` runs them) that differ only in the vars given,
 * e.g. `LOG_LEVEL=warn` against the default, driven alternately with `--amount` creates (unique
 * customers, 20 connections, spread over 20 keys) for `--rounds` rounds. Prints workerd CPU ms per
 * create for each (from /proc, 10 ms ticks; and the dev server's own, wrangler's Node process and dev
 * proxy) and throughput. Loopback only; bounded.
 *
 * Usage: npx tsx bench/cpu-ab.ts --b '{"LOG_LEVEL":"warn"}' [--a '{}'] [--amount 600] [--rounds 3]
 */
import autocannon from "autocannon";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { serve, startWorker, type DevWorker } from "../scripts/lib/processes.ts";

const { values } = parseArgs({ options: { a: { type: "string", default: "{}" }, b: { type: "string", default: "{}" }, amount: { type: "string", default: "600" }, rounds: { type: "string", default: "3" } } });
const KEYS = Array.from({ length: 20 }, (_, i) => `ab-key-${i}-${randomBytes(16).toString("hex")}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * CPU ticks of the workerd that runs the worker (not the dev proxy's, which listens on the public
 * port), and of everything else in its process group (wrangler's Node process, the dev proxy).
 */
function ticksOf(worker: DevWorker): { runtime: number; tooling: number } {
  const publicPort = new URL(worker.url).port;
  const ticks = { runtime: 0, tooling: 0 };
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== worker.pid) continue;
      const used = Number(fields[11]) + Number(fields[12]);
      if (cmdline.includes("workerd") && cmdline.includes("entry=127.0.0.1:") && !cmdline.includes(`entry=127.0.0.1:${publicPort}`)) ticks.runtime += used;
      else ticks.tooling += used;
    } catch {
      /* exited */
    }
  }
  return ticks;
}

const perCreate = (before: { runtime: number; tooling: number }, after: { runtime: number; tooling: number }, amount: number) => ({
  ms: ((after.runtime - before.runtime) * 10) / amount,
  tooling: ((after.tooling - before.tooling) * 10) / amount,
});

let n = 0;
function drive(worker: DevWorker, amount: number): Promise<{ ms: number; tooling: number; seconds: number; errors: number }> {
  const before = ticksOf(worker);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: worker.url,
        connections: 20,
        amount,
        timeout: 15,
        requests: [
          {
            method: "POST",
            path: "/CreateInteraction",
            setupRequest: (r) => ({
              ...r,
              headers: { authorization: `Bearer ${KEYS[n % KEYS.length]}`, "content-type": "application/json" },
              body: JSON.stringify({ customerId: `ab-${n++}-${randomBytes(3).toString("hex")}`, attachedData: [{ TRX: "Diyalog" }, { PrimaryProjectManagerId: "123456" }, { SecondaryProjectManagerId: "654321" }] }),
            }),
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve({ ...perCreate(before, ticksOf(worker), amount), seconds: (performance.now() - started) / 1000, errors: res.errors + res.timeouts + res.non2xx })),
    );
  });
}

const fake = await serve(async (req) => (req.method === "POST" ? Response.json({ id: `up-${randomBytes(6).toString("hex")}` }, { status: 201 }) : new Response(null, { status: 200 })));
const base = { UPSTREAM: "http", UPSTREAM_URL: fake.url, UPSTREAM_SIGNING_SECRET: `whsec_${randomBytes(32).toString("base64")}`, DIYALOG_API_KEYS: KEYS.join(",") };
const variants = { a: JSON.parse(values.a!) as Record<string, string>, b: JSON.parse(values.b!) as Record<string, string> };
const workers: Record<string, DevWorker> = {};
const deadline = setTimeout(() => process.exit(2), 8 * 60_000);
try {
  for (const [name, vars] of Object.entries(variants)) workers[name] = await startWorker({ ...base, ...vars }, { devtools: false });
  const totals: Record<string, { ms: number; tooling: number; rate: number; errors: number }[]> = { a: [], b: [] };
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const name of round % 2 === 0 ? ["a", "b"] : ["b", "a"]) {
      const r = await drive(workers[name]!, Number(values.amount));
      totals[name]!.push({ ms: r.ms, tooling: r.tooling, rate: Number(values.amount) / r.seconds, errors: r.errors });
      await sleep(12_000); // Durable Objects go idle; local workerd caps SQLite memory
    }
  }
  for (const [name, runs] of Object.entries(totals)) {
    const avg = (f: (x: { ms: number; tooling: number; rate: number }) => number) => runs.reduce((s, x) => s + f(x), 0) / runs.length;
    console.log(`${name} ${JSON.stringify(variants[name as "a" | "b"])}: workerd CPU ${avg((x) => x.ms).toFixed(2)} ms/create (+ dev server ${avg((x) => x.tooling).toFixed(2)} ms), ${avg((x) => x.rate).toFixed(0)} creates/s, errors ${runs.reduce((s, x) => s + x.errors, 0)} (rounds: ${runs.map((x) => x.ms.toFixed(2)).join(", ")})`);
  }
} finally {
  clearTimeout(deadline);
  for (const w of Object.values(workers)) await w.stop();
  fake.server.close();
}
