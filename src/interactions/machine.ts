/**
 * The interaction state machine, pure: `apply(interaction, event, context) → {interaction, effects}`.
 * No I/O here; the Durable Object stores the result and carries out the effects.
 *
 *   received → dispatching → queued → assigned
 *   any non-terminal → cancelling → cancelled
 *   received | dispatching | queued → failed | expired
 */

export type State =
  | "received"
  | "dispatching"
  | "queued"
  | "assigned"
  | "cancelling"
  | "cancelled"
  | "failed"
  | "expired";

export const TERMINAL: ReadonlySet<State> = new Set(["assigned", "cancelled", "failed", "expired"]);
/** States in which the interaction is still the customer's one active call. */
export const ACTIVE: ReadonlySet<State> = new Set(["received", "dispatching", "queued"]);

/** Every legal move; anything else is a bug and is refused by `transition`. */
export const TRANSITIONS: Readonly<Record<State, readonly State[]>> = {
  received: ["dispatching", "cancelling", "failed", "expired"],
  dispatching: ["queued", "assigned", "cancelling", "failed", "expired"],
  queued: ["assigned", "cancelling", "failed", "expired"],
  // assigned: the upstream reports an agent took the call before the cancel reached it
  cancelling: ["cancelled", "assigned"],
  assigned: [],
  cancelled: [],
  failed: [],
  expired: [],
};

export interface TimelineEntry {
  at: string;
  state: State;
  detail: string;
}

/** What the proxy knows of the interaction's copy upstream. */
export interface UpstreamRecord {
  adapter: string;
  /** The upstream's id once it accepted the interaction. */
  id?: string;
  /** True once a dispatch request may have left the proxy: something may exist upstream. */
  sent: boolean;
  /**
   * Set when the upstream copy must still be cancelled (after cancel, failure or expiry); `too_late`
   * when the upstream gave it to an agent before the cancel reached it.
   */
  cleanup?: "pending" | "done" | "too_late";
  /** HTTP status of the upstream's last refusal or error, never its body. */
  status?: number;
  agentId?: string;
}

export interface Interaction {
  interactionId: string;
  customerId: string;
  identityNumber?: string;
  attributes: Record<string, string>;
  state: State;
  /** Bumped with every timeline entry (transition or note). */
  version: number;
  createdAt: number;
  /** The create must be accepted upstream by then (CREATE_DEADLINE_MS). */
  dispatchDeadline: number;
  /** Set when queued: an interaction still waiting then expires. */
  expiresAt?: number;
  /** Set when terminal: stored data is deleted then (RETENTION_SECONDS). */
  purgeAt?: number;
  /** Why a create failed, for the repeat create that waits on the same outcome. */
  failure?: "upstream_rejected" | "upstream_unavailable";
  upstream: UpstreamRecord;
  timeline: TimelineEntry[];
}

export type Event =
  | { type: "dispatch_started" }
  | { type: "dispatch_accepted"; upstreamId: string }
  | { type: "dispatch_rejected"; status?: number; reason: string }
  | { type: "dispatch_deadline" }
  | { type: "cancel_requested" }
  | { type: "upstream_cancelled" }
  | { type: "upstream_too_late"; agentId?: string }
  | { type: "claim"; agentId?: string }
  | { type: "assignment_seen"; agentId?: string }
  | { type: "queue_timeout" }
  | { type: "upstream_event"; kind: "abandoned" | "failed" | "completed"; reason?: string };

export interface Context {
  now: number;
  /** Whether the upstream asks the proxy before giving a call to an agent (claim veto). */
  canVeto: boolean;
  queueTimeoutMs: number;
  retentionMs: number;
}

export type Effect = { type: "cancel_upstream" } | { type: "resolve_dispatch" };

export interface Outcome {
  interaction: Interaction;
  effects: Effect[];
  /** For `claim`: whether the agent may have the call, and if not, why. */
  claim?: { proceed: true } | { proceed: false; reason: State };
}

export class IllegalTransition extends Error {
  constructor(from: State, to: State) {
    super(`illegal transition ${from} → ${to}`);
    this.name = "IllegalTransition";
  }
}

/** The initial record of a new interaction. */
export function createInteraction(
  init: { interactionId: string; customerId: string; attributes: Record<string, string>; identityNumber?: string },
  adapter: string,
  now: number,
  deadlineMs: number,
): Interaction {
  const interaction: Interaction = {
    interactionId: init.interactionId,
    customerId: init.customerId,
    attributes: init.attributes,
    state: "received",
    version: 1,
    createdAt: now,
    dispatchDeadline: now + deadlineMs,
    upstream: { adapter, sent: false },
    timeline: [{ at: new Date(now).toISOString(), state: "received", detail: "create accepted from Diyalog" }],
  };
  if (init.identityNumber !== undefined) interaction.identityNumber = init.identityNumber;
  return interaction;
}

/** Moves to `to`, checking legality, stamping the timeline and the terminal bookkeeping. */
export function transition(ix: Interaction, to: State, detail: string, ctx: Context): Interaction {
  if (!TRANSITIONS[ix.state].includes(to)) throw new IllegalTransition(ix.state, to);
  const next: Interaction = {
    ...ix,
    state: to,
    version: ix.version + 1,
    timeline: [...ix.timeline, { at: new Date(ctx.now).toISOString(), state: to, detail }],
  };
  if (to === "queued") next.expiresAt = ix.createdAt + ctx.queueTimeoutMs;
  if (TERMINAL.has(to)) next.purgeAt = ctx.now + ctx.retentionMs;
  return next;
}

/** Adds a timeline note without changing state. */
export function note(ix: Interaction, detail: string, ctx: Context): Interaction {
  return {
    ...ix,
    version: ix.version + 1,
    timeline: [...ix.timeline, { at: new Date(ctx.now).toISOString(), state: ix.state, detail }],
  };
}

function withUpstream(ix: Interaction, patch: Partial<UpstreamRecord>): Interaction {
  return { ...ix, upstream: { ...ix.upstream, ...patch } };
}

/** An interaction that left the queue (failed/expired) but may still exist upstream must be cleaned up. */
function closeWaiting(ix: Interaction, to: "failed" | "expired", detail: string, ctx: Context): Outcome {
  let next = transition(ix, to, detail, ctx);
  if (!ix.upstream.sent) return { interaction: next, effects: [] };
  next = withUpstream(next, { cleanup: "pending" });
  return { interaction: next, effects: [{ type: ix.upstream.id ? "cancel_upstream" : "resolve_dispatch" }] };
}

const same = (ix: Interaction): Outcome => ({ interaction: ix, effects: [] });

/** Applies one event. Events that make no sense in the current state leave it unchanged. */
export function apply(ix: Interaction, event: Event, ctx: Context): Outcome {
  switch (event.type) {
    case "dispatch_started": {
      if (ix.state === "received") {
        const next = transition(ix, "dispatching", "sending to upstream", ctx);
        return same(withUpstream(next, { sent: true }));
      }
      return same(ix);
    }

    case "dispatch_accepted": {
      if (ix.upstream.id === event.upstreamId) return same(ix);
      const known = withUpstream(ix, { id: event.upstreamId });
      if (ix.state === "dispatching") {
        return same(transition(known, "queued", "accepted by upstream", ctx));
      }
      if (ix.state === "cancelling") {
        return { interaction: note(known, "upstream accepted after the cancel; cancelling it", ctx), effects: [{ type: "cancel_upstream" }] };
      }
      if ((ix.state === "failed" || ix.state === "expired") && ix.upstream.cleanup === "pending") {
        return { interaction: note(known, "upstream accepted late; cancelling it", ctx), effects: [{ type: "cancel_upstream" }] };
      }
      // assigned (a fast upstream claimed before its 2xx arrived), or an already cleaned-up copy
      return same(known);
    }

    case "dispatch_rejected": {
      const detail = `upstream refused${event.status ? ` (HTTP ${event.status})` : ""}: ${event.reason}`;
      const patched = withUpstream(ix, event.status === undefined ? {} : { status: event.status });
      if (ix.state === "received" || ix.state === "dispatching") {
        // A permanent refusal means the upstream holds nothing.
        const failed = transition(patched, "failed", detail, ctx);
        return same({ ...withUpstream(failed, { cleanup: "done" }), failure: "upstream_rejected" });
      }
      if (ix.state === "cancelling" && !ix.upstream.id) {
        return same(withUpstream(transition(patched, "cancelled", "upstream holds nothing (it refused the create)", ctx), { cleanup: "done" }));
      }
      if ((ix.state === "failed" || ix.state === "expired") && !ix.upstream.id) {
        return same(withUpstream(note(patched, detail, ctx), { cleanup: "done" }));
      }
      return same(ix);
    }

    case "dispatch_deadline": {
      if (ix.state !== "received" && ix.state !== "dispatching") return same(ix);
      const out = closeWaiting(ix, "failed", "upstream did not accept within CREATE_DEADLINE_MS", ctx);
      return { ...out, interaction: { ...out.interaction, failure: "upstream_unavailable" } };
    }

    case "cancel_requested": {
      if (!ACTIVE.has(ix.state)) return same(ix);
      const cancelling = transition(ix, "cancelling", "cancel requested by Diyalog", ctx);
      if (!ix.upstream.sent) {
        return same(transition(cancelling, "cancelled", "cancelled before dispatch: nothing was sent upstream", ctx));
      }
      // With an id, cancel it now; without one the dispatch in flight (or its retry) learns it first.
      return { interaction: cancelling, effects: [{ type: ix.upstream.id ? "cancel_upstream" : "resolve_dispatch" }] };
    }

    case "upstream_cancelled": {
      if (ix.state === "cancelling") {
        return same(withUpstream(transition(ix, "cancelled", "upstream confirmed the cancel", ctx), { cleanup: "done" }));
      }
      if (ix.upstream.cleanup === "pending") {
        return same(withUpstream(note(ix, "upstream copy cancelled", ctx), { cleanup: "done" }));
      }
      return same(ix);
    }

    case "upstream_too_late": {
      // The upstream says an agent has the call. Believe it: with a veto this means the call was
      // taken outside it (e.g. a manual accept in the vendor's own UI), and a DELETE must say 409.
      const agent = event.agentId === undefined ? {} : { agentId: event.agentId };
      const how = ctx.canVeto ? "an agent took the call upstream without asking the proxy" : "an agent took the call before the cancel reached upstream";
      if (ix.state === "cancelling") {
        return same(withUpstream(transition(ix, "assigned", how, ctx), { ...agent, cleanup: "done" }));
      }
      if (ix.upstream.cleanup === "pending") {
        // Failed or expired here, but an agent has it upstream: a later DELETE must say so (409).
        return same(withUpstream(note(ix, how, ctx), { ...agent, cleanup: "too_late" }));
      }
      return same(ix);
    }

    case "claim":
    case "assignment_seen": {
      const agent = event.agentId === undefined ? {} : { agentId: event.agentId };
      if (ix.state === "dispatching" || ix.state === "queued") {
        const detail = event.agentId ? `agent ${event.agentId} took the call` : "an agent took the call";
        return { ...same(withUpstream(transition(ix, "assigned", detail, ctx), agent)), claim: { proceed: true } };
      }
      if (ix.state === "assigned" && ix.upstream.agentId === event.agentId) {
        return { ...same(ix), claim: { proceed: true } };
      }
      if (event.type === "assignment_seen" && ix.state === "cancelling" && !ctx.canVeto) {
        return same(withUpstream(transition(ix, "assigned", "an agent took the call before the cancel reached upstream", ctx), agent));
      }
      return { ...same(ix), claim: { proceed: false, reason: ix.state } };
    }

    case "queue_timeout": {
      if (!ACTIVE.has(ix.state)) return same(ix);
      return closeWaiting(ix, "expired", "no agent within QUEUE_TIMEOUT_SECONDS", ctx);
    }

    case "upstream_event": {
      if (event.kind === "completed") {
        return ix.state === "assigned" ? same(note(ix, "completed upstream", ctx)) : same(ix);
      }
      if (!ACTIVE.has(ix.state)) return same(ix);
      const detail = `upstream reported ${event.kind}${event.reason ? `: ${event.reason}` : ""}`;
      return same(withUpstream(transition(ix, "failed", detail, ctx), { cleanup: "done" }));
    }
  }
}

/**
 * When the Durable Object should next wake up for this interaction, if ever. `retryAt` is a pending
 * upstream retry; `pollAt` the next look at an upstream that never calls back (while queued).
 */
export function nextWake(ix: Interaction, retryAt?: number, pollAt?: number): number | undefined {
  const times: number[] = [];
  if (ix.state === "received" || ix.state === "dispatching") times.push(ix.dispatchDeadline);
  if (ix.state === "queued" && ix.expiresAt !== undefined) times.push(ix.expiresAt);
  if (retryAt !== undefined && (ix.state === "cancelling" || ix.upstream.cleanup === "pending" || ACTIVE.has(ix.state))) {
    times.push(retryAt);
  }
  if (pollAt !== undefined && ix.state === "queued") times.push(pollAt);
  if (TERMINAL.has(ix.state) && ix.purgeAt !== undefined) times.push(ix.purgeAt);
  return times.length === 0 ? undefined : Math.min(...times);
}
