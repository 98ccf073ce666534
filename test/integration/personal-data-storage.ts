import { runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { base64url } from "../../src/security/customer-ref";
import { encodeBase64 } from "../../src/security/webhook-signature";

/**
 * What a test of design §6 reads of a Durable Object's storage: every key and value of its
 * SQLite-backed KV, and every row of any SQL table the object made itself (the runtime's own `_cf_`
 * tables are not readable from SQL; the KV's rows are what `kv.list()` returns).
 */
export function storageOf(stub: DurableObjectStub): Promise<string> {
  return runInDurableObject(stub, (_instance, state) => {
    const kv = [...state.storage.kv.list()];
    const tables = state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()
      .map((t) => t.name)
      .filter((name) => !name.toLowerCase().startsWith("_cf_"));
    const rows = tables.map((name) => [name, state.storage.sql.exec(`SELECT * FROM "${name.replaceAll('"', '""')}"`).toArray()]);
    return JSON.stringify({ name: state.id.name ?? null, kv, rows });
  });
}

/** The plain (unkeyed) SHA-256 of a customerId in every form a store could hold it: hex, base64, base64url; of UTF-8 and UTF-16LE. */
export async function plainDigests(customerId: string): Promise<string[]> {
  const utf8 = new TextEncoder().encode(customerId);
  const utf16 = new Uint8Array(customerId.length * 2);
  for (let i = 0; i < customerId.length; i++) {
    utf16[2 * i] = customerId.charCodeAt(i) & 0xff;
    utf16[2 * i + 1] = customerId.charCodeAt(i) >> 8;
  }
  const forms: string[] = [];
  for (const bytes of [utf8, utf16]) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    forms.push([...digest].map((b) => b.toString(16).padStart(2, "0")).join(""), encodeBase64(digest), base64url(digest));
  }
  return forms;
}

/** Expects none of `secrets` in `text` (each named by its index only, so a failure prints no personal data twice). */
export function expectNoneOf(text: string, secrets: string[], where: string): void {
  const found = secrets.map((s, i) => (text.includes(s) ? i : -1)).filter((i) => i >= 0);
  expect(found, `${where}: secrets #${found.join(",")} found`).toEqual([]);
}

/** The JSON lines printed on the console by the spies, parsed (other printed text skipped). */
export function jsonLines(printed: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of printed.split("\n")) {
    try {
      const parsed = JSON.parse(line) as unknown;
      if (parsed && typeof parsed === "object") lines.push(parsed as Record<string, unknown>);
    } catch {
      /* not a log line */
    }
  }
  return lines;
}

/** base64url(HMAC-SHA256(key, customerId)), first 16 characters: the customerRef, computed independently of src. */
export async function expectedRef(key: string, customerId: string): Promise<string> {
  const enc = new TextEncoder();
  // design §6: CUSTOMER_REF_KEY is 32 bytes in standard base64; the HMAC key is those bytes.
  const bytes = Uint8Array.from(atob(key), (c) => c.charCodeAt(0));
  const hmac = await crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmac, enc.encode(customerId)));
  return btoa(String.fromCharCode(...mac)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "").slice(0, 16);
}

/** A random 32-byte key, standard base64 (PERSONAL_DATA_KEYS / CUSTOMER_REF_KEY form). */
export const key32 = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
