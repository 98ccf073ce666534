import type { Config } from "../config";
import { ApiError } from "../http/envelope";
import { hex, sha256 } from "./digest";

/**
 * Diyalog's API keys (design §3): `Authorization: Bearer <key>` or `X-API-Key: <key>`, any of the
 * comma-separated `DIYALOG_API_KEYS` (several keys allow rotation). Fails closed when no key is set
 * unless `ALLOW_UNAUTHENTICATED=true`.
 */


/**
 * Digests of the configured keys, computed once per key list (the configuration is parsed once per
 * isolate) rather than on every request. Only settled values are stored, so no request awaits a
 * promise another request started.
 */
const keyDigests = new WeakMap<readonly string[], ArrayBuffer[]>();

async function configuredDigests(keys: readonly string[]): Promise<ArrayBuffer[]> {
  let digests = keyDigests.get(keys);
  if (!digests) {
    digests = await Promise.all(keys.map(sha256));
    keyDigests.set(keys, digests);
  }
  return digests;
}

/** Compares two strings in constant time (hashing first makes the lengths equal). */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([sha256(a), sha256(b)]);
  return crypto.subtle.timingSafeEqual(da, db);
}

/** The key a request presents, if any. */
export function presentedKey(request: Request): string | undefined {
  const authorization = request.headers.get("authorization");
  if (authorization) {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (match) return match[1];
  }
  return request.headers.get("x-api-key")?.trim() || undefined;
}

/** Who a request is, for per-key rate limits: a digest of its key (never the key itself). */
export type Caller = { kind: "key"; id: string } | { kind: "anonymous" };

/**
 * Resolves with the caller when the request may use the Diyalog routes; throws 401 or 503 otherwise.
 * Every configured key is compared, so the time taken does not tell which one nearly matched.
 */
export async function authenticate(request: Request, config: Config): Promise<Caller> {
  if (config.apiKeys.length === 0) {
    if (config.allowUnauthenticated) return { kind: "anonymous" };
    throw new ApiError(503, "auth_not_configured", "DIYALOG_API_KEYS is not set; the API is closed until it is");
  }
  const key = presentedKey(request);
  if (key === undefined) throw new ApiError(401, "unauthorized", "an API key is required (Authorization: Bearer <key> or X-API-Key)");
  const presented = await sha256(key);
  const matches = (await configuredDigests(config.apiKeys)).map((d) => crypto.subtle.timingSafeEqual(d, presented));
  if (!matches.includes(true)) throw new ApiError(401, "unauthorized", "the API key is not valid");
  return { kind: "key", id: hex(presented, 12) };
}
