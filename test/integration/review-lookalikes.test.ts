import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { customerStub } from "../../src/interactions/stubs";
import { authHeaders, call, cancel, cleanup, createOk, getInteraction, masked, track } from "./helpers";
import { expectNoneOf, storageOf } from "./personal-data-storage";

/** Review: one customer's lookup or erasure never reaches another's data; a customer with many calls is erased whole. */

const post = (path: string, customerId: unknown) =>
  call(path, { method: "POST", headers: authHeaders({ "content-type": "application/json" }), body: JSON.stringify({ customerId }) });
const ids = (answer: Awaited<ReturnType<typeof post>>) => answer.body.result.interactions.map((ix: { interactionId: string }) => ix.interactionId);

describe("review: look-alike customerIds are other customers", () => {
  it("case, Unicode normalisation, full-width digits, zero-width and no-break characters, a leading zero: neither found nor erased by the other form", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const base = `Çağrı-é-${tag}-123456`; // é precomposed (NFC)
    const original = await createOk({ customerId: base, attachedData: { TRX: `trx-${tag}` } });
    track(original);
    const lookalikes = [
      base.toUpperCase(),
      base.normalize("NFD"),
      base.replace("123456", "１２３４５６"),
      `${base}\u200b`,
      base.replace("-", "\u2011"),
      base.replace("123456", "0123456"),
    ];
    for (const other of lookalikes) {
      expect(other).not.toBe(base);
      expect(ids(await post("/v1/customers/lookup", other)), JSON.stringify(other)).toEqual([]);
      expect((await post("/v1/customers/erase", other)).body.result.erased, JSON.stringify(other)).toBe(0);
    }
    // Whitespace the create trims (U+00A0, U+FEFF, U+3000 are JavaScript whitespace) is the same customer, as designed.
    expect(ids(await post("/v1/customers/lookup", `\u00a0\ufeff${base}\u3000`))).toEqual([original]);
    const read = await getInteraction(original);
    expect(read.body.result).toMatchObject({ state: "queued", customerId: masked(base), attributes: { TRX: `trx-${tag}` } });
    expect((await cancel(original)).status).toBe(200);
    await cleanup();
  });

  it("a customer with 30 interactions: one erasure erases every one of them, a later lookup shows none of their data", async () => {
    const customerId = `many-${crypto.randomUUID()}`;
    const made: string[] = [];
    for (let i = 0; i < 30; i++) {
      const id = await createOk({ customerId, identityNumber: `1${String(i).padStart(10, "0")}`, attachedData: { TRX: `trx-many-${i}`, Name: `Name-${i}-${customerId}` } });
      made.push(id);
      if (i < 29) expect((await cancel(id)).status).toBe(200);
    }
    const answer = await post("/v1/customers/erase", customerId);
    expect(answer.body.result).toMatchObject({ erased: 30, cancelled: [made[29]], cancelUnconfirmed: [] });
    const after = await post("/v1/customers/lookup", customerId);
    expect(new Set(ids(after))).toEqual(new Set(made));
    for (const ix of after.body.result.interactions) expect(ix).toMatchObject({ customerId: null, identityNumber: null, attributes: {} });
    expectNoneOf(after.text, [customerId, "trx-many-", "Name-"], "lookup after erasure");
    expectNoneOf(await storageOf(await customerStub(env, customerId)), [customerId, "trx-many-", "Name-", '"sealed"', '"identityMask"'], "storage after erasure");
  });
});
