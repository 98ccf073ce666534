import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from "vitest";
import { checkEnvelope, fetchWithEnv } from "./helpers";

/**
 * Fuzzing the whole worker (issue 7, design §5 "Bad input never yields a 5xx, never a non-envelope
 * body"): fast-check generates request bodies (arbitrary JSON values, create-shaped JSON, strings,
 * byte sequences, broken JSON), headers, paths and methods, and every answer must hold the envelope
 * invariant — a JSON envelope, `success` ⇔ 2xx, an errorCode from the closed list, no-store and
 * nosniff (checked by `checkEnvelope`) — and never be a 5xx. HEAD answers have headers only; the
 * OpenAPI document and the console page are raw (design §1 exceptions).
 *
 * Rate limits apply here too: the requests use eight keys of this file's own and a fresh client
 * address each, so failed authentications and bursts never throttle other files (or each other).
 * Interactions a run happens to create are cancelled at once, so the simulator's one agent stays free.
 *
 * Reproduce a failure with the seed (and path) fast-check prints: pass them in PARAMS below.
 */

const KEYS = Array.from({ length: 8 }, (_, i) => `fuzz-${i}-${crypto.randomUUID()}`);
const ENV = { DIYALOG_API_KEYS: KEYS.join(",") };
const PARAMS: fc.Parameters<unknown> = {};

let requestNo = 0;
/** A client address nobody else uses: a failed-authentication budget of its own. */
function nextAddress(): string {
  requestNo += 1;
  return `10.${(requestNo >> 16) & 255}.${(requestNo >> 8) & 255}.${requestNo & 255}`;
}

const stats = { requests: 0, created: 0, byStatus: new Map<number, number>() };

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** Sends one generated request and checks what every answer must be; cancels what it created. */
async function sendAndCheck(request: Sent): Promise<void> {
  const headers = new Headers(request.headers);
  headers.set("cf-connecting-ip", nextAddress());
  const withBody = request.body !== undefined && request.method !== "GET" && request.method !== "HEAD";
  const res = await fetchWithEnv(ENV, request.path, { method: request.method, headers, ...(withBody ? { body: request.body } : {}) });
  stats.requests += 1;
  stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);
  const where = `${request.method} ${request.path.slice(0, 120)} → ${res.status}`;

  expect(res.status, where).toBeGreaterThanOrEqual(200);
  expect(res.status, `no 5xx: ${where}`).toBeLessThan(500);
  expect(res.headers.get("x-content-type-options"), where).toBe("nosniff");
  expect(res.headers.has("x-powered-by"), where).toBe(false);
  if (request.method === "HEAD") {
    expect(await res.text(), where).toBe("");
    return;
  }
  const url = new URL(`http://proxy${request.path}`);
  if (res.status === 200 && (url.pathname === "/openapi.json" || url.pathname === "/console")) return;
  const answer = await checkEnvelope(res);
  const id = answer.body.result?.interactionId;
  if (res.status === 200 && typeof id === "string" && request.method === "POST") {
    stats.created += 1;
    const cancelled = await fetchWithEnv(ENV, `/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${KEYS[0]}`, "cf-connecting-ip": nextAddress() } });
    expect([200, 202, 409], `cancel after ${where}`).toContain(cancelled.status);
  }
}

// ---------------------------------------------------------------------------------------------
// Generators.

/** Strings that stress parsers: any unicode (lone surrogates included), control characters, prototype words. */
const nastyString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "", " ", "\t", "\u0000", "\r\n", "\u2028", "\ud800", "../", "%2F", "12345678901"),
);

const scalar = fc.oneof(
  nastyString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(0, -0, 2 ** 53, -(2 ** 53), 1e308, Number.MAX_SAFE_INTEGER),
);

/** Objects that may carry `__proto__` as an own key, as JSON.parse makes it from a body. */
const attributeObject = fc
  .tuple(
    fc.dictionary(nastyString, fc.oneof({ weight: 4, arbitrary: scalar }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }), { maxKeys: 8 }),
    fc.option(fc.oneof(scalar, fc.jsonValue({ maxDepth: 2 })), { nil: undefined }),
  )
  .map(([o, proto]): unknown => {
    if (proto === undefined) return o;
    const rest = JSON.stringify(o).slice(1);
    return JSON.parse(`{"__proto__":${JSON.stringify(proto)}${rest === "}" ? "}" : `,${rest}`}`);
  });

/** Bodies shaped like a create, right or wrong in every field. */
const createShaped = fc.record(
  {
    customerId: fc.oneof(nastyString, fc.integer(), fc.double(), fc.jsonValue({ maxDepth: 2 }), fc.uuid().map((u) => `fuzz-${u}`)),
    attachedData: fc.oneof(attributeObject, fc.array(fc.oneof({ weight: 5, arbitrary: attributeObject }, { weight: 1, arbitrary: scalar }), { maxLength: 6 }), fc.jsonValue({ maxDepth: 3 })),
    identityNumber: fc.oneof(nastyString, fc.constant(null), fc.stringMatching(/^\d{11}$/), fc.jsonValue({ maxDepth: 1 })),
    extra: fc.jsonValue({ maxDepth: 3 }),
  },
  { requiredKeys: [] },
);

/** JSON text with a few characters broken: cut, duplicated or replaced. */
const brokenJson = fc
  .tuple(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), fc.nat(), fc.constantFrom("cut", "dup", "swap"), fc.string({ maxLength: 3 }))
  .map(([text, at, how, insert]) => {
    const i = text.length === 0 ? 0 : at % text.length;
    if (how === "cut") return text.slice(0, i);
    if (how === "dup") return text.slice(0, i) + text.slice(i - 1);
    return text.slice(0, i) + insert + text.slice(i + 1);
  });

const body: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: createShaped.map((b) => JSON.stringify(b)) },
  { weight: 3, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: brokenJson },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 600 }) },
  { weight: 1, arbitrary: fc.nat({ max: 40_000 }).map((n) => `{"customerId":"fuzz","pad":"${"x".repeat(n)}"}`) },
);

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8") },
  { weight: 1, arbitrary: fc.constantFrom("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1", ";", "*/*") },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

/**
 * Header values a client can send: no NUL, CR or LF (Headers refuses those). Printable ASCII and
 * tab; Latin-1 values are in hostile-input.test.ts (the runtime prints a warning for each one).
 */
const headerValue = fc
  .array(fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.constant(0x09)), { maxLength: 60 })
  .map((codes) => String.fromCharCode(...codes));

const headerName = fc.oneof(
  fc.constantFrom("x-request-id", "x-api-key", "authorization", "content-length", "content-encoding", "transfer-encoding", "accept", "origin", "x-forwarded-for", "x-forwarded-host", "host", "cookie", "webhook-id", "webhook-timestamp", "webhook-signature", "x-twilio-signature", "if-match", "range"),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
);

/** Auth as Diyalog might send it, or not: one of the file's keys, garbage, or nothing. */
const auth = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...KEYS).map((k): Record<string, string> => ({ authorization: `Bearer ${k}` })) },
  { weight: 1, arbitrary: fc.constantFrom(...KEYS).map((k): Record<string, string> => ({ "x-api-key": k })) },
  { weight: 2, arbitrary: headerValue.map((v): Record<string, string> => ({ authorization: v })) },
  { weight: 1, arbitrary: fc.constant<Record<string, string>>({}) },
);

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "MKCOL", "patch"];
const ROUTES = ["/CreateInteraction", "/v1/interactions", "/healthz", "/openapi.json", "/console", "/v1/simulator", "/v1/upstream/twilio/assignment", "/"];

/** Every byte of the UTF-8 form (lone surrogates become U+FFFD) as %XX, except unreserved characters. */
function percentEncode(text: string): string {
  return [...new TextEncoder().encode(text)]
    .map((b) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`))
    .join("");
}

const segment = fc.oneof(
  fc.uuid(),
  fc.webSegment(),
  nastyString.map(percentEncode),
  fc.constantFrom("..", ".", "%2e%2e", "%2F", "%252F", "%00", "%", "%zz", "%ff", ";x=1", "CreateInteraction", "v1", "interactions", "upstream", "claim", "events"),
);

const path = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(...ROUTES),
      segment.map((s) => `/${s}`),
      segment.map((s) => `/v1/interactions/${s}`),
      fc.tuple(segment, fc.constantFrom("claim", "events")).map(([s, what]) => `/v1/upstream/interactions/${s}/${what}`),
      fc.array(segment, { maxLength: 5 }).map((s) => `/${s.join("/")}`),
    ),
    fc.option(fc.webQueryParameters(), { nil: undefined }),
  )
  .map(([p, query]) => (query === undefined ? p : `${p}?${query}`));

const request: fc.Arbitrary<Sent> = fc
  .record({
    method: fc.constantFrom(...METHODS),
    path,
    auth,
    contentType: fc.option(contentType, { nil: undefined }),
    extra: fc.dictionary(headerName, headerValue, { maxKeys: 4 }),
    body: fc.option(body, { nil: undefined }),
  })
  .map(({ method, path, auth, contentType, extra, body }) => {
    const headers: Record<string, string> = { ...extra, ...auth };
    if (contentType !== undefined) headers["content-type"] = contentType;
    // A Content-Length the runtime would check against the body is the one thing a client cannot lie about here.
    delete headers["content-length"];
    delete headers["transfer-encoding"];
    delete headers["host"];
    return body === undefined ? { method, path, headers } : { method, path, headers, body };
  });

/** Create requests with a valid key and content type: the fuzz reaches past auth, 415 and 413 into the JSON. */
const createRequest: fc.Arbitrary<Sent> = fc
  .record({
    path: fc.constantFrom("/CreateInteraction", "/v1/interactions"),
    key: fc.constantFrom(...KEYS),
    contentType: fc.constantFrom("application/json", "application/json; charset=utf-8"),
    body,
  })
  .map(({ path, key, contentType, body }) => ({ method: "POST", path, headers: { authorization: `Bearer ${key}`, "content-type": contentType }, body }));

// ---------------------------------------------------------------------------------------------

describe("fuzz: the envelope invariant holds and nothing is a 5xx", () => {
  // Thousands of request log lines stay off the terminal; errors are kept to be checked.
  let errors: MockInstance;
  beforeAll(() => {
    for (const level of ["log", "info", "warn", "debug"] as const) vi.spyOn(console, level).mockImplementation(() => {});
    errors = vi.spyOn(console, "error").mockImplementation(() => {});
  });
  afterAll(() => {
    vi.restoreAllMocks();
    console.info(`fuzz: ${stats.requests} requests, ${stats.created} interactions created, statuses ${JSON.stringify(Object.fromEntries(stats.byStatus))}`);
  });

  it("arbitrary bodies on the create routes (1500 runs)", async () => {
    await fc.assert(fc.asyncProperty(createRequest, sendAndCheck), { numRuns: 1500, ...PARAMS });
    // The generators reach every layer: created interactions as well as invalid JSON and validation failures.
    expect(stats.created).toBeGreaterThan(0);
    expect(stats.byStatus.get(400)).toBeGreaterThan(100);
  }, 240_000);

  it("arbitrary methods, paths, headers and bodies (2000 runs)", async () => {
    await fc.assert(fc.asyncProperty(request, sendAndCheck), { numRuns: 2000, ...PARAMS });
    for (const status of [200, 400, 401, 404, 405]) expect(stats.byStatus.get(status) ?? 0, `some ${status}s`).toBeGreaterThan(0);
  }, 240_000);

  it("nothing the fuzz sent made the worker log an error", () => {
    expect(stats.requests).toBeGreaterThanOrEqual(3500);
    expect(errors.mock.calls.map((args) => args.join(" "))).toEqual([]);
  });
});
