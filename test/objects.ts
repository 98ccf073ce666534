import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import type { Interaction } from "../src/interactions/machine";
import { expect, vi } from "vitest";
import { customerStub, newInteractionId } from "../src/interactions/stubs";

/** Waiting on Durable Objects in the workerd test projects (http, twilio, connect). */

export interface Wait {
  timeout: number;
  interval: number;
}

/** The Durable Object that holds an interaction: the customer's `CustomerInteractions` (named in the id's first 64 characters). */
export function objectOf(interactionId: string): DurableObjectStub {
  return env.CUSTOMER_INTERACTIONS.get(env.CUSTOMER_INTERACTIONS.idFromString(interactionId.slice(0, 64)));
}

/**
 * Makes a `CustomerInteractions` instance forget everything it holds in memory, as a restart would
 * (its storage stays): the next request or alarm reads and decrypts the stored records again.
 */
export function forgetMemory(instance: unknown): void {
  const memory = instance as { cores: Map<string, unknown>; wants: Map<string, number>; opened: Map<string, unknown>; seals: Map<string, unknown> } & Record<"opening" | "ids" | "latest" | "alarmAt", unknown>;
  for (const map of [memory.cores, memory.wants, memory.opened, memory.seals]) map.clear();
  memory.opening = memory.ids = memory.latest = memory.alarmAt = undefined;
}

/** A well-formed interaction id that names no interaction: a fresh (empty) customer object's id and a random part. */
export function unknownInteractionId(): string {
  return newInteractionId(env.CUSTOMER_INTERACTIONS.newUniqueId().toString());
}

/** The id of the latest interaction a customer's object stores (its record's `createdAt`), if any. */
export function latestIn(stub: DurableObjectStub): Promise<string | undefined> {
  return runInDurableObject(stub, (_instance, state) => {
    let latest: Interaction | undefined;
    for (const [, ix] of state.storage.kv.list<Interaction>({ prefix: "ix:" })) if (!latest || ix.createdAt >= latest.createdAt) latest = ix;
    return latest?.interactionId;
  });
}

/** The id of the customer's latest interaction, read from the customer's object (known before the create answers). */
export async function latestInteractionOf(customerId: string, wait: Wait): Promise<string> {
  const stub = await customerStub(env, customerId);
  let id: string | undefined;
  await vi.waitFor(async () => {
    id = await latestIn(stub);
    expect(id).toBeDefined();
  }, wait);
  return id!;
}

/** Waits until `check` passes, running the interaction's object's alarm between tries (retries and polls ride on alarms). */
export async function settle(id: string, check: () => Promise<void>, wait: Wait): Promise<void> {
  const stub = objectOf(id);
  await vi.waitFor(async () => {
    await runDurableObjectAlarm(stub);
    await check();
  }, wait);
}
