import { DurableObject } from "cloudflare:workers";
import { hostBase } from "./customer-interactions";
import { InteractionCore, type ClaimOutcome, type CancelOutcome, type Host } from "./interaction-core";
import type { Interaction, State } from "./machine";
import { legacyIndexStub } from "./stubs";

export type { CancelOutcome, ClaimOutcome } from "./interaction-core";

/**
 * Legacy: one Durable Object per interaction, addressed by its id (a v4 UUID), as interactions were
 * stored before `CustomerInteractions` held all of a customer's. Still serves those interactions'
 * reads, cancels, claims, events, alarms and purges until retention removes them. A thin shell: it gives the
 * `InteractionCore` real storage (synchronous SQLite-backed KV), alarms, timers and the configured
 * upstream adapter, and exposes the core's methods over RPC.
 */
export class InteractionObject extends DurableObject<Env> {
  private readonly core: InteractionCore;

  /**
   * Never throws: under an invalid configuration the object still starts, with an adapter that
   * cannot reach the upstream (see `objectAdapter`), so reads, recorded cancels, expiries and
   * purges go on.
   */
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const storage = ctx.storage;
    const host: Host = {
      ...hostBase(ctx, env),
      load: () => storage.kv.get<Interaction>("interaction"),
      store: (ix) => storage.kv.put("interaction", ix),
      deleteAll: () => storage.deleteAll(),
      setAlarm: (at) => void (at === undefined ? storage.deleteAlarm() : storage.setAlarm(at)),
      releaseCustomer: (ix) => legacyIndexStub(env, ix.customerId).release(),
    };
    this.core = new InteractionCore(host);
  }

  cancel(interactionId: string, requestId?: string): Promise<CancelOutcome> {
    return this.core.cancel(interactionId, requestId);
  }

  claim(interactionId: string, agentId?: string): ClaimOutcome {
    return this.core.claim(interactionId, agentId);
  }

  upstreamEvent(interactionId: string, kind: "abandoned" | "completed" | "failed"): { state: State } | null {
    const state = this.core.upstreamEvent(interactionId, kind);
    return state === null ? null : { state };
  }

  get(interactionId: string): Interaction | null {
    return this.core.get(interactionId);
  }

  override alarm(): Promise<void> {
    return this.core.alarm();
  }
}
