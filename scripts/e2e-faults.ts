/**
 * Fault-injection end to end: the real worker under `wrangler dev` (UPSTREAM=http) against a local
 * fake queue that answers 10% of requests with 503, loses 5% of its answers after acting on them,
 * and whose agents claim calls after random short delays through the proxy's claim hook.
 *
 * Two phases of create/cancel pairs with random timing:
 *   1. faults of the upstream only (`--pairs`, default 200);
 *   2. the runtime crashes for real (`--kills`, default 5): at random moments while pairs are in
 *      flight the dev server's whole process group gets SIGKILL and is started again on the same
 *      port and the same persisted state (what a deploy or a machine failure does). The client
 *      retries what got no answer: a create with the same customer (one active interaction per
 *      customer gives back the same id), a DELETE as it is (idempotent). Pairs keep starting until
 *      every kill is done and at least `--crash-pairs` (default 60) were started.
 *
 * Then the tally, per phase and in total:
 *   cancelled_ok  cancels answered success:true (200 or 202)
 *   too_late      cancels answered 409 already_assigned
 *   violations    calls an agent was granted although their cancel was answered success:true
 *   duplicates    interactions created more than once upstream
 *   lost          creates answered success:true that the proxy no longer knows or the upstream never got
 *   stuck         interactions not terminal at the end, and upstream copies still queued of an
 *                 interaction that is terminal without an agent (or unknown to the proxy)
 * Then the same create/cancel pairs against Genesys Engage (`--engage-pairs` per dialect, default
 * 40): the worker with UPSTREAM=genesys-engage, once per dialect (nexus, gms), against the Engage
 * fake (test/fakes/engage.ts) with the same faults (10% 503, 5% lost answers), the Access service
 * token required on every call, and routing that gives calls to agents after random short delays.
 * Engage cannot veto: a cancel is 200 only once Engage confirmed the stop, 409 once an agent has
 * it, 503 cancel_unconfirmed while unsure (the pair then repeats its DELETE until it has an answer).
 *
 * Exits non-zero unless violations, duplicates, lost and stuck are all 0 in every run. Loopback
 * only; bounded (pairs, kills, and wall-clock limits).
 *
 * Usage: npm run e2e:faults [-- --pairs 200 --crash-pairs 60 --kills 5 --engage-pairs 40 --concurrency 12 --seed N]
 */
import { parseArgs } from "node:util";
import { mulberry32 } from "../test/fakes/common.ts";
import { FakeEngage, type Dialect } from "../test/fakes/engage.ts";
import { FakeUpstream } from "../test/fakes/http-upstream.ts";
import { freePort, serve, startWorker, type DevWorker } from "./lib/processes.ts";

const { values } = parseArgs({
  options: {
    pairs: { type: "string", default: "200" },
    "crash-pairs": { type: "string", default: "60" },
    kills: { type: "string", default: "5" },
    "engage-pairs": { type: "string", default: "40" },
    concurrency: { type: "string", default: "12" },
    seed: { type: "string" },
  },
});
const PAIRS = Number(values.pairs);
const CRASH_PAIRS = Number(values["crash-pairs"]);
const KILLS = Number(values.kills);
const ENGAGE_PAIRS = Number(values["engage-pairs"]);
const CONCURRENCY = Number(values.concurrency);
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const KEYS = Array.from({ length: 8 }, (_, i) => `e2e-key-${i}-0123456789abcdefghijklmnopqrstuv`);
const TERMINAL = new Set(["assigned", "cancelled", "failed", "expired"]);
/** How long the client keeps retrying one request that gets no answer (the server restarting). */
const RETRY_FOR_MS = 90_000;

const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const random = mulberry32(seed); // seeded, so a failing run can be repeated with --seed (kill timing still varies)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Envelope {
  success: boolean;
  errorCode?: string;
  result?: { interactionId?: string; state?: string } | null;
}

type Phase = "faults" | "crashes";

async function main(): Promise<number> {
  const startedAt = Date.now();
  const deadline = startedAt + 4 * 60_000;
  const proxyPort = await freePort();
  const upstream = new FakeUpstream(SECRET, { proxyUrl: `http://127.0.0.1:${proxyPort}`, minDelayMs: 100, maxDelayMs: 2500 }, random);
  const fake = await serve((request) => upstream.handle(request));
  upstream.faults = { error503: 0.1, drop: 0.05 };

  const worker: DevWorker = await startWorker(
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
  console.log(
    `seed ${seed}; ${PAIRS} create/cancel pairs with upstream faults, then ≥ ${CRASH_PAIRS} with ${KILLS} SIGKILLs of the runtime; ` +
      `${CONCURRENCY} at a time, against ${worker.url} → ${fake.url}`,
  );

  /** Acknowledged creates (answered success:true), with their phase. */
  const created = new Map<string, Phase>();
  const cancelledOk = new Set<string>();
  const outcomes: Record<Phase, Record<string, number>> = { faults: {}, crashes: {} };
  const retried: Record<Phase, number> = { faults: 0, crashes: 0 };
  const started: Record<Phase, number> = { faults: 0, crashes: 0 };

  /** Sends until the proxy answers with an envelope; no answer (refused, reset, the dev server's own 503) is retried. */
  async function answered(phase: Phase | null, path: string, init: RequestInit): Promise<{ status: number; body: Envelope }> {
    const giveUpAt = Date.now() + RETRY_FOR_MS;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        if (phase) retried[phase] += 1;
        await sleep(300 + random() * 400);
      }
      try {
        const res = await fetch(`${worker.url}${path}`, { ...init, signal: AbortSignal.timeout(20_000) });
        const text = await res.text();
        const body = JSON.parse(text) as Envelope;
        if (typeof body.success === "boolean") return { status: res.status, body };
      } catch {
        // no answer
      }
      if (Date.now() > giveUpAt) throw new Error(`${init.method} ${path.slice(0, 20)}… got no answer for ${RETRY_FOR_MS} ms`);
    }
  }

  async function pair(phase: Phase, i: number): Promise<void> {
    const count = (k: string) => (outcomes[phase][k] = (outcomes[phase][k] ?? 0) + 1);
    const key = KEYS[i % KEYS.length]!;
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const res = await answered(phase, "/CreateInteraction", {
      method: "POST",
      headers,
      body: JSON.stringify({ customerId: `e2e-${seed}-${phase}-${i}`, attachedData: [{ TRX: "Diyalog" }, { PrimaryProjectManagerId: String(i) }] }),
    });
    count(`create ${res.status}${res.body.errorCode ? ` ${res.body.errorCode}` : ""}`);
    const id = res.body.result?.interactionId;
    if (!res.body.success || !id) return;
    created.set(id, phase);
    await sleep(random() * 2500);
    const del = await answered(phase, `/${id}`, { method: "DELETE", headers });
    count(`cancel ${del.status}${del.body.errorCode ? ` ${del.body.errorCode}` : ""}`);
    if (del.body.success) cancelledOk.add(id);
  }

  async function run(phase: Phase, more: () => boolean): Promise<void> {
    const lane = async () => {
      while (more() && Date.now() < deadline) await pair(phase, started[phase]++);
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  }

  /**
   * Reads the state of every id through the API (404 → "unknown", another failure → "http <status>"),
   * spread over the keys so the reads stay far below the per-key limit; a terminal state is final, so
   * it is read once.
   */
  const final = new Map<string, string>();
  async function readStates(ids: string[]): Promise<void> {
    const queue = ids.filter((id) => !TERMINAL.has(final.get(id) ?? ""));
    let n = 0;
    const reader = async () => {
      for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
        const res = await answered(null, `/v1/interactions/${id}`, { headers: { authorization: `Bearer ${KEYS[n++ % KEYS.length]}` } });
        final.set(id, res.status === 404 ? "unknown" : res.body.success ? (res.body.result?.state ?? "?") : `http ${res.status}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, reader));
  }

  const kills: { atMs: number; restartMs: number }[] = [];
  try {
    await run("faults", () => started.faults < PAIRS);

    let killing = true;
    const killer = (async () => {
      try {
        for (let k = 0; k < KILLS && Date.now() < deadline; k++) {
          await sleep(1000 + random() * 3000);
          const at = Date.now();
          await worker.kill();
          const down = Date.now();
          await worker.restart();
          kills.push({ atMs: at - startedAt, restartMs: Date.now() - down });
        }
      } finally {
        killing = false;
      }
    })();
    await Promise.all([killer, run("crashes", () => killing || started.crashes < CRASH_PAIRS)]);

    // Let background cancels (alarm retries) and late agent claims settle, without faults.
    upstream.faults = {};
    const known = () => [...new Set([...created.keys(), ...[...upstream.records.values()].map((r) => r.interactionId)])];
    const quiet = Date.now() + 30_000;
    for (;;) {
      await sleep(1500);
      await readStates(known());
      const unsettled = [...final.values()].some((s) => !TERMINAL.has(s) && s !== "unknown");
      const queuedCopies = [...upstream.records.values()].some((r) => r.state === "queued" && final.get(r.interactionId) !== "assigned");
      if ((!unsettled && !queuedCopies) || Date.now() > quiet) break;
    }

    const granted = new Set(upstream.claimsGranted.map((c) => c.interactionId));
    const received = new Set([...upstream.records.values()].map((r) => r.interactionId));
    const copies = upstream.createsPerInteraction();
    const phaseOf = (id: string): Phase => created.get(id) ?? (/-crashes-/.test(upstreamCustomer(id) ?? "") ? "crashes" : "faults");
    function upstreamCustomer(id: string): string | undefined {
      return [...upstream.records.values()].find((r) => r.interactionId === id)?.body.customerId;
    }

    const rows: Record<string, Record<string, number | string>> = {};
    for (const phase of ["faults", "crashes", "total"] as const) {
      const inPhase = (id: string) => phase === "total" || phaseOf(id) === phase;
      const ids = known().filter(inPhase);
      const violations = [...cancelledOk].filter((id) => inPhase(id) && granted.has(id));
      const duplicates = [...copies].filter(([id, n]) => inPhase(id) && n > 1);
      const lost = [...created.keys()].filter((id) => inPhase(id) && (final.get(id) === "unknown" || !received.has(id)));
      const notTerminal = ids.filter((id) => !TERMINAL.has(final.get(id) ?? "?"));
      const strandedCopies = [...upstream.records.values()].filter((r) => inPhase(r.interactionId) && r.state === "queued" && final.get(r.interactionId) !== "assigned");
      const count = (k: string) =>
        phase === "total" ? (outcomes.faults[k] ?? 0) + (outcomes.crashes[k] ?? 0) : (outcomes[phase][k] ?? 0);
      rows[phase] = {
        pairs: phase === "total" ? started.faults + started.crashes : started[phase],
        created: [...created.values()].filter((p) => phase === "total" || p === phase).length,
        interactions_seen: ids.length,
        cancelled_ok: [...cancelledOk].filter(inPhase).length,
        too_late: count("cancel 409 already_assigned"),
        retried_requests: phase === "total" ? retried.faults + retried.crashes : retried[phase],
        violations: violations.length,
        duplicates: duplicates.length,
        lost: lost.length,
        stuck: notTerminal.length + strandedCopies.length,
      };
      if (phase === "total") {
        if (violations.length) console.log("violations:", violations.slice(0, 10));
        if (duplicates.length) console.log("duplicates:", duplicates.slice(0, 10));
        if (lost.length) console.log("lost:", lost.slice(0, 10).map((id) => `${id} (${final.get(id)})`));
        if (notTerminal.length) console.log("not terminal:", notTerminal.slice(0, 10).map((id) => `${id} (${final.get(id)})`));
        if (strandedCopies.length) console.log("queued upstream copies:", strandedCopies.slice(0, 10).map((r) => `${r.interactionId} (${final.get(r.interactionId)})`));
      }
    }
    const histogram: Record<string, number> = {};
    for (const state of final.values()) histogram[state] = (histogram[state] ?? 0) + 1;
    console.log("\nanswers:", outcomes);
    console.log("final states:", histogram);
    console.log(
      `kills: ${kills.length} (at ${kills.map((k) => `${(k.atMs / 1000).toFixed(1)} s`).join(", ")}; ` +
        `restarts took ${kills.map((k) => `${(k.restartMs / 1000).toFixed(1)} s`).join(", ")})`,
    );
    console.table(rows);
    console.log(`unsigned requests seen by the upstream: ${upstream.unsigned}; wall time ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
    const total = rows.total!;
    const ok = total.violations === 0 && total.duplicates === 0 && total.lost === 0 && total.stuck === 0 && kills.length === KILLS;
    if (kills.length !== KILLS) console.log(`only ${kills.length} of ${KILLS} kills happened before the time limit`);
    await worker.stop();
    let engageOk = true;
    for (const dialect of ["nexus", "gms"] as const) if (ENGAGE_PAIRS > 0) engageOk = (await engageFaults(dialect)) && engageOk;
    console.log(ok && engageOk ? "e2e:faults passed" : `e2e:faults FAILED (seed ${seed})`);
    return ok && engageOk ? 0 : 1;
  } finally {
    await worker.stop();
    fake.server.close();
    fake.server.closeAllConnections();
  }
}

/**
 * Create/cancel pairs against the Engage fake in one dialect, with faults. Violations are calls an
 * agent was given after their cancel was answered success:true; duplicates, interactions Engage
 * created twice; lost, acknowledged creates Engage never got; stuck, interactions not terminal at
 * the end or still live in Engage without an agent while the proxy calls them closed. Failed
 * creates' copies are tracked too (read, and stuck if left queued).
 */
async function engageFaults(dialect: Dialect): Promise<boolean> {
  const startedAt = Date.now();
  const deadline = startedAt + 2 * 60_000;
  const access = { clientId: "e2e.access", clientSecret: "e2e-access-secret-0123456789" };
  const engage = new FakeEngage(dialect, { service: "diyalog", apiKey: "e2e-nexus-key", access, autoAssign: { afterMs: 400, jitterMs: 3000, agentId: "agent-1" } }, random);
  if (dialect === "gms") engage.settings = { ...engage.settings, apiKey: undefined, basic: { username: "e2e", password: "e2e-password" } };
  engage.settings.chaos = { error503: 0.1, drop: 0.05 };
  const fake = await serve((request) => engage.handle(request));
  const worker = await startWorker({
    UPSTREAM: "genesys-engage",
    ENGAGE_API: dialect,
    ENGAGE_URL: fake.url,
    ENGAGE_SERVICE: "diyalog",
    ...(dialect === "nexus" ? { ENGAGE_API_KEY: "e2e-nexus-key" } : { ENGAGE_USERNAME: "e2e", ENGAGE_PASSWORD: "e2e-password" }),
    ENGAGE_POLL_SECONDS: "1",
    UPSTREAM_ACCESS_CLIENT_ID: access.clientId,
    UPSTREAM_ACCESS_CLIENT_SECRET: access.clientSecret,
    UPSTREAM_TIMEOUT_MS: "1000",
    CREATE_DEADLINE_MS: "8000",
    DIYALOG_API_KEYS: KEYS.join(","),
  });
  const outcomes: Record<string, number> = {};
  const count = (k: string) => (outcomes[k] = (outcomes[k] ?? 0) + 1);
  const created = new Set<string>();
  const cancelledOk = new Set<string>();
  let n = 0;
  /** Sends until the proxy answers with an envelope other than 503 cancel_unconfirmed, within the deadline. */
  async function ask(path: string, init: RequestInit): Promise<{ status: number; body: Envelope }> {
    for (;;) {
      try {
        const res = await fetch(`${worker.url}${path}`, { ...init, signal: AbortSignal.timeout(20_000) });
        const body = JSON.parse(await res.text()) as Envelope;
        if (typeof body.success === "boolean" && (body.errorCode !== "cancel_unconfirmed" || Date.now() > deadline)) return { status: res.status, body };
        if (body.errorCode === "cancel_unconfirmed") count("cancel 503 cancel_unconfirmed (asked again)");
      } catch {
        if (Date.now() > deadline) throw new Error(`${init.method ?? "GET"} ${path.slice(0, 20)}… got no answer`);
      }
      await sleep(500 + random() * 500);
    }
  }
  try {
    const lane = async () => {
      while (n < ENGAGE_PAIRS && Date.now() < deadline) {
        const i = n++;
        const headers = { authorization: `Bearer ${KEYS[i % KEYS.length]}`, "content-type": "application/json" };
        const res = await ask("/CreateInteraction", {
          method: "POST",
          headers,
          body: JSON.stringify({ customerId: `e2e-${seed}-engage-${dialect}-${i}`, attachedData: [{ TRX: "Diyalog" }, { PrimaryProjectManagerId: `pm-${i}` }] }),
        });
        count(`create ${res.status}${res.body.errorCode ? ` ${res.body.errorCode}` : ""}`);
        const id = res.body.result?.interactionId;
        if (!res.body.success || !id) continue;
        created.add(id);
        await sleep(random() * 2500);
        const del = await ask(`/${id}`, { method: "DELETE", headers });
        count(`cancel ${del.status}${del.body.errorCode ? ` ${del.body.errorCode}` : ""}`);
        if (del.body.success) cancelledOk.add(id);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));

    // Let polls and background cancels settle without faults; agents keep taking what is still queued.
    engage.settings.chaos = undefined;
    const final = new Map<string, string>();
    const quiet = Date.now() + 30_000;
    // Every interaction Engage saw, acknowledged or not (a failed create's copy must never reach an agent either).
    const known = () => new Set([...created, ...engage.createdPerExternalId.keys()]);
    for (;;) {
      await sleep(1500);
      for (const id of known()) {
        if (TERMINAL.has(final.get(id) ?? "")) continue;
        const res = await ask(`/v1/interactions/${id}`, { headers: { authorization: `Bearer ${KEYS[0]}` } });
        final.set(id, res.status === 404 ? "unknown" : (res.body.result?.state ?? `http ${res.status}`));
      }
      if ([...final.values()].every((s) => TERMINAL.has(s) || s === "unknown") || Date.now() > quiet) break;
    }
    const given = new Set(engage.given.map((g) => g.externalId));
    // An agent got a call whose cancel was answered success:true, or one the proxy closed as cancelled
    // (a cancel Engage confirmed). A failed create's copy an agent took before the proxy could stop it
    // is the limit of an upstream without a veto (docs/upstreams/genesys-engage.md), not counted here.
    const violations = [...known()].filter((id) => given.has(id) && (cancelledOk.has(id) || final.get(id) === "cancelled"));
    const duplicates = [...engage.createdPerExternalId].filter(([, copies]) => copies > 1);
    const lost = [...created].filter((id) => !engage.createdPerExternalId.has(id) || final.get(id) === "unknown");
    const stranded = [...engage.interactions.values()].filter((x) => x.InteractionState !== 3 && final.get(x.externalId ?? "") !== "assigned");
    const notTerminal = [...known()].filter((id) => !TERMINAL.has(final.get(id) ?? "?"));
    const withoutAccess = engage.requests.filter((r) => !r.access).length;
    const row = {
      pairs: n,
      created: created.size,
      cancelled_ok: cancelledOk.size,
      too_late: outcomes["cancel 409 already_assigned"] ?? 0,
      violations: violations.length,
      duplicates: duplicates.length,
      lost: lost.length,
      stuck: notTerminal.length + stranded.length,
      without_access: withoutAccess,
    };
    console.log(`\ngenesys-engage (${dialect}) answers:`, outcomes);
    console.table({ [`engage-${dialect}`]: row });
    if (violations.length) console.log("violations:", violations.slice(0, 10));
    if (duplicates.length) console.log("duplicates:", duplicates.slice(0, 10));
    if (lost.length) console.log("lost:", lost.slice(0, 10));
    if (notTerminal.length || stranded.length) console.log("stuck:", notTerminal.slice(0, 10), stranded.slice(0, 10).map((x) => x.externalId));
    return row.violations === 0 && row.duplicates === 0 && row.lost === 0 && row.stuck === 0 && withoutAccess === 0 && created.size > 0;
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
