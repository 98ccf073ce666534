import { mulberry32 } from "../fakes/common";
export { mulberry32 } from "../fakes/common";
import type fc from "fast-check";
import { InteractionCore, type CancelOutcome, type CoreSettings, type Host } from "../../src/interactions/interaction-core";
import { CustomerCalls, isLater } from "../../src/interactions/customer-calls";
import { ACTIVE, mayResend, TERMINAL, type Interaction, type State } from "../../src/interactions/machine";
import { normaliseCreate, normaliseCustomerRequest } from "../../src/diyalog/create-request";
import { assignmentOf, type Workitem } from "../../src/upstreams/genesys/workitem";
import { GENESYS_LOOKUP_LAG_MS } from "../../src/upstreams/genesys/adapter";
import { ENGAGE_LOOKUP_LAG_MS } from "../../src/upstreams/engage/adapter";
import type { CancelResult, DispatchRequest, DispatchResult, PollResult, UpstreamAdapter, UpstreamRef } from "../../src/upstreams/adapter";

/*
 * A simulated world for property tests of `InteractionCore` and the customer index: a virtual clock
 * (timers, timeout signals, alarms), one in-memory storage per Durable Object, restarts, and fake
 * upstreams. Everything asynchronous goes through fast-check's scheduler, so the interleaving is
 * chosen (and shrunk) by fast-check.
 *
 * Objects. Each customer has one object (`CustomerInteractions`) holding that customer's
 * interactions: its create routing is the REAL `CustomerCalls` of src/interactions/customer-calls.ts
 * (the one-active-call rule, its in-flight joins), and each interaction in it is an `InteractionCore`
 * over its own record and alarm (the object multiplexes one alarm over them; an early alarm is
 * harmless, so each interaction's alarm is modelled as its own). `CustomerCalls` calls its cores
 * directly, as in the object, and the customer's latest interaction is read from the stored records.
 * Diyalog's creates go through the real `normaliseCreate` first (a 400 is an answer too), each with
 * an identityNumber. Erasure (POST /v1/customers/erase, its body through the real
 * `normaliseCustomerRequest`) is modelled as `CustomerInteractions.erase` runs it: every stored
 * interaction of the customer is erased by its core (`InteractionCore.erase`), all at once, and
 * the answer lists those answered cancelled or unconfirmed. As in the object, a new interaction's
 * personal fields are sealed (an await) before its record is first stored, and the latest record
 * is kept in memory per instance and read from storage after a restart.
 *
 * Restarts. A restart makes a new instance over the same storage, of the whole customer object: its
 * `CustomerCalls` (in-flight creates) and every interaction core it holds (a command or fault that
 * names one interaction, or "index" for every customer object, restarts the object(s) holding it). The old instance is fenced like a
 * replaced Durable Object: its storage and alarm calls throw, answers it gives afterwards never
 * reach its caller, and RPCs in flight into it fail. Its requests already on the wire still reach
 * the upstream. A restart either "hangs" the old instance (its pending I/O and timers never resolve:
 * a crash) or lets it run on as a fenced zombie. Restarts come as commands AND as faults placed at
 * an await point: every scheduled resolution and every timer firing counts one step, and a fault
 * fires at its step, i.e. between any two resolutions the scheduler makes.
 *
 * Alarms, as the runtime runs them: only a stored alarm fires, and it is cleared as it fires; a
 * handler that throws or is cut short by a restart is retried (at-least-once) 2 s later; a
 * duplicate delivery runs the handler again, possibly while the first run is still going.
 *
 * Upstream models (the adapters' logic mirrored from src/upstreams/*, one request = one scheduled
 * arrival, where the upstream acts, then one scheduled answer):
 * - http: Idempotency-Key replay, claim hook (veto); a refused claim keeps the copy from agents.
 * - http409: as http, but a create that arrives while another with the same key is still being
 *   processed is answered 409 "in progress" (http.ts retries it: transient).
 * - twilio: no key; a create with mayExist first lists Tasks by interactionId (the list may lag
 *   behind creates, up to 6 s here; the adapter states no lag) and learns every Task listed; veto by
 *   the assignment callback as twilio/routes.ts answers it: a Task that is not the one the
 *   interaction follows, or one whose interaction is gone or closed, is rejected and cancelled; a
 *   Task nobody is offered ends at its Timeout (queue timeout + 300 s), counted for liveness.
 * - genesys: no key; lookup by externalTag before create when mayExist, learning every workitem
 *   found; the lag is at most what the adapter states (`lookupLagMs`); no veto (the ACD gives calls
 *   to agents, the proxy polls); a new workitem is Idle for a while before routing; cancel = read,
 *   terminate (Idle) or ACD cancel (routing), read, decided by the real `assignmentOf`.
 * - connect: ClientToken idempotent within a window; no veto, polled; cancel = describe, stop.
 * - engage: no key; lookup by external id before create when mayExist, which answers one
 *   interaction (the first created), within the lag the adapter states; no veto, polled; cancel =
 *   read (an agent has it → too late), stop (refused while an agent's desktop holds it), read.
 * The adapters' control flow is mirrored here, not run: the real ones parse `Response` bodies, which
 * resolve outside the microtask queue and so outside the scheduler's control. Classifications are
 * mirrored as the adapters make them (a failed lookup is transient on both twilio and genesys);
 * Genesys workitem states go through the real `assignmentOf`. A permanent refusal is sticky per
 * interaction (it is about the payload); a transient answer (503, 429) makes nothing upstream.
 *
 * Assumptions the proxy relies on, and the world keeps to (README "Guarantee"):
 * - a request acts upstream within its timeout (the AbortSignal's UPSTREAM_TIMEOUT_MS) or never:
 *   one the scheduler would deliver later is dropped on the wire (`arrivesTooLate`);
 * - a lookup upstream shows a new copy within the lag its adapter states.
 *
 * Invariants are checked at the event that could break them (a dispatch starting, an agent getting
 * a call, an answer reaching Diyalog, a copy being made), so at every step, and again at the end.
 */

export type Model = "http" | "http409" | "twilio" | "genesys" | "connect" | "engage";
export const MODELS: readonly Model[] = ["http", "http409", "twilio", "genesys", "connect", "engage"];

interface ModelSpec {
  canVeto: boolean;
  create: "key" | "key409" | "lookup" | "token";
  /** Twilio: a claim refused for a closed call also cancels the Task. */
  withdrawOnRefusal: boolean;
  /** Lookup upstreams: the lag the adapter states (and the proxy waits out before a lookup). */
  lookupLagMs?: number;
}
const SPECS: Record<Model, ModelSpec> = {
  http: { canVeto: true, create: "key", withdrawOnRefusal: false },
  http409: { canVeto: true, create: "key409", withdrawOnRefusal: false },
  // No stated lag: the claim veto keeps a copy the lookup missed from every agent, and TaskRouter
  // cancels it at its Timeout (or the assignment callback withdraws it when offered).
  twilio: { canVeto: true, create: "lookup", withdrawOnRefusal: true },
  genesys: { canVeto: false, create: "lookup", withdrawOnRefusal: false, lookupLagMs: GENESYS_LOOKUP_LAG_MS },
  connect: { canVeto: false, create: "token", withdrawOnRefusal: false },
  // The lookup-based model fits Engage: the external id finds the interaction an earlier create made.
  engage: { canVeto: false, create: "lookup", withdrawOnRefusal: false, lookupLagMs: ENGAGE_LOOKUP_LAG_MS },
};
/**
 * The longest lookup lag a scenario may draw for a model: what its adapter states it assumes about
 * the vendor (`lookupLagMs`). A longer lag is outside what the proxy can guarantee against.
 */
export const statedLookupLagMs = (model: Model): number => SPECS[model].lookupLagMs ?? (SPECS[model].create === "lookup" ? 6_000 : 0);
/** Twilio: TaskRouter cancels a Task at its Timeout, the queue timeout plus a margin (twilio/adapter.ts). */
const TWILIO_TTL_MARGIN_MS = 300_000;
export const canVeto = (model: Model): boolean => SPECS[model].canVeto;

/** What a request does when it reaches the upstream: its answer, and whether that answer comes back. */
type Arrival<T> = { answer: T; deliver: boolean };

/** What the upstream does with one request (a create, a lookup). */
export type DispatchPlan = "accept" | "503" | "429" | "reject" | "lost" | "lost-hang";
export type CancelPlan = "ok" | "503" | "429" | "lost" | "lost-hang";

/** Interactions and customers are named by index: `n` is the n-th interaction created (mod count). */
export type Command =
  | { t: "create"; c: number }
  /** Diyalog's POST /v1/customers/erase for the c-th customer. */
  | { t: "erase"; c: number }
  | { t: "cancel"; n: number }
  | { t: "claim"; n: number; agent: string; named: boolean }
  | { t: "abandon"; n: number }
  | { t: "alarm"; n: number }
  | { t: "restart"; target: number | "index"; hang: boolean }
  | { t: "tick"; ms: number };

/** A restart at the `step`-th await point of the run. */
export interface Fault {
  step: number;
  target: number | "index";
  hang: boolean;
}

export interface Scenario {
  model: Model;
  customers: string[];
  settings: CoreSettings;
  dispatchPlans: DispatchPlan[];
  cancelPlans: CancelPlan[];
  retryAfterMs: number;
  randomSeed: number;
  /** How long a new copy stays invisible to a lookup (twilio, genesys). */
  lookupLagMs: number;
  /** How long a ClientToken makes a repeat the same contact (connect). */
  tokenWindowMs: number;
  /** How long a new Genesys workitem stays Idle before ACD routes it. */
  idleMs: number;
  commands: Command[];
  faults: Fault[];
  /**
   * The order in which the customer object, reading its records after a restart, meets records
   * created in the same millisecond before `isLater` (the object's own rule) picks the latest:
   * `creation` (the one created last comes last), or `key` (storage key order, as
   * CustomerInteractions.stored() lists them: real ids end in random bits, so any order). Unset: `creation`.
   */
  latestTies?: "creation" | "key";
}

type CopyState = "idle" | "queued" | "assigned" | "cancelled" | "abandoned";

/** One record the upstream holds (a task, workitem, contact). */
interface Copy {
  upstreamId: string;
  tag: string;
  customerId: string;
  state: CopyState;
  createdAt: number;
  visibleAt: number;
  routesAt: number;
  agent?: string;
  /** A claim for it was refused (veto upstreams): the upstream will not give it to that agent. */
  vetoed: boolean;
}

interface CallLog {
  op: "create" | "cancel" | "erase";
  seq: number;
  /** create, erase: the customer (normalised); cancel: the interaction id. */
  who: string;
  done: boolean;
  /** The answer reached Diyalog. */
  acked: boolean;
  /** erase: `kind` "erased", with the ids it answered cancelled or unconfirmed, as the object answers. */
  outcome?: { kind: string; interactionId?: string; state?: string; erased?: number; cancelled?: string[]; cancelUnconfirmed?: string[] };
  /** erase: the interactions the erasure reached, and which of them were active when it did. */
  covered?: string[];
  activeWhenReached?: string[];
}

/** What `CustomerInteractions.erase` answers (less the customerRef and the log fields). */
interface ErasureAnswer {
  kind: "erased";
  erased: number;
  cancelled: string[];
  cancelUnconfirmed: string[];
}

/**
 * One instance of a customer's object: the real `CustomerCalls` for creates, and erasure as
 * `CustomerInteractions.erase` does it (every interaction of the customer, in parallel).
 */
interface CustomerInstance {
  calls: CustomerCalls;
  erase(customerId: string, entry: CallLog): Promise<ErasureAnswer>;
  /** A record of the object was stored for the first time, or purged (the object's `latest` bookkeeping). */
  stored(interactionId: string): void;
  purged(interactionId: string): void;
}

interface Slot {
  n: number;
  id: string;
  storage: { record?: Interaction; alarmAt?: number };
  /** The customer whose object holds this interaction (set when its create is made). */
  customer?: string;
  gen: number;
  hungGens: Set<number>;
  core: InteractionCore;
  /** Every state the live instances stored, in order (kept after purge). */
  stored: State[];
  purged: boolean;
  alarmsRunning: { gen: number; done: boolean }[];
  lastAlarmGen?: number;
  /** RPCs in flight into this object, failed when it restarts. */
  pending: Set<{ gen: number; fail: () => void }>;
}

interface CustomerObject {
  gen: number;
  hungGens: Set<number>;
  instance: CustomerInstance;
  pending: Set<{ gen: number; fail: () => void }>;
}

class StaleInstance extends Error {
  constructor() {
    super("Durable Object was reset: this instance is no longer live");
    this.name = "StaleInstance";
  }
}
class ObjectReset extends Error {
  constructor() {
    super("the Durable Object was reset while the call was in flight");
    this.name = "ObjectReset";
  }
}

const TIMED_OUT = new DOMException("The operation timed out.", "TimeoutError");

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const START = Date.UTC(2026, 5, 1, 9, 0, 0);
/** Every create carries one (a TCKN-shaped test value): minimisation must drop it from storage. */
const IDENTITY_NUMBER = "10000000146";
const POLL_INTERVAL_MS = 5_000;
const ALARM_RETRY_MS = 2_000;
/** Twilio's assignment callback refuses for these reasons and then cancels the Task (twilio/routes.ts). */
const WITHDRAW = new Set(["cancelling", "cancelled", "failed", "expired", "not_found"]);

export class World {
  now = START;
  private timers: { at: number; seq: number; fire: () => void }[] = [];
  private seq = 0;
  /** Await points passed so far (scheduled resolutions and timer firings); faults fire at them. */
  step = 0;
  readonly slots: Slot[] = [];
  private readonly byId = new Map<string, Slot>();
  readonly copies: Copy[] = [];
  /** Keys a key-based upstream refused for good. */
  private readonly rejectedKeys = new Set<string>();
  /** http409: keys of creates being processed right now. */
  private readonly processing = new Set<string>();
  readonly calls: CallLog[] = [];
  /** Agents given a call: a granted claim (veto) or the ACD's own choice (no veto). */
  readonly assignments: { id: string; agent: string; seq: number; copy: string }[] = [];
  /** Safety violations, recorded the moment they happen. */
  readonly violations: string[] = [];
  readonly errors: string[] = [];
  readonly trace: string[] = [];
  /** When each upstream request's timeout fires: the request must have reached the upstream by then. */
  readonly sendDeadlines = new WeakMap<AbortSignal, number>();
  private dispatchIndex = 0;
  private cancelIndex = 0;
  private upstreamSeq = 0;
  /** Concurrent adapter.dispatch calls, by instance (slot id + generation). */
  private readonly dispatching = new Map<string, number>();
  private readonly everDispatched = new Set<string>();
  private idSeq = 0;
  /** Customers an erasure reached. */
  private readonly erasedCustomers = new Set<string>();
  readonly spec: ModelSpec;
  /** Each customer's object: its live instance, generation, and RPCs in flight into it. */
  private readonly customerObjects = new Map<string, CustomerObject>();
  readonly counters = {
    dispatches: 0,
    cancels: 0,
    polls: 0,
    claims: 0,
    claimsRefused: 0,
    claimsRefusedAfterCancelAck: 0,
    lost: 0,
    restarts: 0,
    faultRestarts: 0,
    indexRestarts: 0,
    restartsWhileDispatching: 0,
    restartsWhileCancelling: 0,
    cancelsWhileDispatching: 0,
    alarms: 0,
    duplicateAlarms: 0,
    indexAlarms: 0,
    overlappingAlarms: 0,
    duplicateCopies: 0,
    conflicts409: 0,
    invalidCreates: 0,
    /** Creates for one of two customers whose ids differ only by a lone surrogate vs U+FFFD. */
    lookalikeCustomerCreates: 0,
    /** Erasures that reached a customer's object, and how they met the customer's calls. */
    erasures: 0,
    erasuresInvalid: 0,
    erasuresOfActiveCalls: 0,
    erasuresWhileCreating: 0,
    erasuresWhileCancelling: 0,
    erasuresWhileDispatching: 0,
    /** Creates answered with an interaction an erasure had reached (the customer's own, erased). */
    createsAnsweredErased: 0,
    /** Creates that reached the customer's object after an erasure for that customer had. */
    createsAfterErasure: 0,
    /** Erased records stored without personal data (the moment `minimised` strips them, or after). */
    erasedRecordsStripped: 0,
    /** Erasures answered while a record they reached still held personal data (a create may be resent). */
    erasedDataKeptPastAnswer: 0,
    /** Records stored without identityNumber because no create may be resent. */
    identityDropped: 0,
    /** Claims refused, and cancels made, for a call an erasure answered cancelled. */
    claimsRefusedAfterErasure: 0,
  };

  constructor(
    private readonly s: fc.Scheduler,
    readonly scenario: Scenario,
  ) {
    this.spec = SPECS[scenario.model];
  }

  private log(line: string): void {
    this.trace.push(`t+${this.now - START}ms s${this.step} ${line}`);
  }

  private label(id: string): string {
    const slot = this.byId.get(id);
    return slot ? `#${slot.n}` : `?${id.slice(0, 8)}`;
  }

  // ---- await points and faults ---------------------------------------------------------------

  /** One await point passed: faults placed here fire now, before the awaiting code resumes. */
  private point(): void {
    this.step += 1;
    for (const f of this.scenario.faults) {
      if (f.step !== this.step) continue;
      this.counters.faultRestarts += 1;
      this.restart(f.target, f.hang, "fault");
    }
  }

  /** A scheduled step: resolves when fast-check's scheduler picks it. */
  private sched(label: string): Promise<void> {
    return this.s.schedule(Promise.resolve(), label).then(() => this.point());
  }

  // ---- clock -------------------------------------------------------------------------------

  private at(at: number, fire: () => void): void {
    this.timers.push({ at, seq: ++this.seq, fire });
  }

  nextEventAt(): number | undefined {
    let next: number | undefined;
    for (const t of this.timers) if (next === undefined || t.at < next) next = t.at;
    for (const slot of this.slots) {
      const a = slot.storage.alarmAt;
      if (a !== undefined && (next === undefined || a < next)) next = a;
    }
    return next;
  }

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
        this.point();
        timer!.fire();
      } else {
        this.now = Math.max(this.now, alarmAt);
        alarmSlot!.storage.alarmAt = undefined;
        this.point();
        this.fireAlarm(alarmSlot!, "alarm fires");
      }
      await flush();
    }
    this.now = Math.max(this.now, target);
  }

  // ---- objects -----------------------------------------------------------------------------

  /** The customer's object, made on first use. */
  private customerObject(customerId: string): CustomerObject {
    let object = this.customerObjects.get(customerId);
    if (!object) {
      object = { gen: 0, hungGens: new Set(), instance: undefined as unknown as CustomerInstance, pending: new Set() };
      this.customerObjects.set(customerId, object);
      object.instance = this.newCustomerInstance(customerId, object);
    }
    return object;
  }

  /**
   * One instance of the customer's object, of generation `object.gen`: the real `CustomerCalls` over
   * this customer's stored records and cores, and erasure as `CustomerInteractions.erase` does it.
   * A replaced instance is fenced: its reads and writes of storage throw, and a crashed one's
   * pending work never resumes.
   */
  private newCustomerInstance(customerId: string, object: CustomerObject): CustomerInstance {
    const gen = object.gen;
    const live = () => {
      if (object.gen !== gen) throw new StaleInstance();
    };
    // CustomerInteractions.stored(): the latest is read from storage once per instance (one list, in
    // key order, the last of the newest createdAt winning), then kept up to date by every first
    // store (that record is the latest) and by the purge of the latest (read again when next needed).
    let known = false;
    let latest: string | undefined;
    const calls = new CustomerCalls({
      latest: () => {
        live();
        if (!known) {
          let newest: Interaction | undefined;
          const listed = this.slots.filter((slot) => slot.customer === customerId && slot.storage.record !== undefined);
          if (this.scenario.latestTies === "key") listed.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
          for (const slot of listed) if (isLater(slot.storage.record!, newest)) newest = slot.storage.record;
          latest = newest?.interactionId;
          known = true;
        }
        return latest;
      },
      create: async (input) => {
        live();
        if (!input.existing) {
          // CustomerInteractions encrypts a new interaction's personal fields before its record is
          // first stored: an await, so an erasure (or anything else) may run on the object meanwhile.
          await this.sched(`customer object ${JSON.stringify(customerId)} seals a new interaction`);
          if (object.hungGens.has(gen)) await new Promise<never>(() => {});
          live();
        }
        const slot = this.slotFor(input.interactionId);
        slot.customer = customerId;
        return slot.core.create(input);
      },
      // Real ids end in 128 random bits, so their key order is not their creation order.
      newId: () => `ix-${Math.floor(Math.random() * 1296).toString(36).padStart(2, "0")}-${++this.idSeq}-${customerId.length}`,
    });
    return {
      calls,
      erase: (id, entry) => (live(), this.eraseCustomer(customerId, id, entry)),
      stored: (interactionId) => {
        latest = interactionId;
        known = true;
      },
      purged: (interactionId) => {
        if (latest === interactionId) known = false;
      },
    };
  }

  /**
   * `CustomerInteractions.erase`: every interaction of the customer the object stores (an erased one
   * is still its customer's) is erased, each by its core, all at once; the answer lists the ids
   * answered cancelled (done and cancelled, or 202 cancelling) and those whose cancel is unconfirmed.
   */
  private async eraseCustomer(customerId: string, id: string, entry: CallLog): Promise<ErasureAnswer> {
    const answer: ErasureAnswer = { kind: "erased", erased: 0, cancelled: [], cancelUnconfirmed: [] };
    const told = {};
    const mine = this.slots.filter((slot) => {
      if (slot.customer !== customerId || slot.storage.record === undefined) return false;
      const ix = slot.core.get(slot.id);
      return ix !== null && (ix.erased === true || ix.customerId === id);
    });
    this.counters.erasures += 1;
    if (this.calls.some((c) => c.op === "create" && !c.done && c.who === customerId)) this.counters.erasuresWhileCreating += 1;
    if (mine.some((slot) => this.calls.some((c) => c.op === "cancel" && !c.done && c.who === slot.id))) this.counters.erasuresWhileCancelling += 1;
    if (mine.some((slot) => slot.storage.record?.state === "dispatching")) this.counters.erasuresWhileDispatching += 1;
    entry.covered = mine.map((slot) => slot.id);
    entry.activeWhenReached = mine.filter((slot) => ACTIVE.has(slot.storage.record!.state)).map((slot) => slot.id);
    if (entry.activeWhenReached.length > 0) this.counters.erasuresOfActiveCalls += 1;
    this.erasedCustomers.add(customerId);
    this.log(`customer object ${JSON.stringify(customerId)}: erasure (call ${entry.seq}) reaches ${mine.map((slot) => `#${slot.n} ${slot.storage.record!.state}`).join(", ") || "nothing"}`);
    await Promise.all(
      mine.map(async (slot) => {
        const outcome: CancelOutcome | undefined = await slot.core.erase(slot.id, undefined, told);
        if (outcome?.kind === "not_found") return;
        answer.erased += 1;
        if (outcome?.kind === "unconfirmed") answer.cancelUnconfirmed.push(slot.id);
        else if (outcome?.kind === "cancelling" || (outcome?.kind === "done" && outcome.state === "cancelled")) answer.cancelled.push(slot.id);
      }),
    );
    return answer;
  }

  /** The interaction object for an id, made on first use (a Durable Object exists once addressed). */
  private slotFor(id: string): Slot {
    let slot = this.byId.get(id);
    if (slot) return slot;
    const fields: Omit<Slot, "core"> = { n: this.slots.length, id, storage: {}, gen: 0, hungGens: new Set(), stored: [], purged: false, alarmsRunning: [], pending: new Set() };
    slot = fields as Slot;
    slot.core = new InteractionCore(this.host(slot, 0));
    this.slots.push(slot);
    this.byId.set(id, slot);
    return slot;
  }

  /**
   * An RPC into an interaction object: it arrives (a scheduled step), the method runs on the live
   * instance, its answer comes back (another step). It fails if the callee restarts meanwhile; the
   * caller never hears back if the caller itself crashed.
   */
  private rpc(slot: Slot, method: string, args: unknown[], caller: { hung: () => boolean }): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const deliver = (fn: () => void) => {
        if (!caller.hung()) fn();
      };
      void this.sched(`rpc ${this.label(slot.id)}.${method} arrives`).then(() => {
        // A caller that crashed before its call left never sends it.
        if (caller.hung()) return this.log(`rpc ${this.label(slot.id)}.${method} dropped: its caller crashed`);
        const gen = slot.gen;
        let done = false;
        const entry = {
          gen,
          fail: () => {
            if (done) return;
            done = true;
            void this.sched(`rpc ${this.label(slot.id)}.${method} fails`).then(() => deliver(() => reject(new ObjectReset())));
          },
        };
        slot.pending.add(entry);
        let run: Promise<unknown>;
        try {
          run = Promise.resolve((slot.core as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args));
        } catch (err) {
          run = Promise.reject(err);
        }
        run.then(
          (value) => {
            if (done || slot.gen !== gen) return;
            done = true;
            slot.pending.delete(entry);
            void this.sched(`rpc ${this.label(slot.id)}.${method} answer`).then(() => deliver(() => resolve(value)));
          },
          (err: unknown) => {
            if (done || slot.gen !== gen) return;
            done = true;
            slot.pending.delete(entry);
            this.background(slot, gen, err);
            void this.sched(`rpc ${this.label(slot.id)}.${method} throws`).then(() => deliver(() => reject(err)));
          },
        );
      });
    });
  }

  /** An RPC into a customer's object (Diyalog's create). */
  private indexRpc<T>(customerId: string, label: string, call: (instance: CustomerInstance) => Promise<T>, caller: { hung: () => boolean }): Promise<T> {
    const object = this.customerObject(customerId);
    return new Promise<T>((resolve, reject) => {
      const deliver = (fn: () => void) => {
        if (!caller.hung()) fn();
      };
      void this.sched(`index.${label} arrives`).then(() => {
        if (caller.hung()) return this.log(`index.${label} dropped: its caller crashed`);
        const gen = object.gen;
        let done = false;
        const entry = {
          gen,
          fail: () => {
            if (done) return;
            done = true;
            void this.sched(`index.${label} fails`).then(() => deliver(() => reject(new ObjectReset())));
          },
        };
        object.pending.add(entry);
        let run: Promise<T>;
        try {
          run = call(object.instance);
        } catch (err) {
          run = Promise.reject(err);
        }
        run.then(
          (value) => {
            if (done || object.gen !== gen) return;
            done = true;
            object.pending.delete(entry);
            void this.sched(`index.${label} answer`).then(() => deliver(() => resolve(value)));
          },
          (err: unknown) => {
            if (done || object.gen !== gen) return;
            done = true;
            object.pending.delete(entry);
            if (!(err instanceof StaleInstance) && !(err instanceof ObjectReset)) this.errors.push(`index: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
            void this.sched(`index.${label} throws`).then(() => deliver(() => reject(err)));
          },
        );
      });
    });
  }

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
        world.sendDeadlines.set(controller.signal, world.now + ms);
        return controller.signal;
      },
      load: () => {
        live();
        return slot.storage.record;
      },
      store: (ix) => {
        live();
        const first = slot.storage.record === undefined;
        slot.storage.record = deepFreeze(ix);
        if (first && slot.customer !== undefined) world.customerObject(slot.customer).instance.stored(slot.id);
        world.checkStored(slot, ix);
        if (slot.stored[slot.stored.length - 1] !== ix.state) {
          slot.stored.push(ix.state);
          world.log(`#${slot.n} stored ${ix.state}${ix.upstream.cleanup ? ` (cleanup ${ix.upstream.cleanup})` : ""}`);
        }
      },
      deleteAll: async () => {
        live();
        if (slot.customer !== undefined) world.customerObject(slot.customer).instance.purged(slot.id);
        slot.storage = {};
        slot.purged = true;
        world.log(`#${slot.n} purged`);
      },
      setAlarm: (at) => {
        live();
        slot.storage.alarmAt = at;
      },
      waitUntil: (work) => {
        work.catch((err: unknown) => world.background(slot, gen, err));
      },
    };
  }

  private background(slot: Slot, gen: number, err: unknown): void {
    if (gen !== slot.gen || err instanceof StaleInstance || err instanceof ObjectReset) return;
    this.errors.push(`#${slot.n} gen ${gen}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }

  // ---- the upstream ------------------------------------------------------------------------

  /** One request to the upstream: it arrives (the upstream acts), then its answer (unless timed out). */
  private request<T>(
    slot: Slot,
    gen: number,
    signal: AbortSignal,
    label: string,
    arrive: () => Arrival<T> | Promise<Arrival<T>>,
    timedOut: T,
  ): Promise<T> {
    return new Promise<T>((resolve) => {
      let settled = false;
      const finish = (answer: T) => {
        if (settled || slot.hungGens.has(gen)) return;
        settled = true;
        resolve(answer);
      };
      if (signal.aborted) return finish(timedOut);
      signal.addEventListener("abort", () => finish(timedOut));
      void this.sched(`${label} reaches upstream`).then(() => {
        if (this.arrivesTooLate(signal, label)) return;
        const deliverAnswer = ({ answer, deliver }: Arrival<T>) => {
          if (deliver) void this.sched(`${label} answer`).then(() => finish(answer));
        };
        const arrival = arrive();
        if (arrival instanceof Promise) void arrival.then(deliverAnswer);
        else deliverAnswer(arrival);
      });
    });
  }

  /**
   * ASSUMPTION (README "Guarantee"): the upstream acts on a request within the request's timeout
   * (UPSTREAM_TIMEOUT_MS) of its send, or never: one the scheduler delivers later was abandoned on
   * the wire. Without a bound no proxy could tell when a create it gave up on stops being able to
   * make a copy.
   */
  private arrivesTooLate(signal: AbortSignal, label: string): boolean {
    const until = this.sendDeadlines.get(signal);
    if (until === undefined || this.now <= until) return false;
    this.log(`${label} did not reach upstream within its timeout: dropped on the wire`);
    return true;
  }

  private nextPlan(): DispatchPlan {
    return this.scenario.dispatchPlans[this.dispatchIndex++] ?? "accept";
  }

  private adapter(slot: Slot, gen: number): UpstreamAdapter {
    const world = this;
    const spec = this.spec;
    const instance = `${slot.id}/${gen}`;
    return {
      name: world.scenario.model,
      canVeto: spec.canVeto,
      ...(spec.lookupLagMs === undefined ? {} : { lookupLagMs: spec.lookupLagMs }),
      ...(spec.canVeto ? {} : { pollIntervalMs: POLL_INTERVAL_MS, poll: (ref: UpstreamRef, signal: AbortSignal) => world.poll(slot, gen, ref, signal) }),
      dispatch(request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult> {
        world.counters.dispatches += 1;
        // (a) one dispatch in flight per live instance.
        const inFlight = (world.dispatching.get(instance) ?? 0) + 1;
        world.dispatching.set(instance, inFlight);
        if (inFlight > 1 && slot.gen === gen) world.violations.push(`(a) #${slot.n} g${gen}: ${inFlight} dispatches in flight at once`);
        if (request.mayExist === false && world.everDispatched.has(request.interactionId)) world.violations.push(`(k) #${slot.n}: repeat dispatch sent with mayExist:false`);
        world.everDispatched.add(request.interactionId);
        if (request.interactionId !== slot.id) world.violations.push(`(k) #${slot.n}: dispatched as ${request.interactionId}`);
        // (m) minimisation never strips what a create still needs: every send carries the customer's data.
        if (request.customerId !== slot.customer || request.attributes.TRX !== "Diyalog" || request.identityNumber !== IDENTITY_NUMBER) {
          world.violations.push(`(m) #${slot.n}: create sent without its customer's data (${request.customerId === "" ? "customerId erased" : "fields missing"})`);
        }
        world.log(`#${slot.n} dispatch g${gen}${request.mayExist ? "" : " (first attempt)"}`);
        return world.dispatch(slot, gen, request, signal).finally(() => world.dispatching.set(instance, (world.dispatching.get(instance) ?? 1) - 1));
      },
      cancel(ref: UpstreamRef, signal: AbortSignal): Promise<CancelResult> {
        const plan = world.scenario.cancelPlans[world.cancelIndex++] ?? "ok";
        world.counters.cancels += 1;
        const label = `#${slot.n} cancel(${plan}) ${ref.upstreamId} g${gen}`;
        world.log(`${label} sent`);
        if (ref.interactionId !== slot.id) world.violations.push(`(k) #${slot.n}: cancel for ${ref.interactionId}`);
        return world.request<CancelResult>(slot, gen, signal, label, () => world.arriveCancel(slot, ref, plan), { kind: "retry", reason: "timed out" });
      },
    };
  }

  private async dispatch(slot: Slot, gen: number, request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult> {
    const timedOut: DispatchResult = { kind: "retry", reason: "timed out" };
    if (this.spec.create === "lookup" && request.mayExist) {
      // twilio/adapter.ts and genesys/adapter.ts: look the interaction up before creating it again.
      const plan = this.nextPlan();
      const label = `#${slot.n} lookup(${plan}) g${gen}`;
      const found = await this.request<DispatchResult | undefined>(slot, gen, signal, label, () => this.arriveLookup(slot, request, plan), timedOut);
      if (found) return found;
    }
    const plan = this.nextPlan();
    const label = `#${slot.n} create(${plan}) g${gen}`;
    if (this.spec.create === "key409") {
      // Processing takes a scheduled step of its own, so a concurrent duplicate can arrive meanwhile.
      return this.request<DispatchResult>(
        slot,
        gen,
        signal,
        label,
        () => {
          const key = request.interactionId;
          if (plan !== "503" && plan !== "429" && this.processing.has(key)) {
            this.counters.conflicts409 += 1;
            this.log(`upstream: ${label} → 409 in progress`);
            // http.ts: a 409 to a create means the same key is still in flight: transient.
            return { answer: { kind: "retry", reason: "HTTP 409 (same key in flight)", status: 409 }, deliver: true };
          }
          if (plan !== "503" && plan !== "429") this.processing.add(key);
          return this.sched(`${label} processed`).then(() => {
            this.processing.delete(key);
            return this.arriveCreate(slot, request, plan);
          });
        },
        timedOut,
      );
    }
    return this.request<DispatchResult>(slot, gen, signal, label, () => this.arriveCreate(slot, request, plan), timedOut);
  }

  private transient(plan: DispatchPlan | CancelPlan): { answer: DispatchResult & CancelResult; deliver: boolean } | undefined {
    if (plan === "503") return { answer: { kind: "retry", reason: "HTTP 503", status: 503 }, deliver: true };
    if (plan === "429") return { answer: { kind: "retry", reason: "HTTP 429", status: 429, retryAfterMs: this.scenario.retryAfterMs }, deliver: true };
    return undefined;
  }

  private arriveLookup(slot: Slot, request: DispatchRequest, plan: DispatchPlan): { answer: DispatchResult | undefined; deliver: boolean } {
    const t = this.transient(plan);
    if (t) return t;
    if (plan === "reject") {
      // twilio find() and genesys find(): a failed lookup is transient, never "nothing exists".
      this.log(`upstream: #${slot.n} lookup → 400`);
      return { answer: { kind: "retry", reason: "lookup failed", status: 400 }, deliver: true };
    }
    // twilio find() and genesys find() answer every copy the lookup shows; Engage's external-id
    // read (engage/adapter.ts find()) answers one interaction, the first created.
    const visible = this.copies.filter((c) => c.tag === request.interactionId && c.visibleAt <= this.now).map((c) => c.upstreamId);
    const [found, ...others] = this.scenario.model === "engage" ? visible.slice(0, 1) : visible;
    this.log(`upstream: #${slot.n} lookup → ${found ? [found, ...others].join(", ") : "nothing"}`);
    if (plan === "lost" || plan === "lost-hang") return { answer: undefined, deliver: false };
    if (found === undefined) return { answer: undefined, deliver: true };
    return { answer: others.length > 0 ? { kind: "accepted", upstreamId: found, others } : { kind: "accepted", upstreamId: found }, deliver: true };
  }

  private arriveCreate(slot: Slot, request: DispatchRequest, plan: DispatchPlan): { answer: DispatchResult; deliver: boolean } {
    const t = this.transient(plan);
    if (t) {
      this.log(`upstream: #${slot.n} create → ${plan}`);
      return t;
    }
    const key = request.interactionId;
    // A permanent refusal is about the payload, which never changes for an interaction: once
    // refused, always refused; once accepted, never refused.
    const held = this.copies.some((c) => c.tag === key);
    if (this.rejectedKeys.has(key) || (plan === "reject" && !held)) {
      this.rejectedKeys.add(key);
      this.log(`upstream: #${slot.n} create → 4xx (refused for good)`);
      return { answer: { kind: "rejected", reason: "HTTP 422", status: 422 }, deliver: true };
    }
    let copy: Copy | undefined;
    if (this.spec.create === "key" || this.spec.create === "key409") {
      copy = this.copies.find((c) => c.tag === key);
    } else if (this.spec.create === "token") {
      copy = this.copies.find((c) => c.tag === key && this.now < c.createdAt + this.scenario.tokenWindowMs);
    }
    if (copy) {
      this.log(`upstream: #${slot.n} create replayed → ${copy.upstreamId} (${copy.state})`);
    } else {
      copy = this.newCopy(slot, request);
    }
    if (plan === "lost" || plan === "lost-hang") {
      this.counters.lost += 1;
      this.log(`upstream: #${slot.n} create answer lost${plan === "lost-hang" ? " (hangs)" : ""}`);
      return { answer: { kind: "retry", reason: "timed out" }, deliver: plan === "lost" };
    }
    return { answer: { kind: "accepted", upstreamId: copy.upstreamId }, deliver: true };
  }

  private newCopy(slot: Slot, request: DispatchRequest): Copy {
    if (this.copies.some((c) => c.tag === request.interactionId)) this.counters.duplicateCopies += 1;
    const idle = this.scenario.model === "genesys" && this.scenario.idleMs > 0;
    const copy: Copy = {
      upstreamId: `up-${slot.n}-${++this.upstreamSeq}`,
      tag: request.interactionId,
      customerId: request.customerId,
      state: idle ? "idle" : "queued",
      createdAt: this.now,
      visibleAt: this.now + (this.spec.create === "lookup" ? this.scenario.lookupLagMs : 0),
      routesAt: this.now + (idle ? this.scenario.idleMs : 0),
      vetoed: false,
    };
    this.copies.push(copy);
    this.log(`upstream: #${slot.n} copy ${copy.upstreamId} created (${copy.state})`);
    this.checkOneActive(copy);
    return copy;
  }

  /** A Genesys workitem leaves Idle once ACD starts routing it. */
  private touch(copy: Copy | undefined): Copy | undefined {
    if (copy?.state === "idle" && this.now >= copy.routesAt) copy.state = "queued";
    return copy;
  }

  private workitem(copy: Copy | undefined): Workitem | null {
    if (!copy) return null;
    const assignmentState = { idle: "Idle", queued: "Waiting", assigned: "Connected", cancelled: "AcdCancelled", abandoned: "Terminated" }[copy.state];
    return { id: copy.upstreamId, externalTag: copy.tag, assignmentState, ...(copy.agent ? { assignee: { id: copy.agent } } : {}) };
  }

  private arriveCancel(slot: Slot, ref: UpstreamRef, plan: CancelPlan): { answer: CancelResult; deliver: boolean } {
    const t = this.transient(plan);
    if (t) {
      this.log(`upstream: #${slot.n} cancel → ${plan}`);
      return t;
    }
    const copy = this.touch(this.copies.find((c) => c.upstreamId === ref.upstreamId));
    let answer: CancelResult;
    if (this.scenario.model === "genesys") {
      // genesys/adapter.ts cancel(): read; with agent → too late; ended → cancelled (too late with an
      // assignee); else take it out of routing (terminate while Idle, ACD cancel while routing),
      // read again and decide by assignmentOf: only an ended workitem confirms.
      const before = assignmentOf(this.workitem(copy));
      if (!copy) answer = { kind: "cancelled" };
      else if (before.kind === "with_agent") answer = { kind: "too_late", ...(before.agentId ? { agentId: before.agentId } : {}) };
      else if (before.kind === "ended") answer = copy.agent ? { kind: "too_late", agentId: copy.agent } : { kind: "cancelled" };
      else {
        if (copy.state === "queued" || copy.state === "idle") copy.state = "cancelled";
        const now = assignmentOf(this.workitem(copy));
        if (now.kind === "with_agent") answer = { kind: "too_late", ...(now.agentId ? { agentId: now.agentId } : {}) };
        else if (now.kind === "ended") answer = { kind: "cancelled" };
        else answer = { kind: "retry", reason: "Genesys has not confirmed the cancel yet" };
      }
    } else if (copy?.state === "assigned") {
      answer = { kind: "too_late", ...(copy.agent ? { agentId: copy.agent } : {}) };
    } else {
      if (copy && (copy.state === "queued" || copy.state === "idle")) copy.state = "cancelled";
      answer = { kind: "cancelled" };
    }
    this.log(`upstream: #${slot.n} cancel ${ref.upstreamId} → ${answer.kind}${plan === "ok" ? "" : `, answer ${plan}`}`);
    if (plan === "lost" || plan === "lost-hang") return { answer: { kind: "retry", reason: "timed out" }, deliver: plan === "lost" };
    return { answer, deliver: true };
  }

  private poll(slot: Slot, gen: number, ref: UpstreamRef, signal: AbortSignal): Promise<PollResult> {
    this.counters.polls += 1;
    const label = `#${slot.n} poll ${ref.upstreamId} g${gen}`;
    return this.request<PollResult>(
      slot,
      gen,
      signal,
      label,
      () => {
        const copy = this.touch(this.copies.find((c) => c.upstreamId === ref.upstreamId));
        let answer: PollResult;
        if (this.scenario.model === "genesys") {
          const seen = assignmentOf(this.workitem(copy));
          answer = !copy ? { kind: "gone" } : seen.kind === "with_agent" ? { kind: "assigned", ...(seen.agentId ? { agentId: seen.agentId } : {}) } : seen.kind === "ended" ? { kind: "gone" } : { kind: "waiting" };
        } else {
          answer = copy?.state === "assigned" ? { kind: "assigned", agentId: copy.agent! } : copy?.state === "queued" || copy?.state === "idle" ? { kind: "waiting" } : { kind: "gone" };
        }
        this.log(`upstream: ${label} → ${answer.kind}`);
        return { answer, deliver: true };
      },
      { kind: "retry", reason: "timed out" },
    );
  }

  // ---- alarms, restarts --------------------------------------------------------------------

  private fireAlarm(slot: Slot, why: string): void {
    this.counters.alarms += 1;
    this.log(`#${slot.n} ${why} g${slot.gen}`);
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
    this.log(`#${slot.n} ${why}: runtime retries the alarm at t+${slot.storage.alarmAt - START}ms`);
  }

  private restart(target: number | "index", hang: boolean, why: string): void {
    if (target === "index") {
      // Every customer object, with all it holds.
      this.counters.indexRestarts += 1;
      for (const customerId of this.customerObjects.keys()) this.restartCustomer(customerId, hang, why);
      return;
    }
    if (this.slots.length === 0) return;
    const named = this.slots[target % this.slots.length]!;
    // The interaction lives in its customer's object: that object restarts, with all it holds.
    if (named.customer !== undefined) this.restartCustomer(named.customer, hang, why);
    else this.restartSlot(named, hang, why);
  }

  /** A customer object restarts: its `CustomerCalls` and every interaction it holds. */
  private restartCustomer(customerId: string, hang: boolean, why: string): void {
    const object = this.customerObject(customerId);
    if (hang) object.hungGens.add(object.gen);
    object.gen += 1;
    for (const p of object.pending) p.fail();
    object.pending.clear();
    object.instance = this.newCustomerInstance(customerId, object);
    this.log(`customer object ${JSON.stringify(customerId)} restart (${why}, ${hang ? "crash" : "fenced zombie"}) → g${object.gen}`);
    for (const slot of this.slots) if (slot.customer === customerId) this.restartSlot(slot, hang, why);
  }

  private restartSlot(slot: Slot, hang: boolean, why: string): void {
    this.counters.restarts += 1;
    const stored = slot.storage.record;
    if (stored?.state === "dispatching") this.counters.restartsWhileDispatching += 1;
    if (stored?.state === "cancelling" || stored?.upstream.cleanup === "pending") this.counters.restartsWhileCancelling += 1;
    if (hang) slot.hungGens.add(slot.gen);
    slot.gen += 1;
    for (const p of slot.pending) p.fail();
    slot.pending.clear();
    for (const a of slot.alarmsRunning) a.done = true;
    if (slot.alarmsRunning.length > 0) this.retryAlarm(slot, "alarm handler interrupted by the restart");
    slot.alarmsRunning = [];
    slot.core = new InteractionCore(this.host(slot, slot.gen));
    this.log(`#${slot.n} restart (${why}, ${hang ? "crash" : "fenced zombie"}) → g${slot.gen}`);
  }

  // ---- commands ----------------------------------------------------------------------------

  private slotAt(n: number): Slot | undefined {
    return this.slots.length === 0 ? undefined : this.slots[n % this.slots.length];
  }

  async run(command: Command): Promise<void> {
    if (command.t === "tick") {
      this.log(`tick ${command.ms}ms`);
      await this.advanceTo(this.now + command.ms);
      return;
    }
    if (command.t === "create") return this.create(command.c);
    if (command.t === "erase") return this.erase(command.c);
    if (command.t === "restart") return this.restart(command.target, command.hang, "command");
    const slot = this.slotAt(command.n);
    if (!slot) return;
    switch (command.t) {
      case "cancel":
        return this.cancel(slot);
      case "claim":
        return this.claim(slot, command.agent, command.named);
      case "abandon": {
        const copy = this.copies.find((c) => c.tag === slot.id && (this.touch(c)!.state === "queued" || c.state === "idle"));
        if (!copy) return;
        copy.state = "abandoned";
        this.log(`upstream: #${slot.n} ${copy.upstreamId} abandoned by the caller`);
        // Veto upstreams report it; the others are polled.
        if (this.spec.canVeto) void this.rpc(slot, "upstreamEvent", [slot.id, "abandoned", "caller hung up"], { hung: () => false }).catch(() => {});
        return;
      }
      case "alarm": {
        const due = slot.storage.alarmAt !== undefined && slot.storage.alarmAt <= this.now;
        if (due) {
          slot.storage.alarmAt = undefined;
          this.fireAlarm(slot, "alarm fires");
        } else if (slot.lastAlarmGen === slot.gen) {
          this.fireAlarm(slot, "alarm delivered again");
        }
        return;
      }
    }
  }

  /** Diyalog's create: validated by the real normaliseCreate, then to the customer index. */
  private create(c: number): void {
    const raw = this.scenario.customers[c % this.scenario.customers.length]!;
    const entry: CallLog = { op: "create", seq: ++this.seq, who: raw, done: false, acked: false };
    if (raw.startsWith("X")) this.counters.lookalikeCustomerCreates += 1;
    this.calls.push(entry);
    let input;
    try {
      input = normaliseCreate({ customerId: raw, attachedData: { TRX: "Diyalog" }, identityNumber: IDENTITY_NUMBER });
    } catch (err) {
      this.counters.invalidCreates += 1;
      entry.done = entry.acked = true;
      entry.outcome = { kind: "invalid" };
      this.log(`create (call ${entry.seq}) for ${JSON.stringify(raw)} refused: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    entry.who = input.customerId;
    this.log(`create (call ${entry.seq}) for ${JSON.stringify(raw)}`);
    this.indexRpc(
      input.customerId,
      "create",
      (object) => {
        if (this.erasedCustomers.has(entry.who)) this.counters.createsAfterErasure += 1;
        return object.calls.create(input);
      },
      { hung: () => false },
    ).then(
      (outcome) => {
        entry.done = entry.acked = true;
        entry.outcome = outcome as CallLog["outcome"];
        this.log(`create (call ${entry.seq}) answered ${JSON.stringify(outcome).replace(/"interactionId":"([^"]+)"/, (_m, id: string) => `"interactionId":"${this.label(id)}"`)}`);
        this.checkCreateAnswer(entry);
      },
      (err: unknown) => {
        entry.done = true;
        this.log(`create (call ${entry.seq}) failed: ${err instanceof Error ? err.name : String(err)}`);
      },
    );
  }

  /**
   * Diyalog's POST /v1/customers/erase: the body's customerId normalised as the route does (a 400 is
   * an answer too), then to the customer's object, which erases every interaction it holds.
   */
  private erase(c: number): void {
    const raw = this.scenario.customers[c % this.scenario.customers.length]!;
    const entry: CallLog = { op: "erase", seq: ++this.seq, who: raw, done: false, acked: false };
    this.calls.push(entry);
    let customerId: string;
    try {
      customerId = normaliseCustomerRequest({ customerId: raw }).customerId;
    } catch (err) {
      this.counters.erasuresInvalid += 1;
      entry.done = entry.acked = true;
      entry.outcome = { kind: "invalid" };
      this.log(`erase (call ${entry.seq}) for ${JSON.stringify(raw)} refused: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    entry.who = customerId;
    this.log(`erase (call ${entry.seq}) for ${JSON.stringify(raw)}`);
    this.indexRpc(customerId, "erase", (object) => object.erase(customerId, entry), { hung: () => false }).then(
      (answer) => {
        entry.done = entry.acked = true;
        entry.outcome = answer;
        this.log(`erase (call ${entry.seq}) answered erased ${answer.erased}, cancelled [${answer.cancelled.map((id) => this.label(id)).join(", ")}], unconfirmed [${answer.cancelUnconfirmed.map((id) => this.label(id)).join(", ")}]`);
        this.checkErasureAnswer(entry, answer);
      },
      (err: unknown) => {
        entry.done = true;
        this.log(`erase (call ${entry.seq}) failed: ${err instanceof Error ? err.name : String(err)}`);
      },
    );
  }

  private cancel(slot: Slot): void {
    if (slot.storage.record?.state === "dispatching") this.counters.cancelsWhileDispatching += 1;
    const entry: CallLog = { op: "cancel", seq: ++this.seq, who: slot.id, done: false, acked: false };
    this.calls.push(entry);
    this.log(`#${slot.n} cancel (call ${entry.seq})`);
    this.rpc(slot, "cancel", [slot.id], { hung: () => false }).then(
      (outcome) => {
        entry.done = entry.acked = true;
        entry.outcome = outcome as CallLog["outcome"];
        this.log(`#${slot.n} cancel (call ${entry.seq}) answered ${JSON.stringify(outcome)}`);
        if (this.cancelSucceeded(slot.id)) {
          for (const a of this.assignments) if (a.id === slot.id) this.violations.push(`(b) #${slot.n}: cancel (call ${entry.seq}) answered ${entry.outcome?.kind} although agent ${a.agent} got the call`);
        }
      },
      (err: unknown) => {
        entry.done = true;
        this.log(`#${slot.n} cancel (call ${entry.seq}) failed: ${err instanceof Error ? err.name : String(err)}`);
      },
    );
  }

  /**
   * An agent is about to take the call. Veto upstreams ask the proxy (the claim hook or Twilio's
   * assignment callback, named or anonymous) and give the call only on proceed:true; they may ask
   * again for a call already given (an offer that timed out upstream). Others simply give it.
   */
  private claim(slot: Slot, agent: string, named: boolean): void {
    const veto = this.spec.canVeto;
    const copy = this.copies.find((c) => c.tag === slot.id && this.touch(c)!.state === "queued") ?? (veto ? this.copies.find((c) => c.tag === slot.id && c.state === "assigned" && c.agent !== agent) : undefined);
    if (!copy) return;
    this.counters.claims += 1;
    if (!veto) {
      this.log(`upstream: ACD gives ${copy.upstreamId} (#${slot.n}) to ${agent}`);
      this.give(slot, copy, agent);
      return;
    }
    const agentId = named || this.scenario.model === "twilio" ? agent : undefined;
    this.log(`upstream: claim ${copy.upstreamId} (#${slot.n}) for ${agent}${agentId ? "" : " (no agentId)"}`);
    if (this.scenario.model === "twilio") return this.twilioAssignment(slot, copy, agent);
    this.rpc(slot, "claim", agentId === undefined ? [slot.id] : [slot.id, agentId], { hung: () => false }).then(
      (answer) => {
        const a = answer as { proceed: boolean; reason?: string };
        this.log(`upstream: claim ${copy.upstreamId} for ${agent} → ${JSON.stringify(a)}`);
        if (a.proceed) {
          if (copy.state === "queued" || copy.state === "assigned") this.give(slot, copy, agent);
          return;
        }
        this.refused(slot, copy, a.reason);
      },
      () => {
        this.log(`upstream: claim ${copy.upstreamId} for ${agent} failed (no answer): not given`);
      },
    );
  }

  /**
   * Twilio's assignment callback as twilio/routes.ts answers it: read the interaction; purged or
   * never made → reject and cancel the Task; a Task that is not the one the interaction follows
   * (its first copy) → reject and cancel it; otherwise the claim decides, and a refusal for a
   * closed call cancels the Task too.
   */
  private twilioAssignment(slot: Slot, copy: Copy, agent: string): void {
    void this.rpc(slot, "get", [slot.id], { hung: () => false }).then(
      (value) => {
        const ix = value as Interaction | null;
        const followed = ix?.upstream.copies[0]?.id;
        if (ix === null || (followed !== undefined && followed !== copy.upstreamId)) {
          this.log(`upstream: assignment callback for ${copy.upstreamId}: ${ix === null ? "no interaction" : "not the Task followed"} → reject, withdraw`);
          return this.refused(slot, copy, "not_found");
        }
        this.rpc(slot, "claim", [slot.id, agent], { hung: () => false }).then(
          (answer) => {
            const a = answer as { proceed: boolean; reason?: string };
            this.log(`upstream: claim ${copy.upstreamId} for ${agent} → ${JSON.stringify(a)}`);
            if (a.proceed) {
              if (copy.state === "queued" || copy.state === "assigned") this.give(slot, copy, agent);
              return;
            }
            this.refused(slot, copy, a.reason);
          },
          () => this.log(`upstream: claim ${copy.upstreamId} for ${agent} failed (no answer): not given`),
        );
      },
      () => this.log(`upstream: assignment callback for ${copy.upstreamId} could not read the interaction: not given`),
    );
  }

  private refused(slot: Slot, copy: Copy, reason: string | undefined): void {
    this.counters.claimsRefused += 1;
    if (this.cancelSucceeded(slot.id)) this.counters.claimsRefusedAfterCancelAck += 1;
    if (this.erasureCancelled(slot.id)) this.counters.claimsRefusedAfterErasure += 1;
    copy.vetoed = true;
    if (this.spec.withdrawOnRefusal && reason !== undefined && WITHDRAW.has(reason) && copy.state === "queued") {
      copy.state = "cancelled";
      this.log(`upstream: Task ${copy.upstreamId} cancelled by the assignment callback`);
    }
  }

  private give(slot: Slot, copy: Copy, agent: string): void {
    copy.state = "assigned";
    copy.agent = agent;
    this.assignments.push({ id: slot.id, agent, seq: ++this.seq, copy: copy.upstreamId });
    this.log(`upstream: ${agent} has ${copy.upstreamId} (#${slot.n})`);
    if (this.cancelSucceeded(slot.id)) this.violations.push(`(b) #${slot.n}: agent ${agent} got ${copy.upstreamId} after a cancel was answered success`);
    const others = new Set(this.assignments.filter((a) => a.id === slot.id).map((a) => a.agent));
    if (others.size > 1) this.violations.push(`(g) #${slot.n}: given to ${others.size} different agents (${[...others].join(", ")})`);
  }

  // ---- checks ------------------------------------------------------------------------------

  /** A cancel answered success (done, or 202 cancelling), or an erasure answered it cancelled. */
  cancelSucceeded(id: string): boolean {
    return this.calls.some(
      (c) =>
        c.acked &&
        ((c.op === "cancel" && c.who === id && (c.outcome?.kind === "done" || c.outcome?.kind === "cancelling")) || (c.op === "erase" && c.outcome?.cancelled?.includes(id) === true)),
    );
  }

  private erasureCancelled(id: string): boolean {
    return this.calls.some((c) => c.op === "erase" && c.acked && c.outcome?.cancelled?.includes(id) === true);
  }

  /**
   * An erasure's answer reached Diyalog:
   * (b) no interaction it answered cancelled is with an agent, and none it found active still is
   *     (it cancels the customer's active call as a DELETE does);
   * (m) every interaction it reached is marked erased (until purged).
   */
  private checkErasureAnswer(entry: CallLog, answer: ErasureAnswer): void {
    for (const id of answer.cancelled) {
      for (const a of this.assignments) if (a.id === id) this.violations.push(`(b) ${this.label(id)}: erasure (call ${entry.seq}) answered it cancelled although agent ${a.agent} got the call`);
    }
    for (const id of entry.activeWhenReached ?? []) {
      const state = this.byId.get(id)?.storage.record?.state;
      if (state !== undefined && ACTIVE.has(state)) this.violations.push(`(b) ${this.label(id)}: erasure (call ${entry.seq}) answered while the call it found waiting is still ${state}`);
    }
    for (const id of entry.covered ?? []) {
      const ix = this.byId.get(id)?.storage.record;
      if (!ix) continue;
      if (ix.erased !== true) this.violations.push(`(m) ${this.label(id)}: erasure (call ${entry.seq}) answered but the record is not marked erased`);
      else if (personalFields(ix).length > 0) this.counters.erasedDataKeptPastAnswer += 1;
    }
  }

  /**
   * Checked at every write of a record:
   * (m) an erased record that no create may be resent from holds no personal data (customerId "",
   *     no attribute values, no identityNumber or its mask, no upstream free text on the timeline);
   *     no record that no create may be resent from holds identityNumber;
   * (o) one active call per customer: at most one of the customer's stored records is active.
   */
  private checkStored(slot: Slot, ix: Interaction): void {
    const resendable = mayResend(ix);
    if (!resendable && ix.identityNumber !== undefined) this.violations.push(`(m) #${slot.n}: identityNumber stored in ${ix.state} although no create may be resent`);
    if (!resendable && ix.identityNumber === undefined) this.counters.identityDropped += 1;
    if (ix.erased) {
      const held = personalFields(ix);
      if (!resendable && held.length > 0) this.violations.push(`(m) #${slot.n}: erased record stored in ${ix.state} with ${held.join(", ")} although no create may be resent`);
      if (held.length === 0) this.counters.erasedRecordsStripped += 1;
    }
    if (slot.customer !== undefined && ACTIVE.has(ix.state)) {
      const active = this.slots.filter((other) => other.customer === slot.customer && other.storage.record !== undefined && ACTIVE.has(other.storage.record.state));
      if (active.length > 1) this.violations.push(`(o) customer ${JSON.stringify(slot.customer)}: ${active.map((other) => `#${other.n} ${other.storage.record!.state}`).join(", ")} active at once`);
    }
  }

  /**
   * (c) an interaction answered to a customer belongs to that customer, and to no other: it is in
   * that customer's object, and its record (unless erased: customerId "") names that customer.
   */
  private checkCreateAnswer(entry: CallLog): void {
    const id = entry.outcome?.interactionId;
    if (id === undefined) return;
    const slot = this.byId.get(id);
    const record = slot?.storage.record;
    if (record?.erased) this.counters.createsAnsweredErased += 1;
    const owner = record === undefined || (record.erased && record.customerId === "") ? slot?.customer : record.customerId;
    if (owner !== undefined && owner !== entry.who) this.violations.push(`(c) create (call ${entry.seq}) for ${JSON.stringify(entry.who)} answered ${this.label(id)}, which belongs to ${JSON.stringify(owner)}`);
    if (slot?.customer !== undefined && slot.customer !== entry.who) this.violations.push(`(c) create (call ${entry.seq}) for ${JSON.stringify(entry.who)} answered ${this.label(id)}, held by the object of ${JSON.stringify(slot.customer)}`);
    for (const c of this.calls) {
      if (c.op === "create" && c.acked && c.outcome?.interactionId === id && c.who !== entry.who) {
        this.violations.push(`(c) customers ${JSON.stringify(c.who)} and ${JSON.stringify(entry.who)} were both answered ${this.label(id)}`);
        break;
      }
    }
    if (entry.outcome?.kind === "created" && (entry.outcome.state === "received" || entry.outcome.state === "dispatching")) {
      this.violations.push(`(f) create (call ${entry.seq}) answered created while still ${entry.outcome.state}`);
    }
  }

  /**
   * (e) one active call per customer: when the upstream makes a copy for a customer, no other
   * interaction of that customer still has a copy that can reach an agent. With a veto a copy whose
   * interaction is no longer active cannot (the claim is refused); without one, any waiting copy can.
   */
  private checkOneActive(copy: Copy): void {
    if (this.spec.canVeto) {
      // A copy made while resolving a closed interaction's id is refused to every agent.
      const state = this.byId.get(copy.tag)?.storage.record?.state;
      if (state === undefined || !ACTIVE.has(state)) return;
    }
    for (const other of this.copies) {
      if (other.tag === copy.tag || other.customerId !== copy.customerId) continue;
      if (this.touch(other)!.state !== "queued" && other.state !== "idle") continue;
      if (this.spec.canVeto) {
        const state = this.byId.get(other.tag)?.storage.record?.state;
        if (other.vetoed || state === undefined || !ACTIVE.has(state)) continue;
      }
      this.violations.push(`(e) customer ${JSON.stringify(copy.customerId)}: ${this.label(copy.tag)} dispatched while ${this.label(other.tag)} still waits upstream (${other.upstreamId})`);
    }
  }

  /** Lets everything run: scheduled tasks one by one, then time jumps to the next timer or alarm. */
  async settle(maxRounds: number): Promise<boolean> {
    for (let round = 0; round < maxRounds; round++) {
      while (this.s.count() > 0) {
        await this.s.waitOne();
        await flush();
      }
      await flush();
      if (this.s.count() > 0) continue;
      const next = this.nextEventAt();
      if (next === undefined) return true;
      await this.advanceTo(next);
    }
    return false;
  }

  /**
   * After settling: every copy still waiting upstream is offered to an agent, as the ACD would
   * eventually do (veto upstreams ask the live proxy first). Then the guarantee is checked again.
   */
  async drain(): Promise<void> {
    for (const copy of this.copies) {
      if (this.touch(copy)!.state !== "queued" && copy.state !== "idle") continue;
      if (copy.state === "idle") copy.state = "queued";
      const slot = this.byId.get(copy.tag)!;
      this.claim(slot, "late-agent", true);
      while (this.s.count() > 0) {
        await this.s.waitOne();
        await flush();
      }
    }
  }

  guaranteeViolations(): string[] {
    const out = [...this.violations];
    for (const slot of this.slots) {
      if (!this.cancelSucceeded(slot.id)) continue;
      for (const copy of this.copies) {
        if (copy.tag !== slot.id) continue;
        if (copy.state === "queued" || copy.state === "idle") {
          if (!this.spec.canVeto) out.push(`(b) #${slot.n}: cancel answered success but ${copy.upstreamId} still waits upstream for an agent`);
        }
      }
    }
    // (m) at the end too: nothing personal left in an erased record no create may be resent from.
    for (const slot of this.slots) {
      const ix = slot.storage.record;
      if (ix?.erased && !mayResend(ix) && personalFields(ix).length > 0) out.push(`(m) #${slot.n}: erased record ends ${ix.state} with ${personalFields(ix).join(", ")}`);
    }
    for (const e of this.errors) out.push(`(x) unexpected error: ${e}`);
    return [...new Set(out)];
  }

  /** Liveness once quiescent. */
  livenessViolations(quiescent: boolean): string[] {
    const out: string[] = [];
    if (!quiescent) out.push("(q) not quiescent: timers or alarms keep firing");
    for (const slot of this.slots) {
      const final = slot.stored[slot.stored.length - 1];
      if (final !== undefined && !TERMINAL.has(final)) out.push(`(l) #${slot.n}: ends ${final}, not terminal; alarm ${slot.storage.alarmAt ?? "none"}`);
      if (final !== undefined && !slot.purged) out.push(`(l) #${slot.n}: ends ${final} but its data is never purged`);
      for (const copy of this.copies) {
        // Eventually: TaskRouter cancels a Task left waiting at its Timeout.
        if (this.scenario.model === "twilio" && copy.state === "queued") {
          this.log(`upstream: Task ${copy.upstreamId} would time out at t+${copy.createdAt + this.scenario.settings.queueTimeoutMs + TWILIO_TTL_MARGIN_MS - START}ms`);
          continue;
        }
        if (copy.tag === slot.id && (this.touch(copy)!.state === "queued" || copy.state === "idle") && !copy.vetoed) {
          out.push(`(l) #${slot.n}: ${copy.upstreamId} left waiting upstream while the proxy ends ${final ?? "never stored"}`);
        }
      }
    }
    // (f) no acknowledged create lost.
    for (const c of this.calls) {
      if (c.op !== "create" || !c.acked || c.outcome?.kind !== "created") continue;
      const slot = this.byId.get(c.outcome.interactionId!);
      if (!slot || slot.stored.length === 0) out.push(`(f) create (call ${c.seq}) answered created ${c.outcome.interactionId} but nothing was ever stored`);
    }
    return out;
  }
}

/** The personal fields a stored record still holds. */
function personalFields(ix: Interaction): string[] {
  const held: string[] = [];
  if (ix.customerId !== "") held.push("customerId");
  if (Object.keys(ix.attributes).length > 0) held.push("attributes");
  if (ix.identityNumber !== undefined) held.push("identityNumber");
  if (ix.identityMask !== undefined) held.push("identityMask");
  if (ix.timeline.some((entry) => entry.text !== undefined)) held.push("timeline text");
  return held;
}

/** Lets chains of already-resolved promises run (the index's digest takes a few microtasks). */
async function flush(): Promise<void> {
  for (let k = 0; k < 12; k++) await Promise.resolve();
}
