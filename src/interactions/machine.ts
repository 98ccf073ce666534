/**
 * The interaction state machine, pure: `apply(interaction, event, context) → {interaction, effects}`.
 * No I/O here; the Durable Object stores the result and carries out the effects.
 *
 *   received → dispatching → queued → assigned
 *   any non-terminal → cancelling → cancelled
 *   received | dispatching | queued → failed | expired
 */

import { mask } from "../security/personal-data";

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
  /**
   * Free text the upstream sent with the event (an event's `reason`): personal data, so it is held
   * only as ciphertext (`PERSONAL_DATA_KEYS`), never logged, and decrypted only for a read.
   */
  text?: string;
}

/** One copy of the interaction the upstream holds, by the id it answered. */
export interface UpstreamCopy {
  id: string;
  /**
   * `pending` while this copy must still be cancelled (after a cancel, failure or expiry, or a
   * second copy of a waiting call); `done` once the upstream confirmed; `too_late` once it said an
   * agent has it. Unset while the copy is the call itself, waiting or with its agent.
   */
  cleanup?: "pending" | "done" | "too_late";
}

/** What the proxy knows of the interaction's copies upstream. */
export interface UpstreamRecord {
  adapter: string;
  /**
   * Every distinct upstream id the proxy learned for this interaction, first one first (the call
   * itself; later ones are duplicates, e.g. a lookup that lagged). Records stored before copies were
   * tracked hold a single `id` instead: `upgradeRecord` reads them.
   */
  copies: UpstreamCopy[];
  /** True once a dispatch request may have left the proxy: something may exist upstream. */
  sent: boolean;
  /**
   * The interaction's cleanup as a whole (after cancel, failure or expiry): `pending` until every
   * known copy is confirmed cancelled and no unknown one may remain, `too_late` when the upstream
   * gave a copy to an agent before the cancel reached it.
   */
  cleanup?: "pending" | "done" | "too_late";
  /**
   * Permanent refusals of repeated creates not yet believed (an upstream without a veto, where an
   * earlier attempt may have left a copy that a lookup did not find yet).
   */
  refusals?: number;
  /** HTTP status of the upstream's last refusal or error, never its body. */
  status?: number;
  agentId?: string;
}

export interface Interaction {
  interactionId: string;
  /** "" once erased (`erased`). Stored only as ciphertext (see CustomerInteractions). */
  customerId: string;
  /** Kept only while the create may still be sent (`mayResend`); its masked form stays in `identityMask`. */
  identityNumber?: string;
  identityMask?: string;
  attributes: Record<string, string>;
  /** The keyed reference of the customer (design §6): on every log line and metric about the interaction. */
  customerRef?: string;
  /** The customer asked for erasure: personal fields are deleted as soon as no create may be resent. */
  erased?: true;
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
  /**
   * No upstream retry (a cancel, or a create repeated to learn the id) before then: the backoff or
   * `Retry-After` last scheduled, stored so that an early, duplicate or post-restart alarm keeps it.
   */
  retryAt?: number;
  /**
   * Until when a create sent upstream may still be on the wire (its send time plus its timeout).
   * Stored with `dispatching` for the first send and before every later one, so an instance that
   * takes over after a restart waits for it (plus the upstream's lookup lag) before looking up.
   */
  sendingUntil?: number;
  /**
   * The `x-request-id` of the latest create or cancel, stored with the write that create or cancel
   * makes anyway, so the upstream calls of a dispatch or cleanup resumed after a restart carry it.
   */
  requestId?: string;
  timeline: TimelineEntry[];
}

/** The upstream id of the call itself (its first copy), if known. */
export function upstreamId(ix: Interaction): string | undefined {
  return ix.upstream.copies[0]?.id;
}

/** Copies still to be cancelled. */
export function pendingCopies(ix: Interaction): UpstreamCopy[] {
  return ix.upstream.copies.filter((c) => c.cleanup === "pending");
}

/**
 * Reads a stored record of any version: before copies were tracked, the upstream record held one
 * `id` and the cleanup applied to it.
 */
export function upgradeRecord(stored: Interaction): Interaction {
  if (Array.isArray(stored.upstream.copies)) return stored;
  const { id, ...rest } = stored.upstream as Omit<UpstreamRecord, "copies"> & { id?: string };
  const copies: UpstreamCopy[] = [];
  if (id !== undefined) {
    const cleanup = stored.state === "cancelling" ? "pending" : stored.state === "assigned" ? undefined : rest.cleanup;
    copies.push(cleanup === undefined ? { id } : { id, cleanup });
  }
  return { ...stored, upstream: { ...rest, copies } };
}

export type Event =
  | { type: "dispatch_started"; sendingUntil?: number }
  | { type: "dispatch_accepted"; upstreamId: string }
  /** `mayExist`: an earlier attempt may have left a copy upstream (this one was a repeat). */
  | { type: "dispatch_rejected"; status?: number; reason: string; mayExist?: boolean }
  | { type: "dispatch_deadline" }
  | { type: "cancel_requested" }
  /** The cancel sent for copy `upstreamId` is confirmed: it applies to that copy only. */
  | { type: "upstream_cancelled"; upstreamId: string }
  | { type: "upstream_too_late"; upstreamId: string; agentId?: string }
  | { type: "claim"; agentId?: string }
  | { type: "assignment_seen"; agentId?: string }
  | { type: "queue_timeout" }
  /** `text`: the upstream's own words (already encrypted by the object), kept on the timeline entry. */
  | { type: "upstream_event"; kind: "abandoned" | "failed" | "completed"; text?: string }
  /** A poll no longer sees the call queued upstream: it fails, and its copies are still cancelled. */
  | { type: "upstream_unseen"; reason: string };

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
  init: { interactionId: string; customerId: string; attributes: Record<string, string>; identityNumber?: string; customerRef?: string },
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
    upstream: { adapter, copies: [], sent: false },
    timeline: [{ at: new Date(now).toISOString(), state: "received", detail: "create accepted" }],
  };
  if (init.identityNumber !== undefined) interaction.identityNumber = init.identityNumber;
  if (init.customerRef !== undefined) interaction.customerRef = init.customerRef;
  return interaction;
}

/** Moves to `to`, checking legality, stamping the timeline and the terminal bookkeeping. */
export function transition(ix: Interaction, to: State, detail: string, ctx: Context, text?: string): Interaction {
  if (!TRANSITIONS[ix.state].includes(to)) throw new IllegalTransition(ix.state, to);
  const entry: TimelineEntry = { at: new Date(ctx.now).toISOString(), state: to, detail };
  if (text !== undefined) entry.text = text;
  const next: Interaction = {
    ...ix,
    state: to,
    version: ix.version + 1,
    timeline: [...ix.timeline, entry],
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

/** Sets one copy's cleanup. */
function withCopy(ix: Interaction, id: string, cleanup: NonNullable<UpstreamCopy["cleanup"]>): Interaction {
  return withUpstream(ix, { copies: ix.upstream.copies.map((c) => (c.id === id ? { id, cleanup } : c)) });
}

/** Every copy not settled yet must be cancelled. */
function cancelAllCopies(ix: Interaction): Interaction {
  return withUpstream(ix, { copies: ix.upstream.copies.map((c) => (c.cleanup === undefined ? { id: c.id, cleanup: "pending" } : c)) });
}

/** What is still owed upstream: cancel the known copies, or first learn the id of one that may exist. */
function cleanupEffects(ix: Interaction): Effect[] {
  if (pendingCopies(ix).length > 0) return [{ type: "cancel_upstream" }];
  if (ix.upstream.copies.length === 0 && ix.upstream.sent) return [{ type: "resolve_dispatch" }];
  return [];
}

/**
 * How many permanent refusals of a repeated create an upstream without a veto must give before the
 * proxy believes it holds nothing: an earlier attempt may have created a copy that its lookup does
 * not show yet (the retries are spaced by backoff, so the lookup has time to catch up).
 */
export const REPEAT_REFUSALS_BELIEVED = 3;

/** An interaction that left the queue (failed/expired) but may still exist upstream must be cleaned up. */
function closeWaiting(ix: Interaction, to: "failed" | "expired", detail: string, ctx: Context): Outcome {
  const next = transition(ix, to, detail, ctx);
  if (!ix.upstream.sent) return { interaction: next, effects: [] };
  const closed = withUpstream(cancelAllCopies(next), { cleanup: "pending" });
  return { interaction: closed, effects: cleanupEffects(closed) };
}

const same = (ix: Interaction): Outcome => ({ interaction: ix, effects: [] });

/** Applies one event. Events that make no sense in the current state leave it unchanged. */
export function apply(ix: Interaction, event: Event, ctx: Context): Outcome {
  switch (event.type) {
    case "dispatch_started": {
      if (ix.state === "received") {
        const next = transition(ix, "dispatching", "sending to upstream", ctx);
        const sending = event.sendingUntil === undefined ? next : { ...next, sendingUntil: event.sendingUntil };
        return same(withUpstream(sending, { sent: true }));
      }
      return same(ix);
    }

    case "dispatch_accepted": {
      // (an answer can only follow a send: one that comes first is taken as both)
      if (ix.state === "received") return apply(apply(ix, { type: "dispatch_started" }, ctx).interaction, event, ctx);
      const copies = ix.upstream.copies;
      if (copies.some((c) => c.id === event.upstreamId)) return same(ix);
      if (copies.length === 0 && (ix.state === "dispatching" || ix.state === "assigned")) {
        // assigned: a fast upstream claimed before its 2xx arrived
        const known = withUpstream(ix, { copies: [{ id: event.upstreamId }] });
        return same(ix.state === "dispatching" ? transition(known, "queued", "accepted by upstream", ctx) : known);
      }
      // Any other copy is cancelled: the call is being (or was) cancelled, it failed or expired, or
      // the upstream holds a second copy of a call it has already (a lookup that lagged).
      let next = withUpstream(ix, { copies: [...copies, { id: event.upstreamId, cleanup: "pending" }], sent: true });
      const closed = ix.state === "cancelled" || ix.state === "failed" || ix.state === "expired";
      if (closed && ix.upstream.cleanup !== "too_late") next = withUpstream(next, { cleanup: "pending" });
      const detail =
        copies.length > 0
          ? "upstream holds another copy; cancelling it"
          : ix.state === "cancelling"
            ? "upstream accepted after the cancel; cancelling it"
            : "upstream accepted late; cancelling it";
      return { interaction: note(next, detail, ctx), effects: [{ type: "cancel_upstream" }] };
    }

    case "dispatch_rejected": {
      // Refusing a repeat changes nothing about a copy whose id is known.
      if (ix.upstream.copies.length > 0) return same(ix);
      const detail = `upstream refused${event.status ? ` (HTTP ${event.status})` : ""}: ${event.reason}`;
      // A refusal proves the upstream holds nothing when no earlier attempt may have left a copy, or
      // when the upstream asks before an agent gets a call (a copy it holds is vetoed). Otherwise it
      // is believed only once repeated; until then the create is asked again to find the copy.
      const refusals = (ix.upstream.refusals ?? 0) + 1;
      const believed = event.mayExist !== true || ctx.canVeto || refusals >= REPEAT_REFUSALS_BELIEVED;
      const patched = withUpstream(ix, {
        ...(event.status === undefined ? {} : { status: event.status }),
        ...(believed ? {} : { refusals }),
      });
      const cleanup = believed ? "done" : "pending";
      if (ix.state === "received" || ix.state === "dispatching") {
        const failed = transition(patched, "failed", detail, ctx);
        return same({ ...withUpstream(failed, { cleanup }), failure: "upstream_rejected" });
      }
      if (!believed) return ix.state === "cancelling" || ix.upstream.cleanup === "pending" ? same(note(patched, `${detail}; asking again`, ctx)) : same(ix);
      if (ix.state === "cancelling") {
        return same(withUpstream(transition(patched, "cancelled", "upstream holds nothing (it refused the create)", ctx), { cleanup: "done" }));
      }
      if (ix.upstream.cleanup === "pending") return same(withUpstream(note(patched, detail, ctx), { cleanup: "done" }));
      return same(ix);
    }

    case "dispatch_deadline": {
      if (ix.state !== "received" && ix.state !== "dispatching") return same(ix);
      const out = closeWaiting(ix, "failed", "upstream did not accept within CREATE_DEADLINE_MS", ctx);
      return { ...out, interaction: { ...out.interaction, failure: "upstream_unavailable" } };
    }

    case "cancel_requested": {
      if (!ACTIVE.has(ix.state)) return same(ix);
      const cancelling = transition(ix, "cancelling", "cancel requested", ctx);
      if (!ix.upstream.sent) {
        return same(transition(cancelling, "cancelled", "cancelled before dispatch: nothing was sent upstream", ctx));
      }
      // With ids, cancel them now; without one the dispatch in flight (or its retry) learns it first.
      const next = cancelAllCopies(cancelling);
      return { interaction: next, effects: cleanupEffects(next) };
    }

    case "upstream_cancelled": {
      // A confirmation counts for the copy it was sent for, and only while that copy is owed.
      if (!ix.upstream.copies.some((c) => c.id === event.upstreamId && c.cleanup === "pending")) return same(ix);
      const next = withCopy(ix, event.upstreamId, "done");
      if (pendingCopies(next).length > 0) return same(next);
      if (ix.state === "cancelling") {
        return same(withUpstream(transition(next, "cancelled", "upstream confirmed the cancel", ctx), { cleanup: "done" }));
      }
      if (ix.upstream.cleanup === "pending") {
        return same(withUpstream(note(next, "upstream copy cancelled", ctx), { cleanup: "done" }));
      }
      return same(note(next, "upstream's other copy cancelled", ctx));
    }

    case "upstream_too_late": {
      if (!ix.upstream.copies.some((c) => c.id === event.upstreamId && c.cleanup === "pending")) return same(ix);
      // The upstream says an agent has the call. Believe it: with a veto this means the call was
      // taken outside it (e.g. a manual accept in the vendor's own UI), and a DELETE must say 409.
      const agent = event.agentId === undefined ? {} : { agentId: event.agentId };
      const next = withCopy(ix, event.upstreamId, "too_late");
      const how = ctx.canVeto ? "an agent took the call upstream without asking the proxy" : "an agent took the call before the cancel reached upstream";
      if (ix.state === "cancelling") {
        return same(withUpstream(transition(next, "assigned", how, ctx), { ...agent, cleanup: "done" }));
      }
      if (ix.upstream.cleanup === "pending") {
        // Closed here, but an agent has it upstream: a later DELETE must say so (409).
        return same(withUpstream(note(next, how, ctx), { ...agent, cleanup: "too_late" }));
      }
      if (ix.state === "queued" || ix.state === "dispatching") {
        // An agent has the second copy: that one is the call now, and the first is the spare.
        const assigned = cancelAllCopies(withUpstream(transition(next, "assigned", "an agent took another copy of the call", ctx), agent));
        return { interaction: assigned, effects: cleanupEffects(assigned) };
      }
      return same(note(next, "another copy of the call is with an agent", ctx));
    }

    case "claim":
    case "assignment_seen": {
      const agent = event.agentId === undefined ? {} : { agentId: event.agentId };
      if (ix.state === "dispatching" || ix.state === "queued") {
        const detail = event.agentId ? `agent ${event.agentId} took the call` : "an agent took the call";
        return { ...same(withUpstream(transition(ix, "assigned", detail, ctx), agent)), claim: { proceed: true } };
      }
      // A repeat of a granted claim only when both name the same agent: two claims that name none
      // may be two agents.
      if (ix.state === "assigned" && event.agentId !== undefined && ix.upstream.agentId === event.agentId) {
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

    case "upstream_unseen": {
      if (!ACTIVE.has(ix.state)) return same(ix);
      return closeWaiting(ix, "failed", `upstream no longer shows it queued: ${event.reason}`, ctx);
    }

    case "upstream_event": {
      if (event.kind === "completed") {
        return ix.state === "assigned" ? same(note(ix, "completed upstream", ctx)) : same(ix);
      }
      if (!ACTIVE.has(ix.state)) return same(ix);
      // The upstream ended the call itself; a second copy it may hold is still cancelled.
      const copies = ix.upstream.copies.map((c): UpstreamCopy => (c.cleanup === undefined ? { id: c.id, cleanup: "done" } : c));
      const failed = withUpstream(transition(ix, "failed", `upstream reported ${event.kind}`, ctx, event.text), { copies });
      const owed = pendingCopies(failed).length > 0;
      return { interaction: withUpstream(failed, { cleanup: owed ? "pending" : "done" }), effects: owed ? [{ type: "cancel_upstream" }] : [] };
    }
  }
}

/**
 * Whether the create may still be sent upstream (again): nothing accepted yet while the call waits
 * to be sent, or a send may have left a copy whose id is still to be learned by repeating it. The
 * fields the create carries are kept until then (identityNumber, and an erased customer's data).
 */
export function mayResend(ix: Interaction): boolean {
  if (ix.upstream.copies.length > 0) return false;
  return ix.state === "received" || ix.state === "dispatching" || (ix.upstream.sent && (ix.state === "cancelling" || ix.upstream.cleanup === "pending"));
}

/**
 * Data minimisation, applied to every record before it is stored: identityNumber goes once the
 * create can no longer be sent again (its masked form stays for reads), and an erased customer's
 * personal fields go at the same moment (at once when nothing is in flight).
 */
export function minimised(ix: Interaction): Interaction {
  if (mayResend(ix)) return ix;
  if (ix.erased) {
    const kept = ix.customerId !== "" || ix.identityNumber !== undefined || ix.identityMask !== undefined || Object.keys(ix.attributes).length > 0;
    if (!kept && !ix.timeline.some((entry) => entry.text !== undefined)) return ix;
    return withoutPersonalData(ix);
  }
  if (ix.identityNumber === undefined) return ix;
  const { identityNumber, ...rest } = ix;
  return { ...rest, identityMask: mask(identityNumber) };
}

/** The interaction without any personal field: what an erasure leaves (customerId ""). */
export function withoutPersonalData(ix: Interaction): Interaction {
  const { identityNumber: _identity, identityMask: _mask, ...rest } = ix;
  return { ...rest, customerId: "", attributes: {}, timeline: ix.timeline.map(({ text: _text, ...entry }) => entry) };
}

/** Whether something is still owed upstream for this interaction (cancels, or an id to learn). */
export function owesUpstream(ix: Interaction): boolean {
  return ix.state === "cancelling" || ix.upstream.cleanup === "pending" || pendingCopies(ix).length > 0;
}

/**
 * When the Durable Object should next wake up for this interaction, if ever. `retryAt` is a pending
 * upstream retry; `pollAt` the next look at an upstream that never calls back (while queued).
 */
export function nextWake(ix: Interaction, retryAt?: number, pollAt?: number): number | undefined {
  const times: number[] = [];
  if (ix.state === "received" || ix.state === "dispatching") times.push(ix.dispatchDeadline);
  if (ix.state === "queued" && ix.expiresAt !== undefined) times.push(ix.expiresAt);
  if (retryAt !== undefined && (owesUpstream(ix) || ACTIVE.has(ix.state))) {
    times.push(retryAt);
  }
  if (pollAt !== undefined && ix.state === "queued") times.push(pollAt);
  // (no purge while something is owed upstream: the retry time brings the alarm back first)
  if (TERMINAL.has(ix.state) && ix.purgeAt !== undefined && !owesUpstream(ix)) times.push(ix.purgeAt);
  return times.length === 0 ? undefined : Math.min(...times);
}
