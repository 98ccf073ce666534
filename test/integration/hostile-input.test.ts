import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { DRAIN_LIMIT_BYTES, MAX_BODY_BYTES } from "../../src/http/body";
import {
  BASE,
  callWithEnv,
  checkEnvelope,
  cleanup,
  expectFailure,
  fetchWithEnv,
  fromOwnAddress,
  getShowing,
  sampleBody,
  track,
  type Answer,
} from "./helpers";

/**
 * Hostile input (issue 7): every path answers a 4xx envelope, never a 5xx or a hang, and every
 * response carries the security headers. Complements request-body.test.ts (sizes, content types,
 * malformed JSON, validation, prototype keys) and routing.test.ts (traversal and encoded ids).
 *
 * Requests use keys of this file's own (`fetchWithEnv`/`callWithEnv` with DIYALOG_API_KEYS), so
 * the hundreds sent here never spend the shared test key's rate-limit budget.
 */

afterEach(cleanup);

const OWN_KEY = `hostile-${crypto.randomUUID()}`;
const KEYS = { DIYALOG_API_KEYS: OWN_KEY };
const AUTH = { authorization: `Bearer ${OWN_KEY}` };
const JSON_AUTH = { ...AUTH, "content-type": "application/json" };
/** A well-formed interaction id whose object part names no object of this worker. */
const UNKNOWN_ID = `${"0123456789abcdef".repeat(4)}AbCdEfGhIjKlMnOpQrStUv`;
const encoder = new TextEncoder();

function send(path: string, init: RequestInit = {}): Promise<Response> {
  return fetchWithEnv(KEYS, path, init);
}

function call(path: string, init: RequestInit = {}): Promise<Answer> {
  return callWithEnv(KEYS, path, init);
}

/** Headers every response carries, whatever answered it (design §1, issue 7). */
function expectSecurityHeaders(res: Response, where: string): void {
  expect(res.headers.get("x-content-type-options"), `nosniff on ${where}`).toBe("nosniff");
  expect(res.headers.get("cache-control"), `cache-control on ${where}`).toBeTruthy();
  expect(res.headers.has("x-powered-by"), `no x-powered-by on ${where}`).toBe(false);
  expect(res.headers.has("server"), `no server banner on ${where}`).toBe(false);
  expect(res.headers.get("x-request-id"), `x-request-id on ${where}`).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
}

describe("every method on every route", () => {
  const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "patch"] as const;
  type Method = (typeof METHODS)[number];
  /** A route, what a method gets there per design §1, and whether it answers outside the envelope. */
  interface Route {
    path: string;
    expect(method: string): number;
    /** `/openapi.json` and `/console` are the raw document and an HTML page (design §1 exceptions). */
    raw?: boolean;
  }
  // A wrong method on a fixed route is 405, except DELETE on a single segment, which is a cancel.
  const fixed = (path: string, ok: Record<string, number>): Route => ({
    path,
    expect: (method) => ok[method] ?? (method === "DELETE" && path.split("/").length === 2 ? 404 : 405),
  });
  const ROUTES: Route[] = [
    fixed("/CreateInteraction", { POST: 400 }),
    fixed("/v1/interactions", { POST: 400 }),
    fixed("/healthz", { GET: 200, HEAD: 200 }),
    fixed("/v1/simulator", { GET: 200, HEAD: 200 }),
    { ...fixed("/openapi.json", { GET: 200, HEAD: 200 }), raw: true },
    { ...fixed("/console", { GET: 200, HEAD: 200 }), raw: true },
    { path: `/v1/interactions/${UNKNOWN_ID}`, expect: () => 404 },
    { path: `/${UNKNOWN_ID}`, expect: () => 404 },
    { path: `/v1/upstream/interactions/${UNKNOWN_ID}/claim`, expect: () => 404 },
    { path: `/v1/upstream/interactions/${UNKNOWN_ID}/events`, expect: () => 404 },
    { path: "/v1/upstream/twilio/assignment", expect: () => 404 },
    { path: "/", expect: () => 404 },
    { path: "/no/such/route", expect: () => 404 },
  ];
  const cases = ROUTES.flatMap((route) => METHODS.map((method) => [method, route.path, route] as [Method, string, Route]));

  it.each(cases)("%s %s", async (method, path, route) => {
    const hasBody = !["GET", "HEAD"].includes(method);
    const res = await send(path, { method, headers: JSON_AUTH, ...(hasBody ? { body: "{}" } : {}) });
    const where = `${method} ${path} → ${res.status}`;
    expectSecurityHeaders(res, where);
    // fetch does not upper-case "patch": no route is registered for it, so it meets the same 405/404.
    expect(res.status, where).toBe(route.expect(method.toUpperCase()));
    if (res.status === 405) {
      const allow = (res.headers.get("allow") ?? "").split(",").map((m) => m.trim());
      expect(allow.length, `Allow on ${where}`).toBeGreaterThan(0);
      expect(allow, `Allow on ${where}`).not.toContain(method);
    }
    if (method === "HEAD") {
      expect(await res.text(), `HEAD has no body: ${where}`).toBe("");
      return;
    }
    if (route.raw && res.status === 200) return;
    const answer = await checkEnvelope(res);
    expect(answer.body.success).toBe(res.status < 300);
  });
});

describe("DELETE on a single segment is a cancel, whatever the segment (design §1 routing rules)", () => {
  it.each(["/healthz", "/CreateInteraction", "/openapi.json", "/console"])("DELETE %s → 404 not_found", async (path) => {
    expectFailure(await call(path, { method: "DELETE", headers: AUTH }), 404, "not_found");
  });
});

describe("bodies that are hostile in shape", () => {
  const deepObject = '{"a":'.repeat(6000) + "1" + "}".repeat(6000);
  const bodies: [string, () => BodyInit][] = [
    ["an object nested 6000 deep in attachedData", () => `{"customerId":"h-${crypto.randomUUID()}","attachedData":${deepObject}}`],
    ["an array nested 16000 deep as the whole body", () => "[".repeat(16000) + "]".repeat(16000)],
    ["5000 empty objects in attachedData", () => JSON.stringify({ customerId: `h-${crypto.randomUUID()}`, attachedData: Array(5000).fill({}) })],
    ["8000 numbers in attachedData", () => JSON.stringify({ customerId: "h", attachedData: Array(8000).fill(1) })],
    ["a 10000-element array as customerId", () => JSON.stringify({ customerId: Array(10000).fill(0) })],
    ["3000 distinct attachedData keys", () => JSON.stringify({ customerId: "h", attachedData: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, ""])) })],
    ["customerId repeated 2000 times", () => `{${Array.from({ length: 2000 }, (_, i) => `"customerId":"h-${i}"`).join(",")}}`],
    ["a 30 KiB string key", () => `{"customerId":"h","attachedData":{"${"k".repeat(30 * 1024)}":"v"}}`],
    ["a 30 KiB number", () => `{"customerId":${"9".repeat(30 * 1024)}}`],
    ["exponent overflow in attachedData", () => '{"customerId":"h","attachedData":{"n":-1e999,"m":1e-999}}'],
    ["every JSON escape in customerId", () => '{"customerId":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\uffff"}'],
    ["unpaired surrogates everywhere", () => '{"customerId":"\\udfff\\ud800","identityNumber":"\\ud800","attachedData":{"\\udc00":"\\udbff"}}'],
    ["U+2028/U+2029 and NEL in values", () => JSON.stringify({ customerId: `h-${crypto.randomUUID()}`, attachedData: { k: "a\u2028b\u2029c\u0085d" } })],
    ["__proto__, constructor and prototype as plain attributes", () => `{"customerId":"h-${crypto.randomUUID()}","attachedData":[{"__proto__":"1"},{"constructor":"2","prototype":"3","hasOwnProperty":"4","toString":"5"}]}`],
    ["__proto__ holding an object", () => '{"customerId":"h","attachedData":{"__proto__":{"isAdmin":"true"}}}'],
    ["__proto__ as the whole of attachedData items", () => '{"customerId":"h","attachedData":[{"__proto__":null},{"__proto__":[]}]}'],
    ["a raw NUL byte inside a string", () => encoder.encode('{"customerId":"h\u0000"}')],
    ["raw control bytes between tokens", () => encoder.encode('{\u0001"customerId":"h"}')],
    ["an overlong UTF-8 slash", () => new Uint8Array([...encoder.encode('{"customerId":"h'), 0xc0, 0xaf, ...encoder.encode('"}')])],
    ["a UTF-8-encoded surrogate", () => new Uint8Array([...encoder.encode('{"customerId":"h'), 0xed, 0xa0, 0x80, ...encoder.encode('"}')])],
    ["a truncated multi-byte character at the end", () => new Uint8Array([...encoder.encode('{"customerId":"h"}'), 0xe2, 0x82])],
    ["Latin-1 bytes", () => new Uint8Array([...encoder.encode('{"customerId":"'), 0xe7, 0xfc, 0xf0, ...encoder.encode('"}')])],
    ["UTF-16LE with a BOM", () => new Uint8Array([0xff, 0xfe, ...[...'{"customerId":"h"}'].flatMap((ch) => [ch.charCodeAt(0), 0])])],
    ["only whitespace", () => " \t\r\n ".repeat(100)],
    ["JSON followed by garbage", () => '{"customerId":"h"} {"customerId":"i"}'],
    ["a JSON string holding JSON", () => JSON.stringify(JSON.stringify({ customerId: "h" }))],
  ];

  it.each(bodies)("%s → a 2xx or 4xx envelope, no prototype touched", async (_, body) => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const answer = await call("/CreateInteraction", { method: "POST", headers: JSON_AUTH, body: body() });
    expect([200, 400, 413], answer.text.slice(0, 200)).toContain(answer.status);
    if (answer.status === 200) {
      const id = track(answer.body.result.interactionId as string);
      const read = await call(`/v1/interactions/${id}`, { headers: AUTH });
      expect(Object.getPrototypeOf(read.body.result.attributes)).toBe(Object.prototype);
    } else {
      expect(["invalid_json", "validation_failed", "payload_too_large"]).toContain(answer.body.errorCode);
    }
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it("__proto__ and friends are stored as plain attributes and read back as data", async () => {
    const answer = await call("/CreateInteraction", {
      method: "POST",
      headers: JSON_AUTH,
      body: `{"customerId":"h-${crypto.randomUUID()}","attachedData":{"__proto__":"p","constructor":"c","prototype":"t"}}`,
    });
    expect(answer.status, answer.text).toBe(200);
    const read = await getShowing(track(answer.body.result.interactionId as string), ["__proto__", "constructor", "prototype"]);
    const attributes = JSON.parse(read.text).result.attributes;
    expect(Object.getOwnPropertyDescriptor(attributes, "__proto__")?.value).toBe("p");
    expect(Object.keys(attributes).sort()).toEqual(["__proto__", "constructor", "prototype"]);
  });
});

describe("text that is not well-formed Unicode, and DEL/C1 controls (issue 12, defects 3 and 5)", () => {
  // Raw JSON text carrying the escape: a JS string with a lone surrogate sent by fetch would be
  // re-encoded as U+FFFD before it left the test.
  const WELL_FORMED = "must be well-formed Unicode (no lone surrogates)";
  const create = (json: string) => call("/CreateInteraction", { method: "POST", headers: JSON_AUTH, body: json });

  it.each([
    ["customerId", (c: string) => `{"customerId":"${c}\\ud83d"}`, "customerId"],
    ["identityNumber", (c: string) => `{"customerId":"${c}","identityNumber":"1234567890\\ud83d"}`, "identityNumber"],
    ["an attachedData value", (c: string) => `{"customerId":"${c}","attachedData":[{"TRX":"Diyalog"},{"note":"a\\udc00"}]}`, "attachedData.note"],
    ["an attachedData key", (c: string) => `{"customerId":"${c}","attachedData":{"k\\ud800":"v"}}`, "attachedData"],
  ])("a lone surrogate in %s → 400 validation_failed naming the field", async (_where, body, field) => {
    const answer = await create(body(`u-${crypto.randomUUID()}`));
    expectFailure(answer, 400, "validation_failed", `${field}: `);
    expect((answer.body.errorMessage ?? "").startsWith(`${field}: `), answer.text).toBe(true);
    expect(answer.body.errorMessage).toContain(field === "attachedData" ? "keys must be well-formed Unicode" : WELL_FORMED);
  });

  it("customers X\\ud83d and X\\ufffd are never merged: the first is refused, the second gets its own call", async () => {
    const base = `u-${crypto.randomUUID()}`;
    const replacement = await create(`{"customerId":"${base}\\ufffd"}`);
    expect(replacement.status, replacement.text).toBe(200);
    track(replacement.body.result.interactionId as string);
    const lone = await create(`{"customerId":"${base}\\ud83d"}`);
    expectFailure(lone, 400, "validation_failed", "customerId: ");
    expect(lone.text).not.toContain(replacement.body.result.interactionId as string);
  });

  it.each([
    ["DEL", "\\u007f"],
    ["C1 NEL", "\\u0085"],
    ["C1 U+009F", "\\u009f"],
  ])("%s in an attachedData key or value → 400 validation_failed", async (_name, escape) => {
    const value = await create(`{"customerId":"u-${crypto.randomUUID()}","attachedData":{"note":"a${escape}b"}}`);
    expectFailure(value, 400, "validation_failed", "attachedData.note: must not contain control characters");
    const key = await create(`{"customerId":"u-${crypto.randomUUID()}","attachedData":{"a${escape}b":"v"}}`);
    expectFailure(key, 400, "validation_failed", "attachedData: keys must not contain control characters");
  });
});

describe("uploads that misbehave", () => {
  /**
   * An upload of `chunks` × 8 KiB, produced only as fast as the worker reads it. Past `free` chunks
   * it stalls until `open()`: an answer that waited for the upload would never come.
   */
  function upload(chunks = 12_800, opening = "", free = Infinity) {
    const state = { sent: 0, cancelled: false };
    let open = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const chunk = encoder.encode("x".repeat(8 * 1024));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (opening) controller.enqueue(encoder.encode(opening));
      },
      async pull(controller) {
        if (state.sent >= free) await gate;
        if (state.sent >= chunks) return controller.close();
        state.sent += 1;
        controller.enqueue(chunk);
      },
      cancel() {
        state.cancelled = true;
      },
    });
    return { stream, state, open };
  }

  /**
   * The worker's answer to an upload, with how much of the upload had been read when the answer
   * (a Response) came back; the answer's body is then read and background work awaited.
   */
  async function answerTo(path: string, init: RequestInit, upl: { state: { sent: number }; open: () => void }): Promise<{ sentAtAnswer: number; answer: Answer }> {
    const ctx = createExecutionContext();
    const request = new Request(`${BASE}${path}`, fromOwnAddress({ ...init, duplex: "half" } as RequestInit)) as Parameters<typeof worker.fetch>[0];
    const res = await worker.fetch(request, { ...env, ...KEYS } as unknown as Env, ctx);
    const sentAtAnswer = upl.state.sent;
    upl.open();
    const answer = await checkEnvelope(res);
    await waitOnExecutionContext(ctx);
    return { sentAtAnswer, answer };
  }

  /** At most this many 8 KiB chunks are read and dropped behind an answer before the rest is cancelled. */
  const DRAINED_CHUNKS = (MAX_BODY_BYTES + DRAIN_LIMIT_BYTES) / 8192 + 4;

  it("an endless upload (100 MiB offered) → 413 after reading about 32 KiB; the rest is dropped up to the drain limit, then cancelled", async () => {
    const upl = upload(12_800, '{"customerId":"h","pad":"', MAX_BODY_BYTES / 8192 + 2);
    const { stream, state } = upl;
    const { sentAtAnswer, answer } = await answerTo("/CreateInteraction", { method: "POST", headers: JSON_AUTH, body: stream }, upl);
    expectFailure(answer, 413, "payload_too_large");
    expect(sentAtAnswer).toBeLessThanOrEqual(MAX_BODY_BYTES / 8192 + 2);
    expect(state.cancelled).toBe(true);
    expect(state.sent).toBeLessThanOrEqual(DRAINED_CHUNKS);
  });

  it("a Content-Length that understates the body does not let more than 32 KiB in", async () => {
    const answer = await call("/CreateInteraction", {
      method: "POST",
      headers: { ...JSON_AUTH, "content-length": "10" },
      body: `{"customerId":"h","pad":"${"x".repeat(200 * 1024)}"}`,
    });
    expectFailure(answer, 413, "payload_too_large");
  });

  it("a Content-Length that overstates the limit is refused before a byte is read", async () => {
    const upl = upload(4, "", 0);
    const { sentAtAnswer, answer } = await answerTo(
      "/CreateInteraction",
      { method: "POST", headers: { ...JSON_AUTH, "content-length": String(100 * 1024 * 1024) }, body: upl.stream },
      upl,
    );
    expectFailure(answer, 413, "payload_too_large");
    expect(sentAtAnswer).toBe(0);
  });

  it.each(["abc", "-1", "1e3", "0x10", "", "99999999999999999999999"])("a Content-Length of %j never yields a 5xx", async (declared) => {
    const answer = await call("/CreateInteraction", { method: "POST", headers: { ...JSON_AUTH, "content-length": declared }, body: '{"customerId":1' });
    expect([400, 413]).toContain(answer.status);
  });

  it("an upload the client breaks off → 400 invalid_json, not a 5xx", async () => {
    let pulls = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulls++ === 0) controller.enqueue(encoder.encode('{"customerId":"h'));
        else controller.error(new TypeError("client went away"));
      },
    });
    const answer = await call("/CreateInteraction", { method: "POST", headers: JSON_AUTH, body: stream, duplex: "half" } as RequestInit);
    expectFailure(answer, 400, "invalid_json");
  });

  it.each([
    ["DELETE", `/${UNKNOWN_ID}`],
    ["DELETE", `/v1/interactions/${UNKNOWN_ID}`],
    ["POST", "/no/such/route"],
    ["PUT", "/CreateInteraction"],
    ["POST", "/healthz"],
  ])("%s %s with a 100 MiB upload answers without reading it, then drops it up to the drain limit", async (method, path) => {
    const upl = upload(12_800, "", 0);
    const { stream, state } = upl;
    const { sentAtAnswer, answer } = await answerTo(path, { method, headers: JSON_AUTH, body: stream }, upl);
    expect([404, 405]).toContain(answer.status);
    expect(sentAtAnswer).toBe(0);
    expect(state.cancelled).toBe(true);
    expect(state.sent).toBeLessThanOrEqual(DRAINED_CHUNKS);
  });

  it("a successful cancel that carries a 100 MiB upload answers 200 without reading it", async () => {
    const created = await call("/CreateInteraction", { method: "POST", headers: JSON_AUTH, body: JSON.stringify(sampleBody(crypto.randomUUID(), 1)) });
    const id = track(created.body.result.interactionId as string);
    const upl = upload(12_800, "", 0);
    const { stream, state } = upl;
    const { sentAtAnswer, answer } = await answerTo(`/${id}`, { method: "DELETE", headers: JSON_AUTH, body: stream }, upl);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.result).toEqual({ interactionId: id, state: "cancelled" });
    expect(sentAtAnswer).toBe(0);
    expect(state.cancelled).toBe(true);
  });
});

describe("very long URLs", () => {
  const long = "a".repeat(64 * 1024);
  it.each([
    { method: "GET", what: "a 64 KiB id", path: `/v1/interactions/${long}`, status: 404 },
    { method: "DELETE", what: "a 64 KiB single segment", path: `/${long}`, status: 404 },
    { method: "DELETE", what: "an id followed by 8192 encoded slashes", path: `/v1/interactions/${UNKNOWN_ID}${"%2F".repeat(8 * 1024)}`, status: 404 },
    { method: "GET", what: "16384 path segments", path: `/${"a/".repeat(16 * 1024)}`, status: 404 },
    { method: "GET", what: "a 64 KiB query on /healthz", path: `/healthz?${"q=1&".repeat(16 * 1024)}`, status: 200 },
    { method: "POST", what: "a 64 KiB query on a create", path: `/CreateInteraction?${long}`, status: 400 },
    { method: "GET", what: "a 64 KiB query on a read", path: `/v1/interactions/${UNKNOWN_ID}?id=${long}`, status: 404 },
  ])("$method with $what → $status", async ({ method, path, status }) => {
    const answer = await call(path, { method, headers: JSON_AUTH, ...(method === "POST" ? { body: "{}" } : {}) });
    expect(answer.status).toBe(status);
  });
});

describe("ids that try to escape their route", () => {
  const ids = [
    "..",
    "%2e%2e",
    "..%2f..%2fhealthz",
    "%252e%252e%252fhealthz",
    `${UNKNOWN_ID}%252F..`,
    `${UNKNOWN_ID};jsessionid=1`,
    `${UNKNOWN_ID}%20`,
    `${UNKNOWN_ID}%0d%0aSet-Cookie:%20x=1`,
    UNKNOWN_ID.toUpperCase(),
    "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f",
    "３f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f",
    "%ff%fe",
    "%",
    "%zz",
  ];
  it.each(ids)("GET and DELETE of %j → 404 not_found", async (id) => {
    expectFailure(await call(`/v1/interactions/${id}`, { headers: AUTH }), 404, "not_found");
    expectFailure(await call(`/v1/interactions/${id}`, { method: "DELETE", headers: AUTH }), 404, "not_found");
    expectFailure(await call(`/${id}`, { method: "DELETE", headers: AUTH }), 404, "not_found");
  });
});

describe("headers: nothing from a request reaches a response or upstream header unvalidated", () => {
  it("a plain x-request-id is echoed; anything else is replaced by a fresh id", async () => {
    const plain = await send("/healthz", { headers: { "x-request-id": "diyalog-req.42:a_b" } });
    expect(plain.headers.get("x-request-id")).toBe("diyalog-req.42:a_b");
    for (const offered of ["a b", "x".repeat(129), "id;injected=1", "café", '"quoted"', "a\tb", "%0d%0aSet-Cookie:x", "<script>"]) {
      const res = await send("/healthz", { headers: { "x-request-id": offered } });
      const echoed = res.headers.get("x-request-id")!;
      expect(echoed, offered).not.toBe(offered);
      expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
      expect([...res.headers].some(([name]) => name === "set-cookie")).toBe(false);
    }
  });

  it("odd header values in auth and content type get 4xx envelopes", async () => {
    const odd: Record<string, string>[] = [
      { authorization: `Bearer ${"k".repeat(16 * 1024)}` },
      { authorization: "Bearer \u00e7\u00fc\u00f0" },
      { authorization: `Bearer ${OWN_KEY} extra` },
      { authorization: `Bearer\t${OWN_KEY}`, "content-type": "application/json; charset=latin1" },
      { "x-api-key": " ", authorization: "" },
      { ...AUTH, "content-type": "application/json; charset=utf-8; boundary=\u00ff" },
      { ...AUTH, "content-type": ";;;" },
      { ...AUTH, "content-type": "application/json, text/plain" },
    ];
    for (const headers of odd) {
      const answer = await call("/CreateInteraction", { method: "POST", headers, body: "{}" });
      expect(answer.status, JSON.stringify(headers).slice(0, 80)).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
    }
  });

  it("control characters that could split an upstream header or line are refused in every forwarded value", async () => {
    for (const bad of ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\u0000b", "a\u001bb"]) {
      for (const body of [
        { customerId: bad },
        { customerId: "h", identityNumber: bad },
        { customerId: "h", attachedData: { TRX: bad } },
        { customerId: "h", attachedData: { [bad]: "v" } },
      ]) {
        expectFailure(await call("/CreateInteraction", { method: "POST", headers: JSON_AUTH, body: JSON.stringify(body) }), 400, "validation_failed");
      }
    }
  });
});

describe("errors never show their insides", () => {
  /** A binding that fails the way a broken runtime would. */
  const failingNamespace = (thrown: unknown) =>
    new Proxy(env.CUSTOMER_INTERACTIONS, {
      get(target, name) {
        if (name === "get") return () => {
          throw thrown;
        };
        if (name === "idFromString") return (id: string) => target.idFromString(id);
        return Reflect.get(target, name);
      },
    });

  it.each([
    ["an Error with a message", new Error("SQLITE_FULL at /var/lib/secret/path\n    at storage.put (internal.js:1:1)")],
    ["a thrown string", "boom: customer 12345678901"],
    ["a thrown object", { stack: "at secret()", message: "x" }],
  ])("%s → 500 internal_error envelope without a stack or message", async (_, thrown) => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const id = `${env.CUSTOMER_INTERACTIONS.newUniqueId().toString()}${"A".repeat(22)}`;
      const res = await fetchWithEnv({ ...KEYS, CUSTOMER_INTERACTIONS: failingNamespace(thrown) }, `/v1/interactions/${id}`, { headers: AUTH });
      expect(res.status).toBe(500);
      expectSecurityHeaders(res, "500");
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ success: false, errorMessage: "internal error", errorCode: "internal_error", result: null });
      expect(text).not.toMatch(/SQLITE|secret|12345678901|\bat\b/);
      const logged = errors.mock.calls.map((c) => c.join(" ")).join("\n");
      expect(logged).not.toMatch(/SQLITE|secret|12345678901/);
    } finally {
      errors.mockRestore();
    }
  });
});
