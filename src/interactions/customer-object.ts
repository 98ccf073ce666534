import { DurableObject } from "cloudflare:workers";

/**
 * Legacy: the customer index of the layout before `CustomerInteractions` (64 shared objects, one
 * entry per customer: a plain SHA-256 of the customerId → the id of that customer's latest
 * interaction). Nothing reads it any more, so nothing in it is worth keeping: the first purge of an
 * interaction from before the change that reaches an index object (or that object's own pending
 * alarm) deletes everything the object holds, entries of other customers included. The class stays
 * bound and exported until every index object is empty (README "Performance", layout).
 */
export class CustomerObject extends DurableObject<Env> {
  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }

  /** Called by a legacy interaction's purge. */
  async release(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }
}
