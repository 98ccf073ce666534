/**
 * Personal data at rest (design §6): customerId, identityNumber, attribute values and upstream free
 * text are stored as AES-256-GCM ciphertext under `PERSONAL_DATA_KEYS` (Web Crypto, a random 96-bit
 * IV per value). The first key encrypts and every key decrypts, so a key is rotated by prepending a
 * new one and dropping the old once `RETENTION_SECONDS` has passed.
 *
 * One stored value is `<key id>.<base64(IV ‖ ciphertext ‖ tag)>` (standard base64, as the keys are):
 * 61 characters for an 11-digit TCKN, 4/3 of the UTF-8 bytes plus 47 in general. The key id is
 * derived from the key itself (a digest, not its position in the list), so prepending a key leaves
 * the ids of stored values valid.
 */
import { decodeBase64, encodeBase64 } from "./webhook-signature";

/**
 * The built-in keys used when `PERSONAL_DATA_KEYS` is unset (`npm start`, tests). Public, as this
 * file is: values stored under them are readable by anyone with the source; `/healthz` says
 * `personalData: "development-keys"` while they are in use.
 */
export const DEVELOPMENT_PERSONAL_DATA_KEYS: readonly string[] = ["mk3zvyc4i9peyquWvZu0BQuEpc/VuqWrzL3qwS463OE="];

/** Why a stored value could not be decrypted. Never carries the value. */
export type UnreadableReason =
  /** Not in the `<key id>.<base64>` form, or too short to hold an IV and a tag. */
  | "malformed"
  /** Encrypted under a key that is no longer in `PERSONAL_DATA_KEYS`. */
  | "unknown_key"
  /** The ciphertext, its IV or its context was altered (GCM's tag did not verify). */
  | "not_authentic";

export type Decrypted<T> = { ok: true; value: T } | { ok: false; reason: UnreadableReason };

/** The configured keys in order, each with its id: the first encrypts, any decrypts. */
type KeyRing = { id: string; key: CryptoKey }[];

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_BYTES = 6;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Imported keys per configuration, so each isolate imports its keys once. Only settled rings are
 * stored (never a pending promise another request would await, which workerd warns about); a
 * handful of entries at most, one per `PERSONAL_DATA_KEYS` value the isolate has seen.
 */
const rings = new Map<string, KeyRing>();

/**
 * A key's id: the base64 of the first 6 bytes of its SHA-256. A digest of a random 256-bit key
 * tells nothing about the key, and 48 bits keep a handful of keys apart.
 */
async function keyId(raw: Uint8Array): Promise<string> {
  return encodeBase64(new Uint8Array(await crypto.subtle.digest("SHA-256", raw), 0, KEY_ID_BYTES));
}

/** The keys of a `PERSONAL_DATA_KEYS` list (validated by src/config.ts), the development keys when empty. */
async function keyRing(keys: readonly string[]): Promise<KeyRing> {
  const list = keys.length > 0 ? keys : DEVELOPMENT_PERSONAL_DATA_KEYS;
  const cacheKey = list.join(",");
  let ring = rings.get(cacheKey);
  if (ring) return ring;
  ring = [];
  for (const text of list) {
    const raw = decodeBase64(text);
    // The configuration refuses such keys; this only keeps a caller that skipped it from encrypting under a short key.
    if (raw?.length !== 32) throw new Error("PERSONAL_DATA_KEYS: a key is not 32 bytes");
    ring.push({ id: await keyId(raw), key: await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]) });
  }
  rings.set(cacheKey, ring);
  return ring;
}

/** Additional authenticated data: a value decrypts only in the context (record and field) it was stored for. */
function aad(context: string): { additionalData: Uint8Array } {
  return { additionalData: encoder.encode(context) };
}

/**
 * Encrypts `value` under the first of `keys` (the development keys when empty). `context` names where
 * the value lives (e.g. `<interactionId>/customerId`): decrypting it under another context fails, so
 * stored values cannot be swapped between records or fields unnoticed.
 */
export async function encryptText(keys: readonly string[], value: string, context = ""): Promise<string> {
  const [current] = (await keyRing(keys)) as [KeyRing[number]];
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, ...aad(context) }, current.key, encoder.encode(value)));
  const out = new Uint8Array(IV_BYTES + sealed.length);
  out.set(iv);
  out.set(sealed, IV_BYTES);
  return `${current.id}.${encodeBase64(out)}`;
}

/** Decrypts a value of `encryptText` under any of `keys`; an unreadable value is a reason, never a throw. */
export async function decryptText(keys: readonly string[], stored: string, context = ""): Promise<Decrypted<string>> {
  const dot = stored.indexOf(".");
  const bytes = dot === -1 ? undefined : decodeBase64(stored.slice(dot + 1));
  if (bytes === undefined || bytes.length < IV_BYTES + TAG_BYTES) return { ok: false, reason: "malformed" };
  const key = (await keyRing(keys)).find((k) => k.id === stored.slice(0, dot))?.key;
  if (key === undefined) return { ok: false, reason: "unknown_key" };
  try {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.subarray(0, IV_BYTES), ...aad(context) }, key, bytes.subarray(IV_BYTES));
    return { ok: true, value: decoder.decode(plain) };
  } catch {
    return { ok: false, reason: "not_authentic" };
  }
}

/** Encrypts a small JSON value (an attribute map, a timeline detail) as one stored value. */
export function encryptJson(keys: readonly string[], value: unknown, context = ""): Promise<string> {
  return encryptText(keys, JSON.stringify(value), context);
}

/** Decrypts a value of `encryptJson`. The caller states the type it stored. */
export async function decryptJson<T>(keys: readonly string[], stored: string, context = ""): Promise<Decrypted<T>> {
  const text = await decryptText(keys, stored, context);
  if (!text.ok) return text;
  try {
    return { ok: true, value: JSON.parse(text.value) as T };
  } catch {
    return { ok: false, reason: "malformed" };
  }
}

/** Shows only the last two characters of personal data: `12345678901` → `*********01` (all masked up to 4). */
export function mask(value: string): string {
  const visible = value.length > 4 ? 2 : 0;
  return "*".repeat(value.length - visible) + value.slice(value.length - visible);
}

/** What a read shows of an attribute that is not in `VISIBLE_ATTRIBUTES`. */
export const HIDDEN_VALUE = "***";

/** Attributes as reads show them: the values of `visible` keys, `"***"` for every other key. */
export function minimisedAttributes(attributes: Record<string, string>, visible: readonly string[]): Record<string, string> {
  const shown: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(attributes)) shown[key] = visible.includes(key) ? value : HIDDEN_VALUE;
  return shown;
}
