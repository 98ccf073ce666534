import { ApiError } from "./envelope";

/** Largest create body Diyalog may send (design: 32 KiB). */
export const MAX_BODY_BYTES = 32 * 1024;

/** How much of an oversized body is read and dropped after the answer before the rest is cancelled. */
export const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

/** Requests whose body was refused as over a route's limit while streaming (see `discardBody`). */
const oversized = new WeakSet<Request>();

/** True when the body is over `limit`: declared so, or already found so while reading. */
function isOversized(request: Request, limit = MAX_BODY_BYTES): boolean {
  const declared = request.headers.get("content-length");
  return oversized.has(request) || (declared !== null && Number(declared) > limit);
}

/** Reads a stream to its end (or `limit` bytes, then cancels it) and drops what it reads. */
async function drain(body: ReadableStream<Uint8Array>, limit: number): Promise<void> {
  let read = 0;
  try {
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
      if (read > limit) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // The client stopped sending once it had the answer: nothing more to drop.
  }
}

/**
 * What becomes of a body the answer left unread (design §1). A small body is left alone: the
 * answer is returned as it is. A body over the limit (declared, or streamed past it), or streamed
 * without a declared length, is refused at once and never buffered: the answer goes out now, with
 * its length, and its stream is held open while the rest of the upload is read and dropped (up to DRAIN_LIMIT_BYTES, then cancelled) until
 * the client stops sending. It is not cancelled at once because `wrangler dev`'s proxy cannot
 * forward the answer of a worker that cancelled its request body mid-upload: it answers with its
 * own plain-text 503 "Your worker restarted mid-request" (a GET with a 500, or not at all) instead
 * (platform notes); and a body still unread when the answer is complete holds the answer back
 * until the whole upload has arrived.
 */
export async function discardBody(request: Request, response: Response): Promise<Response> {
  const body = request.body;
  if (!body || body.locked || response.body === null) return response;
  // Refused while streaming (readJson stopped at the limit), or never read: declared over the
  // limit, or streamed without a declared length (it may be as large as any).
  const unread = !request.bodyUsed && (request.headers.get("content-length") === null || isOversized(request));
  if (!oversized.has(request) && !unread) return response;
  const bytes = new Uint8Array(await response.arrayBuffer());
  const { readable, writable } = new FixedLengthStream(bytes.byteLength);
  const writer = writable.getWriter();
  writer.write(bytes).catch(() => {});
  void drain(body, DRAIN_LIMIT_BYTES).finally(() => writer.close().catch(() => {}));
  return new Response(readable, response);
}

/** 415 unless the request says `application/json` (a charset parameter is allowed). */
export function requireJson(request: Request): void {
  const type = request.headers.get("content-type") ?? "";
  const [essence, ...params] = type.split(";").map((s) => s.trim().toLowerCase());
  const charsetOk = params.every((p) => !p.startsWith("charset=") || /^charset="?utf-8"?$/.test(p));
  if (essence !== "application/json" || !charsetOk) {
    throw new ApiError(415, "unsupported_media_type", "Content-Type must be application/json");
  }
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, "payload_too_large", `request body must be at most ${limit} bytes`);
}

/**
 * Reads a body of at most `limit` bytes as UTF-8 text. A declared or streamed size over the limit is
 * refused as soon as it is known, and never buffered (the app then drops the rest, see
 * `discardBody`); bytes that are not UTF-8 are a 400 `invalid_json` (every body this worker reads is JSON).
 */
export async function readText(request: Request, limit = MAX_BODY_BYTES): Promise<string> {
  if (isOversized(request, limit)) {
    oversized.add(request);
    throw tooLarge(limit);
  }
  // The chunks as they come (usually one): no buffer of the limit's size for every body.
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        // The client broke off the upload: what arrived is not a whole JSON document.
        throw new ApiError(400, "invalid_json", "request body incomplete");
      }
      const { done, value } = chunk;
      if (done) break;
      if (size + value.byteLength > limit) {
        // The rest stays in the stream for discardBody; nothing of it is kept here.
        reader.releaseLock();
        oversized.add(request);
        throw tooLarge(limit);
      }
      chunks.push(value);
      size += value.byteLength;
    }
  }
  try {
    let bytes = chunks[0] ?? new Uint8Array(0);
    if (chunks.length > 1) {
      bytes = new Uint8Array(size);
      let at = 0;
      for (const chunk of chunks) bytes.set(chunk, (at += chunk.byteLength) - chunk.byteLength);
    }
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError(400, "invalid_json", "request body is not valid UTF-8");
  }
}

/** Parses JSON text, or throws 400 `invalid_json`. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_json", "request body is not valid JSON");
  }
}

/** Reads a JSON body of at most `limit` bytes (see `readText`). */
export async function readJson(request: Request, limit = MAX_BODY_BYTES): Promise<unknown> {
  return parseJson(await readText(request, limit));
}
