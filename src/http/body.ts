import { ApiError } from "./envelope";

/** Largest create body Diyalog may send (design: 32 KiB). */
export const MAX_BODY_BYTES = 32 * 1024;

/** Cancels an unread request body so an early answer does not wait for the upload to finish. */
export function discardBody(request: Request): void {
  request.body?.cancel().catch(() => {});
}

/** 415 unless the request says `application/json` (a charset parameter is allowed). */
export function requireJson(request: Request): void {
  const type = request.headers.get("content-type") ?? "";
  const [essence, ...params] = type.split(";").map((s) => s.trim().toLowerCase());
  const charsetOk = params.every((p) => !p.startsWith("charset=") || /^charset="?utf-8"?$/.test(p));
  if (essence !== "application/json" || !charsetOk) {
    discardBody(request);
    throw new ApiError(415, "unsupported_media_type", "Content-Type must be application/json");
  }
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, "payload_too_large", `request body must be at most ${limit} bytes`);
}

/**
 * Reads a body of at most `limit` bytes as UTF-8 text. A declared or streamed size over the limit is
 * refused as soon as it is known (the rest of the upload is cancelled, never buffered); bytes that
 * are not UTF-8 are a 400 `invalid_json` (every body this worker reads is JSON).
 */
export async function readText(request: Request, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    discardBody(request);
    throw tooLarge(limit);
  }
  const bytes = new Uint8Array(limit);
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
        reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      bytes.set(value, size);
      size += value.byteLength;
    }
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes.subarray(0, size));
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
