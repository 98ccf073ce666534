/**
 * Early rejections end to end: the real worker under `wrangler dev` (as `npm start` runs it) gets
 * requests it answers without reading their body — no or wrong Content-Type (415), a wrong or
 * missing key (401), a wrong method with a body (405), unknown paths (404), GETs that carry a body,
 * a declared body over the limit (413) — and every answer must be the worker's JSON envelope with
 * the expected status and errorCode (design §1), never the dev server's own text (its plain-text
 * 503 "Your worker restarted mid-request", a 500, or no answer at all).
 *
 * Then a 100 MB chunked upload (no Content-Length, streamed as fast as the socket takes it) to a
 * create with a valid key must be answered 413 after a few MB at most: the bytes the socket had
 * written when the answer arrived are measured.
 *
 * Prints sent / enveloped / non-envelope. Exits non-zero when any answer is not the expected
 * envelope or the upload was not cut short. Loopback only; bounded (~a minute at most).
 *
 * Usage: npm run e2e:early [-- --requests 600 --concurrency 8]
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { parseArgs } from "node:util";
import { MAX_BODY_BYTES } from "../src/http/body.ts";
import { startWorker } from "./lib/processes.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "600" },
    concurrency: { type: "string", default: "8" },
    "upload-mb": { type: "string", default: "100" },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const UPLOAD_BYTES = Number(values["upload-mb"]) * 1024 * 1024;
/**
 * "A few MB at most" before a streamed oversized body is answered: the worker answers after 32 KiB,
 * the rest is what the loopback sockets of the two hops (client → dev proxy → worker) hold.
 */
const UPLOAD_ANSWER_WITHIN = 16 * 1024 * 1024;
/** Both limits of wrangler.toml are 600 per 60 s: per key for valid keys, per address for failed authentications. */
const FAILED_AUTH_LIMIT = 600;
const KEYS = Array.from({ length: 6 }, (_, i) => `early-key-${i}-${crypto.randomUUID()}`);
const REQUEST_TIMEOUT_MS = 15_000;

const json = JSON.stringify({ customerId: "early-rejection", attachedData: [{ TRX: "Diyalog" }] });
const unknownId = () => crypto.randomUUID();

/** One kind of early rejection: what is sent and the envelope it must get. */
interface Kind {
  name: string;
  method: string;
  path: () => string;
  /** Headers besides the key. */
  headers?: Record<string, string>;
  /** valid: one of KEYS; wrong: a key nobody has; none: no key. */
  key: "valid" | "wrong" | "none";
  body: string | Buffer;
  status: number;
  code: string;
  allow?: string;
}

const KINDS: Kind[] = [
  { name: "create without Content-Type", method: "POST", path: () => "/CreateInteraction", key: "valid", body: json, status: 415, code: "unsupported_media_type" },
  { name: "create as text/plain", method: "POST", path: () => "/v1/interactions", headers: { "content-type": "text/plain" }, key: "valid", body: json, status: 415, code: "unsupported_media_type" },
  { name: "create with a wrong key", method: "POST", path: () => "/CreateInteraction", headers: { "content-type": "application/json" }, key: "wrong", body: json, status: 401, code: "unauthorized" },
  { name: "create without a key", method: "POST", path: () => "/v1/interactions", headers: { "content-type": "application/json" }, key: "none", body: json, status: 401, code: "unauthorized" },
  { name: "cancel with a body and a wrong key", method: "DELETE", path: () => `/${unknownId()}`, key: "wrong", body: json, status: 401, code: "unauthorized" },
  { name: "PUT /CreateInteraction with a body", method: "PUT", path: () => "/CreateInteraction", headers: { "content-type": "application/json" }, key: "valid", body: json, status: 405, code: "method_not_allowed", allow: "POST" },
  { name: "PATCH /v1/interactions with a body", method: "PATCH", path: () => "/v1/interactions", headers: { "content-type": "application/json" }, key: "valid", body: json, status: 405, code: "method_not_allowed", allow: "POST" },
  { name: "POST /healthz with a body", method: "POST", path: () => "/healthz", headers: { "content-type": "application/json" }, key: "none", body: json, status: 405, code: "method_not_allowed", allow: "GET, HEAD" },
  { name: "POST /console with a body", method: "POST", path: () => "/console", headers: { "content-type": "application/json" }, key: "none", body: json, status: 405, code: "method_not_allowed", allow: "GET, HEAD" },
  { name: "POST to an unknown path", method: "POST", path: () => "/no/such/route", headers: { "content-type": "application/json" }, key: "valid", body: json, status: 404, code: "not_found" },
  { name: "GET with a body: unknown path", method: "GET", path: () => "/nothing/here", headers: { "content-type": "application/json" }, key: "none", body: json, status: 404, code: "not_found" },
  { name: "GET with a body: unknown interaction", method: "GET", path: () => `/v1/interactions/${unknownId()}`, key: "valid", body: json, status: 404, code: "not_found" },
  { name: "GET /CreateInteraction with a body", method: "GET", path: () => "/CreateInteraction", key: "valid", body: json, status: 405, code: "method_not_allowed", allow: "POST" },
  { name: "a declared body over the limit", method: "POST", path: () => "/CreateInteraction", headers: { "content-type": "application/json" }, key: "valid", body: Buffer.alloc(MAX_BODY_BYTES + 1024, 0x20), status: 413, code: "payload_too_large" },
];

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function send(base: string, method: string, path: string, headers: Record<string, string>, body: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = typeof body === "string" ? Buffer.from(body) : body;
    const req = httpRequest(`${base}${path}`, { method, agent, headers: { ...headers, "content-length": String(payload.byteLength) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on("error", reject);
    req.end(payload);
  });
}

/** Why an answer is not the expected envelope, or undefined when it is. */
function mismatch(kind: Kind, answer: Answer): { envelope: boolean; why: string } | undefined {
  let body: { success?: unknown; errorMessage?: unknown; errorCode?: unknown; result?: unknown };
  try {
    body = JSON.parse(answer.text);
  } catch {
    return { envelope: false, why: `HTTP ${answer.status} ${answer.headers["content-type"] ?? ""}: ${answer.text.slice(0, 80).replace(/\s+/g, " ")}` };
  }
  const isEnvelope =
    typeof body === "object" && body !== null && typeof body.success === "boolean" && "errorMessage" in body && "result" in body;
  if (!isEnvelope || !String(answer.headers["content-type"] ?? "").startsWith("application/json")) {
    return { envelope: false, why: `HTTP ${answer.status}, not the envelope: ${answer.text.slice(0, 80)}` };
  }
  if (answer.status !== kind.status || body.success !== false || body.errorCode !== kind.code || typeof body.errorMessage !== "string") {
    return { envelope: true, why: `HTTP ${answer.status} ${String(body.errorCode)}, expected ${kind.status} ${kind.code}` };
  }
  if (kind.allow !== undefined && answer.headers.allow !== kind.allow) return { envelope: true, why: `Allow: ${answer.headers.allow}, expected ${kind.allow}` };
  return undefined;
}

/** Streams up to UPLOAD_BYTES, chunked, as fast as the socket takes them; measures what was written when the answer came. */
function streamedUpload(base: string, key: string, path: string): Promise<{ answer: Answer; written: number }> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let queued = 0;
    let answered = false;
    const req = httpRequest(
      `${base}${path}`,
      { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "transfer-encoding": "chunked" } },
      (res) => {
        answered = true;
        const written = req.socket?.bytesWritten ?? queued;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({ answer: { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }, written });
          req.destroy();
        });
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error("the upload got no answer within 60 s")));
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    const pump = () => {
      while (!answered && queued < UPLOAD_BYTES) {
        queued += chunk.byteLength;
        if (!req.write(chunk)) {
          req.once("drain", pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    req.write("{");
    pump();
  });
}

async function main(): Promise<number> {
  const worker = await startWorker({ DIYALOG_API_KEYS: KEYS.join(",") });
  const failures: string[] = [];
  try {
    const tally = { sent: 0, enveloped: 0, nonEnvelope: 0, wrongEnvelope: 0, noAnswer: 0 };
    const perKind = new Map<string, number>();
    const examples: string[] = [];
    const failedAuths = { count: 0 };
    let next = 0;
    const started = Date.now();

    const lane = async () => {
      while (next < REQUESTS) {
        const i = next++;
        const kind = KINDS[i % KINDS.length]!;
        const headers: Record<string, string> = { ...kind.headers };
        if (kind.key === "valid") headers.authorization = `Bearer ${KEYS[i % KEYS.length]}`;
        if (kind.key === "wrong") headers.authorization = `Bearer wrong-${i}`;
        if (kind.status === 401 && ++failedAuths.count >= FAILED_AUTH_LIMIT) throw new Error("too many failed authentications for one address: lower --requests");
        tally.sent++;
        let problem: { envelope: boolean; why: string } | undefined;
        try {
          problem = mismatch(kind, await send(worker.url, kind.method, kind.path(), headers, kind.body));
        } catch (err) {
          problem = { envelope: false, why: `no answer (${err instanceof Error ? err.message : String(err)})` };
          tally.noAnswer++;
        }
        if (!problem) tally.enveloped++;
        else {
          if (problem.envelope) tally.wrongEnvelope++;
          else tally.nonEnvelope++;
          perKind.set(kind.name, (perKind.get(kind.name) ?? 0) + 1);
          if (examples.length < 5) examples.push(`${kind.name}: ${problem.why}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    agent.destroy();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);

    console.log(`early rejections through wrangler dev: ${KINDS.length} kinds, ${CONCURRENCY} at a time, ${KEYS.length} keys, ${seconds} s`);
    console.table({
      sent: tally.sent,
      enveloped: tally.enveloped,
      "non-envelope": tally.nonEnvelope - tally.noAnswer,
      "no answer": tally.noAnswer,
      "envelope, wrong status/code": tally.wrongEnvelope,
    });
    for (const [name, n] of perKind) console.log(`  ${name}: ${n} not as expected`);
    for (const line of examples) console.log(`  e.g. ${line}`);
    if (tally.sent < 500 && REQUESTS >= 500) failures.push(`only ${tally.sent} requests sent`);
    if (tally.enveloped !== tally.sent) failures.push(`${tally.sent - tally.enveloped} of ${tally.sent} early rejections were not the expected envelope`);

    // The same upload with a valid key (413 once 32 KiB are read) and with a wrong one (401 at once).
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB`;
    const uploads = [
      { name: "a create", key: KEYS[0]!, path: "/CreateInteraction", kind: KINDS.find((k) => k.status === 413)! },
      { name: "a create with a wrong key", key: "wrong-key", path: "/v1/interactions", kind: KINDS.find((k) => k.status === 401)! },
    ];
    for (const { name, key, path, kind } of uploads) {
      const upload = await streamedUpload(worker.url, key, path);
      console.log(`${mb(UPLOAD_BYTES)} chunked upload (no Content-Length) to ${name}: HTTP ${upload.answer.status} after ${mb(upload.written)} (${upload.written} bytes) were sent`);
      const problem = mismatch(kind, upload.answer);
      if (problem) failures.push(`the chunked upload to ${name}: ${problem.why}`);
      if (upload.written > UPLOAD_ANSWER_WITHIN) failures.push(`the chunked upload to ${name} was answered only after ${mb(upload.written)} (limit ${mb(UPLOAD_ANSWER_WITHIN)})`);
    }
  } finally {
    await worker.stop();
  }
  for (const f of failures) console.log(`FAIL ${f}`);
  console.log(failures.length === 0 ? "e2e:early passed" : "e2e:early FAILED");
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
