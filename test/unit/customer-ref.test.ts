import { describe, expect, it } from "vitest";
import { customerDigest, customerRef, DEVELOPMENT_CUSTOMER_REF_KEY } from "../../src/security/customer-ref";

describe("customer reference: a keyed digest of the customerId", () => {
  it("is HMAC-SHA256 under the bytes CUSTOMER_REF_KEY encodes (standard base64), base64url without padding (RFC 4231 test case 2)", async () => {
    // RFC 4231 §4.3: key "Jefe" (base64 "SmVmZQ=="), data "what do ya want for nothing?" →
    // HMAC-SHA256 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843.
    const digest = await customerDigest({ CUSTOMER_REF_KEY: "SmVmZQ==" }, "what do ya want for nothing?");
    expect(digest).toBe("W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM");
    expect(await customerRef({ CUSTOMER_REF_KEY: "SmVmZQ==" }, "what do ya want for nothing?")).toBe(digest.slice(0, 16));
  });

  it("depends on the key: another key, or none (the development key), gives another digest", async () => {
    const withKey = await customerDigest({ CUSTOMER_REF_KEY: "key-a" }, "123456");
    expect(await customerDigest({ CUSTOMER_REF_KEY: "key-b" }, "123456")).not.toBe(withKey);
    expect(await customerDigest({}, "123456")).toBe(await customerDigest({ CUSTOMER_REF_KEY: DEVELOPMENT_CUSTOMER_REF_KEY }, "123456"));
    expect(await customerDigest({}, "123456")).not.toBe(withKey);
    // The key is used again after a change back (the cached import follows the configured key).
    expect(await customerDigest({ CUSTOMER_REF_KEY: "key-a" }, "123456")).toBe(withKey);
  });

  it("tells customers apart and never contains the customerId", async () => {
    const env = { CUSTOMER_REF_KEY: "k" };
    const a = await customerDigest(env, "123456");
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await customerDigest(env, "123457")).not.toBe(a);
    expect(a).not.toContain("123456");
    expect(await customerRef(env, "123456")).toHaveLength(16);
  });
});
