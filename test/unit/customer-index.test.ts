import { describe, expect, it } from "vitest";
import { CUSTOMER_INDEX_SHARDS, customerIndexShard } from "../../src/interactions/stubs";

describe("customer index placement", () => {
  it("is stable: a customer always maps to the same index object", () => {
    expect(customerIndexShard("123456")).toBe(customerIndexShard("123456"));
    // Pinned values (FNV-1a computed independently): a change of the hash moves every customer, and
    // the index would forget their active calls.
    expect([customerIndexShard(""), customerIndexShard("123456"), customerIndexShard("Müşteri-42")]).toEqual([5, 42, 44]);
  });

  it.each([
    ["sequential numeric ids (as banks issue them)", (i: number) => String(10_000_000_000 + i)],
    ["prefixed ids", (i: number) => `customer-${i}`],
  ])("spreads %s evenly over every index object", (_name, id) => {
    const counts = new Array<number>(CUSTOMER_INDEX_SHARDS).fill(0);
    const n = CUSTOMER_INDEX_SHARDS * 200;
    for (let i = 0; i < n; i++) counts[customerIndexShard(id(i))]! += 1;
    // 200 expected per object; the busiest and the idlest stay within ±30 %.
    expect(Math.min(...counts)).toBeGreaterThan(140);
    expect(Math.max(...counts)).toBeLessThan(260);
  });
});
