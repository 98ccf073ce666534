/**
 * A scripted burst against the real worker under `wrangler dev` (simulator upstream), with the
 * rate limits of wrangler.toml (600 per 60 s per API key; 600 failed authentications per 60 s per
 * client address):
 *   1. 650 requests with one key, 25 at a time: at most 600 pass, the rest are 429 rate_limited
 *      with Retry-After;
 *   2. a second key, right after, is unaffected (its requests pass);
 *   3. 605 requests with wrong keys from this machine's address: 401 until the limit, then 429;
 *      a valid key from the same address still passes.
 * The requests are cheap reads of an id nobody created (404 once past the key limit; bodiless: early
 * answers to uploads are proved by `npm run e2e:early`). Exits non-zero when any expectation fails.
 * Loopback only; bounded (~a minute at most).
 *
 * Usage: npm run e2e:rate-limit
 */
import { startWorker } from "./lib/processes.ts";

const KEY_LIMIT = 600;
/** A well-formed id nobody created: a read of it passes the key limit and answers 404. */
const UNKNOWN_ID = "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f";
const FAILED_AUTH_LIMIT = 600;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Local limits count in fixed windows aligned to the minute: start a burst early in a window. */
async function freshWindow(needMs: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < needMs) await sleep(left + 250);
}

interface Tally {
  statuses: Record<number, number>;
  retryAfter: Set<string>;
}

async function burst(url: string, headers: Record<string, string>, count: number, concurrency: number): Promise<Tally> {
  const tally: Tally = { statuses: {}, retryAfter: new Set() };
  let sent = 0;
  const worker = async () => {
    while (sent < count) {
      sent += 1;
      const res = await fetch(`${url}/v1/interactions/${UNKNOWN_ID}`, { headers });
      const body = (await res.json()) as { success: boolean; errorCode?: string };
      tally.statuses[res.status] = (tally.statuses[res.status] ?? 0) + 1;
      if (res.status === 429) {
        if (body.errorCode !== "rate_limited" || body.success !== false) throw new Error(`429 without rate_limited: ${JSON.stringify(body)}`);
        tally.retryAfter.add(res.headers.get("retry-after") ?? "(none)");
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return tally;
}

async function main(): Promise<number> {
  const keyA = `burst-a-${crypto.randomUUID()}`;
  const keyB = `burst-b-${crypto.randomUUID()}`;
  const worker = await startWorker({ DIYALOG_API_KEYS: `${keyA},${keyB}` });
  const failures: string[] = [];
  const check = (ok: boolean, what: string) => {
    console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
    if (!ok) failures.push(what);
  };
  try {
    await freshWindow(20_000);
    const started = Date.now();
    const a = await burst(worker.url, { authorization: `Bearer ${keyA}` }, KEY_LIMIT + 50, 25);
    const b = await burst(worker.url, { "x-api-key": keyB }, 50, 10);
    console.log(`key A: ${JSON.stringify(a.statuses)} in ${Date.now() - started} ms; Retry-After ${[...a.retryAfter].join(", ")}`);
    console.log(`key B: ${JSON.stringify(b.statuses)}`);
    check((a.statuses[404] ?? 0) === KEY_LIMIT, `key A: exactly ${KEY_LIMIT} requests passed the limit (404: unknown id)`);
    check((a.statuses[429] ?? 0) === 50, "key A: the other 50 were 429 rate_limited");
    check([...a.retryAfter].every((v) => /^[1-9]\d*$/.test(v) && Number(v) <= 60), "every 429 carried Retry-After in seconds (≤ 60)");
    check((b.statuses[404] ?? 0) === 50, "key B, right after: all 50 passed (one key's burst never throttles another)");

    await freshWindow(10_000);
    const wrong = await burst(worker.url, { authorization: "Bearer wrong-key" }, FAILED_AUTH_LIMIT + 5, 1);
    console.log(`wrong keys from one address: ${JSON.stringify(wrong.statuses)}`);
    check((wrong.statuses[401] ?? 0) === FAILED_AUTH_LIMIT && (wrong.statuses[429] ?? 0) === 5, `failed authentications: ${FAILED_AUTH_LIMIT} × 401, then 429`);
    const valid = await burst(worker.url, { authorization: `Bearer ${keyB}` }, 5, 1);
    check((valid.statuses[404] ?? 0) === 5, "a valid key from the same address still passes");
  } finally {
    await worker.stop();
  }
  console.log(failures.length === 0 ? "rate limits hold" : `${failures.length} expectation(s) failed`);
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
