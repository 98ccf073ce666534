import { describe, expect, it } from "vitest";
import { discardBody, DRAIN_LIMIT_BYTES, MAX_BODY_BYTES, readJson, requireJson } from "../../src/http/body";
import { ApiError } from "../../src/http/envelope";

const URL_ = "https://proxy.example.com/CreateInteraction";
const encoder = new TextEncoder();

function post(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request(URL_, { method: "POST", body, headers });
}

/** A JSON document of exactly `size` UTF-8 bytes. */
function jsonOfSize(size: number): string {
  const frame = '{"pad":""}';
  const text = `{"pad":"${"x".repeat(size - frame.length)}"}`;
  expect(encoder.encode(text).byteLength).toBe(size);
  return text;
}

/** A stream that hands out the given chunks, recording how many were pulled and whether it was cancelled. */
function chunkedStream(chunks: Uint8Array[]) {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks[state.pulled];
      if (next === undefined) {
        controller.close();
        return;
      }
      state.pulled++;
      controller.enqueue(next);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

/** A stream that never ends (an upload that would go on forever). */
function endlessStream(chunkSize = 4096) {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.pulled++;
      controller.enqueue(new Uint8Array(chunkSize).fill(0x20));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error("expected an ApiError, the promise resolved");
}

function thrown(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error("expected an ApiError, nothing was thrown");
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe("readJson: size limit", () => {
  it("the limit is 32 KiB", () => {
    expect(MAX_BODY_BYTES).toBe(32_768);
  });

  it("accepts a body of exactly 32 KiB", async () => {
    const text = jsonOfSize(MAX_BODY_BYTES);
    const value = (await readJson(post(text, { "content-type": "application/json" }))) as { pad: string };
    expect(value.pad).toHaveLength(MAX_BODY_BYTES - 10);
  });

  it("accepts a body of exactly 32 KiB with a matching Content-Length", async () => {
    const bytes = encoder.encode(jsonOfSize(MAX_BODY_BYTES));
    const request = post(bytes, { "content-length": String(bytes.byteLength) });
    expect(request.headers.get("content-length")).toBe("32768");
    const value = (await readJson(request)) as { pad: string };
    expect(value.pad).toHaveLength(MAX_BODY_BYTES - 10);
  });

  it("refuses 32 KiB + 1 byte with 413 payload_too_large", async () => {
    const err = await rejection(readJson(post(jsonOfSize(MAX_BODY_BYTES + 1))));
    expect(err.status).toBe(413);
    expect(err.code).toBe("payload_too_large");
    expect(err.message).toBe("request body must be at most 32768 bytes");
  });

  it("refuses a declared Content-Length over the limit before reading (the rest is left for discardBody)", async () => {
    const { stream, state } = endlessStream();
    const request = post(stream, { "content-length": "40000" });
    expect(request.headers.get("content-length")).toBe("40000");
    const err = await rejection(readJson(request));
    expect(err.status).toBe(413);
    expect(err.code).toBe("payload_too_large");
    await settle();
    expect(state.cancelled).toBe(false);
    // nothing anywhere near the declared size was pulled from the upload
    expect(state.pulled * 4096).toBeLessThan(40_000);
  });

  it("refuses a declared Content-Length over the limit even when the bytes sent are few", async () => {
    const err = await rejection(readJson(post(encoder.encode('{"a":1}'), { "content-length": "1000000" })));
    expect(err.status).toBe(413);
    expect(err.code).toBe("payload_too_large");
  });

  it("refuses a streamed body over the limit without Content-Length", async () => {
    const chunk = encoder.encode("x".repeat(8192));
    const { stream, state } = chunkedStream([chunk, chunk, chunk, chunk, chunk, chunk]);
    const request = post(stream, { "content-type": "application/json" });
    expect(request.headers.get("content-length")).toBeNull();
    const err = await rejection(readJson(request));
    expect(err.status).toBe(413);
    expect(err.code).toBe("payload_too_large");
    await settle();
    expect(state.pulled).toBeLessThan(6);
  });

  it("refuses an endless upload as soon as it passes the limit, reading no further", async () => {
    const { stream, state } = endlessStream(1000);
    const request = post(stream);
    expect(request.headers.get("content-length")).toBeNull();
    const err = await rejection(readJson(request));
    expect(err.status).toBe(413);
    expect(err.code).toBe("payload_too_large");
    await settle();
    expect(state.cancelled).toBe(false);
    expect(state.pulled).toBeLessThan(100);
  });

  it("accepts a streamed body of exactly the limit split into odd chunks", async () => {
    const bytes = encoder.encode(jsonOfSize(MAX_BODY_BYTES));
    const chunks = [bytes.subarray(0, 1), bytes.subarray(1, 10_001), bytes.subarray(10_001, 32_000), bytes.subarray(32_000)];
    const { stream } = chunkedStream(chunks);
    const value = (await readJson(post(stream))) as { pad: string };
    expect(value.pad).toHaveLength(MAX_BODY_BYTES - 10);
  });

  it("honours a smaller limit passed in", async () => {
    const err = await rejection(readJson(post('{"a":"0123456789"}'), 10));
    expect(err.status).toBe(413);
    expect(err.message).toBe("request body must be at most 10 bytes");
  });
});

describe("readJson: encoding and syntax", () => {
  it("parses JSON", async () => {
    expect(await readJson(post('{"customerId":"123456","attachedData":[{"TRX":"Diyalog"}]}'))).toStrictEqual({
      customerId: "123456",
      attachedData: [{ TRX: "Diyalog" }],
    });
  });

  it("decodes UTF-8, even when a character is split across chunks", async () => {
    const bytes = encoder.encode('{"name":"Şükrü Öğüt 😀"}');
    const split = bytes.indexOf(0xc5) + 1; // inside the two-byte "Ş"
    const { stream } = chunkedStream([bytes.subarray(0, split), bytes.subarray(split)]);
    expect(await readJson(post(stream))).toStrictEqual({ name: "Şükrü Öğüt 😀" });
  });

  it("accepts a UTF-8 byte order mark", async () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...encoder.encode('{"a":1}')]);
    expect(await readJson(post(bytes))).toStrictEqual({ a: 1 });
  });

  it.each([
    ["a lone 0xFF byte", [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]],
    ["Latin-1 'ş' (0xFE)", [...encoder.encode('{"a":"'), 0xfe, ...encoder.encode('"}')]],
    ["an overlong '/' (0xC0 0xAF)", [...encoder.encode('{"a":"'), 0xc0, 0xaf, ...encoder.encode('"}')]],
    ["an encoded surrogate (0xED 0xA0 0x80)", [...encoder.encode('{"a":"'), 0xed, 0xa0, 0x80, ...encoder.encode('"}')]],
    ["a truncated sequence at the end", [...encoder.encode('{"a":1}'), 0xe2, 0x82]],
    ["UTF-16LE", [0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]],
  ])("refuses %s with 400 invalid_json", async (_name, bytes) => {
    const err = await rejection(readJson(post(new Uint8Array(bytes))));
    expect(err.status).toBe(400);
    expect(err.code).toBe("invalid_json");
    expect(err.message).toBe("request body is not valid UTF-8");
  });

  it.each([
    ["an empty body", ""],
    ["an unterminated object", '{"customerId":"1"'],
    ["single quotes", "{'customerId':'1'}"],
    ["a trailing comma", '{"customerId":"1",}'],
    ["NaN", "NaN"],
    ["two documents", '{"a":1}{"b":2}'],
    ["plain text", "customerId=1"],
  ])("refuses %s with 400 invalid_json", async (_name, text) => {
    const err = await rejection(readJson(post(text)));
    expect(err.status).toBe(400);
    expect(err.code).toBe("invalid_json");
    expect(err.message).toBe("request body is not valid JSON");
  });

  it("refuses a request without a body as invalid JSON", async () => {
    const err = await rejection(readJson(new Request(URL_, { method: "POST" })));
    expect(err.status).toBe(400);
    expect(err.code).toBe("invalid_json");
  });

  it("parses JSON scalars (the create validation refuses them later)", async () => {
    expect(await readJson(post("null"))).toBeNull();
    expect(await readJson(post(" 42 "))).toBe(42);
  });
});

describe("requireJson", () => {
  it.each([
    "application/json",
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
    "Application/JSON; Charset=utf-8",
    'application/json; charset="utf-8"',
    "application/json ; charset=utf-8",
  ])("accepts %j", (type) => {
    expect(() => requireJson(post("{}", { "content-type": type }))).not.toThrow();
  });

  it.each([
    ["text/plain", "text/plain"],
    ["text/plain with charset", "text/plain;charset=UTF-8"],
    ["form data", "application/x-www-form-urlencoded"],
    ["a JSON suffix type", "application/merge-patch+json"],
    ["a lookalike", "application/jsonx"],
    ["another charset", "application/json; charset=iso-8859-9"],
  ])("refuses %s with 415", (_name, type) => {
    const err = thrown(() => requireJson(post("{}", { "content-type": type })));
    expect(err.status).toBe(415);
    expect(err.code).toBe("unsupported_media_type");
    expect(err.message).toBe("Content-Type must be application/json");
  });

  it("refuses a missing Content-Type with 415", () => {
    const request = post(encoder.encode("{}"));
    expect(request.headers.get("content-type")).toBeNull();
    const err = thrown(() => requireJson(request));
    expect(err.status).toBe(415);
    expect(err.code).toBe("unsupported_media_type");
  });

  it("a string body without an explicit type is text/plain, refused", () => {
    const err = thrown(() => requireJson(post("{}")));
    expect(err.status).toBe(415);
  });

  it("leaves the body it refuses alone (the app decides what becomes of it)", async () => {
    const { stream, state } = endlessStream();
    const request = post(stream, { "content-type": "text/plain" });
    const err = thrown(() => requireJson(request));
    expect(err.status).toBe(415);
    await settle();
    expect(state.cancelled).toBe(false);
    expect(request.bodyUsed).toBe(false);
  });
});

describe("discardBody: what becomes of a body the answer left unread (design §1)", () => {
  const answer = () => new Response(JSON.stringify({ success: false, errorMessage: "no", errorCode: "unauthorized", result: null }), { status: 401 });

  it("a small body with a declared length is left alone: not cancelled, not read, the answer untouched", async () => {
    const { stream, state } = chunkedStream([encoder.encode('{"a":1}')]);
    const request = post(stream, { "content-length": "7" });
    const original = answer();
    const result = await discardBody(request, original);
    await settle();
    expect(result).toBe(original);
    expect(state.cancelled).toBe(false);
    expect(state.pulled).toBeLessThanOrEqual(1); // the stream's own first pull, nothing read from it
    expect(request.bodyUsed).toBe(false);
  });

  it("a declared body over the limit: the answer keeps its status and body, and the upload is read to its end, not cancelled", async () => {
    const chunk = new Uint8Array(8192).fill(0x20);
    const { stream, state } = chunkedStream(Array.from({ length: 10 }, () => chunk));
    const request = post(stream, { "content-length": String(10 * 8192) });
    const result = await discardBody(request, answer());
    expect(result.status).toBe(401);
    expect(JSON.parse(await result.text())).toMatchObject({ success: false, errorCode: "unauthorized" });
    await settle();
    expect(state.pulled).toBe(10);
    expect(state.cancelled).toBe(false);
  });

  it("a body streamed past the limit: readJson stops at the limit, discardBody drops the rest", async () => {
    const chunk = new Uint8Array(8192).fill(0x20);
    const { stream, state } = chunkedStream(Array.from({ length: 20 }, () => chunk));
    const request = post(stream, { "content-type": "application/json" });
    const err = await rejection(readJson(request));
    expect(err.status).toBe(413);
    const pulledAtAnswer = state.pulled;
    expect(pulledAtAnswer).toBeLessThan(6);
    const result = await discardBody(request, answer());
    await result.text();
    await settle();
    expect(state.pulled).toBe(20);
    expect(state.cancelled).toBe(false);
  });

  it("an upload of unknown size that never ends is dropped up to the drain limit, then cancelled", async () => {
    const { stream, state } = endlessStream(64 * 1024);
    const request = post(stream);
    expect(request.headers.get("content-length")).toBeNull();
    const result = await discardBody(request, answer());
    expect(result.status).toBe(401);
    await result.text();
    await settle();
    expect(state.cancelled).toBe(true);
    expect(state.pulled * 64 * 1024).toBeGreaterThan(DRAIN_LIMIT_BYTES);
    expect(state.pulled * 64 * 1024).toBeLessThan(DRAIN_LIMIT_BYTES + 4 * 64 * 1024);
  });

  it("a request without a body is answered as it is", async () => {
    const original = answer();
    expect(await discardBody(new Request(URL_), original)).toBe(original);
  });
});
