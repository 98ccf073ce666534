import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { customerStub } from "../../src/interactions/stubs";
import type { Interaction } from "../../src/interactions/machine";
import { objectOf } from "../objects";
import type { CustomerInteractions } from "../../src/interactions/customer-interactions";
import { cleanup, createOk, sampleBody } from "./helpers";

/*
 * Issue 12 regressions that need the real Durable Objects (their own storage and alarms), in the
 * layout where one object per customer holds that customer's interactions.
 */

afterEach(cleanup);

const customer = (label: string) => `${label}-${crypto.randomUUID()}`;

describe("a create that reaches an existing interaction checks the customer (defect 3)", () => {
  it("another customer's record in a customer's object is never answered or joined", async () => {
    const first = customer("first");
    const second = customer("second");
    const firstId = await createOk(sampleBody(first, 1));
    const record = await runInDurableObject(objectOf(firstId), (_instance, state) => state.storage.kv.get<Interaction>(`ix:${firstId}`));
    // The second customer's object holds the first customer's call as its latest (as two customerIds
    // with one digest would): the create must not answer, or join, the other customer's call.
    await runInDurableObject(await customerStub(env, second), (_instance, state) => state.storage.kv.put(`ix:${firstId}`, { ...record!, createdAt: Date.now() + 60_000 }));
    const secondId = await createOk(sampleBody(second, 1));
    expect(secondId).not.toBe(firstId);
    const stored = await runInDurableObject(await customerStub(env, second), (instance) => (instance as unknown as CustomerInteractions).get(secondId));
    expect(stored?.customerId).toBe(second);
    await runInDurableObject(await customerStub(env, second), (_instance, state) => void state.storage.kv.delete(`ix:${firstId}`));
  });
});

describe("a create writes nothing but the interaction's own record (no index entry to outlive it, defect 5)", () => {
  it("after a create the customer's object holds exactly that record", async () => {
    const customerId = customer("kept");
    const id = await createOk(sampleBody(customerId, 1));
    const keys = await runInDurableObject(await customerStub(env, customerId), (_instance, state) => [...state.storage.kv.list()].map(([key]) => key));
    expect(keys).toEqual([`ix:${id}`]);
  });
});
