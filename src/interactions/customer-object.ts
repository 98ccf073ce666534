import { DurableObject } from "cloudflare:workers";
import type { CreateInteraction } from "../diyalog/create-request";
import type { CreateOutcome } from "./interaction-core";
import { interactionStub } from "./stubs";
import { hex, sha256 } from "../security/digest";

/**
 * The one-active-interaction-per-customer rule. The customer index is spread over a fixed set of
 * small Durable Objects (`CUSTOMER_INDEX_SHARDS`, chosen by a hash of the customerId); each holds,
 * per customer, the id of that customer's latest interaction and nothing else. A create goes through
 * the customer's index object:
 * - a create already in flight for this customer is joined, so a double tap gets the same outcome;
 * - otherwise the latest interaction is asked whether it is still active (received, dispatching or
 *   queued); if so its id is returned and nothing new is dispatched;
 * - otherwise a fresh id is drawn and the new interaction is created.
 * The interaction itself stays the authority on its state, so this index can never disagree with
 * it; the interaction removes its entry when it purges its data.
 *
 * Why shared objects rather than one per customer: a create then starts one new Durable Object
 * (the interaction) instead of two; the index objects stay warm. An index object only reads and
 * writes one key per create and awaits the interaction without blocking other customers' creates.
 */
export class CustomerObject extends DurableObject<Env> {
  /** Creates in flight, by customerId (memory only). */
  private readonly inFlight = new Map<string, Promise<CreateOutcome>>();

  /** `requestId` (the caller's `x-request-id`) only travels on to the upstream calls. */
  create(input: CreateInteraction & { requestId?: string }): Promise<CreateOutcome> {
    const joined = this.inFlight.get(input.customerId);
    if (joined) return joined;
    const run = this.createOnce(input).finally(() => {
      if (this.inFlight.get(input.customerId) === run) this.inFlight.delete(input.customerId);
    });
    this.inFlight.set(input.customerId, run);
    return run;
  }

  private async createOnce(input: CreateInteraction & { requestId?: string }): Promise<CreateOutcome> {
    const entry = await customerEntryKey(input.customerId);
    const latest = this.ctx.storage.kv.get<string>(entry);
    if (latest !== undefined) {
      const outcome = await interactionStub(this.env, latest).create({ ...input, interactionId: latest, existing: true });
      if (outcome.kind !== "inactive") return outcome;
    }
    const interactionId = crypto.randomUUID();
    this.ctx.storage.kv.put(entry, interactionId);
    return interactionStub(this.env, interactionId).create({ ...input, interactionId, existing: false });
  }

  /** The customer's latest interaction id, if the index holds one (tests read the index through it). */
  async latest(customerId: string): Promise<string | undefined> {
    return this.ctx.storage.kv.get<string>(await customerEntryKey(customerId));
  }

  /** Forgets the customer once their latest interaction is purged. */
  async release(customerId: string, interactionId: string): Promise<void> {
    const entry = await customerEntryKey(customerId);
    if (this.ctx.storage.kv.get<string>(entry) === interactionId) this.ctx.storage.kv.delete(entry);
  }
}

/**
 * The storage key of a customer's entry: a SHA-256 digest of the customerId, so the index stores
 * no customerId in clear (the interaction holds it until its purge, which also deletes the entry).
 */
export async function customerEntryKey(customerId: string): Promise<string> {
  return `customer:${hex(await sha256(customerId))}`;
}
