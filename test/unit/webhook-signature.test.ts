import { describe, expect, it } from "vitest";
import { signWebhook, verifyWebhook, WEBHOOK_TOLERANCE_SECONDS } from "../../src/security/webhook-signature";

/*
 * Published vectors of the Standard Webhooks reference libraries, github.com/standard-webhooks/standard-webhooks
 * (snapshot at commit b2fa7b8719fb75d326b591077f5d1b385cfcdfae):
 * - REFERENCE: libraries/javascript/src/webhook.test.ts, test "sign function works" (the same values are
 *   in the Python, Go, Java, C#, PHP and Ruby tests).
 * - RUST: libraries/rust/src/lib.rs, `test_sign`.
 * The decoy signatures come from the "multi sig payload is valid" (JavaScript) and
 * `test_no_verify_with_multiple_signatures` (Rust) tests, and the one-character-off signature from
 * libraries/python/tests/test_webhooks.py `test_invalid_signature_raises_error`.
 */
const REFERENCE = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};
const RUST = {
  secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
  id: "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
  timestamp: 1649367553,
  body: '{"email":"test@example.com","username":"test_user"}',
  signature: "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
};
const DECOYS = [
  "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
  "v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ=",
  "v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q=",
  "v1,9DfC1c3eeOrXB6w/5dIDydLNQaEyww5KalE5jLBZucE=",
] as const;
const ONE_CHAR_OFF = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=";

/** A second, unrelated secret for rotation tests (32 random bytes, base64). */
const OTHER_SECRET = "whsec_" + btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

/** The request headers a receiver would see for a vector. */
function headersOf(v: { id: string; timestamp: number; signature: string }): Headers {
  return new Headers({
    "webhook-id": v.id,
    "webhook-timestamp": String(v.timestamp),
    "webhook-signature": v.signature,
  });
}

/** `now` in ms for a vector's timestamp plus an offset in seconds. */
const at = (timestamp: number, offsetSeconds = 0) => (timestamp + offsetSeconds) * 1000;

describe("published Standard Webhooks vectors", () => {
  for (const [name, v] of Object.entries({ REFERENCE, RUST })) {
    it(`${name}: signWebhook produces the published signature`, async () => {
      const headers = await signWebhook([v.secret], v.body, { id: v.id, timestamp: v.timestamp });
      expect(headers).toEqual({
        "webhook-id": v.id,
        "webhook-timestamp": String(v.timestamp),
        "webhook-signature": v.signature,
      });
    });

    it(`${name}: verifyWebhook accepts the published signature`, async () => {
      expect(await verifyWebhook([v.secret], headersOf(v), v.body, at(v.timestamp))).toEqual({ ok: true, id: v.id });
    });
  }

  it("accepts the secret without its whsec_ prefix, as the reference libraries do", async () => {
    const bare = REFERENCE.secret.slice("whsec_".length);
    const headers = await signWebhook([bare], REFERENCE.body, REFERENCE);
    expect(headers["webhook-signature"]).toBe(REFERENCE.signature);
  });

  it("rejects a signature one character off", async () => {
    const h = headersOf({ ...REFERENCE, signature: ONE_CHAR_OFF });
    expect(await verifyWebhook([REFERENCE.secret], h, REFERENCE.body, at(REFERENCE.timestamp))).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("reads header names case-insensitively", async () => {
    const h = new Headers({
      "Webhook-Id": REFERENCE.id,
      "WEBHOOK-TIMESTAMP": String(REFERENCE.timestamp),
      "Webhook-Signature": REFERENCE.signature,
    });
    expect((await verifyWebhook([REFERENCE.secret], h, REFERENCE.body, at(REFERENCE.timestamp))).ok).toBe(true);
  });
});

describe("signWebhook", () => {
  it("defaults to a random msg_ id and the current time in seconds", async () => {
    const before = Math.floor(Date.now() / 1000);
    const a = await signWebhook([REFERENCE.secret], "{}");
    const b = await signWebhook([REFERENCE.secret], "{}");
    const after = Math.floor(Date.now() / 1000);
    expect(a["webhook-id"]).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(a["webhook-id"]).not.toBe(b["webhook-id"]);
    const ts = Number(a["webhook-timestamp"]);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(after);
    expect(a["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(await verifyWebhook([REFERENCE.secret], new Headers(a), "{}")).toEqual({ ok: true, id: a["webhook-id"] });
  });

  it("rejects an empty secret list and a malformed first secret, without echoing the secret", async () => {
    await expect(signWebhook([], "{}")).rejects.toThrow(TypeError);
    for (const bad of ["whsec_***not-base64***", "whsec_", "whsec_A", ""]) {
      const err = await signWebhook([bad], "{}").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TypeError);
      if (bad.length > "whsec_".length) expect(String(err)).not.toContain(bad);
    }
  });
});

describe("rotation", () => {
  it("signs with the first secret only", async () => {
    const h = await signWebhook([REFERENCE.secret, OTHER_SECRET], REFERENCE.body, REFERENCE);
    expect(h["webhook-signature"]).toBe(REFERENCE.signature);
    const now = at(REFERENCE.timestamp);
    expect((await verifyWebhook([REFERENCE.secret], new Headers(h), REFERENCE.body, now)).ok).toBe(true);
    expect(await verifyWebhook([OTHER_SECRET], new Headers(h), REFERENCE.body, now)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("verifies with any secret of the list, including the second", async () => {
    const now = at(REFERENCE.timestamp);
    const h = headersOf(REFERENCE);
    expect(await verifyWebhook([OTHER_SECRET, REFERENCE.secret], h, REFERENCE.body, now)).toEqual({
      ok: true,
      id: REFERENCE.id,
    });
    expect((await verifyWebhook([REFERENCE.secret, OTHER_SECRET], h, REFERENCE.body, now)).ok).toBe(true);
  });

  it("a peer still signing with the old secret is accepted while both are configured", async () => {
    const fromPeer = await signWebhook([OTHER_SECRET], "{}");
    expect((await verifyWebhook([REFERENCE.secret, OTHER_SECRET], new Headers(fromPeer), "{}")).ok).toBe(true);
    expect((await verifyWebhook([REFERENCE.secret], new Headers(fromPeer), "{}")).ok).toBe(false);
  });
});

describe("timestamp tolerance (±300 s)", () => {
  const verifyAt = (offsetSeconds: number) =>
    verifyWebhook([REFERENCE.secret], headersOf(REFERENCE), REFERENCE.body, at(REFERENCE.timestamp, offsetSeconds));

  it("accepts up to exactly 300 s either side", async () => {
    expect(WEBHOOK_TOLERANCE_SECONDS).toBe(300);
    expect((await verifyAt(300)).ok).toBe(true);
    expect((await verifyAt(-300)).ok).toBe(true);
    // Milliseconds of `now` are dropped, as the reference does (floor to whole seconds).
    expect((await verifyAt(300.999)).ok).toBe(true);
  });

  it("rejects a timestamp older than 300 s as stale", async () => {
    expect(await verifyAt(301)).toEqual({ ok: false, reason: "stale" });
    expect(await verifyAt(86_400)).toEqual({ ok: false, reason: "stale" });
  });

  it("rejects a timestamp more than 300 s in the future as stale", async () => {
    expect(await verifyAt(-301)).toEqual({ ok: false, reason: "stale" });
    expect(await verifyAt(-86_400)).toEqual({ ok: false, reason: "stale" });
  });

  it("rejects a freshly signed request replayed later", async () => {
    const signedAt = Date.now();
    const h = new Headers(await signWebhook([REFERENCE.secret], "{}"));
    expect((await verifyWebhook([REFERENCE.secret], h, "{}", signedAt)).ok).toBe(true);
    expect(await verifyWebhook([REFERENCE.secret], h, "{}", signedAt + 302_000)).toEqual({ ok: false, reason: "stale" });
  });
});

describe("tampering", () => {
  const now = at(REFERENCE.timestamp);
  const bad = { ok: false, reason: "bad_signature" };

  it("rejects a changed body", async () => {
    expect(await verifyWebhook([REFERENCE.secret], headersOf(REFERENCE), '{"test": 2432232315}', now)).toEqual(bad);
    expect(await verifyWebhook([REFERENCE.secret], headersOf(REFERENCE), REFERENCE.body + " ", now)).toEqual(bad);
    expect(await verifyWebhook([REFERENCE.secret], headersOf(REFERENCE), "", now)).toEqual(bad);
  });

  it("rejects a changed id", async () => {
    const h = headersOf({ ...REFERENCE, id: "msg_p5jXN8AQM9LWM0D4loKWxJeK" });
    expect(await verifyWebhook([REFERENCE.secret], h, REFERENCE.body, now)).toEqual(bad);
  });

  it("rejects a changed timestamp, even one inside the window", async () => {
    const h = headersOf({ ...REFERENCE, timestamp: REFERENCE.timestamp + 1 });
    expect(await verifyWebhook([REFERENCE.secret], h, REFERENCE.body, now)).toEqual(bad);
  });

  it("rejects a signature under the wrong secret", async () => {
    expect(await verifyWebhook([RUST.secret], headersOf(REFERENCE), REFERENCE.body, now)).toEqual(bad);
  });
});

describe("several signatures in the header", () => {
  const now = at(REFERENCE.timestamp);

  it("accepts when any v1 entry matches (reference multi-signature case, with a v2 entry ignored)", async () => {
    const header = [DECOYS[0], "v2," + REFERENCE.signature.slice(3), REFERENCE.signature, DECOYS[0]].join(" ");
    const h = headersOf({ ...REFERENCE, signature: header });
    expect(await verifyWebhook([REFERENCE.secret], h, REFERENCE.body, now)).toEqual({ ok: true, id: REFERENCE.id });
  });

  it("rejects when no entry matches (Rust decoys)", async () => {
    const h = headersOf({ ...RUST, signature: DECOYS.slice(1).join(" ") });
    expect(await verifyWebhook([RUST.secret], h, RUST.body, at(RUST.timestamp))).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("ignores non-v1 entries even when they carry the right MAC", async () => {
    for (const version of ["v2", "v1a", "V1", ""]) {
      const h = headersOf({ ...REFERENCE, signature: `${version},${REFERENCE.signature.slice(3)}` });
      expect(await verifyWebhook([REFERENCE.secret], h, REFERENCE.body, now)).toEqual({
        ok: false,
        reason: "bad_signature",
      });
    }
  });

  it("accepts signatures split over repeated headers (joined by Headers as \", \")", async () => {
    const h = headersOf({ ...REFERENCE, signature: DECOYS[0] });
    h.append("webhook-signature", REFERENCE.signature);
    expect((await verifyWebhook([REFERENCE.secret], h, REFERENCE.body, now)).ok).toBe(true);
  });

  it("tolerates extra spaces between entries", async () => {
    const h = headersOf({ ...REFERENCE, signature: `  ${DECOYS[1]}   ${REFERENCE.signature} ` });
    expect((await verifyWebhook([REFERENCE.secret], h, REFERENCE.body, now)).ok).toBe(true);
  });
});

describe("missing headers", () => {
  const now = at(REFERENCE.timestamp);

  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
    it(`rejects a request without ${name}, or with it empty`, async () => {
      const h = headersOf(REFERENCE);
      h.delete(name);
      expect(await verifyWebhook([REFERENCE.secret], h, REFERENCE.body, now)).toEqual({
        ok: false,
        reason: "missing_headers",
      });
      h.set(name, "");
      expect(await verifyWebhook([REFERENCE.secret], h, REFERENCE.body, now)).toEqual({
        ok: false,
        reason: "missing_headers",
      });
    });
  }

  it("treats a timestamp that is not an integer as missing", async () => {
    for (const ts of ["hello", "1614265330.0", "-1614265330", "1614265330abc", "1e9", "0x60365cf2"]) {
      const h = headersOf(REFERENCE);
      h.set("webhook-timestamp", ts);
      expect(await verifyWebhook([REFERENCE.secret], h, REFERENCE.body, now)).toEqual({
        ok: false,
        reason: "missing_headers",
      });
    }
  });
});

describe("malformed input never throws", () => {
  const now = at(REFERENCE.timestamp);

  it("rejects malformed or partial signatures (reference cases) as bad_signature", async () => {
    const cases = [
      "v1,dawfeoifkpqwoekfpqoekf",
      REFERENCE.signature.slice(0, 8),
      "v1,",
      "v1",
      ",",
      "v1,%%%%",
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE",
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE==",
      "v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE=",
      // Same 32 bytes when decoded (the last 2 bits are padding), but not the canonical text.
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=",
      "v1," + REFERENCE.signature.slice(3).repeat(2),
    ];
    for (const signature of cases) {
      const h = headersOf({ ...REFERENCE, signature });
      expect(await verifyWebhook([REFERENCE.secret], h, REFERENCE.body, now), signature).toEqual({
        ok: false,
        reason: "bad_signature",
      });
    }
  });

  it("skips malformed secrets and still verifies with a good one later in the list", async () => {
    const malformed = ["whsec_***not-base64***", "whsec_", "whsec_A", "", "whsec_Zm9v YmFy", "whsec_é"];
    const h = headersOf(REFERENCE);
    expect(await verifyWebhook(malformed, h, REFERENCE.body, now)).toEqual({ ok: false, reason: "bad_signature" });
    expect(await verifyWebhook([...malformed, REFERENCE.secret], h, REFERENCE.body, now)).toEqual({
      ok: true,
      id: REFERENCE.id,
    });
  });

  it("rejects everything when no secret is configured", async () => {
    expect(await verifyWebhook([], headersOf(REFERENCE), REFERENCE.body, now)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });
});
