import { mulberry32 } from "../fakes/common";
export { mulberry32 } from "../fakes/common";
import type fc from "fast-check";
import { InteractionCore, type CancelOutcome, type CoreSettings, type CreateOutcome, type Host } from "../../src/interactions/interaction-core";
import { TERMINAL, type Interaction, type State } from "../../src/interactions/machine";
import type { CancelResult, DispatchRequest, DispatchResult, PollResult, UpstreamAdapter, UpstreamRef } from "../../src/upstreams/adapter";

/*
 * A simulated world for property tests of `InteractionCore`: a virtual clock (timers, timeout
 * signals, alarms), one in-memory storage per interaction (one Durable Object each), restarts, and a
 * fake upstream that behaves like a real idempotent queue. Everything asynchronous goes through
 * fast-check's scheduler, so the interleaving is chosen (and shrunk) by fast-check.
 *
 * Restarts. A restart makes a new `InteractionCore` over the same storage. The old instance is
 * fenced like a replaced Durable Object: its storage and alarm calls throw, and answers it gives
 * after the restart never reach Diyalog (the runtime fails in-flight calls of a reset object).
 * Its requests already on the wire still reach the upstream. A restart either "hangs" the old
 * instance (its pending I/O and timers never resolve: a crash) or lets it run on as a zombie whose
 * awaits resolve later and whose writes fail.
 *
 * Alarms, as the runtime runs them: only a stored alarm fires, and it is cleared as it fires; a
 * handler that throws or is cut short by a restart is retried (at-least-once); a duplicate
 * delivery runs the handler again, possibly while the first run is still going.
 *
 * Time moves only in `tick` commands and while settling. A tick is one scheduler step, so every
 * answer is held back until it ends: a long tick is an upstream that stalls that long.
 */

/** What the upstream does with one dispatch request. */
export type DispatchPlan =
  | "accept" // creates the record (or replays it), answers 2xx with the id
  | "503" // nothing happens upstream, transient error
  | "429" // nothing happens upstream, Retry-After
  | "reject" // permanent 4xx: the upstream holds nothing for this key (sticky, as an idempotent replay)
  | "lost" // the record is created, the answer is lost (the proxy sees a timeout at once)
  | "lost-hang"; // the record is created, no answer ever comes (the proxy's timeout signal fires)

/** What the upstream does with one cancel request. */
export type CancelPlan = "ok" | "503" | "429" | "lost" | "lost-hang";

export type Command =
  | { t: "create"; i: number }
  | { t: "cancel"; i: number }
  | { t: "claim"; i: number; agent: string }
  | { t: "abandon"; i: number }
  | { t: "alarm"; i: number }
  | { t: "restart"; i: number; hang: boolean }
  | { t: "tick"; ms: number };

export interface Scenario {
  /** With a veto the upstream asks the claim hook; without one it gives calls away and is polled. */
  canVeto: boolean;
  interactions: number;
  settings: CoreSettings;
  dispatchPlans: DispatchPlan[];
  cancelPlans: CancelPlan[];
  retryAfterMs: number;
  randomSeed: number;
  commands: Command[];
}

interface UpstreamRecord {
  upstreamId: string;
  state: "queued" | "assigned" | "cancelled" | "abandoned";
  agent?: string;
  payload: string;
}

interface CallLog {
  i: number;
  gen: number;
  op: "create" | "cancel";
  seq: number;
  done: boolean;
  /** The answer reached Diyalog (the instance that gave it was still the live one). */
  acked: boolean;
  outcome?: CreateOutcome | CancelOutcome;
}

interface Slot {
  i: number;
  id: string;
  storage: { record?: Interaction; alarmAt?: number };
  gen: number;
  hungGens: Set<number>;
  core: InteractionCore;
  everCreated: boolean;
  /** Every state the live instances stored, in order (kept after purge). */
  stored: State[];
  purged: boolean;
  /** Alarm handler invocations still running, by instance generation. */
  alarmsRunning: { gen: number; done: boolean }[];
  /** The generation on which an alarm last fired (a duplicate delivery repeats that firing). */
  lastAlarmGen?: number;
}

class StaleInstance extends Error {
  constructor() {
    super("Durable Object was reset: this instance is no longer live");
    this.name = "StaleInstance";
  }
}

/** The reason every timeout signal aborts with (one instance: building a DOMException is costly). */
const TIMED_OUT = new DOMException("The operation timed out.", "TimeoutError");

/**
 * Storage keeps a deep-frozen record instead of a serialised copy: just as isolated (the core
 * cannot change what is stored behind storage's back: a mutation throws, and is reported) and much
 * cheaper than cloning on every write. Already frozen parts (shared timeline entries) are skipped.
 */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}


const START = Date.UTC(2026, 5, 1, 9, 0, 0);
const POLL_INTERVAL_MS = 5_000;
/** Cloudflare retries a failed alarm handler with backoff starting at 2 s. */
const ALARM_RETRY_MS = 2_000;

export class World {
  now = START;
  private timers: { at: number; seq: number; fire: () => void }[] = [];
  private seq = 0;
  readonly slots: Slot[] = [];
  readonly records = new Map<string, UpstreamRecord>();
  /** Keys the upstream refused for good (a replay of the same key is refused again). */
  readonly rejectedKeys = new Set<string>();
  readonly creations = new Map<string, number>();
  readonly calls: CallLog[] = [];
  /** Agents who got a call: a granted claim (veto) or the upstream's own choice (no veto). */
  readonly assignments: { i: number; agent: string; seq: number }[] = [];
  readonly errors: string[] = [];
  /** Breaches of the idempotency contract: another key, another body, or "first attempt" on a repeat. */
  readonly keyErrors: string[] = [];
  readonly trace: string[] = [];
  private dispatchIndex = 0;
  private cancelIndex = 0;
  readonly counters = {
    dispatches: 0,
    cancels: 0,
    polls: 0,
    claims: 0,
    claimsRefused: 0,
    /** Claims refused after Diyalog had been told the cancel succeeded: the veto at work. */
    claimsRefusedAfterCancelAck: 0,
    lost: 0,
    restarts: 0,
    restartsWhileDispatching: 0,
    restartsWhileCancelling: 0,
    cancelsWhileDispatching: 0,
    alarms: 0,
    duplicateAlarms: 0,
    overlappingAlarms: 0,
  };
  /** Interactions for which a dispatch has been sent at least once (any instance). */
  private readonly dispatched = new Set<string>();

  constructor(
    private readonly s: fc.Scheduler,
    readonly scenario: Scenario,
  ) {
    for (let i = 0; i < scenario.interactions; i++) {
      const fields: Omit<Slot, "core"> = { i, id: `ix-${i}`, storage: {}, gen: 0, hungGens: new Set(), everCreated: false, stored: [], purged: false, alarmsRunning: [] };
      const slot = fields as Slot;
      slot.core = new InteractionCore(this.host(slot, 0));
      this.slots.push(slot);
    }
  }

  private log(line: string): void {
    this.trace.push(`t+${this.now - START}ms ${line}`);
  }

  // ---- clock -------------------------------------------------------------------------------

  private at(at: number, fire: () => void): void {
    this.timers.push({ at, seq: ++this.seq, fire });
  }

  /** The next timer or alarm due, if any. */
  nextEventAt(): number | undefined {
    let next: number | undefined;
    for (const t of this.timers) if (next === undefined || t.at < next) next = t.at;
    for (const slot of this.slots) {
      const a = slot.storage.alarmAt;
      if (a !== undefined && (next === undefined || a < next)) next = a;
    }
    return next;
  }

  /** Advances virtual time to `target`, firing timers and due alarms in time order. */
  async advanceTo(target: number): Promise<void> {
    for (let guard = 0; ; guard++) {
      if (guard > 10_000) throw new Error("clock livelock: events keep falling due");
      let timer: (typeof this.timers)[number] | undefined;
      for (const t of this.timers) if (!timer || t.at < timer.at || (t.at === timer.at && t.seq < timer.seq)) timer = t;
      let alarmSlot: Slot | undefined;
      for (const slot of this.slots) {
        const a = slot.storage.alarmAt;
        if (a !== undefined && (!alarmSlot || a < alarmSlot.storage.alarmAt!)) alarmSlot = slot;
      }
      const timerAt = timer?.at ?? Infinity;
      const alarmAt = alarmSlot?.storage.alarmAt ?? Infinity;
      if (Math.min(timerAt, alarmAt) > target) break;
      if (timerAt <= alarmAt) {
        this.now = Math.max(this.now, timerAt);
        this.timers.splice(this.timers.indexOf(timer!), 1);
        timer!.fire();
      } else {
        this.now = Math.max(this.now, alarmAt);
        alarmSlot!.storage.alarmAt = undefined; // the runtime clears the alarm as it fires
        this.fireAlarm(alarmSlot!, "alarm fires");
      }
      for (let k = 0; k < 10; k++) await Promise.resolve();
    }
    this.now = Math.max(this.now, target);
  }

  // ---- the runtime around one interaction ---------------------------------------------------

  private host(slot: Slot, gen: number): Host {
    const live = () => {
      if (slot.gen !== gen) throw new StaleInstance();
    };
    const world = this;
    return {
      adapter: this.adapter(slot, gen),
      settings: this.scenario.settings,
      now: () => world.now,
      sleep: (ms) =>
        new Promise<void>((resolve) =>
          world.at(world.now + ms, () => {
            if (!slot.hungGens.has(gen)) resolve();
          }),
        ),
      timeout: (ms) => {
        const controller = new AbortController();
        world.at(world.now + ms, () => controller.abort(TIMED_OUT));
        return controller.signal;
      },
      load: () => {
        live();
        return slot.storage.record;
      },
      store: (ix) => {
        live();
        slot.storage.record = deepFreeze(ix);
        if (slot.stored[slot.stored.length - 1] !== ix.state) {
          slot.stored.push(ix.state);
          world.log(`#${slot.i} stored ${ix.state}${ix.upstream.cleanup ? ` (cleanup ${ix.upstream.cleanup})` : ""}`);
        }
      },
      deleteAll: async () => {
        live();
        slot.storage = {};
        slot.purged = true;
        world.log(`#${slot.i} purged`);
      },
      setAlarm: (at) => {
        live();
        slot.storage.alarmAt = at;
      },
      waitUntil: (work) => {
        work.catch((err: unknown) => world.background(slot, gen, err));
      },
      releaseCustomer: async () => live(),
    };
  }

  private background(slot: Slot, gen: number, err: unknown): void {
    // A replaced instance failing is what the runtime does to it; anything else is a bug.
    if (gen !== slot.gen || err instanceof StaleInstance) return;
    this.errors.push(`#${slot.i} gen ${gen}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }

  /**
   * One request to the upstream: it arrives (a scheduled step, where the upstream acts), then its
   * answer is delivered (another scheduled step), unless the timeout signal fires first.
   */
  private request<T>(slot: Slot, gen: number, signal: AbortSignal, label: string, arrive: () => { answer: T; deliver: boolean }, timedOut: T): Promise<T> {
    return new Promise<T>((resolve) => {
      let settled = false;
      const finish = (answer: T) => {
        if (settled || slot.hungGens.has(gen)) return; // a crashed instance never hears back
        settled = true;
        resolve(answer);
      };
      signal.addEventListener("abort", () => finish(timedOut));
      void this.s.schedule(Promise.resolve(), `${label} reaches upstream`).then(() => {
        const { answer, deliver } = arrive();
        if (!deliver) return;
        void this.s.schedule(Promise.resolve(), `${label} answer`).then(() => finish(answer));
      });
    });
  }

  private adapter(slot: Slot, gen: number): UpstreamAdapter {
    const world = this;
    return {
      name: "fake",
      canVeto: this.scenario.canVeto,
      ...(world.scenario.canVeto ? {} : { pollIntervalMs: POLL_INTERVAL_MS, poll: (ref: UpstreamRef, signal: AbortSignal) => world.poll(slot, gen, ref, signal) }),
      dispatch(request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult> {
        const plan = world.scenario.dispatchPlans[world.dispatchIndex++] ?? "accept";
        world.counters.dispatches += 1;
        const label = `#${slot.i} dispatch(${plan}) g${gen}`;
        world.log(`${label} sent${request.mayExist === false ? " (first attempt)" : ""}`);
        // The hint lets upstreams without idempotency keys skip the lookup: it must never be false
        // on a repeat, or such an upstream would create a second copy.
        if (request.mayExist === false && world.dispatched.has(request.interactionId)) world.keyErrors.push(`#${slot.i} repeat dispatch sent with mayExist:false`);
        world.dispatched.add(request.interactionId);
        return world.request<DispatchResult>(slot, gen, signal, label, () => world.arriveDispatch(slot, request, plan), { kind: "retry", reason: "timed out" });
      },
      cancel(ref: UpstreamRef, signal: AbortSignal): Promise<CancelResult> {
        const plan = world.scenario.cancelPlans[world.cancelIndex++] ?? "ok";
        world.counters.cancels += 1;
        const label = `#${slot.i} cancel(${plan}) g${gen}`;
        world.log(`${label} sent`);
        return world.request<CancelResult>(slot, gen, signal, label, () => world.arriveCancel(slot, ref, plan), { kind: "retry", reason: "timed out" });
      },
    };
  }

  /** The upstream receives a create: idempotent per key (the interactionId), like Idempotency-Key. */
  private arriveDispatch(slot: Slot, request: DispatchRequest, plan: DispatchPlan): { answer: DispatchResult; deliver: boolean } {
    const key = request.interactionId;
    // The body an idempotent upstream compares: what the interaction is, not per-attempt hints
    // (mayExist, requestId).
    const { interactionId, customerId, attributes, identityNumber } = request;
    const payload = JSON.stringify({ interactionId, customerId, attributes, identityNumber });
    if (key !== slot.id) this.keyErrors.push(`#${slot.i} dispatched under key ${key}`);
    if (plan === "503" || plan === "429") {
      this.log(`upstream: #${slot.i} create → ${plan}`);
      return {
        answer: plan === "503" ? { kind: "retry", reason: "HTTP 503", status: 503 } : { kind: "retry", reason: "HTTP 429", status: 429, retryAfterMs: this.scenario.retryAfterMs },
        deliver: true,
      };
    }
    let record = this.records.get(key);
    if (record && record.payload !== payload) this.keyErrors.push(`#${slot.i} same idempotency key, different body: ${record.payload} vs ${payload}`);
    if (!record && (this.rejectedKeys.has(key) || plan === "reject")) {
      this.rejectedKeys.add(key);
      this.log(`upstream: #${slot.i} create → rejected`);
      return { answer: { kind: "rejected", reason: "HTTP 422", status: 422 }, deliver: true };
    }
    if (!record) {
      record = { upstreamId: `up-${key}`, state: "queued", payload };
      this.records.set(key, record);
      this.creations.set(key, (this.creations.get(key) ?? 0) + 1);
      this.log(`upstream: #${slot.i} record created (queued)`);
    } else {
      this.log(`upstream: #${slot.i} create replayed (${record.state})`);
    }
    if (plan === "lost" || plan === "lost-hang") {
      this.counters.lost += 1;
      this.log(`upstream: #${slot.i} create answer lost${plan === "lost-hang" ? " (hangs)" : ""}`);
      return { answer: { kind: "retry", reason: "timed out" }, deliver: plan === "lost" };
    }
    return { answer: { kind: "accepted", upstreamId: record.upstreamId }, deliver: true };
  }

  /** An upstream that never calls back is asked whether an agent has the call. */
  private poll(slot: Slot, gen: number, ref: UpstreamRef, signal: AbortSignal): Promise<PollResult> {
    this.counters.polls += 1;
    const label = `#${slot.i} poll g${gen}`;
    return this.request<PollResult>(
      slot,
      gen,
      signal,
      label,
      () => {
        const record = [...this.records.values()].find((r) => r.upstreamId === ref.upstreamId);
        const answer: PollResult =
          record?.state === "assigned" ? { kind: "assigned", agentId: record.agent! } : record?.state === "queued" ? { kind: "waiting" } : { kind: "gone" };
        this.log(`upstream: ${label} → ${answer.kind}`);
        return { answer, deliver: true };
      },
      { kind: "retry", reason: "timed out" },
    );
  }

  /** The upstream receives a cancel: a waiting record is cancelled; one with an agent is too late. */
  private arriveCancel(slot: Slot, ref: UpstreamRef, plan: CancelPlan): { answer: CancelResult; deliver: boolean } {
    if (plan === "503" || plan === "429") {
      this.log(`upstream: #${slot.i} cancel → ${plan}`);
      return {
        answer: plan === "503" ? { kind: "retry", reason: "HTTP 503", status: 503 } : { kind: "retry", reason: "HTTP 429", status: 429, retryAfterMs: this.scenario.retryAfterMs },
        deliver: true,
      };
    }
    const record = [...this.records.values()].find((r) => r.upstreamId === ref.upstreamId);
    if (ref.interactionId !== slot.id) this.errors.push(`#${slot.i} cancel for ${ref.interactionId}`);
    let answer: CancelResult;
    if (record?.state === "assigned") {
      answer = { kind: "too_late", agentId: record.agent! };
    } else {
      if (record?.state === "queued") record.state = "cancelled";
      answer = { kind: "cancelled" }; // 2xx, or 404 for a copy that is gone
    }
    this.log(`upstream: #${slot.i} cancel → ${answer.kind}${plan === "ok" ? "" : `, answer ${plan}`}`);
    if (plan === "lost" || plan === "lost-hang") return { answer: { kind: "retry", reason: "timed out" }, deliver: plan === "lost" };
    return { answer, deliver: true };
  }

  /**
   * Runs the alarm handler. Like the runtime, an invocation that fails (throws, or its instance is
   * reset before it finishes) is retried: the alarm comes back ALARM_RETRY_MS later unless one is set.
   */
  private fireAlarm(slot: Slot, why: string): void {
    this.counters.alarms += 1;
    this.log(`#${slot.i} ${why} g${slot.gen}`);
    const gen = slot.gen;
    if (why === "alarm delivered again") this.counters.duplicateAlarms += 1;
    if (slot.alarmsRunning.length > 0) this.counters.overlappingAlarms += 1;
    slot.lastAlarmGen = gen;
    const invocation = { gen, done: false };
    slot.alarmsRunning.push(invocation);
    let run: Promise<void>;
    try {
      run = slot.core.alarm();
    } catch (err) {
      run = Promise.reject(err);
    }
    run.then(
      () => {
        invocation.done = true;
        slot.alarmsRunning = slot.alarmsRunning.filter((a) => a !== invocation);
      },
      (err: unknown) => {
        if (invocation.done) return;
        invocation.done = true;
        slot.alarmsRunning = slot.alarmsRunning.filter((a) => a !== invocation);
        this.background(slot, gen, err);
        if (gen === slot.gen) this.retryAlarm(slot, "alarm handler threw");
      },
    );
  }

  private retryAlarm(slot: Slot, why: string): void {
    if (slot.storage.alarmAt !== undefined) return;
    slot.storage.alarmAt = this.now + ALARM_RETRY_MS;
    this.log(`#${slot.i} ${why}: runtime retries the alarm at t+${slot.storage.alarmAt - START}ms`);
  }

  // ---- commands ------------------------------------------------------------------------------

  /** Starts one command (its async part keeps running in the background). */
  async run(command: Command): Promise<void> {
    if (command.t === "tick") {
      this.log(`tick ${command.ms}ms`);
      await this.advanceTo(this.now + command.ms);
      return;
    }
    const slot = this.slots[command.i]!;
    switch (command.t) {
      case "create": {
        const existing = slot.everCreated;
        slot.everCreated = true;
        this.track(slot, "create", () =>
          slot.core.create({ interactionId: slot.id, customerId: `customer-${slot.i}`, attributes: { TRX: "Diyalog" }, existing }),
        );
        return;
      }
      case "cancel":
        if (slot.storage.record?.state === "dispatching") this.counters.cancelsWhileDispatching += 1;
        this.track(slot, "cancel", () => slot.core.cancel(slot.id));
        return;
      case "claim":
        this.claim(slot, command.agent);
        return;
      case "abandon": {
        const record = this.records.get(slot.id);
        if (record?.state !== "queued") return;
        record.state = "abandoned";
        this.log(`upstream: #${slot.i} abandoned by the caller`);
        try {
          slot.core.upstreamEvent(slot.id, "abandoned", "caller hung up");
        } catch (err) {
          this.background(slot, slot.gen, err);
        }
        return;
      }
      case "alarm": {
        // The runtime invokes alarm() only for an alarm that was set: either the stored one is due
        // (it fires now, before the clock would get to it), or the last firing is delivered once
        // more (at-least-once), possibly while the first run is still going.
        const due = slot.storage.alarmAt !== undefined && slot.storage.alarmAt <= this.now;
        if (due) {
          slot.storage.alarmAt = undefined;
          this.fireAlarm(slot, "alarm fires");
        } else if (slot.lastAlarmGen === slot.gen) {
          this.fireAlarm(slot, "alarm delivered again");
        }
        return;
      }
      case "restart":
        this.counters.restarts += 1;
        if (slot.storage.record?.state === "dispatching") this.counters.restartsWhileDispatching += 1;
        if (slot.storage.record?.state === "cancelling" || slot.storage.record?.upstream.cleanup === "pending") this.counters.restartsWhileCancelling += 1;
        if (command.hang) slot.hungGens.add(slot.gen);
        slot.gen += 1;
        // An alarm handler cut short by the reset counts as failed: the runtime retries it.
        for (const a of slot.alarmsRunning) a.done = true;
        if (slot.alarmsRunning.length > 0) this.retryAlarm(slot, "alarm handler interrupted by the restart");
        slot.alarmsRunning = [];
        slot.core = new InteractionCore(this.host(slot, slot.gen));
        this.log(`#${slot.i} restart (${command.hang ? "crash: old I/O hangs" : "old instance runs on, fenced"}) → g${slot.gen}`);
        return;
    }
  }

  private track(slot: Slot, op: "create" | "cancel", start: () => Promise<CreateOutcome | CancelOutcome>): void {
    const entry: CallLog = { i: slot.i, gen: slot.gen, op, seq: ++this.seq, done: false, acked: false };
    this.calls.push(entry);
    this.log(`#${slot.i} ${op} called g${slot.gen} (call ${entry.seq})`);
    let run: Promise<CreateOutcome | CancelOutcome>;
    try {
      run = start();
    } catch (err) {
      run = Promise.reject(err);
    }
    run.then(
      (outcome) => {
        entry.done = true;
        entry.outcome = outcome;
        entry.acked = slot.gen === entry.gen;
        this.log(`#${slot.i} ${op} (call ${entry.seq}) answered ${JSON.stringify(outcome)}${entry.acked ? "" : " — lost with its instance"}`);
      },
      (err: unknown) => {
        entry.done = true;
        this.log(`#${slot.i} ${op} (call ${entry.seq}) threw ${err instanceof Error ? err.name : String(err)}`);
        this.background(slot, entry.gen, err);
      },
    );
  }

  /**
   * An agent is about to take the call. With a veto the upstream asks the proxy and gives the call
   * only on proceed:true (a refused call stays queued, like a re-queued task, and may be claimed
   * again); without one it simply gives it.
   */
  private claim(slot: Slot, agent: string): void {
    const record = this.records.get(slot.id);
    if (record?.state !== "queued") return;
    this.counters.claims += 1;
    let proceed = true;
    if (this.scenario.canVeto) {
      try {
        const answer = slot.core.claim(slot.id, agent);
        proceed = answer.proceed;
        this.log(`upstream: #${slot.i} claim by ${agent} → ${JSON.stringify(answer)}`);
      } catch (err) {
        proceed = false;
        this.background(slot, slot.gen, err);
      }
    } else {
      this.log(`upstream: #${slot.i} ${agent} takes the call (no veto)`);
    }
    if (!proceed) {
      this.counters.claimsRefused += 1;
      if (this.cancelSucceeded(slot)) this.counters.claimsRefusedAfterCancelAck += 1;
      return;
    }
    record.state = "assigned";
    record.agent = agent;
    this.assignments.push({ i: slot.i, agent, seq: ++this.seq });
  }

  /** Lets everything run: scheduled tasks, then time jumps to the next timer or alarm. */
  async settle(maxRounds: number): Promise<boolean> {
    for (let round = 0; round < maxRounds; round++) {
      await this.s.waitIdle();
      if (this.s.count() > 0) continue;
      const next = this.nextEventAt();
      if (next === undefined) return true;
      await this.advanceTo(next);
    }
    return false;
  }

  private cancelSucceeded(slot: Slot): boolean {
    return this.calls.some((c) => c.i === slot.i && c.op === "cancel" && c.acked && (c.outcome?.kind === "done" || c.outcome?.kind === "cancelling"));
  }

  // ---- properties ----------------------------------------------------------------------------

  /** The guarantee: no agent after a successful cancel; one upstream record per id; a failed create never reaches an agent. */
  guaranteeViolations(): string[] {
    const out: string[] = [];
    for (const slot of this.slots) {
      const assigned = this.assignments.filter((a) => a.i === slot.i);
      const cancelSuccess = this.calls.filter(
        (c) => c.i === slot.i && c.op === "cancel" && c.acked && (c.outcome?.kind === "done" || c.outcome?.kind === "cancelling"),
      );
      if (cancelSuccess.length > 0 && assigned.length > 0) {
        const c = cancelSuccess[0]!;
        out.push(
          `(a) #${slot.i}: cancel (call ${c.seq}) answered success ${JSON.stringify(c.outcome)}, yet agent ${assigned[0]!.agent} got the call (step ${assigned[0]!.seq})`,
        );
      }
      const creations = this.creations.get(slot.id) ?? 0;
      if (creations > 1) out.push(`(b) #${slot.i}: ${creations} upstream records`);
      if (this.scenario.canVeto) {
        const failed = this.calls.find((c) => c.i === slot.i && c.op === "create" && c.acked && c.outcome?.kind === "failed");
        if (failed && assigned.length > 0) out.push(`(d) #${slot.i}: create answered failed (call ${failed.seq}), yet agent ${assigned[0]!.agent} got the call`);
      }
      for (const c of this.calls) {
        if (c.i === slot.i && c.op === "create" && c.acked && c.outcome?.kind === "created" && (c.outcome.state === "received" || c.outcome.state === "dispatching")) {
          out.push(`(e) #${slot.i}: create (call ${c.seq}) answered created while still ${c.outcome.state}`);
        }
      }
    }
    for (const e of this.keyErrors) out.push(`(b) ${e}`);
    for (const e of this.errors) out.push(`(x) unexpected error: ${e}`);
    return out;
  }

  /** Liveness once quiescent: every interaction closed, nothing left queued upstream, data purged. */
  livenessViolations(quiescent: boolean): string[] {
    const out: string[] = [];
    if (!quiescent) out.push("(q) not quiescent: timers or alarms keep firing");
    for (const slot of this.slots) {
      const final = slot.stored[slot.stored.length - 1];
      const ackedCreate = this.calls.find((c) => c.i === slot.i && c.op === "create" && c.acked && c.outcome?.kind === "created");
      if (final !== undefined && !TERMINAL.has(final)) {
        out.push(`(c) #${slot.i}: ends ${final}, not terminal${ackedCreate ? " (its create was answered created)" : ""}; alarm ${slot.storage.alarmAt ?? "none"}`);
      }
      if (final !== undefined && !slot.purged) out.push(`(c) #${slot.i}: ends ${final} but its data is never purged`);
      const record = this.records.get(slot.id);
      if (record?.state === "queued") out.push(`(c) #${slot.i}: left queued upstream while the proxy ends ${final ?? "never stored"}`);
      if (record?.state === "assigned" && this.scenario.canVeto && final !== "assigned") {
        out.push(`(c) #${slot.i}: assigned upstream but the proxy ends ${final}`);
      }
      for (const c of this.calls) {
        if (c.i === slot.i && c.gen === slot.gen && !slot.hungGens.has(c.gen) && !c.done) out.push(`(c) #${slot.i}: ${c.op} (call ${c.seq}) never answered`);
      }
    }
    return out;
  }
}
