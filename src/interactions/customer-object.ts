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
 * it; the interaction removes its entry when it purges its data. An entry whose interaction never
 * stored itself (this object reset between writing the entry and the create reaching the
 * interaction) is removed by this object's alarm: the entry stays unconfirmed until the create
 * answers, and one still unconfirmed after `UNCONFIRMED_CHECK_MS` is checked with the interaction.
 *
 * Why shared objects rather than one per customer: a create then starts one new Durable Object
 * (the interaction) instead of two; the index objects stay warm. An index object only reads and
 * writes one key per create and awaits the interaction without blocking other customers' creates.
 */
/** How long a new entry may wait for its interaction's create before the alarm checks it. */
export const UNCONFIRMED_CHECK_MS = 60_000;
const UNCONFIRMED = "unconfirmed:";

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
    const kv = this.ctx.storage.kv;
    const checkAt = Date.now() + UNCONFIRMED_CHECK_MS;
    kv.put(entry, interactionId);
    kv.put(`${UNCONFIRMED}${interactionId}`, { entry, checkAt });
    // An alarm already set comes first: moving it later on every create would never let it fire.
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(checkAt);
    const outcome = await interactionStub(this.env, interactionId).create({ ...input, interactionId, existing: false });
    // The interaction has stored itself: from now on its purge releases the entry.
    kv.delete(`${UNCONFIRMED}${interactionId}`);
    // With nothing left to check the alarm goes too: the object keeps nothing it does not need.
    if (kv.list({ prefix: UNCONFIRMED, limit: 1 })[Symbol.iterator]().next().done) await this.ctx.storage.deleteAlarm();
    return outcome;
  }

  /**
   * Removes entries whose interaction never stored itself; keeps those whose create answered late
   * or failed in transit but reached the interaction (its purge releases them).
   */
  override async alarm(): Promise<void> {
    const kv = this.ctx.storage.kv;
    const now = Date.now();
    let next: number | undefined;
    for (const [key, { entry, checkAt }] of kv.list<{ entry: string; checkAt: number }>({ prefix: UNCONFIRMED })) {
      if (checkAt > now) {
        next = Math.min(next ?? checkAt, checkAt);
        continue;
      }
      const interactionId = key.slice(UNCONFIRMED.length);
      if (!(await interactionStub(this.env, interactionId).exists(interactionId)) && kv.get<string>(entry) === interactionId) {
        kv.delete(entry);
      }
      kv.delete(key);
    }
    if (next !== undefined) await this.ctx.storage.setAlarm(next);
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
