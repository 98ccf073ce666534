/**
 * Personal data end to end (design §6): the real worker under `wrangler dev` with the embedded
 * simulator and its state persisted to a fresh folder, run twice: on the development keys, and
 * with PERSONAL_DATA_KEYS and CUSTOMER_REF_KEY set. Each run:
 *   - checks `/healthz` says `personalData: "development-keys"` / `"encrypted"`;
 *   - creates calls for distinctive customers (identityNumber, attribute values, some non-ASCII),
 *     cancels some, reads each (masked customerId and identityNumber, hidden attribute values),
 *     looks a customer up (newest first, with its customerRef), erases one customer whose call is
 *     waiting (cancelled, and a lookup afterwards shows no personal data) and creates it again;
 *   - stops the dev server and reads every file under the persist folder as raw bytes, looking for
 *     each customerId, identityNumber and attribute value (UTF-8 and UTF-16LE) and the plain SHA-256
 *     of each customerId (hex, base64, base64url; of its UTF-8 and UTF-16LE bytes);
 *   - checks the dev server's output (the worker's log lines) carries each customer's customerRef
 *     (the first 16 characters of base64url(HMAC-SHA256(CUSTOMER_REF_KEY, customerId))) and none of
 *     the personal values.
 * Prints what it checked; exits non-zero on any hit or failed check. Loopback only, bounded (60 s).
 *
 * Usage: npm run e2e:personal-data
 */
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { startWorker, type DevWorker } from "./lib/processes.ts";

const API_KEY = `e2e-pd-key-${randomUUID()}`;
const DEVELOPMENT_CUSTOMER_REF_KEY = "ZGl5YWxvZy1kZXYtY3VzdG9tZXItcmVmLWtleS0zMmI="; // src/security/customer-ref.ts
const LIMIT_MS = 60_000;
const startedAt = Date.now();
const problems: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function check(ok: boolean, what: string): void {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) problems.push(what);
}

interface Envelope {
  success: boolean;
  errorCode?: string;
  result: any;
}

async function api(worker: DevWorker, method: string, path: string, body?: unknown): Promise<{ status: number; body: Envelope }> {
  const res = await fetch(`${worker.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as Envelope };
}

const masked = (v: string) => "*".repeat(v.length - 2) + v.slice(-2);
/** design §6: the HMAC key is CUSTOMER_REF_KEY's 32 bytes (standard base64). */
const customerRef = (key: string, customerId: string) => createHmac("sha256", Buffer.from(key, "base64")).update(customerId, "utf8").digest("base64url").slice(0, 16);

/** A customer whose every personal value is distinctive. */
function person(run: string, n: number) {
  const tag = randomBytes(6).toString("hex");
  return {
    customerId: `e2e-${run}-${n}-${tag}`,
    identityNumber: `7${String(Math.floor(Math.random() * 1e10)).padStart(10, "0")}`,
    attachedData: { TRX: `trx-${tag}`, PrimaryProjectManagerId: `pm-${tag}`, Name: `Ayşe Yılmaz ${tag}`, Note: `not-${tag}` },
  };
}
type Person = ReturnType<typeof person>;

/** Every byte form a store could hold the customer's personal data in. */
function needles(p: Person): { label: string; bytes: Buffer }[] {
  const out: { label: string; bytes: Buffer }[] = [];
  const values: [string, string][] = [["customerId", p.customerId], ["identityNumber", p.identityNumber], ...Object.entries(p.attachedData).map(([k, v]) => [`attribute ${k}`, v] as [string, string])];
  for (const [label, value] of values) {
    out.push({ label: `${label} (UTF-8)`, bytes: Buffer.from(value, "utf8") });
    out.push({ label: `${label} (UTF-16LE)`, bytes: Buffer.from(value, "utf16le") });
  }
  for (const encoding of ["utf8", "utf16le"] as const) {
    const digest = createHash("sha256").update(Buffer.from(p.customerId, encoding)).digest();
    for (const form of ["hex", "base64", "base64url"] as const) out.push({ label: `SHA-256(customerId ${encoding}) ${form}`, bytes: Buffer.from(digest.toString(form), "ascii") });
    out.push({ label: `SHA-256(customerId ${encoding}) raw`, bytes: digest });
  }
  return out;
}

function filesUnder(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) files.push(...filesUnder(path));
    else files.push(path);
  }
  return files;
}

/** Waits until every process of the dev server's group has exited, so its files are final. */
async function gone(worker: DevWorker): Promise<void> {
  const since = Date.now();
  while (worker.pid !== undefined && Date.now() - since < 10_000) {
    try {
      process.kill(-worker.pid, 0);
    } catch {
      return;
    }
    await sleep(100);
  }
}

async function run(label: string, keys: { PERSONAL_DATA_KEYS: string; CUSTOMER_REF_KEY: string } | undefined): Promise<void> {
  console.log(`\n== ${label} ==`);
  const vars: Record<string, string> = { DIYALOG_API_KEYS: API_KEY, UPSTREAM: "simulator", SIM_AGENTS: "1", SIM_ASSIGN_DELAY_MS: "60000", LOG_LEVEL: "info", ...keys };
  const worker = await startWorker(vars, { logLevel: "log", keepState: true });
  const refKey = keys?.CUSTOMER_REF_KEY ?? DEVELOPMENT_CUSTOMER_REF_KEY;
  let storedId = ""; // an interaction id, which the persisted state must hold (the grep reads the records)
  const people = [0, 1, 2, 3].map((n) => person(label.startsWith("with") ? "keys" : "dev", n));
  try {
    const health = await fetch(`${worker.url}/healthz`).then((r) => r.json() as Promise<Envelope>);
    const expected = keys ? "encrypted" : "development-keys";
    check(health.result?.personalData === expected, `/healthz personalData is "${expected}" (got ${JSON.stringify(health.result?.personalData)})`);

    const ids: string[] = [];
    for (const p of people) {
      const created = await api(worker, "POST", "/CreateInteraction", { customerId: p.customerId, identityNumber: p.identityNumber, attachedData: p.attachedData });
      check(created.status === 200, `create for customer ${people.indexOf(p)} answers 200 (got ${created.status})`);
      ids.push(created.body.result?.interactionId);
    }
    for (const i of [0, 1]) check((await api(worker, "DELETE", `/${ids[i]}`)).body.result?.state === "cancelled", `cancel of call ${i} answers cancelled`);
    for (const [i, p] of people.entries()) {
      const read = (await api(worker, "GET", `/v1/interactions/${ids[i]}`)).body.result;
      check(
        read?.customerId === masked(p.customerId) && read?.identityNumber === masked(p.identityNumber) && read?.attributes?.Name === "***" && read?.attributes?.TRX === p.attachedData.TRX,
        `GET of call ${i}: customerId and identityNumber masked, Name hidden, TRX shown`,
      );
    }
    // Customer 0 calls again: the lookup shows both calls, newest first.
    const again = await api(worker, "POST", "/CreateInteraction", { customerId: people[0]!.customerId, attachedData: people[0]!.attachedData });
    const found = (await api(worker, "POST", "/v1/customers/lookup", { customerId: people[0]!.customerId })).body.result;
    check(found?.customerRef === customerRef(refKey, people[0]!.customerId), "lookup answers the customer's customerRef (HMAC under CUSTOMER_REF_KEY)");
    check(JSON.stringify(found?.interactions?.map((ix: { interactionId: string }) => ix.interactionId)) === JSON.stringify([again.body.result?.interactionId, ids[0]]), "lookup lists the customer's calls newest first");
    check((await api(worker, "POST", "/v1/customers/lookup", { customerId: `nobody-${randomUUID()}` })).body.result?.interactions?.length === 0, "lookup of an unknown customer is an empty list");
    await api(worker, "DELETE", `/${again.body.result?.interactionId}`);

    // Customer 2's call still waits: erasure cancels it and deletes its personal fields.
    const before = await api(worker, "GET", "/v1/simulator");
    check(JSON.stringify(before.body.result).includes(ids[2]!), "before erasure, customer 2's call is in the simulator's queue");
    const erased = (await api(worker, "POST", "/v1/customers/erase", { customerId: people[2]!.customerId })).body.result;
    check(erased?.erased === 1 && JSON.stringify(erased?.cancelled) === JSON.stringify([ids[2]]), `erase answers erased 1, cancelled [its call] (got ${JSON.stringify({ ...erased, customerRef: undefined })})`);
    const queue = await api(worker, "GET", "/v1/simulator");
    check(queue.status === 200 && !JSON.stringify(queue.body.result).includes(ids[2]!), "the erased customer's call left the simulator's queue (the upstream copy is cancelled)");
    const after = (await api(worker, "POST", "/v1/customers/lookup", { customerId: people[2]!.customerId })).body.result?.interactions?.[0];
    check(after?.state === "cancelled" && after?.customerId === null && after?.identityNumber === null && JSON.stringify(after?.attributes) === "{}", "after erasure, lookup shows the call cancelled with no personal data");
    const recreated = await api(worker, "POST", "/CreateInteraction", { customerId: people[2]!.customerId, identityNumber: people[2]!.identityNumber, attachedData: people[2]!.attachedData });
    check(recreated.status === 200, "a new create of the erased customer works");
    await api(worker, "DELETE", `/${recreated.body.result?.interactionId}`);
    await api(worker, "DELETE", `/${ids[3]}`);
    storedId = ids[3] ?? "";
  } finally {
    await worker.stop();
    await gone(worker);
  }

  // The persisted state, byte by byte.
  const files = filesUnder(worker.state);
  let bytes = 0;
  let hits = 0;
  let seen = false;
  for (const file of files) {
    const content = readFileSync(file);
    bytes += content.length;
    if (storedId && content.includes(Buffer.from(storedId.slice(64)))) seen = true;
    for (const [n, p] of people.entries()) {
      for (const needle of needles(p)) {
        if (content.includes(needle.bytes)) {
          hits += 1;
          check(false, `persisted state: customer ${n}'s ${needle.label} found in ${file.slice(worker.state.length)}`);
        }
      }
    }
  }
  const kinds = needles(people[0]!).length;
  check(files.length > 0 && seen, `read ${files.length} persisted files (${bytes} bytes), which hold the calls' records (an interaction id found)`);
  check(hits === 0, `persisted state holds none of ${people.length} customers × ${kinds} forms (customerId, identityNumber, 4 attribute values in UTF-8 and UTF-16LE; plain SHA-256 of the customerId in hex, base64, base64url and raw, of UTF-8 and UTF-16LE)`);
  rmSync(worker.state, { recursive: true, force: true });

  // The logs.
  const logs = worker.output();
  for (const [n, p] of people.entries()) {
    check(logs.includes(`"customerRef":"${customerRef(refKey, p.customerId)}"`), `logs carry customer ${n}'s customerRef`);
    for (const needle of needles(p).filter((x) => !x.label.includes("UTF-16") && !x.label.endsWith("raw"))) {
      if (logs.includes(needle.bytes.toString("utf8"))) check(false, `logs hold customer ${n}'s ${needle.label}`);
    }
  }
  check(logs.includes('"msg":"request"'), `the dev server printed the worker's log lines (${logs.split("\n").length} lines checked for personal data)`);
}

async function main(): Promise<number> {
  const timer = setTimeout(() => {
    console.error(`e2e:personal-data: over ${LIMIT_MS / 1000} s, giving up`);
    process.exit(2);
  }, LIMIT_MS);
  try {
    await run("development keys (no PERSONAL_DATA_KEYS, no CUSTOMER_REF_KEY)", undefined);
    const key = () => randomBytes(32).toString("base64");
    await run("with PERSONAL_DATA_KEYS and CUSTOMER_REF_KEY", { PERSONAL_DATA_KEYS: key(), CUSTOMER_REF_KEY: key() });
  } finally {
    clearTimeout(timer);
  }
  console.log(`\n${problems.length === 0 ? "passed" : `FAILED: ${problems.length} problem(s)`} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
