import type { CreateInteraction } from "../diyalog/create-request";
import type { PollResult, UpstreamAdapter } from "../upstreams/adapter";
import { log, type LogFields } from "../observability/log";
import { cleanupRunner } from "./cleanup";
import { dispatchLoop } from "./dispatch";
import type { MetricSink } from "../observability/metrics";
import { warnExpired, warnPollFailed } from "../observability/events";
import {
  ACTIVE,
  apply,
  createInteraction,
  minimised,
  note,
  nextWake,
  owesUpstream,
  pendingCopies,
  upgradeRecord,
  upstreamId,
  type Context,
  type Event,
  type Interaction,
  type Outcome,
  type State,
} from "./machine";

/**
 * The behaviour of one interaction's Durable Object, free of the runtime: storage, clock, timers,
 * alarms and the upstream come from a `Host`, so property tests can run it with an in-memory host,
 * a seeded scheduler and simulated restarts. All decisions are made by the pure machine (`apply`);
 * this class stores the result and carries out the effects.
 *
 * Awaiting the upstream lets other calls interleave, so after every await the code re-reads the
 * current record instead of trusting what it saw before.
 *
 * The upstream work is split by concern: sending the create (`dispatch.ts`) and cancelling the
 * copies (`cleanup.ts`) run as loops, at most one of each per interaction, and act only through
 * the `Authority` below: every change still goes through this class's `step` and `save`.
 */

export type CreateOutcome =
  | { kind: "created"; interactionId: string; state: State }
  /**
   * The create failed; also the answer to a repeat create while a call on an upstream without a
   * veto waits for its cancel to be confirmed (it is still the customer's call: nothing new is sent).
   */
  | { kind: "failed"; interactionId: string; code: "upstream_rejected" | "upstream_unavailable" }
  /** Cancelled (by Diyalog's DELETE or an erasure) before it was answered: not accepted for the customer. */
  | { kind: "cancelled"; interactionId: string }
  /** The id is no longer the customer's active call (cancelled, terminal, purged, or unknown). */
  | { kind: "inactive" };

export type CancelOutcome =
  | { kind: "not_found" }
  | { kind: "done"; interactionId: string; state: State }
  | { kind: "cancelling"; interactionId: string }
  | { kind: "unconfirmed"; interactionId: string; state: State }
  | { kind: "already_assigned"; interactionId: string };

export type ClaimOutcome = { proceed: true } | { proceed: false; reason: State | "not_found" };

/**
 * What a request caused, for its own log line: the states it moved through (`queued>cancelling>cancelled`)
 * and the upstream call behind the last move. Handed to `create`, `cancel` or `claim` by a caller that
 * logs the request, the transitions go there instead of on lines of their own (a log line has a cost).
 */
export type Told = LogFields & { transitions?: string };

export interface CoreSettings {
  upstreamTimeoutMs: number;
  createDeadlineMs: number;
  queueTimeoutMs: number;
  retentionMs: number;
}

/** What the core needs from the runtime. */
export interface Host {
  readonly adapter: UpstreamAdapter;
  readonly settings: CoreSettings;
  now(): number;
  /** Resolves after `ms` (a timer). */
  sleep(ms: number, cancel?: AbortSignal): Promise<void>;
  /** An abort signal that fires after `ms`. */
  timeout(ms: number): AbortSignal;
  load(): Interaction | undefined;
  store(ix: Interaction): void;
  /** Deletes everything stored (and the pending alarm). */
  deleteAll(): Promise<void>;
  /** Sets, or with `undefined` clears, the single alarm. */
  setAlarm(at: number | undefined): void;
  /** Keeps background work alive after the current call returned. */
  waitUntil(work: Promise<unknown>): void;
  /** Records a metric (a no-op where none are collected). */
  metric?: MetricSink;
}


type Waiter = { until: (ix: Interaction | null) => boolean; wake: () => void };

/** What the upstream loops may do with the interaction, all of it through its one authority. */
export interface Authority {
  readonly host: Host;
  /** The `x-request-id` of the latest create or cancel, carried on the upstream calls it causes. */
  requestId(): string | undefined;
  load(): Interaction | null;
  /** Applies an event (the machine decides) and starts its effects. */
  step(event: Event): Outcome | undefined;
  /** `step`, logging the upstream call that caused it on the transition's line. */
  stepAfterCall(event: Event, kind: "upstream dispatch" | "upstream cancel", fields: LogFields): void;
  arm(): void;
  /** True while the upstream may hold a copy whose id the proxy has not learned yet. */
  unresolved(ix: Interaction): boolean;
  /** Whether a retry time stored earlier (other than `own`, the caller's) still holds. */
  held(ix: Interaction, own?: number): boolean;
  /** Stores when the next upstream retry may go; returns that time. */
  scheduleRetry(delayMs: number): number | undefined;
  /** A call went through: no retry is pending any more. */
  dropRetry(): void;
  /** Stores until when the create about to be sent may be on the wire (throws on a replaced instance). */
  markSending(until: number): void;
}

export class InteractionCore {
  /** `undefined` until read from storage; `null` when there is no interaction. */
  private record: Interaction | null | undefined;
  private dispatchRun: Promise<void> | undefined;
  private cleanupRun: Promise<void> | undefined;
  private pollAt: number | undefined;
  private pollRun: Promise<void> | undefined;
  private waiters: Waiter[] = [];
  /**
   * The upstream call that caused the next transition: its fields go on that transition's log line
   * instead of a line of their own (each log line has a cost; a create logs three, not four).
   */
  private upstreamCall: LogFields | undefined;
  /** Requests that log their own line and take the transitions they cause (the latest takes them). */
  private tellers: Told[] = [];

  /** Runs `work` with `told` (if any) taking the transitions it causes. */
  private async telling<T>(told: Told | undefined, work: () => Promise<T>): Promise<T> {
    if (!told) return work();
    this.tellers.push(told);
    try {
      return await work();
    } finally {
      this.tellers = this.tellers.filter((t) => t !== told);
    }
  }

  /** Logs a successful upstream call on the transition it causes, or on its own line when none follows. */
  private stepAfterCall(event: Event, kind: "upstream dispatch" | "upstream cancel", fields: LogFields): void {
    this.upstreamCall = {
      requestId: fields.requestId,
      upstreamOutcome: fields.outcome,
      upstreamLatencyMs: fields.latencyMs,
      ...(fields.attempt === undefined ? {} : { attempt: fields.attempt }),
    };
    this.step(event);
    if (this.upstreamCall !== undefined) log("info", kind, fields);
    this.upstreamCall = undefined;
  }
  /** The `x-request-id` of the latest create or cancel, carried on the upstream calls it causes. */
  private requestId: string | undefined;
  /** The event being applied, named on the transition's log line. */
  private cause: string | undefined;

  private readonly authority: Authority;
  private readonly cleanupLoop: () => Promise<void>;

  constructor(private readonly host: Host) {
    this.authority = {
      host,
      requestId: () => this.requestId ?? this.load()?.requestId,
      load: () => this.load(),
      step: (event) => this.step(event),
      stepAfterCall: (event, kind, fields) => this.stepAfterCall(event, kind, fields),
      arm: () => this.arm(),
      unresolved: (ix) => this.unresolved(ix),
      held: (ix, own) => this.held(ix, own),
      scheduleRetry: (delayMs) => this.scheduleRetry(delayMs),
      dropRetry: () => this.dropRetry(),
      markSending: (until) => {
        const ix = this.load();
        if (ix) this.save({ ...ix, sendingUntil: Math.max(until, ix.sendingUntil ?? 0) });
      },
    };
    this.cleanupLoop = cleanupRunner(this.authority);
  }

  private context(): Context {
    const { queueTimeoutMs, retentionMs } = this.host.settings;
    return { now: this.host.now(), canVeto: this.host.adapter.canVeto, queueTimeoutMs, retentionMs };
  }

  private load(): Interaction | null {
    if (this.record === undefined) {
      const stored = this.host.load();
      let ix = stored === undefined ? null : upgradeRecord(stored);
      // Stored before send windows were kept: a send from before this load may still be on the wire,
      // so a lookup upstream waits as if one had just left.
      if (ix?.upstream.sent && ix.sendingUntil === undefined) ix = { ...ix, sendingUntil: this.host.now() + this.host.settings.upstreamTimeoutMs };
      this.record = ix;
    }
    return this.record;
  }

  /** Stores the record, re-arms the alarm and wakes whoever waits for a change. */
  private save(ix: Interaction): void {
    const before = this.record;
    ix = minimised(ix);
    // The latest create's or cancel's request id rides on a write made anyway (never one of its own).
    if (this.requestId !== undefined && ix.requestId !== this.requestId) ix = { ...ix, requestId: this.requestId };
    const told = this.tellers[this.tellers.length - 1];
    if (before?.state !== ix.state && told) {
      told.transitions = `${told.transitions ?? before?.state ?? "new"}>${ix.state}`;
      Object.assign(told, { upstreamStatus: ix.upstream.status, cause: this.cause ?? "create", customerRef: ix.customerRef }, this.upstreamCall);
      this.upstreamCall = undefined;
    } else if (before?.state !== ix.state) {
      log("info", "transition", {
        interactionId: ix.interactionId,
        customerRef: ix.customerRef,
        from: before?.state ?? null,
        to: ix.state,
        upstream: ix.upstream.adapter,
        upstreamStatus: ix.upstream.status,
        // What caused it, as a code: the timeline's detail may carry an upstream's free text (an
        // event's reason, an agent's id), which stays in storage and out of the logs.
        cause: this.cause ?? "create",
        ...this.upstreamCall,
      });
      this.upstreamCall = undefined;
    }
    if (ix.state === "assigned" && before?.state !== "assigned") {
      this.host.metric?.("time_to_assignment", { upstream: ix.upstream.adapter, ref: ix.customerRef }, this.host.now() - ix.createdAt);
    }
    if (ix.state === "expired" && before?.state !== "expired") warnExpired(this.host.metric, ix, this.host.now() - ix.createdAt);
    this.record = ix;
    this.host.store(ix);
    this.arm();
    const waiting = this.waiters;
    this.waiters = waiting.filter((w) => !w.until(ix));
    for (const w of waiting) if (w.until(ix)) w.wake();
  }

  private arm(): void {
    const ix = this.record;
    // A queued call on an upstream that never calls back is looked at every pollIntervalMs.
    const { poll, pollIntervalMs } = this.host.adapter;
    if (ix?.state === "queued" && poll && pollIntervalMs !== undefined) this.pollAt ??= this.host.now() + pollIntervalMs;
    else this.pollAt = undefined;
    // Upstream work in flight (a dispatch, a cancel) has no retry time yet; if this object dies
    // before it finishes, the stored alarm must come back for it soon, not only at the deadline.
    const { upstreamTimeoutMs, createDeadlineMs } = this.host.settings;
    let fallback: number | undefined;
    if (ix?.state === "dispatching") fallback = Math.max(500, Math.min(upstreamTimeoutMs, createDeadlineMs / 2));
    else if (ix && owesUpstream(ix)) fallback = Math.max(1000, 2 * upstreamTimeoutMs);
    const now = this.host.now();
    const retryAt = ix?.retryAt !== undefined && ix.retryAt > now ? ix.retryAt : fallback === undefined ? undefined : now + fallback;
    this.host.setAlarm(ix ? nextWake(ix, retryAt, this.pollAt) : undefined);
  }

  /** Resolves when `until` holds for the current record, or after `ms`. */
  private waitFor(until: (ix: Interaction | null) => boolean, ms: number): Promise<void> {
    if (until(this.load())) return Promise.resolve();
    return new Promise((resolve) => {
      let done = false;
      // Cancels the timer once the wait is over, so no timer outlives the request.
      const timer = new AbortController();
      const finish = () => {
        if (done) return;
        done = true;
        this.waiters = this.waiters.filter((w) => w !== waiter);
        timer.abort(null); // a reason of its own: no DOMException is made for a timer nobody reads
        resolve();
      };
      const waiter: Waiter = { until, wake: finish };
      this.waiters.push(waiter);
      void this.host.sleep(ms, timer.signal).then(finish);
    });
  }

  /** Applies an event to the stored record and starts its effects. */
  private step(event: Event): Outcome | undefined {
    const ix = this.load();
    if (!ix) return undefined;
    const outcome = apply(ix, event, this.context());
    this.cause = event.type === "upstream_event" ? `upstream_${event.kind}` : event.type;
    if (outcome.interaction !== ix) this.save(outcome.interaction);
    this.cause = undefined;
    for (const effect of outcome.effects) {
      if (effect.type === "cancel_upstream") this.startCleanup();
      else this.startDispatch();
    }
    return outcome;
  }

  /**
   * Starts the dispatch loop unless one runs. The guard is set before the loop's first synchronous
   * step: steps taken inside the loop emit effects that call here again, and must find it running.
   */
  private startDispatch(): void {
    if (this.dispatchRun) return;
    this.dispatchRun = Promise.resolve(); // held until the loop's own promise replaces it below
    const run = dispatchLoop(this.authority).finally(() => {
      if (this.dispatchRun === run) this.dispatchRun = undefined;
    });
    this.dispatchRun = run;
    this.host.waitUntil(run);
  }

  /** Starts cancelling the copies still owed, unless that runs already (same guard as dispatch). */
  private startCleanup(): void {
    if (this.cleanupRun) return;
    this.cleanupRun = Promise.resolve();
    const run = this.cleanupLoop().finally(() => {
      if (this.cleanupRun === run) this.cleanupRun = undefined;
    });
    this.cleanupRun = run;
    this.host.waitUntil(run);
  }

  /** True while the upstream may hold a copy whose id the proxy has not learned yet. */
  private unresolved(ix: Interaction): boolean {
    if (ix.upstream.copies.length > 0 || !ix.upstream.sent) return false;
    return ix.state === "dispatching" || ix.state === "cancelling" || ix.upstream.cleanup === "pending";
  }

  /** Whether a retry scheduled earlier (this run's own excepted) still holds at this moment. */
  private held(ix: Interaction, own?: number): boolean {
    return ix.retryAt !== undefined && ix.retryAt !== own && ix.retryAt > this.host.now();
  }

  /** Stores when the next upstream retry may go, so an early or repeated alarm keeps to it. */
  private scheduleRetry(delayMs: number): number | undefined {
    const ix = this.load();
    if (!ix) return undefined;
    const retryAt = this.host.now() + delayMs;
    this.save({ ...ix, retryAt });
    return retryAt;
  }

  /** A call went through: no retry is pending any more. */
  private dropRetry(): void {
    const ix = this.load();
    if (!ix || ix.retryAt === undefined) return;
    const { retryAt: _dropped, ...rest } = ix;
    this.save(rest);
  }

  /** Looks at an upstream that never calls back: has an agent taken the call, or is it gone? */
  private async pollOnce(): Promise<void> {
    const { adapter, settings } = this.host;
    const ix = this.load();
    const id = ix ? upstreamId(ix) : undefined;
    if (!ix || ix.state !== "queued" || id === undefined || !adapter.poll) return;
    let result: PollResult;
    try {
      result = await adapter.poll({ interactionId: ix.interactionId, upstreamId: id }, this.host.timeout(settings.upstreamTimeoutMs));
    } catch (err) {
      result = { kind: "retry", reason: err instanceof Error ? err.name : "error" };
    }
    if (result.kind === "assigned") this.step({ type: "assignment_seen", ...(result.agentId ? { agentId: result.agentId } : {}) });
    else if (result.kind === "gone") this.step({ type: "upstream_unseen", reason: "poll" });
    else if (result.kind === "retry") warnPollFailed(this.host.metric, ix, result.status);
    this.schedulePoll();
  }

  private schedulePoll(): void {
    this.pollAt = undefined; // arm() sets the next one while the call is still queued
    this.arm();
  }

  private startPoll(): void {
    if (this.pollRun) return;
    const run = this.pollOnce().finally(() => {
      if (this.pollRun === run) this.pollRun = undefined;
    });
    this.pollRun = run;
    this.host.waitUntil(run);
  }

  /** Create (or, with `existing`, look up) the interaction and wait until the upstream accepted it. */
  create(input: CreateInteraction & { interactionId: string; existing: boolean; requestId?: string }, told?: Told): Promise<CreateOutcome> {
    return this.telling(told, () => this.createNow(input));
  }

  private async createNow(input: CreateInteraction & { interactionId: string; existing: boolean; requestId?: string }): Promise<CreateOutcome> {
    let ix = this.load();
    if (!ix) {
      // Asked about an interaction that is not (or no longer) stored: not the customer's call.
      if (input.existing) return { kind: "inactive" };
      ix = createInteraction(
        input,
        this.host.adapter.name,
        this.host.now(),
        this.host.settings.createDeadlineMs,
      );
      // Held in memory for a moment only: the dispatch started below moves it to `dispatching` in
      // this same synchronous step, so one write (and one log line) stores both timeline entries,
      // still before anything is sent upstream.
      this.record = ix;
    } else if (ix.interactionId !== input.interactionId || (ix.customerId !== input.customerId && ix.customerId !== "")) {
      // Never another customer's call, whatever led here. A record without its customerId (erased, or
      // sealed under a key no longer configured) is its object's customer's: the object is named by it.
      return { kind: "inactive" };
    } else if (!ACTIVE.has(ix.state)) {
      // Without a veto, a call whose cancel the upstream has not confirmed may still reach an agent:
      // it stays the customer's call, and a new one is not dispatched until it is settled.
      if (!this.host.adapter.canVeto && ix.state !== "assigned" && owesUpstream(ix)) {
        return { kind: "failed", interactionId: ix.interactionId, code: ix.failure ?? "upstream_unavailable" };
      }
      return { kind: "inactive" };
    }
    if (input.requestId !== undefined) this.requestId = input.requestId;
    this.startDispatch();
    // A new record that no dispatch took over (one was already running) is stored as it is.
    if (this.record === ix && ix.state === "received") this.save(ix);
    // The loop itself stops at the deadline; the margin only covers a stalled runtime.
    await this.waitFor(
      (r) => !r || (r.state !== "received" && r.state !== "dispatching"),
      ix.dispatchDeadline - this.host.now() + 1000,
    );
    const now = this.load();
    if (!now) return { kind: "inactive" };
    if (now.state === "failed" || now.state === "expired") {
      return { kind: "failed", interactionId: now.interactionId, code: now.failure ?? "upstream_unavailable" };
    }
    if (now.state === "cancelling" || now.state === "cancelled") return { kind: "cancelled", interactionId: now.interactionId };
    return { kind: "created", interactionId: now.interactionId, state: now.state };
  }

  /** Diyalog's DELETE: record the cancel first (so the veto holds), then try the upstream once. */
  cancel(interactionId: string, requestId?: string, told?: Told): Promise<CancelOutcome> {
    return this.telling(told, () => this.cancelNow(interactionId, requestId));
  }

  private async cancelNow(interactionId: string, requestId?: string): Promise<CancelOutcome> {
    const ix = this.load();
    if (!ix || ix.interactionId !== interactionId) return { kind: "not_found" };
    if (requestId !== undefined) this.requestId = requestId;
    // A repeated DELETE while the upstream cancel is still owed tries it again now rather than
    // waiting for the backoff's next alarm (one attempt in flight at a time, as always).
    if (ix.state === "cancelling" || ix.upstream.cleanup === "pending") {
      this.dropRetry();
      this.startCleanup();
    }
    this.step({ type: "cancel_requested" });
    const settled = (r: Interaction | null) => !r || (r.state !== "cancelling" && r.upstream.cleanup !== "pending");
    await this.waitFor(settled, this.host.settings.upstreamTimeoutMs);
    const now = this.load();
    if (!now) return { kind: "not_found" };
    const canVeto = this.host.adapter.canVeto;
    switch (now.state) {
      case "assigned":
        return { kind: "already_assigned", interactionId };
      case "cancelling":
        return canVeto ? { kind: "cancelling", interactionId } : { kind: "unconfirmed", interactionId, state: now.state };
      case "failed":
      case "expired":
      case "cancelled":
        if (now.upstream.cleanup === "too_late") return { kind: "already_assigned", interactionId };
        return now.upstream.cleanup === "pending" && !canVeto
          ? { kind: "unconfirmed", interactionId, state: now.state }
          : { kind: "done", interactionId, state: now.state };
      default:
        return { kind: "done", interactionId, state: now.state };
    }
  }

  /**
   * Erasure (design §6): the personal fields go (at once, or as soon as no create may be sent again:
   * `minimised`), and a call still waiting is cancelled as Diyalog's DELETE would. Answers that
   * cancel's outcome, or undefined when nothing was waiting or owed upstream.
   */
  erase(interactionId: string, requestId?: string, told?: Told): Promise<CancelOutcome | undefined> {
    return this.telling(told, async () => {
      const ix = this.load();
      if (!ix || ix.interactionId !== interactionId) return { kind: "not_found" };
      if (!ix.erased) {
        this.cause = "erase";
        this.save({ ...note(ix, "personal data erased on request", this.context()), erased: true });
        this.cause = undefined;
      }
      return ACTIVE.has(ix.state) || owesUpstream(ix) ? this.cancelNow(interactionId, requestId) : undefined;
    });
  }

  /** The upstream asks, right before giving the call to an agent, whether it may. */
  claim(interactionId: string, agentId?: string, told?: Told): ClaimOutcome {
    const ix = this.load();
    if (!ix || ix.interactionId !== interactionId) return { proceed: false, reason: "not_found" };
    if (told) this.tellers.push(told);
    try {
      const outcome = this.step(agentId === undefined ? { type: "claim" } : { type: "claim", agentId });
      return outcome?.claim ?? { proceed: false, reason: ix.state };
    } finally {
      if (told) this.tellers = this.tellers.filter((t) => t !== told);
    }
  }

  /** A lifecycle event reported by the upstream; answers the resulting state, or null when unknown. */
  upstreamEvent(interactionId: string, kind: "abandoned" | "completed" | "failed", text?: string): State | null {
    const ix = this.load();
    if (!ix || ix.interactionId !== interactionId) return null;
    // An erased customer's call keeps no new free text either.
    return this.step(text === undefined || ix.erased ? { type: "upstream_event", kind } : { type: "upstream_event", kind, text })!.interaction.state;
  }

  get(interactionId: string): Interaction | null {
    const ix = this.load();
    return ix && ix.interactionId === interactionId ? ix : null;
  }

  /**
   * Finishes whatever is due: resumes a dispatch interrupted by a restart, fails it past its
   * deadline, expires a call nobody took, retries an upstream cancel, and purges stored data after
   * retention. Safe to run twice or alongside a request.
   */
  async alarm(): Promise<void> {
    const ix = this.load();
    if (!ix) return;
    const now = this.host.now();
    if (ix.state === "received" || ix.state === "dispatching") {
      if (now >= ix.dispatchDeadline && !this.dispatchRun) this.step({ type: "dispatch_deadline" });
      else this.startDispatch();
    } else if (ix.state === "queued" && ix.expiresAt !== undefined && now >= ix.expiresAt) {
      this.step({ type: "queue_timeout" });
    } else if (ix.state === "queued" && this.host.adapter.poll) {
      if (this.pollAt === undefined || this.pollAt <= now) this.startPoll();
    }
    // The loops keep to a stored retry time themselves: an early or repeated alarm sends nothing.
    const current = this.load()!;
    if (this.unresolved(current)) this.startDispatch();
    else if (pendingCopies(current).length > 0) this.startCleanup();
    else if (!owesUpstream(current) && current.purgeAt !== undefined && now >= current.purgeAt) {
      await this.purge();
      return;
    }
    await Promise.all([this.dispatchRun, this.cleanupRun, this.pollRun]);
    this.arm();
  }

  /** Deletes everything stored about the interaction. */
  private async purge(): Promise<void> {
    await this.host.deleteAll();
    this.record = null;
  }
}
