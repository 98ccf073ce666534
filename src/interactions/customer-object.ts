import { DurableObject } from "cloudflare:workers";
import { personalData } from "./stubs";

/**
 * Legacy: the customer index of the layout before `CustomerInteractions` (64 shared objects, one
 * entry per customer: a digest of the customerId → the id of that customer's latest interaction).
 * New creates no longer use it. It stays bound while interactions created before the change are
 * within retention: each one's purge releases its entry here, and entries whose interaction never
 * stored itself are dropped by the alarm. Once all are purged it holds nothing and can be removed
 * (README "Performance", layout).
 */
const UNCONFIRMED = "unconfirmed:";

export class CustomerObject extends DurableObject<Env> {
  /** Entries whose interaction never stored itself are removed (their marker's check time passed). */
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
      const legacy = personalData(this.env.INTERACTIONS);
      if (!(await legacy.get(legacy.idFromName(interactionId)).exists(interactionId)) && kv.get<string>(entry) === interactionId) kv.delete(entry);
      kv.delete(key);
    }
    if (next !== undefined) await this.ctx.storage.setAlarm(next);
  }

  /** Forgets the entry (and any marker) of an interaction that is purged; `customerId` is no longer needed to find it. */
  async release(_customerId: string, interactionId: string): Promise<void> {
    const kv = this.ctx.storage.kv;
    for (const [key, value] of kv.list<unknown>()) {
      if (value === interactionId || key === UNCONFIRMED + interactionId) kv.delete(key);
    }
  }
}
