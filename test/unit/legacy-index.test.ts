import { describe, expect, it } from "vitest";
import { legacyIndexShard } from "../../src/interactions/stubs";

describe("legacy customer index placement (interactions created before the per-customer objects)", () => {
  it("still maps a customer to the index object that holds their entry", () => {
    // Pinned values (FNV-1a computed independently), as the earlier layout placed customers: a
    // change would send a legacy interaction's purge to an object that does not hold its entry.
    expect([legacyIndexShard(""), legacyIndexShard("123456"), legacyIndexShard("Müşteri-42")]).toEqual([5, 42, 44]);
  });
});
