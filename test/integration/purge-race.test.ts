import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { customerStub } from "../../src/interactions/stubs";
import type { CustomerInteractions } from "../../src/interactions/customer-interactions";
import type { Interaction } from "../../src/interactions/machine";
import { forgetMemory } from "../objects";
import { authHeaders, call, cleanup, createOk, sampleBody, track } from "./helpers";

/**
 * The purge of a customer's last interaction deletes everything the object stores (deleteAll, the
 * alarm too). A create of the same customer that runs at the same time must keep its record and
 * its alarm, whichever of the two goes first.
 */

afterEach(cleanup);

async function cancelledAndDue(customerId: string): Promise<{ stub: DurableObjectStub<CustomerInteractions>; first: string }> {
  const first = await createOk(sampleBody(customerId, 1));
  const cancelled = await call(`/${first}`, { method: "DELETE", headers: authHeaders() });
  expect(cancelled.body.result.state).toBe("cancelled");
  const stub = (await customerStub(env, customerId)) as unknown as DurableObjectStub<CustomerInteractions>;
  // Its retention is over: the next alarm purges it (the instance forgets what it held in memory, as after a restart).
  await runInDurableObject(stub, (instance, state) => {
    const ix = state.storage.kv.get<Interaction>(`ix:${first}`)!;
    state.storage.kv.put(`ix:${first}`, { ...ix, purgeAt: Date.now() - 1 });
    forgetMemory(instance);
  });
  return { stub, first };
}

describe("a purge's deleteAll racing a new create of the same customer", () => {
  it.each(["alarm first", "create first"])("%s: the new call keeps its record and an alarm; the old one is gone", async (order) => {
    const customerId = `purge-race-${crypto.randomUUID()}`;
    const { stub, first } = await cancelledAndDue(customerId);
    const { second, keys, alarm } = await runInDurableObject(stub, async (instance, state) => {
      const input = { customerId, attributes: { TRX: "Diyalog" } };
      const [, outcome] =
        order === "alarm first" ? await Promise.all([instance.alarm(), instance.create(input)]) : (await Promise.all([instance.create(input), instance.alarm()])).reverse();
      const created = outcome as Awaited<ReturnType<CustomerInteractions["create"]>>;
      return {
        second: created.kind === "created" ? created.interactionId : undefined,
        keys: [...state.storage.kv.list()].map(([key]) => key),
        alarm: await state.storage.getAlarm(),
      };
    });
    expect(second).toBeDefined();
    track(second!);
    expect(keys, JSON.stringify({ keys, first, second })).toEqual([`ix:${second}`]);
    expect(keys).not.toContain(`ix:${first}`);
    expect(alarm).not.toBeNull();
    expect((await call(`/v1/interactions/${second}`, { headers: authHeaders() })).status).toBe(200);
  });
});
