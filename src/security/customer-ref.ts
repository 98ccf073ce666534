import { decodeBase64, encodeBase64 } from "./webhook-signature";

/**
 * The customer's reference: a keyed digest (HMAC-SHA256) of the customerId under `CUSTOMER_REF_KEY`,
 * so nothing stored or logged can be matched against a list of customer ids without the key. It
 * names the customer's Durable Object; `customerRef` is a short form for logs and support.
 */

/** Used when `CUSTOMER_REF_KEY` is unset: development only (production sets its own key). Public. */
export const DEVELOPMENT_CUSTOMER_REF_KEY = "ZGl5YWxvZy1kZXYtY3VzdG9tZXItcmVmLWtleS0zMmI=";

const encoder = new TextEncoder();

/**
 * The imported key and the raw string it came from, imported once per isolate (again only if the
 * configured key changes). Only a settled key is kept, so no request awaits a promise another started.
 */
let cached: { raw: string; key: CryptoKey } | undefined;

async function customerRefKey(raw: string): Promise<CryptoKey> {
  if (cached?.raw === raw) return cached.key;
  // The key is 32 bytes in standard base64 (design §6; the configuration refuses anything else).
  const key = await crypto.subtle.importKey("raw", decodeBase64(raw) ?? encoder.encode(raw), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  cached = { raw, key };
  return key;
}

/** base64url without padding. */
export function base64url(bytes: ArrayBuffer | Uint8Array): string {
  return encodeBase64(bytes).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/**
 * HMAC-SHA256 of the customerId's UTF-8 bytes under `CUSTOMER_REF_KEY` (its 32 bytes, decoded from
 * the env text without surrounding whitespace, as the configuration reads it: a key re-entered with
 * a line break names the same objects), base64url without padding (43 characters).
 */
export async function customerDigest(env: { CUSTOMER_REF_KEY?: string }, customerId: string): Promise<string> {
  const raw = env.CUSTOMER_REF_KEY?.trim() || DEVELOPMENT_CUSTOMER_REF_KEY;
  return base64url(await crypto.subtle.sign("HMAC", await customerRefKey(raw), encoder.encode(customerId)));
}

/** The first 16 characters of the customer's digest (96 bits): enough to tell customers apart in logs. */
export async function customerRef(env: { CUSTOMER_REF_KEY?: string }, customerId: string): Promise<string> {
  return (await customerDigest(env, customerId)).slice(0, 16);
}
