import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { customerEntryKey } from "../../src/interactions/customer-object";
import { customerStub } from "../../src/interactions/stubs";
import { cleanup, createOk, sampleBody } from "./helpers";

/*
 * Issue 12 regressions that need the real Durable Objects: the customer index and the interaction
 * it points at are separate objects, and only workerd gives them their own storage and alarms.
 */

afterEach(cleanup);

const customer = (label: string) => `${label}-${crypto.randomUUID()}`;

/** Writes what the customer's index object holds, as if it had stored it itself. */
async function writeIndex(customerId: string, write: (kv: SyncKvStorage, entry: string) => void): Promise<void> {
  const entry = await customerEntryKey(customerId);
  await runInDurableObject(customerStub(env, customerId), (_instance, state) => write(state.storage.kv, entry));
}

describe("a create that reaches an existing interaction checks the customer (defect 3)", () => {
  it("an index entry that leads to another customer's interaction never answers that interaction", async () => {
    const first = customer("first");
    const second = customer("second");
    const firstId = await createOk(sampleBody(first, 1));
    // The second customer's entry leads to the first customer's interaction (as two customerIds
    // with one digest did): the create must not answer, or join, the other customer's call.
    await writeIndex(second, (kv, entry) => kv.put(entry, firstId));
    const secondId = await createOk(sampleBody(second, 1));
    expect(secondId).not.toBe(firstId);
    expect(await customerStub(env, second).latest(second)).toBe(secondId);
  });
});

describe("a customer-index entry never outlives its interaction (defect 5)", () => {
  it("an entry whose interaction never stored itself (the index reset before the create reached it) is removed by the index's alarm", async () => {
    const customerId = customer("orphan");
    const ghost = crypto.randomUUID();
    // What the index holds after it wrote a new entry and was reset before the create went out:
    // the entry and its "unconfirmed" marker, written together, and the alarm set for the check.
    await writeIndex(customerId, (kv, entry) => {
      kv.put(entry, ghost);
      kv.put(`unconfirmed:${ghost}`, { entry, checkAt: Date.now() - 1 });
    });
    await runInDurableObject(customerStub(env, customerId), (_instance, state) => state.storage.setAlarm(Date.now() + 60_000));
    expect(await customerStub(env, customerId).latest(customerId)).toBe(ghost);
    await runDurableObjectAlarm(customerStub(env, customerId));
    expect(await customerStub(env, customerId).latest(customerId)).toBeUndefined();
  });

  it("a create that answered leaves no unconfirmed marker, and the alarm keeps its entry", async () => {
    const customerId = customer("kept");
    const id = await createOk(sampleBody(customerId, 1));
    const markers = await runInDurableObject(customerStub(env, customerId), (_instance, state) =>
      [...state.storage.kv.list({ prefix: `unconfirmed:${id}` })].length,
    );
    expect(markers).toBe(0);
    // An entry still unconfirmed whose interaction did store itself is kept (its purge releases it).
    await writeIndex(customerId, (kv, entry) => kv.put(`unconfirmed:${id}`, { entry, checkAt: Date.now() - 1 }));
    await runInDurableObject(customerStub(env, customerId), (_instance, state) => state.storage.setAlarm(Date.now() + 60_000));
    await runDurableObjectAlarm(customerStub(env, customerId));
    expect(await customerStub(env, customerId).latest(customerId)).toBe(id);
  });
});
