import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { customerStub } from "../../src/interactions/stubs";

/**
 * CUSTOMER_REF_KEY names every customer's Durable Object (README: changing it moves every customer
 * to a new object, and the one-active-call check then no longer sees their calls). The configuration
 * reads the key with surrounding whitespace dropped (a secret pasted or piped with a line break), so
 * the object it names must not depend on that whitespace either: the same key, as the configuration
 * sees it, names the same object.
 */

const KEY = btoa(String.fromCharCode(...new Uint8Array(32).map((_, i) => i * 7 + 3)));
const OTHER = btoa(String.fromCharCode(...new Uint8Array(32).map((_, i) => i * 11 + 5)));

describe("CUSTOMER_REF_KEY as the configuration reads it names the customer's object", () => {
  it.each([
    ["a trailing line break", `${KEY}\n`],
    ["surrounding spaces", `  ${KEY} `],
  ])("the key with %s is the same key, and the same object", async (_label, variant) => {
    const plain = parseConfig({ PERSONAL_DATA_KEYS: OTHER, CUSTOMER_REF_KEY: KEY });
    const padded = parseConfig({ PERSONAL_DATA_KEYS: OTHER, CUSTOMER_REF_KEY: variant });
    expect(plain.ok && padded.ok).toBe(true);
    expect(plain.ok && padded.ok && padded.config.customerRefKey === plain.config.customerRefKey).toBe(true);

    const customerId = `ref-key-${crypto.randomUUID()}`;
    const a = await customerStub({ ...env, CUSTOMER_REF_KEY: KEY } as Env, customerId);
    const b = await customerStub({ ...env, CUSTOMER_REF_KEY: variant } as Env, customerId);
    expect(b.id.toString()).toBe(a.id.toString());
  });
});
