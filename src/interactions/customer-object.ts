import { DurableObject } from "cloudflare:workers";
import type { CreateInteraction } from "../diyalog/create-request";
import type { CreateOutcome } from "./interaction-core";
import { interactionStub } from "./stubs";

/**
 * The one-active-interaction-per-customer rule. One small Durable Object per customerId holds the
 * id of that customer's latest interaction and nothing else. A create goes through it:
 * - a create already in flight for this customer is joined, so a double tap gets the same outcome;
 * - otherwise the latest interaction is asked whether it is still active (received, dispatching or
 *   queued); if so its id is returned and nothing new is dispatched;
 * - otherwise a fresh id is drawn and the new interaction is created.
 * The interaction itself stays the authority on its state, so this index can never disagree with
 * it; the interaction removes the entry when it purges its data.
 */
export class CustomerObject extends DurableObject<Env> {
  private inFlight?: Promise<CreateOutcome>;

  /** `requestId` (the caller's `x-request-id`) only travels on to the upstream calls. */
  create(input: CreateInteraction & { requestId?: string }): Promise<CreateOutcome> {
    if (this.inFlight) return this.inFlight;
    const run = this.createOnce(input).finally(() => {
      if (this.inFlight === run) this.inFlight = undefined;
    });
    this.inFlight = run;
    return run;
  }

  private async createOnce(input: CreateInteraction & { requestId?: string }): Promise<CreateOutcome> {
    const latest = this.ctx.storage.kv.get<string>("latest");
    if (latest !== undefined) {
      const outcome = await interactionStub(this.env, latest).create({ ...input, interactionId: latest, existing: true });
      if (outcome.kind !== "inactive") return outcome;
    }
    const interactionId = crypto.randomUUID();
    this.ctx.storage.kv.put("latest", interactionId);
    return interactionStub(this.env, interactionId).create({ ...input, interactionId, existing: false });
  }

  /** Forgets the customer once their latest interaction is purged. */
  async release(interactionId: string): Promise<void> {
    if (this.ctx.storage.kv.get<string>("latest") === interactionId) await this.ctx.storage.deleteAll();
  }
}
