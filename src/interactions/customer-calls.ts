import type { CreateInteraction } from "../diyalog/create-request";
import type { CreateOutcome, Told } from "./interaction-core";
import { ACTIVE, owesUpstream, type Interaction } from "./machine";

/**
 * Whether a stored record is the customer's latest rather than `latest` (the latest so far, in
 * whatever order the records are read): the newest `createdAt`. Of records of one millisecond (a
 * create right after a cancel, a failure or an erasure), the one that may still be the customer's
 * call (active, or owing the upstream a cancel): at most one is, and a create never starts beside
 * it, so it is the later one; where none is, any of them leads to a new call alike.
 */
export function isLater(record: Pick<Interaction, "createdAt" | "state" | "upstream">, latest: Pick<Interaction, "createdAt" | "state" | "upstream"> | undefined): boolean {
  if (!latest || record.createdAt !== latest.createdAt) return !latest || record.createdAt > latest.createdAt;
  return standing(record) > standing(latest);
}

function standing(ix: Pick<Interaction, "state" | "upstream">): number {
  return ACTIVE.has(ix.state) ? 2 : owesUpstream(ix as Interaction) ? 1 : 0;
}

/** What `CustomerCalls` needs from the customer's object. */
export interface CustomerHost {
  /** The id of the customer's latest stored interaction, if any is stored. */
  latest(): string | undefined;
  /** Creates (or, with `existing`, looks up) the interaction, as `InteractionCore.create` does. */
  create(input: CreateInteraction & { interactionId: string; existing: boolean; requestId?: string }, told?: Told): Promise<CreateOutcome>;
  /** A fresh, unguessable interaction id that names this object. */
  newId(): string;
}

/**
 * The one-active-interaction-per-customer rule, in the customer's own object (which stores all of
 * that customer's interactions, so the rule needs no index and no write of its own):
 * - a create already in flight for this customer is joined, so a double tap gets the same outcome;
 * - otherwise the latest interaction is asked whether it is still the customer's call (active, or,
 *   on an upstream without a veto, a cancel not yet confirmed); if so its outcome is the answer and
 *   nothing new is dispatched;
 * - otherwise a fresh id is drawn and the new interaction is created. Its record is stored in the
 *   same synchronous step, before anything is sent upstream, so it is the latest from then on.
 */
export class CustomerCalls {
  private inFlight: { customerId: string; run: Promise<CreateOutcome> } | undefined;

  constructor(private readonly host: CustomerHost) {}

  /** `requestId` (the caller's `x-request-id`) only travels on to the upstream calls. */
  async create(input: CreateInteraction & { requestId?: string }, told?: Told): Promise<CreateOutcome> {
    // Only the same customer's double tap joins; anyone else sharing the object (a digest
    // collision) waits for it to settle and then goes through the rule like any create.
    while (this.inFlight && this.inFlight.customerId !== input.customerId) await this.inFlight.run.catch(() => undefined);
    if (this.inFlight) return this.inFlight.run;
    const run = this.createOnce(input, told).finally(() => {
      if (this.inFlight?.run === run) this.inFlight = undefined;
    });
    this.inFlight = { customerId: input.customerId, run };
    return run;
  }

  private async createOnce(input: CreateInteraction & { requestId?: string }, told?: Told): Promise<CreateOutcome> {
    const latest = this.host.latest();
    if (latest !== undefined) {
      const outcome = await this.host.create({ ...input, interactionId: latest, existing: true }, told);
      if (outcome.kind !== "inactive") return outcome;
    }
    return this.host.create({ ...input, interactionId: this.host.newId(), existing: false }, told);
  }
}
