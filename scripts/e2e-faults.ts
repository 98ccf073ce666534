/**
 * Fault-injection end to end: the real worker under `wrangler dev` (UPSTREAM=http) against a local
 * fake queue that answers 10% of requests with 503, loses 5% of its answers after acting on them,
 * and whose agents claim calls after random short delays through the proxy's claim hook.
 * A few hundred create/cancel pairs with random timing, then the tally:
 *   cancelled_ok  cancels answered success:true (200 or 202)
 *   too_late      cancels answered 409 already_assigned
 *   violations    calls an agent was granted after their cancel was answered success:true
 *   duplicates    interactions created more than once upstream
 *   lost          creates answered success:true that the upstream never received
 * Exits non-zero unless violations, duplicates and lost are all 0. Loopback only; bounded.
 *
 * Usage: npm run e2e:faults [-- --pairs 300 --concurrency 12]
 */
import { parseArgs } from "node:util";
import { mulberry32 } from "../test/fakes/common.ts";
import { FakeUpstream } from "../test/fakes/http-upstream.ts";
import { serve, startWorker } from "./lib/processes.ts";

const { values } = parseArgs({
  options: {
    pairs: { type: "string", default: "300" },
    concurrency: { type: "string", default: "12" },
    seed: { type: "string" },
  },
});
const PAIRS = Number(values.pairs);
const CONCURRENCY = Number(values.concurrency);
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const KEYS = Array.from({ length: 8 }, (_, i) => `e2e-key-${i}`);

const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const random = mulberry32(seed); // seeded, so a failing run can be repeated with --seed
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  const deadline = Date.now() + 10 * 60_000;
  const proxyPort = await import("./lib/processes.ts").then((m) => m.freePort());
  const upstream = new FakeUpstream(SECRET, { proxyUrl: `http://127.0.0.1:${proxyPort}`, minDelayMs: 100, maxDelayMs: 2500 }, random);
  const fake = await serve((request) => upstream.handle(request));
  upstream.faults = { error503: 0.1, drop: 0.05 };

  const worker = await startWorker(
    {
      UPSTREAM: "http",
      UPSTREAM_URL: fake.url,
      UPSTREAM_SIGNING_SECRET: SECRET,
      UPSTREAM_TIMEOUT_MS: "1000",
      CREATE_DEADLINE_MS: "6000",
      DIYALOG_API_KEYS: KEYS.join(","),
    },
    { port: proxyPort },
  );
  console.log(`seed ${seed}; ${PAIRS} create/cancel pairs, ${CONCURRENCY} at a time, against ${worker.url} → ${fake.url}`);

  const created = new Set<string>();
  const cancelledOk = new Map<string, number>();
  const outcomes: Record<string, number> = {};
  const count = (k: string) => (outcomes[k] = (outcomes[k] ?? 0) + 1);
  let next = 0;

  async function pair(i: number): Promise<void> {
    const key = KEYS[i % KEYS.length]!;
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const res = await fetch(`${worker.url}/CreateInteraction`, {
      method: "POST",
      headers,
      body: JSON.stringify({ customerId: `e2e-${seed}-${i}`, attachedData: [{ TRX: "Diyalog" }, { PrimaryProjectManagerId: String(i) }] }),
    });
    const body = (await res.json()) as { success: boolean; errorCode?: string; result?: { interactionId?: string } };
    count(`create ${res.status}${body.errorCode ? ` ${body.errorCode}` : ""}`);
    if (!body.success || !body.result?.interactionId) return;
    const id = body.result.interactionId;
    created.add(id);
    await sleep(random() * 2500);
    const del = await fetch(`${worker.url}/${id}`, { method: "DELETE", headers });
    const answer = (await del.json()) as { success: boolean; errorCode?: string };
    count(`cancel ${del.status}${answer.errorCode ? ` ${answer.errorCode}` : ""}`);
    if (answer.success) cancelledOk.set(id, Date.now());
  }

  async function lane(): Promise<void> {
    while (next < PAIRS && Date.now() < deadline) await pair(next++);
  }

  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    // Let background cancels (alarm retries) and late agent claims settle.
    upstream.faults = {};
    const quiet = Date.now() + 20_000;
    while (Date.now() < quiet) {
      const pending = [...upstream.records.values()].filter((r) => r.state === "queued" && cancelledOk.has(r.interactionId));
      if (pending.length === 0) break;
      await sleep(500);
    }
    await sleep(3000);

    const granted = new Set(upstream.claimsGranted.map((c) => c.interactionId));
    const violations = [...cancelledOk.keys()].filter((id) => granted.has(id));
    const duplicates = [...upstream.createsPerInteraction().values()].filter((n) => n > 1).length;
    const received = new Set([...upstream.records.values()].map((r) => r.interactionId));
    const lost = [...created].filter((id) => !received.has(id));
    const stillQueued = [...upstream.records.values()].filter((r) => r.state === "queued" && cancelledOk.has(r.interactionId));
    const tally = {
      pairs: next,
      created: created.size,
      cancelled_ok: cancelledOk.size,
      too_late: outcomes["cancel 409 already_assigned"] ?? 0,
      violations: violations.length,
      duplicates,
      lost: lost.length,
      cancelled_but_still_queued_upstream: stillQueued.length,
      unsigned_requests_seen_by_upstream: upstream.unsigned,
    };
    console.log("\nanswers:", outcomes);
    console.table(tally);
    if (violations.length > 0) console.log("violations:", violations.slice(0, 10));
    const ok = tally.violations === 0 && tally.duplicates === 0 && tally.lost === 0 && tally.cancelled_but_still_queued_upstream === 0;
    console.log(ok ? "e2e:faults passed" : `e2e:faults FAILED (seed ${seed})`);
    return ok ? 0 : 1;
  } finally {
    await worker.stop();
    fake.server.close();
    fake.server.closeAllConnections();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
