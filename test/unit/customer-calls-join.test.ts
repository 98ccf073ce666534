import { describe, expect, it } from "vitest";
import { CustomerCalls, type CustomerHost } from "../../src/interactions/customer-calls";
import type { CreateOutcome } from "../../src/interactions/interaction-core";

/**
 * README "One active interaction per customer": a create that finds another customer's interaction
 * in the customer's object (as a digest collision would) never gets that interaction. That holds for
 * a create still in flight too: a double tap joins its own customer's create, never another's.
 */

function host(): CustomerHost & { made: { interactionId: string; customerId: string }[]; settle: () => void } {
  const made: { interactionId: string; customerId: string }[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let seq = 0;
  return {
    made,
    settle: () => release(),
    latest: () => made.at(-1)?.interactionId,
    newId: () => `ix-${++seq}`,
    async create(input): Promise<CreateOutcome> {
      if (input.existing) {
        const found = made.find((m) => m.interactionId === input.interactionId);
        if (!found || found.customerId !== input.customerId) return { kind: "inactive" };
        return { kind: "created", interactionId: found.interactionId, state: "queued" };
      }
      made.push({ interactionId: input.interactionId, customerId: input.customerId });
      await gate; // the upstream has not answered yet
      return { kind: "created", interactionId: input.interactionId, state: "queued" };
    },
  };
}

describe("CustomerCalls: joining a create in flight", () => {
  it("the same customer's double tap gets the same interaction", async () => {
    const h = host();
    const calls = new CustomerCalls(h);
    const first = calls.create({ customerId: "c-1", attributes: {} });
    const second = calls.create({ customerId: "c-1", attributes: {} });
    h.settle();
    expect(await second).toEqual(await first);
    expect(h.made).toHaveLength(1);
  });

  it("another customer sharing the object (a digest collision) never gets the first customer's interaction", async () => {
    const h = host();
    const calls = new CustomerCalls(h);
    const first = calls.create({ customerId: "c-1", attributes: {} });
    const other = calls.create({ customerId: "c-2", attributes: {} });
    h.settle();
    const [a, b] = await Promise.all([first, other]);
    expect(a).toMatchObject({ kind: "created" });
    expect(b).toMatchObject({ kind: "created" });
    expect((b as { interactionId: string }).interactionId).not.toBe((a as { interactionId: string }).interactionId);
    expect(h.made.find((m) => m.interactionId === (b as { interactionId: string }).interactionId)?.customerId).toBe("c-2");
  });
});
