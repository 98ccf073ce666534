import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { expect, vi } from "vitest";
import { customerStub, interactionStub } from "../src/interactions/stubs";

/** Waiting on Durable Objects in the workerd test projects (http, twilio, connect). */

export interface Wait {
  timeout: number;
  interval: number;
}

/** The id of the customer's latest interaction, read from its index object (known before the create answers). */
export async function latestInteractionOf(customerId: string, wait: Wait): Promise<string> {
  const stub = customerStub(env, customerId);
  let id: string | undefined;
  await vi.waitFor(async () => {
    id = await stub.latest(customerId);
    expect(id).toBeDefined();
  }, wait);
  return id!;
}

/** Waits until `check` passes, running the interaction's alarm between tries (retries and polls ride on alarms). */
export async function settle(id: string, check: () => Promise<void>, wait: Wait): Promise<void> {
  const stub = interactionStub(env, id);
  await vi.waitFor(async () => {
    await runDurableObjectAlarm(stub);
    await check();
  }, wait);
}
