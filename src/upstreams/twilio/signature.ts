import { encodeBase64 } from "../../security/webhook-signature";

/**
 * Twilio's `X-Twilio-Signature` (Twilio docs, "Webhooks security"): base64 of HMAC-SHA1, keyed with
 * the account's auth token, over the full URL Twilio called followed by every POST parameter sorted
 * by name, each as name + value with no separators.
 */

const encoder = new TextEncoder();

/** One imported key per token (in practice one); only settled keys are kept. */
const keys = new Map<string, CryptoKey>();

async function keyFor(authToken: string): Promise<CryptoKey> {
  let key = keys.get(authToken);
  if (!key) {
    key = await crypto.subtle.importKey("raw", encoder.encode(authToken), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
    keys.set(authToken, key);
  }
  return key;
}

/** The signature Twilio would send for this URL and these form parameters. */
export async function twilioSignature(authToken: string, url: string, params: Iterable<[string, string]>): Promise<string> {
  // Sorted by name, then value, so a repeated name signs the way Twilio's own helpers compute it.
  const sorted = [...params].sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  let data = url;
  for (const [name, value] of sorted) data += name + value;
  return encodeBase64(await crypto.subtle.sign("HMAC", await keyFor(authToken), encoder.encode(data)));
}

/** True when `header` is the signature of this request; compared in constant time, never throws. */
export async function verifyTwilioSignature(
  authToken: string,
  header: string | null | undefined,
  url: string,
  params: Iterable<[string, string]>,
): Promise<boolean> {
  if (!header) return false;
  const expected = encoder.encode(await twilioSignature(authToken, url, params));
  const given = encoder.encode(header);
  // The length of a SHA-1 MAC in base64 (28) is public; timingSafeEqual needs equal lengths.
  return given.byteLength === expected.byteLength && crypto.subtle.timingSafeEqual(given, expected);
}
