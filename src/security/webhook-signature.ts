import { sameSignature } from "./digest";

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com, spec/standard-webhooks.md) for the
 * generic `http` upstream (design §2): every request in both directions carries `webhook-id`,
 * `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
 *
 * Secrets are `whsec_` + base64; the HMAC key is the decoded bytes. A list of secrets allows rotation:
 * the first signs, any verifies. Web Crypto only, so the Worker carries no signing dependency.
 */

/** Replay window, in seconds, either side of now (the reference libraries use 5 minutes too). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

const SECRET_PREFIX = "whsec_";
const encoder = new TextEncoder();

/**
 * Imported keys per secret string. Importing on every request would redo work for the same handful of
 * configured secrets; `null` remembers a secret that is not valid base64, so it is not parsed again.
 * Only settled keys (never pending promises) are stored, so no request awaits a promise that
 * another request started, which workerd warns about. Entries are bounded by the number of configured secrets.
 */
const keyCache = new Map<string, CryptoKey | null>();

/** Decodes standard base64 (padding optional), or returns undefined when it is not base64 (never throws). */
export function decodeBase64(text: string): Uint8Array | undefined {
  // atob alone would also skip whitespace inside a secret, hiding a paste error.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

/** Encodes bytes as standard base64 (with padding), as the header format requires. */
export function encodeBase64(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  for (const b of view) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * The HMAC key of one secret, or null when the secret is malformed (not base64, or empty).
 * The `whsec_` prefix is stripped when present, as the reference libraries do.
 */
export async function importSigningKey(secret: string): Promise<CryptoKey | null> {
  const cached = keyCache.get(secret);
  if (cached !== undefined) return cached;
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const raw = decodeBase64(encoded);
  // An empty HMAC key would "verify" anything anyone can compute, so it counts as malformed.
  const key =
    raw && raw.length > 0
      ? await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
      : null;
  keyCache.set(secret, key);
  return key;
}

/** The raw HMAC-SHA256 of the signed content `${id}.${timestamp}.${body}`. */
async function hmac(key: CryptoKey, id: string, timestamp: string | number, body: string): Promise<ArrayBuffer> {
  return crypto.subtle.sign("HMAC", key, encoder.encode(`${id}.${timestamp}.${body}`));
}

/** Options of {@link signWebhook}; both exist so tests and retries can pin the values. */
export interface SignOptions {
  /** Message id; default `msg_` + 32 random hex digits. */
  id?: string;
  /** Unix time in seconds; default now. Fractions are dropped. */
  timestamp?: number;
}

/**
 * Signs `body` with the first secret and returns the three Standard Webhooks headers.
 * Throws when there is no secret or the first one is malformed: sending unsigned would only be
 * rejected by the receiver, and config validation (design §3) should have caught it already.
 */
export async function signWebhook(
  secrets: string[],
  body: string,
  opts: SignOptions = {},
): Promise<Record<string, string>> {
  const secret = secrets[0];
  if (secret === undefined) throw new TypeError("webhook signing needs at least one secret");
  const key = await importSigningKey(secret);
  // The message names the problem, never the secret.
  if (!key) throw new TypeError("the webhook signing secret is not whsec_ followed by base64");
  const id = opts.id ?? `msg_${crypto.randomUUID().replaceAll("-", "")}`;
  const timestamp = Math.floor(opts.timestamp ?? Date.now() / 1000);
  const signature = encodeBase64(await hmac(key, id, timestamp, body));
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": `v1,${signature}`,
  };
}

/** Why a request failed verification; an unparsable timestamp counts as a missing header. */
export type WebhookRejection = "missing_headers" | "stale" | "bad_signature";

/** Outcome of {@link verifyWebhook}; `id` lets callers deduplicate deliveries. */
export type WebhookVerification = { ok: true; id: string } | { ok: false; reason: WebhookRejection };

/** The `v1` signatures of a `webhook-signature` header, as text; other versions and empty entries are skipped. */
export function parseSignatureHeader(header: string): string[] {
  const signatures: string[] = [];
  for (const raw of header.split(" ")) {
    // Headers.get joins repeated headers with ", ": drop that comma (base64 never ends in one).
    const entry = raw.endsWith(",") && raw.indexOf(",") < raw.length - 1 ? raw.slice(0, -1) : raw;
    const comma = entry.indexOf(",");
    if (comma < 0 || entry.slice(0, comma) !== "v1") continue;
    const signature = entry.slice(comma + 1);
    if (signature) signatures.push(signature);
  }
  return signatures;
}

/**
 * Verifies a signed request: all three headers present, timestamp within ±300 s of `now` (ms,
 * default `Date.now()`), and some `v1` signature in the header equal to the HMAC under some secret.
 * Never throws: malformed secrets are skipped and malformed signatures simply do not match.
 */
export async function verifyWebhook(
  secrets: string[],
  headers: Headers,
  body: string,
  now: number = Date.now(),
): Promise<WebhookVerification> {
  const id = headers.get("webhook-id");
  const timestampHeader = headers.get("webhook-timestamp");
  const signatureHeader = headers.get("webhook-signature");
  if (!id || !timestampHeader || !signatureHeader) return { ok: false, reason: "missing_headers" };

  // Digits only: parseInt("123abc") would accept trailing junk that was never signed as such.
  if (!/^\d{1,15}$/.test(timestampHeader)) return { ok: false, reason: "missing_headers" };
  const timestamp = Number(timestampHeader);
  const nowSeconds = Math.floor(now / 1000);
  if (Math.abs(nowSeconds - timestamp) > WEBHOOK_TOLERANCE_SECONDS) return { ok: false, reason: "stale" };

  // Compared as base64 text, like the reference libraries: decoding first would also accept
  // unpadded or non-canonical spellings of the same MAC, which no conforming sender produces.
  const candidates = parseSignatureHeader(signatureHeader);
  let matched = false;
  for (const secret of secrets) {
    let key: CryptoKey | null;
    try {
      key = await importSigningKey(secret);
    } catch {
      key = null; // a key Web Crypto refuses is as good as no key; verification must not throw
    }
    if (!key) continue;
    // The header text, not the parsed number, is what the sender signed (e.g. leading zeros).
    const expected = encodeBase64(await hmac(key, id, timestampHeader, body));
    // No early exit: every pair is compared.
    for (const candidate of candidates) if (sameSignature(candidate, expected)) matched = true;
  }
  return matched ? { ok: true, id } : { ok: false, reason: "bad_signature" };
}
