import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { customerStub, legacyIndexStub } from "../../src/interactions/stubs";
import { apply, createInteraction, type Interaction } from "../../src/interactions/machine";
import { objectOf } from "../objects";
import type { CustomerInteractions } from "../../src/interactions/customer-interactions";
import { authHeaders, call, cleanup, createOk, sampleBody } from "./helpers";

/*
 * Issue 12 regressions that need the real Durable Objects (their own storage and alarms), in the
 * layout where one object per customer holds that customer's interactions, and for the legacy
 * customer index that interactions created before it still release their entry in.
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

describe("legacy customer index (interactions created before the per-customer objects)", () => {
  it("an entry whose interaction never stored itself is removed by the index's alarm", async () => {
    const customerId = customer("orphan");
    const ghost = crypto.randomUUID();
    const entry = "customer:legacy-entry";
    // What the legacy index held after it wrote an entry and was reset before the create went out.
    await runInDurableObject(legacyIndexStub(env, customerId), (_instance, state) => {
      state.storage.kv.put(entry, ghost);
      state.storage.kv.put(`unconfirmed:${ghost}`, { entry, checkAt: Date.now() - 1 });
      return state.storage.setAlarm(Date.now() + 60_000);
    });
    await runDurableObjectAlarm(legacyIndexStub(env, customerId));
    const keys = await runInDurableObject(legacyIndexStub(env, customerId), (_instance, state) => [...state.storage.kv.list()].map(([key]) => key));
    expect(keys).not.toContain(entry);
    expect(keys).not.toContain(`unconfirmed:${ghost}`);
  });

  it("a legacy interaction's purge empties its index object (nothing reads the legacy index any more)", async () => {
    const customerId = customer("legacy");
    const id = crypto.randomUUID();
    const other = crypto.randomUUID();
    await runInDurableObject(legacyIndexStub(env, customerId), (_instance, state) => {
      state.storage.kv.put("customer:a", id);
      state.storage.kv.put("customer:b", other);
    });
    await legacyIndexStub(env, customerId).release();
    const kept = await runInDurableObject(legacyIndexStub(env, customerId), (_instance, state) => [...state.storage.kv.list()]);
    expect(kept).toEqual([]);
  });
});

describe("interactions created before the per-customer objects (UUID ids) keep working", () => {
  it("a legacy interaction is read and cancelled through its own object", async () => {
    const id = crypto.randomUUID();
    const ctx = { now: Date.now(), canVeto: true, queueTimeoutMs: 1_800_000, retentionMs: 86_400_000 };
    let ix = createInteraction({ interactionId: id, customerId: customer("legacy"), attributes: { TRX: "Diyalog" } }, "simulator", ctx.now, 8000);
    ix = apply(ix, { type: "dispatch_started" }, ctx).interaction;
    ix = apply(ix, { type: "dispatch_accepted", upstreamId: `legacy-${id}` }, ctx).interaction;
    await runInDurableObject(objectOf(id), (_instance, state) => state.storage.kv.put("interaction", ix));
    const read = await call(`/v1/interactions/${id}`, { headers: authHeaders() });
    expect(read.status, read.text).toBe(200);
    expect(read.body.result.state).toBe("queued");
    const cancelled = await call(`/${id}`, { method: "DELETE", headers: authHeaders() });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body.result.state).toBe("cancelled");
    await runInDurableObject(objectOf(id), (_instance, state) => state.storage.deleteAll());
  });
});
