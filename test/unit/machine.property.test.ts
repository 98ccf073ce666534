import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ACTIVE,
  apply,
  pendingCopies,
  createInteraction,
  TERMINAL,
  TRANSITIONS,
  type Context,
  type Event,
  type Interaction,
  type Outcome,
  type State,
} from "../../src/interactions/machine";

/*
 * Property test of the pure state machine: random event sequences (every Event type, in any order,
 * including ones that make no sense in the current state) from a fresh interaction, with the
 * upstream able to veto claims or not. Invariants are checked after every step.
 *
 * Reproduce a failure with the printed seed: set FC_SEED below (and FC_PATH if printed).
 */

const NUM_RUNS = 10_000;
const FC_SEED: number | undefined = undefined;
const FC_PATH: string | undefined = undefined;

const agentArb = fc.option(fc.constantFrom("agent-1", "agent-2"), { nil: undefined });

/** Every event type of the machine; optional fields sometimes absent. */
const eventArb: fc.Arbitrary<Event> = fc.oneof(
  fc.constant<Event>({ type: "dispatch_started" }),
  fc.constantFrom("up-1", "up-2").map((upstreamId): Event => ({ type: "dispatch_accepted", upstreamId })),
  fc
    .record({ status: fc.option(fc.constantFrom(400, 404, 422), { nil: undefined }), reason: fc.constantFrom("HTTP 400", "bad"), mayExist: fc.boolean() })
    .map(({ status, reason, mayExist }): Event => (status === undefined ? { type: "dispatch_rejected", reason, mayExist } : { type: "dispatch_rejected", status, reason, mayExist })),
  fc.constant<Event>({ type: "dispatch_deadline" }),
  fc.constant<Event>({ type: "cancel_requested" }),
  fc.constantFrom("up-1", "up-2").map((upstreamId): Event => ({ type: "upstream_cancelled", upstreamId })),
  fc.tuple(agentArb, fc.constantFrom("up-1", "up-2")).map(([agentId, upstreamId]): Event => (agentId === undefined ? { type: "upstream_too_late", upstreamId } : { type: "upstream_too_late", upstreamId, agentId })),
  agentArb.map((agentId): Event => (agentId === undefined ? { type: "claim" } : { type: "claim", agentId })),
  agentArb.map((agentId): Event => (agentId === undefined ? { type: "assignment_seen" } : { type: "assignment_seen", agentId })),
  fc.constant<Event>({ type: "queue_timeout" }),
  fc
    .record({ kind: fc.constantFrom("abandoned", "failed", "completed" as const), reason: fc.option(fc.constantFrom("hung up", "x"), { nil: undefined }) })
    .map(({ kind, reason }): Event => (reason === undefined ? { type: "upstream_event", kind } : { type: "upstream_event", kind, text: reason })),
);

/** One step: an event and how much (virtual) time passed before it. */
const stepArb = fc.record({ event: eventArb, elapsedMs: fc.constantFrom(0, 1, 250, 5_000, 90_000) });

const scenarioArb = fc.record({
  canVeto: fc.boolean(),
  queueTimeoutMs: fc.constantFrom(60_000, 1_800_000),
  retentionMs: fc.constantFrom(1_000, 86_400_000),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 40 }),
});

/** A cheap assertion for the hot loop (vitest's expect costs too much at ~100k checks). */
function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Checks one `apply` step; `history` carries what the sequence has seen so far. */
function checkStep(
  before: Interaction,
  event: Event,
  ctx: Context,
  out: Outcome,
  history: { cancelHeld: boolean; everCancelled: boolean; upstreamBreach?: boolean },
): void {
  const after = out.interaction;
  const where = `${before.state} --${JSON.stringify(event)}--> ${after.state}`;

  // Terminal states never change.
  if (TERMINAL.has(before.state)) check(after.state === before.state, `terminal state changed: ${where}`);

  // Timeline: earlier entries untouched; each new entry is a legal transition or a note in place,
  // version grows by one per entry, and the number of state changes equals the transitions made.
  check(JSON.stringify(after.timeline.slice(0, before.timeline.length)) === JSON.stringify(before.timeline), `timeline rewritten: ${where}`);
  const added = after.timeline.slice(before.timeline.length);
  check(after.version - before.version === added.length, `version must grow by one per timeline entry: ${where}`);
  let state: State = before.state;
  let transitions = 0;
  for (const entry of added) {
    if (entry.state !== state) {
      check(TRANSITIONS[state].includes(entry.state), `illegal transition ${state} → ${entry.state}: ${where}`);
      transitions += 1;
      state = entry.state;
    }
    check(entry.at === new Date(ctx.now).toISOString(), `timeline time: ${where}`);
  }
  check(state === after.state, `timeline does not end in the current state: ${where}`);
  if (after.state !== before.state) check(transitions > 0, `state changed without a timeline entry: ${where}`);

  // Terminal bookkeeping.
  if (TERMINAL.has(after.state)) check(after.purgeAt !== undefined, `terminal without purgeAt: ${where}`);
  if (after.state === "queued") check(after.expiresAt !== undefined, `queued without expiresAt: ${where}`);

  // Once something may have been sent it stays so.
  if (before.upstream.sent) check(after.upstream.sent, `upstream.sent reset: ${where}`);

  // Nothing may be left upstream behind a closed interaction: cancelled means nothing was sent or
  // the upstream copy is gone; failed/expired after a send carries a cleanup marker.
  if (after.state === "cancelled" && !TERMINAL.has(before.state)) {
    check(!after.upstream.sent || after.upstream.cleanup === "done", `cancelled with an upstream copy left: ${where}`);
  }
  if ((after.state === "failed" || after.state === "expired") && after.upstream.sent) {
    check(after.upstream.cleanup !== undefined, `failed/expired after a send without cleanup: ${where}`);
  }

  // Effects point at something the proxy can act on.
  for (const effect of out.effects) {
    if (effect.type === "cancel_upstream") check(pendingCopies(after).length > 0, `cancel_upstream without a copy to cancel: ${where}`);
    else check(after.upstream.sent && after.upstream.copies.length === 0, `resolve_dispatch with nothing to resolve: ${where}`);
  }

  // Every upstream copy learned is remembered, and a settled copy stays settled.
  for (const copy of before.upstream.copies) {
    const now = after.upstream.copies.find((c) => c.id === copy.id);
    check(now !== undefined, `upstream copy ${copy.id} forgotten: ${where}`);
    if (copy.cleanup !== undefined && copy.cleanup !== "pending") check(now.cleanup === copy.cleanup, `settled copy changed: ${where}`);
  }
  // A copy learned after the call was cancelled, failed or expired is cancelled.
  if (event.type === "dispatch_accepted" && !before.upstream.copies.some((c) => c.id === event.upstreamId)) {
    const learned = after.upstream.copies.find((c) => c.id === event.upstreamId);
    check(learned !== undefined, `accepted id not recorded: ${where}`);
    if (["cancelling", "cancelled", "failed", "expired"].includes(before.state) || before.upstream.copies.length > 0) {
      check(learned.cleanup === "pending" && out.effects.some((e) => e.type === "cancel_upstream"), `late copy not cancelled: ${where}`);
    }
  }
  // Cancelled and settled only when every known copy is confirmed cancelled.
  if (after.state === "cancelled" && (after.upstream.cleanup === "done" || after.upstream.cleanup === undefined)) {
    check(after.upstream.copies.every((c) => c.cleanup === "done"), `cancelled with a copy not confirmed: ${where}`);
  }
  // A confirmation applies to the copy it was sent for only.
  if (event.type === "upstream_cancelled" || event.type === "upstream_too_late") {
    for (const copy of before.upstream.copies) {
      const other = after.upstream.copies.find((c) => c.id === copy.id)!.cleanup;
      const settled = other !== copy.cleanup && other !== "pending";
      if (copy.id !== event.upstreamId) check(!settled, `an answer for ${event.upstreamId} settled ${copy.id}: ${where}`);
    }
  }

  // Claims: an answer only for claim events; granted ⇒ assigned; refused ⇒ nothing changed.
  if (event.type === "claim") {
    check(out.claim !== undefined, `claim without an answer: ${where}`);
    if (out.claim!.proceed) {
      check(after.state === "assigned", `claim granted but not assigned: ${where}`);
      check((["dispatching", "queued", "assigned"] as State[]).includes(before.state), `claim granted from ${before.state}: ${where}`);
      // A claim on a call an agent already has is granted again only to that same, named agent:
      // two claims that name no agent may come from two agents (design §2).
      if (before.state === "assigned") {
        check(event.agentId !== undefined && event.agentId === before.upstream.agentId, `repeat claim granted to another (or an unnamed) agent: ${where}`);
      }
    } else {
      check(after === before, `refused claim changed the record: ${where}`);
      check(out.claim!.reason === before.state, `refusal reason: ${where}`);
    }
  } else if (event.type !== "assignment_seen") {
    // (assignment_seen shares the claim code path and may carry an answer nobody reads)
    check(out.claim === undefined, `claim answer for a non-claim event: ${where}`);
  }

  // The guarantee at machine level.
  if (after.state === "cancelled") history.everCancelled = true;
  if (history.everCancelled) check(after.state === "cancelled", `cancelled became ${after.state}: ${where}`);
  if (ctx.canVeto && history.cancelHeld) {
    // Only the upstream itself can report an assignment it made outside the veto (a breach of its
    // contract, recorded honestly so a DELETE answers 409); the proxy never grants one otherwise.
    if (event.type === "upstream_too_late" && after.state === "assigned") history.upstreamBreach = true;
    if (event.type === "claim" && history.upstreamBreach !== true) {
      check(out.claim!.proceed === false, `claim granted after a held cancel: ${where}`);
    }
    check(after.state !== "assigned" || history.upstreamBreach === true, `assigned after a held cancel: ${where}`);
  }
  if (event.type === "cancel_requested" && ACTIVE.has(before.state)) {
    check((["cancelling", "cancelled"] as State[]).includes(after.state), `cancel of an active interaction: ${where}`);
  }
  if (event.type === "cancel_requested" && (after.state === "cancelled" || after.state === "cancelling")) history.cancelHeld = true;
}

describe("interaction state machine (property)", () => {
  it(`keeps its invariants under random event sequences (${NUM_RUNS} runs)`, () => {
    const stats = { runs: 0, steps: 0, claimsGranted: 0, claimsRefusedAfterCancel: 0, states: new Map<State, number>() };
    fc.assert(
      fc.property(scenarioArb, ({ canVeto, queueTimeoutMs, retentionMs, steps }) => {
        stats.runs += 1;
        let now = 1_750_000_000_000;
        let ix = deepFreeze(createInteraction({ interactionId: "ix-1", customerId: "c-1", attributes: { TRX: "Diyalog" } }, "test", now, 8_000));
        expect(ix.state).toBe("received");
        expect(ix.timeline).toHaveLength(1);
        const history = { cancelHeld: false, everCancelled: false };
        for (const { event, elapsedMs } of steps) {
          now += elapsedMs;
          const ctx: Context = { now, canVeto, queueTimeoutMs, retentionMs };
          const snapshot = JSON.stringify(ix);
          const out = apply(ix, event, ctx); // frozen input: a mutation would throw
          check(JSON.stringify(ix) === snapshot, "apply mutated its input");
          checkStep(ix, event, ctx, out, history);
          if (event.type === "claim" && out.claim?.proceed) stats.claimsGranted += 1;
          if (event.type === "claim" && !out.claim?.proceed && history.cancelHeld) stats.claimsRefusedAfterCancel += 1;
          ix = deepFreeze(out.interaction);
          stats.steps += 1;
          stats.states.set(ix.state, (stats.states.get(ix.state) ?? 0) + 1);
        }
      }),
      { numRuns: NUM_RUNS, verbose: fc.VerbosityLevel.Verbose, ...(FC_SEED === undefined ? {} : { seed: FC_SEED }), ...(FC_PATH === undefined ? {} : { path: FC_PATH }) },
    );
    // The generator must actually reach every state, and exercise the veto.
    for (const s of Object.keys(TRANSITIONS) as State[]) expect(stats.states.get(s) ?? 0, `state ${s} never reached`).toBeGreaterThan(0);
    expect(stats.claimsGranted).toBeGreaterThan(0);
    expect(stats.claimsRefusedAfterCancel).toBeGreaterThan(0);
    expect(stats.runs).toBe(NUM_RUNS);
  }, 120_000);
});
