import { describe, expect, it } from "vitest";
import {
  decryptJson,
  decryptText,
  DEVELOPMENT_PERSONAL_DATA_KEYS,
  encryptJson,
  encryptText,
  mask,
  minimisedAttributes,
} from "../../src/security/personal-data";

/**
 * Personal data at rest (design §6): AES-256-GCM under PERSONAL_DATA_KEYS, the first key encrypts,
 * every key decrypts, each stored value names its key by an id derived from the key.
 */

function randomKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

const OLD = randomKey();
const NEW = randomKey();
const TCKN = "12345678901";

/** The stored value with one base64 character of its ciphertext part changed. */
function flipped(stored: string, at: number): string {
  const chars = [...stored];
  const i = stored.indexOf(".") + 1 + at;
  chars[i] = chars[i] === "A" ? "B" : "A";
  return chars.join("");
}

describe("encryptText / decryptText", () => {
  it("round-trips text, the stored form holding neither the value nor its base64", async () => {
    for (const value of [TCKN, "", "Ayşe Yılmaz 🙂", "x".repeat(1024)]) {
      const stored = await encryptText([OLD], value, "ix-1/customerId");
      expect(stored).not.toContain(value || "\u0000");
      if (value !== "") expect(stored).not.toContain(btoa(unescape(encodeURIComponent(value))).slice(0, 8));
      expect(await decryptText([OLD], stored, "ix-1/customerId")).toEqual({ ok: true, value });
    }
  });

  it("uses a fresh IV each time: the same value never gives the same stored form", async () => {
    const a = await encryptText([OLD], TCKN);
    const b = await encryptText([OLD], TCKN);
    expect(a).not.toBe(b);
    expect(a.split(".")[0]).toBe(b.split(".")[0]);
  });

  it("is compact: key id, a dot and base64 of IV ‖ ciphertext ‖ tag (61 characters for a TCKN)", async () => {
    const stored = await encryptText([OLD], TCKN);
    expect(stored).toMatch(/^[A-Za-z0-9+/]{8}\.[A-Za-z0-9+/]+={0,2}$/);
    // 12 bytes of IV + 11 of ciphertext + 16 of tag = 39 bytes = 52 base64 characters.
    expect(stored).toHaveLength(8 + 1 + 52);
  });

  it("rotation: after prepending a key, old values still decrypt and new ones are under the new key", async () => {
    const before = await encryptText([OLD], TCKN);
    const rotated = [NEW, OLD];
    expect(await decryptText(rotated, before)).toEqual({ ok: true, value: TCKN });
    const after = await encryptText(rotated, TCKN);
    const oldId = before.split(".")[0];
    const newId = after.split(".")[0];
    expect(newId).not.toBe(oldId);
    // The id belongs to the key, not to its place in the list.
    expect((await encryptText([NEW], "x")).split(".")[0]).toBe(newId);
    // Only the new key can read what was written after the rotation.
    expect(await decryptText([NEW], after)).toEqual({ ok: true, value: TCKN });
    expect(await decryptText([OLD], after)).toEqual({ ok: false, reason: "unknown_key" });
    // Once the old key is dropped, values written under it are unreadable (not misread).
    expect(await decryptText([NEW], before)).toEqual({ ok: false, reason: "unknown_key" });
  });

  it("a tampered ciphertext, IV or tag is a clear 'not_authentic', never a throw or a wrong value", async () => {
    const stored = await encryptText([OLD], TCKN);
    const body = stored.length - stored.indexOf(".") - 1;
    for (const at of [0, 11, 20, body - 1]) {
      await expect(decryptText([OLD], flipped(stored, at))).resolves.toEqual({ ok: false, reason: "not_authentic" });
    }
  });

  it("a value stored for one context does not decrypt in another (no swapping between records or fields)", async () => {
    const stored = await encryptText([OLD], TCKN, "ix-1/identityNumber");
    expect(await decryptText([OLD], stored, "ix-2/identityNumber")).toEqual({ ok: false, reason: "not_authentic" });
    expect(await decryptText([OLD], stored, "ix-1/customerId")).toEqual({ ok: false, reason: "not_authentic" });
  });

  it("an unknown key id is 'unknown_key'; a value not in the stored form is 'malformed'", async () => {
    const stored = await encryptText([OLD], TCKN);
    expect(await decryptText([OLD], `AAAAAAAA${stored.slice(8)}`)).toEqual({ ok: false, reason: "unknown_key" });
    for (const junk of ["", TCKN, "abc.def", `${stored.split(".")[0]}.not base64!`, `${stored.split(".")[0]}.${"A".repeat(37)}`, `${stored.split(".")[0]}.${"A".repeat(30)}`, `${stored}=`]) {
      expect(await decryptText([OLD], junk), junk).toEqual({ ok: false, reason: "malformed" });
    }
  });

  it("without configured keys the development keys are used, and configured keys do not read their values", async () => {
    const dev = await encryptText([], TCKN);
    expect(await decryptText(DEVELOPMENT_PERSONAL_DATA_KEYS, dev)).toEqual({ ok: true, value: TCKN });
    expect(await decryptText([], dev)).toEqual({ ok: true, value: TCKN });
    expect(await decryptText([OLD], dev)).toEqual({ ok: false, reason: "unknown_key" });
  });

  it("refuses to encrypt under a key that is not 32 bytes of base64 (the configuration refuses it first)", async () => {
    await expect(encryptText([btoa("short")], TCKN)).rejects.toThrow(/PERSONAL_DATA_KEYS/);
  });
});

describe("encryptJson / decryptJson", () => {
  it("round-trips a small JSON value (an attribute map)", async () => {
    const attributes = { TRX: "Diyalog", Note: "VIP müşteri" };
    const stored = await encryptJson([OLD], attributes, "ix-1/attributes");
    expect(stored).not.toContain("VIP");
    expect(await decryptJson([OLD], stored, "ix-1/attributes")).toEqual({ ok: true, value: attributes });
  });

  it("text that is not JSON is 'malformed'", async () => {
    const stored = await encryptText([OLD], "{not json");
    expect(await decryptJson([OLD], stored)).toEqual({ ok: false, reason: "malformed" });
  });
});

describe("mask and minimisedAttributes (reads)", () => {
  it("masks all but the last two characters; short values entirely", () => {
    expect(mask(TCKN)).toBe("*********01");
    expect(mask("123456")).toBe("****56");
    expect(mask("1234")).toBe("****");
    expect(mask("")).toBe("");
  });

  it("shows the values of visible keys only, '***' for the rest; keys kept", () => {
    const attributes = { TRX: "Diyalog", PrimaryProjectManagerId: "123456", Note: "Ayşe, TCKN 12345678901" };
    const shown = minimisedAttributes(attributes, ["TRX", "PrimaryProjectManagerId"]);
    expect(shown).toEqual({ TRX: "Diyalog", PrimaryProjectManagerId: "123456", Note: "***" });
  });

  it("a key named __proto__ stays data, and is hidden unless listed", () => {
    const attributes: Record<string, string> = Object.create(null);
    attributes["__proto__"] = "p";
    attributes["constructor"] = "c";
    const shown = minimisedAttributes(attributes, ["constructor"]);
    expect(Object.keys(shown).sort()).toEqual(["__proto__", "constructor"]);
    expect(JSON.parse(JSON.stringify(shown))).toEqual(JSON.parse('{"__proto__":"***","constructor":"c"}'));
  });
});
