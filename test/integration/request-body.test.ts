import { afterEach, describe, expect, it } from "vitest";
import { exports } from "cloudflare:workers";
import { authHeaders, BASE, call, cleanup, createOk, expectFailure, fromOwnAddress, getInteraction, getShowing, KEY, postCreate, sampleBody, track } from "./helpers";

/** Create request checks (design §1 "Create request"): 415 → 413 → invalid_json → validation_failed. */

afterEach(cleanup);

const LIMIT = 32 * 1024;
const encoder = new TextEncoder();

/** A valid create body of exactly `bytes` bytes (padding in an unknown top-level field). */
function bodyOfSize(bytes: number): string {
  const base = JSON.stringify({ customerId: crypto.randomUUID(), attachedData: { TRX: "Diyalog" }, pad: "" });
  return base.replace('"pad":""', `"pad":"${"x".repeat(bytes - encoder.encode(base).byteLength)}"`);
}

describe("body size", () => {
  it("a body of exactly 32 KiB is accepted", async () => {
    const body = bodyOfSize(LIMIT);
    expect(encoder.encode(body).byteLength).toBe(LIMIT);
    await createOk(body);
  });

  it("a body of 32 KiB + 1 byte → 413 payload_too_large", async () => {
    const body = bodyOfSize(LIMIT + 1);
    expect(encoder.encode(body).byteLength).toBe(LIMIT + 1);
    expectFailure(await postCreate(body), 413, "payload_too_large");
  });

  it.each(["/CreateInteraction", "/v1/interactions"])("a 1 MiB body on %s → 413 payload_too_large", async (path) => {
    expectFailure(await postCreate(bodyOfSize(1024 * 1024), path), 413, "payload_too_large");
  });

  it("413 comes before JSON parsing: an oversized malformed body is 413", async () => {
    expectFailure(await postCreate("{" + "x".repeat(LIMIT + 10)), 413, "payload_too_large");
  });
});

describe("early answers do not wait for the upload", () => {
  /** A 10 MiB upload in 8 KiB chunks, produced only as fast as the worker reads it. */
  function upload() {
    const state = { sent: 0 };
    const chunk = encoder.encode("x".repeat(8 * 1024));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('{"customerId":"streamed","pad":"'));
      },
      pull(controller) {
        if (state.sent >= 1280) {
          controller.enqueue(encoder.encode('"}'));
          controller.close();
          return;
        }
        state.sent += 1;
        controller.enqueue(chunk);
      },
    });
    return { stream, state };
  }

  /**
   * The worker's answer (a Response, before its body is read) while the upload has been read only
   * this far; then, once the answer is read, the rest of the upload was dropped to its end (never
   * cancelled: `wrangler dev`'s proxy turns a cancelled upload into its own 503, platform notes).
   */
  async function answerBeforeUpload(init: RequestInit, status: number, code: string): Promise<void> {
    const { stream, state } = upload();
    const res = await exports.default.fetch(`${BASE}/CreateInteraction`, fromOwnAddress({ ...init, method: "POST", body: stream }));
    expect(state.sent).toBeLessThan(10);
    expect(res.status).toBe(status);
    expect(JSON.parse(await res.text())).toMatchObject({ success: false, errorCode: code });
    expect(state.sent).toBe(1280);
  }

  it("a streamed body (no Content-Length) over 32 KiB → 413 after reading only ~32 KiB", async () => {
    await answerBeforeUpload({ headers: authHeaders() }, 413, "payload_too_large");
  });

  it("401 answers without waiting for the upload", async () => {
    await answerBeforeUpload({ headers: { "content-type": "application/json" } }, 401, "unauthorized");
  });

  it("415 answers without waiting for the upload", async () => {
    await answerBeforeUpload({ headers: authHeaders({ "content-type": "text/plain" }) }, 415, "unsupported_media_type");
  });
});

describe("content type", () => {
  const refused: [string, Record<string, string>, BodyInit][] = [
    ["text/plain", { "content-type": "text/plain" }, JSON.stringify(sampleBody("c-415", 1))],
    ["form-urlencoded", { "content-type": "application/x-www-form-urlencoded" }, "customerId=1"],
    ["multipart", { "content-type": "multipart/form-data; boundary=x" }, "--x--"],
    ["application/jsonx", { "content-type": "application/jsonx" }, JSON.stringify(sampleBody("c-415", 1))],
    ["no content type", {}, encoder.encode(JSON.stringify(sampleBody("c-415", 1)))],
  ];
  it.each(refused)("%s → 415 unsupported_media_type", async (_, headers, body) => {
    const answer = await call("/CreateInteraction", { method: "POST", headers: { authorization: `Bearer ${KEY}`, ...headers }, body });
    expectFailure(answer, 415, "unsupported_media_type");
  });

  it("415 on /v1/interactions too", async () => {
    expectFailure(
      await call("/v1/interactions", { method: "POST", headers: authHeaders({ "content-type": "text/plain" }), body: "{}" }),
      415,
      "unsupported_media_type",
    );
  });

  it("415 comes before 413: an oversized text/plain body is 415", async () => {
    expectFailure(
      await call("/CreateInteraction", { method: "POST", headers: authHeaders({ "content-type": "text/plain" }), body: "x".repeat(LIMIT * 2) }),
      415,
      "unsupported_media_type",
    );
  });

  it("the media type is case-insensitive", async () => {
    await createOk(sampleBody(crypto.randomUUID(), 1), "/CreateInteraction", authHeaders({ "content-type": "Application/JSON; Charset=UTF-8" }));
  });
});

describe("malformed JSON → 400 invalid_json", () => {
  const bad: [string, BodyInit][] = [
    ["truncated", '{"customerId":"abc"'],
    ["not JSON", "{not json"],
    ["trailing comma", '{"customerId":"abc",}'],
    ["empty body", ""],
    ["single quotes", "{'customerId':'abc'}"],
    ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0x63, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
  ];
  it.each(bad)("%s", async (_, body) => {
    const answer = await call("/CreateInteraction", { method: "POST", headers: authHeaders(), body });
    expectFailure(answer, 400, "invalid_json");
  });
});

describe("validation → 400 validation_failed naming the field", () => {
  const id = "cust-validation";
  const keys51 = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"]));
  const cases: [string, unknown, string][] = [
    ["missing customerId", { attachedData: [{ TRX: "Diyalog" }] }, "customerId"],
    ["null customerId", { customerId: null }, "customerId"],
    ["empty customerId", { customerId: "" }, "customerId"],
    ["blank customerId", { customerId: "   " }, "customerId"],
    ["129-character customerId", { customerId: "a".repeat(129) }, "customerId"],
    ["negative customerId", { customerId: -1 }, "customerId"],
    ["fractional customerId", { customerId: 1.5 }, "customerId"],
    ["unsafe integer customerId", { customerId: 2 ** 60 }, "customerId"],
    ["boolean customerId", { customerId: true }, "customerId"],
    ["object customerId", { customerId: { id: 1 } }, "customerId"],
    ["control character in customerId", { customerId: "ab\u0001c" }, "customerId"],
    ["string attachedData", { customerId: id, attachedData: "TRX=Diyalog" }, "attachedData"],
    ["number attachedData", { customerId: id, attachedData: 5 }, "attachedData"],
    ["array item not an object", { customerId: id, attachedData: [{ TRX: "Diyalog" }, "oops"] }, "attachedData"],
    ["array item null", { customerId: id, attachedData: [null] }, "attachedData"],
    ["nested array item", { customerId: id, attachedData: [[{ TRX: "Diyalog" }]] }, "attachedData"],
    ["nested object value", { customerId: id, attachedData: { TRX: { a: 1 } } }, "attachedData"],
    ["nested array value", { customerId: id, attachedData: [{ TRX: ["a"] }] }, "attachedData"],
    ["51 keys", { customerId: id, attachedData: keys51 }, "attachedData"],
    ["65-character key", { customerId: id, attachedData: { ["k".repeat(65)]: "v" } }, "attachedData"],
    ["empty key", { customerId: id, attachedData: { "": "v" } }, "attachedData"],
    ["1025-character value", { customerId: id, attachedData: { TRX: "v".repeat(1025) } }, "attachedData"],
    ["control character in a value", { customerId: id, attachedData: { TRX: "a\u0007b" } }, "attachedData"],
    ["newline in a value", { customerId: id, attachedData: { TRX: "a\nb" } }, "attachedData"],
    ["control character in a key", { customerId: id, attachedData: { "T\u0000RX": "v" } }, "attachedData"],
    ["numeric identityNumber", { customerId: id, identityNumber: 12345678901 }, "identityNumber"],
    ["object identityNumber", { customerId: id, identityNumber: { n: "1" } }, "identityNumber"],
    ["65-character identityNumber", { customerId: id, identityNumber: "9".repeat(65) }, "identityNumber"],
  ];
  it.each(cases)("%s", async (_, body, field) => {
    const answer = await postCreate(body);
    expectFailure(answer, 400, "validation_failed", field);
  });

  it.each([
    ["an array", "[]"],
    ["null", "null"],
    ["a number", "42"],
    ["a string", '"customerId"'],
  ])("a body that is %s", async (_, body) => {
    expectFailure(await postCreate(body), 400, "validation_failed");
  });

  it("the error message does not echo personal data", async () => {
    const identityNumber = "98765432109".repeat(6);
    const answer = await postCreate({ customerId: "secret-customer-42", identityNumber });
    expectFailure(answer, 400, "validation_failed", "identityNumber");
    expect(answer.text).not.toContain(identityNumber);
    expect(answer.text).not.toContain("98765432109");
  });
});

describe("hostile bodies never yield a 5xx or a non-envelope answer", () => {
  const deepArray = "[".repeat(5000) + "]".repeat(5000);
  const hostile: [string, string][] = [
    ["deeply nested attachedData", `{"customerId":"h1","attachedData":${deepArray}}`],
    ["deeply nested customerId", `{"customerId":${deepArray}}`],
    ["deeply nested unknown field", `{"customerId":"h-${crypto.randomUUID()}","x":${deepArray}}`],
    ["__proto__ object in attachedData", '{"customerId":"h2","attachedData":{"__proto__":{"polluted":"yes"}}}'],
    ["__proto__ at the top level", `{"customerId":"h-${crypto.randomUUID()}","__proto__":{"polluted":"yes"}}`],
    ["constructor.prototype", '{"customerId":"h3","attachedData":[{"constructor":{"prototype":{"polluted":"yes"}}}]}'],
    ["1e400 customerId", '{"customerId":1e400}'],
    ["1e400 attribute value", '{"customerId":"h4","attachedData":{"n":1e400}}'],
    ["-0 customerId", '{"customerId":-0}'],
    ["lone surrogate in customerId", `{"customerId":"h-${crypto.randomUUID()}\\ud800"}`],
    ["lone surrogate in a key and value", `{"customerId":"h-${crypto.randomUUID()}","attachedData":{"k\\udc00":"v\\ud800"}}`],
    ["duplicate keys", `{"customerId":"a","customerId":"h-${crypto.randomUUID()}"}`],
    ["BOM before the JSON", `\ufeff{"customerId":"h-${crypto.randomUUID()}"}`],
    ["NUL in identityNumber", `{"customerId":"h-${crypto.randomUUID()}","identityNumber":"12\\u0000"}`],
    ["emoji everywhere", `{"customerId":"h-${crypto.randomUUID()}-😀","attachedData":{"😀":"😀"}}`],
  ];
  it.each(hostile)("%s", async (_, body) => {
    const answer = await postCreate(body);
    expect([200, 400], answer.text).toContain(answer.status);
    if (answer.status === 400) expect(["invalid_json", "validation_failed"]).toContain(answer.body.errorCode);
    else track(answer.body.result.interactionId);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("accepted edge values", () => {
  it("limits at their maximum are accepted", async () => {
    const attachedData = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`.padEnd(i === 0 ? 64 : 2, "x"), i === 1 ? "v".repeat(1024) : "v"]));
    const customerId = crypto.randomUUID() + "c".repeat(128 - 36);
    const id = await createOk({ customerId, attachedData, identityNumber: "1".repeat(64) });
    const read = await getInteraction(id);
    expect(Object.keys(read.body.result.attributes)).toHaveLength(50);
  });

  it("limits count after the merge: 60 array items over 50 distinct keys are accepted", async () => {
    const attachedData = Array.from({ length: 60 }, (_, i) => ({ [`k${i % 50}`]: `v${i}` }));
    const id = await createOk({ customerId: crypto.randomUUID(), attachedData });
    const read = await getShowing(id, ["k0"]);
    expect(Object.keys(read.body.result.attributes)).toHaveLength(50);
    expect(read.body.result.attributes.k0).toBe("v50");
  });

  it("a tab in a value is allowed", async () => {
    const id = await createOk({ customerId: crypto.randomUUID(), attachedData: { Note: "a\tb" } });
    expect((await getShowing(id, ["Note"])).body.result.attributes).toEqual({ Note: "a\tb" });
  });

  it("customerId is trimmed: ' X ' and 'X' are the same customer", async () => {
    const customerId = crypto.randomUUID();
    const a = await createOk({ customerId: `  ${customerId}  ` });
    const b = await createOk({ customerId });
    expect(b).toBe(a);
  });

  it("a number customerId and its decimal string are the same customer", async () => {
    const n = 1_000_000_000 + Math.floor(Math.random() * 1_000_000_000);
    const a = await createOk({ customerId: n });
    const b = await createOk({ customerId: String(n) });
    expect(b).toBe(a);
  });

  it("__proto__ in attachedData is plain data (or refused), never a prototype", async () => {
    const body = `{"customerId":"${crypto.randomUUID()}","attachedData":[{"__proto__":"x","constructor":"y"},{"TRX":"Diyalog"}]}`;
    const answer = await postCreate(body);
    if (answer.status === 400) {
      expectFailure(answer, 400, "validation_failed", "attachedData");
      return;
    }
    expect(answer.status, answer.text).toBe(200);
    const read = await getShowing(answer.body.result.interactionId, ["__proto__", "constructor", "TRX"]);
    const attributes = read.body.result.attributes;
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
    expect(Object.keys(attributes).sort()).toEqual(["TRX", "__proto__", "constructor"]);
    expect(attributes.TRX).toBe("Diyalog");
    expect(read.text).toContain('"__proto__":"x"');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    await call(`/${answer.body.result.interactionId}`, { method: "DELETE", headers: { authorization: `Bearer ${KEY}` } });
  });
});
