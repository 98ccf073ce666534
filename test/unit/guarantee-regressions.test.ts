import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig, type Config } from "../../src/config";
import { InteractionCore, type CoreSettings, type CreateOutcome, type Host } from "../../src/interactions/interaction-core";
import { apply, createInteraction, type Context, type Interaction } from "../../src/interactions/machine";
import type { CancelResult, DispatchRequest, DispatchResult, UpstreamAdapter, UpstreamRef } from "../../src/upstreams/adapter";
import { httpAdapter } from "../../src/upstreams/http";

/*
 * Regression tests for issue 12's defects in the interaction core, each one a sequence that broke
 * the guarantee before. The host is a small hand-driven world: a virtual clock whose timers fire
 * only when a test advances it, one stored record, and an upstream whose answers the test gives one
 * by one. A "reset" makes a new core over the same storage, as a replaced Durable Object: the old
 * instance's timers die with it, its unanswered requests stay unanswered, and its writes are refused.
 */

const T0 = Date.UTC(2026, 5, 1, 9, 0, 0);
const SETTINGS: CoreSettings = { upstreamTimeoutMs: 1_000, createDeadlineMs: 8_000, queueTimeoutMs: 1_800_000, retentionMs: 86_400_000 };

interface Pending<Req, Res> {
  request: Req;
  answer: (result: Res) => void;
  answered: boolean;
  gen: number;
}

class Upstream implements UpstreamAdapter {
  readonly name = "test";
  readonly dispatches: Pending<DispatchRequest, DispatchResult>[] = [];
  readonly cancels: Pending<UpstreamRef, CancelResult>[] = [];
  gen = 0;
  maxDispatchesInFlight = 0;
  constructor(readonly canVeto: boolean) {}

  get dispatchesInFlight(): number {
    return this.dispatches.filter((d) => !d.answered && d.gen === this.gen).length;
  }

  dispatch(request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult> {
    return this.pending(this.dispatches, request, signal, () => {
      this.maxDispatchesInFlight = Math.max(this.maxDispatchesInFlight, this.dispatchesInFlight);
    });
  }

  cancel(ref: UpstreamRef, signal: AbortSignal): Promise<CancelResult> {
    return this.pending(this.cancels, ref, signal);
  }

  private pending<Req, Res>(list: Pending<Req, Res>[], request: Req, signal: AbortSignal, counted?: () => void): Promise<Res> {
    return new Promise<Res>((resolve) => {
      const entry: Pending<Req, Res> = {
        request,
        gen: this.gen,
        answered: false,
        answer: (result) => {
          if (entry.answered) return;
          entry.answered = true;
          resolve(result);
        },
      };
      list.push(entry);
      counted?.();
      signal.addEventListener("abort", () => entry.answer({ kind: "retry", reason: "timed out" } as Res), { once: true });
    });
  }
}

class Stale extends Error {}

/** Storage, clock and alarms shared by every instance; `core` is the live one. */
class World {
  now = T0;
  stored: Interaction | undefined;
  alarmAt: number | undefined;
  private timers: { at: number; gen: number; fire: () => void }[] = [];
  private gen = 0;
  core: InteractionCore;

  constructor(readonly upstream: Upstream) {
    this.core = new InteractionCore(this.host(0));
  }

  /** The Durable Object is replaced: memory and timers gone, the stored record and alarm kept. */
  reset(): void {
    this.gen += 1;
    this.upstream.gen = this.gen;
    this.timers = this.timers.filter((t) => t.gen === this.gen);
    this.core = new InteractionCore(this.host(this.gen));
  }

  /** Moves the clock, firing due timers in order, and lets the promises they release run. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.now = Math.max(this.now, due.at);
      due.fire();
      await settle();
    }
    this.now = target;
    await settle();
  }

  private host(gen: number): Host {
    const live = () => {
      if (gen !== this.gen) throw new Stale("reset");
    };
    const timer = (ms: number, fire: () => void) => this.timers.push({ at: this.now + ms, gen, fire });
    return {
      adapter: this.upstream,
      settings: SETTINGS,
      now: () => this.now,
      sleep: (ms, cancel) =>
        new Promise<void>((resolve) => {
          timer(ms, resolve);
          cancel?.addEventListener("abort", () => resolve(), { once: true });
        }),
      timeout: (ms) => {
        const controller = new AbortController();
        timer(ms, () => controller.abort(new DOMException("timed out", "TimeoutError")));
        return controller.signal;
      },
      load: () => (this.stored === undefined ? undefined : structuredClone(this.stored)),
      store: (ix) => {
        live();
        this.stored = structuredClone(ix);
      },
      deleteAll: async () => {
        live();
        this.stored = undefined;
        this.alarmAt = undefined;
      },
      setAlarm: (at) => {
        live();
        this.alarmAt = at;
      },
      waitUntil: (work) => void work.catch((err: unknown) => {
        if (!(err instanceof Stale)) throw err;
      }),
    };
  }
}

/** Lets every settled promise's continuations run (a macrotask turn). */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

const input = (existing: boolean, customerId = "customer-1") => ({ interactionId: "ix-1", customerId, attributes: { TRX: "Diyalog" }, existing });

/** Starts a create without waiting for its answer (it waits for the upstream). */
function startCreate(world: World, existing = false, customerId?: string): { outcome: CreateOutcome | undefined } {
  const box: { outcome: CreateOutcome | undefined } = { outcome: undefined };
  void world.core.create(input(existing, customerId)).then(
    (o) => (box.outcome = o),
    () => undefined,
  );
  return box;
}

/** A world with one interaction queued upstream as `upstreamId`. */
async function queued(canVeto: boolean, upstreamId = "A"): Promise<World> {
  const world = new World(new Upstream(canVeto));
  startCreate(world);
  await settle();
  world.upstream.dispatches[0]!.answer({ kind: "accepted", upstreamId });
  await settle();
  expect(world.stored?.state).toBe("queued");
  return world;
}

let consoleLog: typeof console.log;
let consoleInfo: typeof console.info;
let consoleWarn: typeof console.warn;
beforeEach(() => {
  // The core's structured log lines would fill the output.
  consoleLog = console.log;
  consoleInfo = console.info;
  consoleWarn = console.warn;
  console.log = console.info = console.warn = () => {};
});
afterEach(() => {
  console.log = consoleLog;
  console.info = consoleInfo;
  console.warn = consoleWarn;
});

describe("one dispatch in flight per interaction (defect 1)", () => {
  it("a repeat create on a record stored as dispatching past its deadline (object reset) starts one dispatch, not two", async () => {
    // No veto: a lookup-based upstream (Genesys-like), where each create request may make a copy.
    const world = new World(new Upstream(false));
    startCreate(world);
    await settle();
    expect(world.stored?.state).toBe("dispatching");
    expect(world.upstream.dispatches).toHaveLength(1); // in flight when the object is reset
    world.reset();
    // The repeat create arrives after the deadline, before any alarm ran.
    world.now = T0 + SETTINGS.createDeadlineMs + 500;
    const repeat = startCreate(world, true);
    await settle();
    expect(world.upstream.maxDispatchesInFlight).toBe(1);
    const resolving = world.upstream.dispatches.filter((d) => d.gen === 1);
    expect(resolving).toHaveLength(1);
    expect(resolving[0]!.request.mayExist).toBe(true);
    expect(repeat.outcome).toEqual({ kind: "failed", interactionId: "ix-1", code: "upstream_unavailable" });

    // The copy it learns is cancelled, and only then is the cleanup done.
    resolving[0]!.answer({ kind: "accepted", upstreamId: "B" });
    await settle();
    expect(world.upstream.cancels.map((c) => c.request.upstreamId)).toEqual(["B"]);
    expect(world.stored?.upstream.cleanup).toBe("pending");
    world.upstream.cancels[0]!.answer({ kind: "cancelled" });
    await settle();
    expect(world.stored?.upstream.cleanup).toBe("done");
    expect(world.upstream.dispatches.filter((d) => d.gen === 1)).toHaveLength(1);
  });
});

describe("every upstream copy is remembered and cancelled (defect 1, second half)", () => {
  const ctx = (canVeto: boolean): Context => ({ now: T0 + 5_000, canVeto, queueTimeoutMs: 1_800_000, retentionMs: 86_400_000 });

  function cancellingWith(id: string, canVeto: boolean): Interaction {
    let ix = createInteraction({ interactionId: "ix-1", customerId: "c", attributes: {} }, "test", T0, 8_000);
    ix = apply(ix, { type: "dispatch_started" }, ctx(canVeto)).interaction;
    ix = apply(ix, { type: "dispatch_accepted", upstreamId: id }, ctx(canVeto)).interaction;
    return apply(ix, { type: "cancel_requested" }, ctx(canVeto)).interaction;
  }

  it.each([false, true])("a late acceptance with another id keeps both; the cancel confirmed for the first settles only the first (canVeto %s)", (canVeto) => {
    const ix = cancellingWith("A", canVeto);
    const late = apply(ix, { type: "dispatch_accepted", upstreamId: "B" }, ctx(canVeto));
    expect(late.effects).toEqual([{ type: "cancel_upstream" }]);
    expect(late.interaction.upstream.copies).toEqual([
      { id: "A", cleanup: "pending" },
      { id: "B", cleanup: "pending" },
    ]);
    const first = apply(late.interaction, { type: "upstream_cancelled", upstreamId: "A" }, ctx(canVeto)).interaction;
    expect(first.state).toBe("cancelling");
    expect(first.upstream.copies).toEqual([
      { id: "A", cleanup: "done" },
      { id: "B", cleanup: "pending" },
    ]);
    const both = apply(first, { type: "upstream_cancelled", upstreamId: "B" }, ctx(canVeto)).interaction;
    expect(both.state).toBe("cancelled");
    expect(both.upstream.cleanup).toBe("done");
  });

  it("a copy the upstream accepts after the interaction was cancelled reopens the cleanup", () => {
    const ix = cancellingWith("A", false);
    const cancelled = apply(ix, { type: "upstream_cancelled", upstreamId: "A" }, ctx(false)).interaction;
    expect(cancelled.state).toBe("cancelled");
    const late = apply(cancelled, { type: "dispatch_accepted", upstreamId: "B" }, ctx(false));
    expect(late.effects).toEqual([{ type: "cancel_upstream" }]);
    expect(late.interaction.upstream.cleanup).toBe("pending");
  });

  it("the core cancels each copy it learned, one request per copy, and answers for A never settle B", async () => {
    const world = await queued(false, "A");
    const del = world.core.cancel("ix-1");
    await settle();
    expect(world.upstream.cancels.map((c) => c.request.upstreamId)).toEqual(["A"]);
    // A stored record from before copies were tracked (one `id`) is read as one copy: see below.
    world.upstream.cancels[0]!.answer({ kind: "cancelled" });
    expect((await del).kind).toBe("done");
    expect(world.stored?.upstream.copies).toEqual([{ id: "A", cleanup: "done" }]);
  });

  it("reads a record stored before copies were tracked (a single upstream.id) and cancels that id", async () => {
    const world = new World(new Upstream(false));
    const old = createInteraction({ interactionId: "ix-1", customerId: "customer-1", attributes: {} }, "test", T0, 8_000);
    const { copies: _copies, ...upstream } = old.upstream;
    world.stored = {
      ...old,
      state: "queued",
      expiresAt: T0 + 1_800_000,
      upstream: { ...upstream, sent: true, id: "OLD-1" } as unknown as Interaction["upstream"],
    };
    expect(world.core.get("ix-1")?.upstream.copies).toEqual([{ id: "OLD-1" }]);
    const del = world.core.cancel("ix-1");
    await settle();
    expect(world.upstream.cancels.map((c) => c.request.upstreamId)).toEqual(["OLD-1"]);
    world.upstream.cancels[0]!.answer({ kind: "cancelled" });
    expect(await del).toEqual({ kind: "done", interactionId: "ix-1", state: "cancelled" });
  });
});

describe("a refused repeat create does not mean the upstream holds nothing (defect 1, 409 in progress)", () => {
  const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  function config(): Config {
    const result = parseConfig({ UPSTREAM: "http", UPSTREAM_URL: "https://queue.example", UPSTREAM_SIGNING_SECRET: SECRET });
    if (!result.ok) throw new Error(result.problems.join("; "));
    return result.config;
  }

  it("http: 409 to a create (same Idempotency-Key in flight) is retried, not a refusal", async () => {
    const adapter = httpAdapter(config(), (async () => new Response("in progress", { status: 409, headers: { "retry-after": "1" } })) as typeof fetch);
    const result = await adapter.dispatch({ interactionId: "ix-1", customerId: "c", attributes: {}, mayExist: true }, AbortSignal.timeout(1000));
    expect(result).toMatchObject({ kind: "retry", status: 409, retryAfterMs: 1000 });
  });

  it("http: other 4xx answers to a create stay refusals", async () => {
    const adapter = httpAdapter(config(), (async () => new Response(null, { status: 422 })) as typeof fetch);
    const result = await adapter.dispatch({ interactionId: "ix-1", customerId: "c", attributes: {}, mayExist: false }, AbortSignal.timeout(1000));
    expect(result).toMatchObject({ kind: "rejected", status: 422 });
  });

  it("no veto: a refusal of a repeat after a lost answer keeps the cleanup pending, and the copy found later is cancelled", async () => {
    const world = new World(new Upstream(false));
    const create = startCreate(world);
    await settle();
    // The first create reached the upstream (it made copy A) but its answer is lost: a timeout.
    await world.advance(SETTINGS.upstreamTimeoutMs);
    await world.advance(500); // the loop's backoff, then it asks again
    const repeat = world.upstream.dispatches[1]!;
    expect(repeat.request.mayExist).toBe(true);
    // A lookup that lags finds nothing, and the create that follows is refused for good.
    repeat.answer({ kind: "rejected", reason: "HTTP 400", status: 400 });
    await settle();
    expect(create.outcome).toEqual({ kind: "failed", interactionId: "ix-1", code: "upstream_rejected" });
    expect(world.stored?.upstream.cleanup).toBe("pending");
    // Asked again later (on the alarm), the lookup finds copy A: it is cancelled.
    await world.advance(30_000);
    void world.core.alarm();
    await settle();
    const again = world.upstream.dispatches[2]!;
    expect(again.request.mayExist).toBe(true);
    again.answer({ kind: "accepted", upstreamId: "A" });
    await settle();
    expect(world.upstream.cancels.map((c) => c.request.upstreamId)).toEqual(["A"]);
  });

  it("with a veto a refusal is believed (a copy it may hold asks the claim hook, which refuses)", async () => {
    const ix = apply(
      apply(createInteraction({ interactionId: "ix-1", customerId: "c", attributes: {} }, "test", T0, 8_000), { type: "dispatch_started" }, { now: T0, canVeto: true, queueTimeoutMs: 1, retentionMs: 1 }).interaction,
      { type: "dispatch_deadline" },
      { now: T0 + 9_000, canVeto: true, queueTimeoutMs: 1, retentionMs: 1 },
    ).interaction;
    const out = apply(ix, { type: "dispatch_rejected", reason: "HTTP 400", status: 400, mayExist: true }, { now: T0 + 9_500, canVeto: true, queueTimeoutMs: 1, retentionMs: 1 });
    expect(out.interaction.upstream.cleanup).toBe("done");
  });
});

describe("a create that reaches an existing interaction checks the customer (defect 3)", () => {
  it("another customer's create on this id is inactive, never that customer's interaction", async () => {
    const world = await queued(true);
    const other = await world.core.create(input(true, "customer-2"));
    expect(other).toEqual({ kind: "inactive" });
    const same = await world.core.create(input(true, "customer-1"));
    expect(same).toEqual({ kind: "created", interactionId: "ix-1", state: "queued" });
  });
});

describe("retry times are stored: an early, duplicate or post-restart alarm keeps to them (defect 5)", () => {
  async function cancelRefused(): Promise<World> {
    const world = await queued(false);
    const del = world.core.cancel("ix-1");
    await settle();
    world.upstream.cancels[0]!.answer({ kind: "retry", reason: "HTTP 429", status: 429, retryAfterMs: 20_000 });
    await world.advance(SETTINGS.upstreamTimeoutMs); // the DELETE waits that long for a confirmation
    expect((await del).kind).toBe("unconfirmed");
    return world;
  }

  it("an early alarm on the same instance sends no cancel before Retry-After", async () => {
    const world = await cancelRefused();
    await world.advance(1_000);
    const alarms = [world.core.alarm(), world.core.alarm()]; // a duplicate delivery
    await settle();
    expect(world.upstream.cancels).toHaveLength(1);
    await Promise.all(alarms);
    // The retry time is stored with the record, and the alarm is set for it.
    expect(world.stored?.retryAt).toBeGreaterThanOrEqual(T0 + 20_000);
    expect(world.alarmAt).toBe(world.stored?.retryAt);
  });

  it("an alarm after a restart sends no cancel before Retry-After, and one once it passed", async () => {
    const world = await cancelRefused();
    world.reset();
    await world.advance(1_000);
    const early = world.core.alarm();
    await settle();
    expect(world.upstream.cancels).toHaveLength(1);
    await early;
    await world.advance(20_000);
    const run = world.core.alarm();
    await settle();
    expect(world.upstream.cancels).toHaveLength(2);
    world.upstream.cancels[1]!.answer({ kind: "cancelled" });
    await run;
    expect(world.stored?.state).toBe("cancelled");
    expect(world.stored?.retryAt).toBeUndefined();
  });
});

describe("one active call per customer while a cancel is unconfirmed (defect 6)", () => {
  it("no veto: a repeat create for an interaction still cancelling answers that id and dispatches nothing", async () => {
    const world = await queued(false);
    const del = world.core.cancel("ix-1");
    await settle();
    world.upstream.cancels[0]!.answer({ kind: "retry", reason: "HTTP 503", status: 503 });
    await world.advance(SETTINGS.upstreamTimeoutMs);
    expect((await del).kind).toBe("unconfirmed");
    const dispatches = world.upstream.dispatches.length;
    const again = await world.core.create(input(true));
    expect(again).toEqual({ kind: "failed", interactionId: "ix-1", code: "upstream_unavailable" });
    expect(world.upstream.dispatches).toHaveLength(dispatches);
  });

  it("no veto: an expired interaction whose cleanup is pending is still the customer's call", async () => {
    const world = await queued(false);
    world.now = T0 + SETTINGS.queueTimeoutMs + 1;
    const alarm = world.core.alarm();
    await settle();
    expect(world.stored?.state).toBe("expired");
    expect(world.stored?.upstream.cleanup).toBe("pending");
    expect((await world.core.create(input(true))).kind).toBe("failed");
    world.upstream.cancels[0]!.answer({ kind: "cancelled" });
    await alarm;
    expect(await world.core.create(input(true))).toEqual({ kind: "inactive" });
  });

  it("with a veto the design rule stands: a customer who cancelled gets a new call", async () => {
    const world = await queued(true);
    const del = world.core.cancel("ix-1");
    await settle();
    world.upstream.cancels[0]!.answer({ kind: "retry", reason: "HTTP 503", status: 503 });
    await world.advance(SETTINGS.upstreamTimeoutMs);
    expect((await del).kind).toBe("cancelling");
    expect(await world.core.create(input(true))).toEqual({ kind: "inactive" });
  });
});

describe("a repeat grant needs the same named agent (defect 6)", () => {
  it("two claims that name no agent: the first is granted, the second refused", async () => {
    const world = await queued(true);
    expect(world.core.claim("ix-1")).toEqual({ proceed: true });
    expect(world.core.claim("ix-1")).toEqual({ proceed: false, reason: "assigned" });
  });

  it("a named agent's repeat is granted; an unnamed claim after it is refused", async () => {
    const world = await queued(true);
    expect(world.core.claim("ix-1", "agent-7")).toEqual({ proceed: true });
    expect(world.core.claim("ix-1", "agent-7")).toEqual({ proceed: true });
    expect(world.core.claim("ix-1")).toEqual({ proceed: false, reason: "assigned" });
  });
});

describe("a lookup upstream never misses a copy an earlier send made (issue 12, copies the proxy never learns of)", () => {
  it("after a lost answer the repeat looks up only once the first send's window and the lag have passed", async () => {
    const world = lookupWorld();
    startCreate(world);
    await settle();
    // The first send's window is stored with `dispatching`, in that same write.
    expect(world.stored?.state).toBe("dispatching");
    expect(world.stored?.sendingUntil).toBe(T0 + SETTINGS.upstreamTimeoutMs);
    // Its answer is lost (a timeout). A copy it made may take the lag to show in the lookup.
    await world.advance(SETTINGS.upstreamTimeoutMs + LAG - 1);
    expect(world.upstream.dispatches).toHaveLength(1);
    await world.advance(1);
    expect(world.upstream.dispatches).toHaveLength(2);
    expect(world.upstream.dispatches[1]!.request.mayExist).toBe(true);
    // Before it left, its own window was stored.
    expect(world.stored?.sendingUntil).toBe(T0 + SETTINGS.upstreamTimeoutMs + LAG + SETTINGS.upstreamTimeoutMs);
  });

  it("an instance that takes over after a restart waits out the old instance's send before it looks up", async () => {
    const world = lookupWorld();
    startCreate(world);
    await settle();
    world.reset();
    // The fallback alarm of a dispatch in flight comes back early; the old send may still land.
    world.now = T0 + 1_500;
    void world.core.alarm();
    await settle();
    expect(world.upstream.dispatches.filter((d) => d.gen === 1)).toHaveLength(0);
    await world.advance(SETTINGS.upstreamTimeoutMs + LAG - 1_500);
    const resumed = world.upstream.dispatches.filter((d) => d.gen === 1);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]!.request.mayExist).toBe(true);
  });

  it("a lookup that finds two copies learns both: the call keeps the first, the other is cancelled", async () => {
    const world = lookupWorld();
    startCreate(world);
    await settle();
    await world.advance(SETTINGS.upstreamTimeoutMs + LAG);
    world.upstream.dispatches[1]!.answer({ kind: "accepted", upstreamId: "A", others: ["B"] });
    await settle();
    expect(world.stored?.state).toBe("queued");
    expect(world.stored?.upstream.copies).toEqual([{ id: "A" }, { id: "B", cleanup: "pending" }]);
    expect(world.upstream.cancels.map((c) => c.request.upstreamId)).toEqual(["B"]);
  });
});

/* ---- records stored by earlier versions, restarts, duplicate alarms (adversarial review) ---- */
const LAG = 5_000;
/** A lookup-based upstream without a veto (Genesys-like) that states its lookup lag. */
function lookupWorld(): World {
  const upstream = new Upstream(false);
  (upstream as { lookupLagMs?: number }).lookupLagMs = LAG;
  return new World(upstream);
}
/** A record as stored before copies and the send window existed: a single `id`, no `sendingUntil`. */
function oldRecord(state: Interaction["state"], extra: Record<string, unknown> = {}, id?: string): Interaction {
  const base = createInteraction({ interactionId: "ix-1", customerId: "customer-1", attributes: {} }, "test", T0, 8_000);
  const { copies: _c, ...up } = base.upstream;
  return {
    ...base,
    state,
    upstream: { ...up, sent: true, ...(id === undefined ? {} : { id }), ...extra } as unknown as Interaction["upstream"],
  };
}

describe("old records without a stored send window (lookup upstream)", () => {
  it("old dispatching record, restart 200 ms after its send: the new instance waits the old send's window + lag before looking up", async () => {
    const world = lookupWorld();
    world.stored = oldRecord("dispatching");
    world.reset();
    world.now = T0 + 200; // the old instance's create (timeout 1 s) may still be on the wire
    void world.core.alarm();
    await settle();
    // Expected: nothing before T0 + timeout + LAG (what a new-shape record gets). Observed: an immediate lookup.
    expect(world.upstream.dispatches.filter((d) => d.gen === 1)).toHaveLength(0);
    await world.advance(SETTINGS.upstreamTimeoutMs + LAG - 200 - 1);
    expect(world.upstream.dispatches.filter((d) => d.gen === 1)).toHaveLength(0);
  });

  it("old cancelling record with no id (cancel raced the dispatch), restart mid-send: no lookup until the old send's window + lag", async () => {
    const world = lookupWorld();
    world.stored = oldRecord("cancelling");
    world.reset();
    world.now = T0 + 300;
    void world.core.alarm();
    await settle();
    expect(world.upstream.dispatches.filter((d) => d.gen === 1)).toHaveLength(0);
  });

  it("old failed record with cleanup pending and no id: no lookup before a send window + lag from load", async () => {
    const world = lookupWorld();
    world.stored = oldRecord("failed", { cleanup: "pending" });
    world.reset();
    world.now = T0 + 8_100; // old code may have sent a resolving repeat just now
    void world.core.alarm();
    await settle();
    expect(world.upstream.dispatches.filter((d) => d.gen === 1)).toHaveLength(0);
  });
});

describe("old-shape records in each state", () => {
  it("old cancelling with id: restart, alarm cancels the id; DELETE answers done only after the confirmation; claims refused", async () => {
    const world = new World(new Upstream(false));
    world.stored = oldRecord("cancelling", { cleanup: "pending" }, "OLD");
    world.reset();
    expect(world.core.claim("ix-1", "agent-1")).toEqual({ proceed: false, reason: "cancelling" });
    void world.core.alarm();
    await settle();
    expect(world.upstream.cancels.map((c) => c.request.upstreamId)).toEqual(["OLD"]);
    const del = world.core.cancel("ix-1");
    await settle();
    world.upstream.cancels[0]!.answer({ kind: "cancelled" });
    expect(await del).toEqual({ kind: "done", interactionId: "ix-1", state: "cancelled" });
    expect(world.core.claim("ix-1", "agent-1")).toEqual({ proceed: false, reason: "cancelled" });
  });

  it("old failed with id and cleanup pending (no veto): repeat create answers failed, DELETE unconfirmed until the cancel lands", async () => {
    const world = new World(new Upstream(false));
    world.stored = oldRecord("failed", { cleanup: "pending" }, "OLD");
    world.reset();
    const c = await world.core.create(input(true));
    expect(c.kind).toBe("failed");
    const del = world.core.cancel("ix-1");
    await settle();
    void world.core.alarm();
    await world.advance(SETTINGS.upstreamTimeoutMs);
    expect((await del).kind).toBe("unconfirmed");
    expect(world.core.claim("ix-1")).toEqual({ proceed: false, reason: "failed" });
  });

  it("old assigned with id (too_late path, cleanup done): nothing is cancelled, DELETE says already_assigned", async () => {
    const world = new World(new Upstream(false));
    world.stored = oldRecord("assigned", { cleanup: "done", agentId: "a1" }, "OLD");
    world.reset();
    expect(await world.core.cancel("ix-1")).toEqual({ kind: "already_assigned", interactionId: "ix-1" });
    expect(world.upstream.cancels).toHaveLength(0);
    expect(world.core.claim("ix-1", "a1")).toEqual({ proceed: true });
    expect(world.core.claim("ix-1", "a2")).toEqual({ proceed: false, reason: "assigned" });
  });

  it("old queued with id: claim by an agent is granted once, cancel after it says already_assigned", async () => {
    const world = new World(new Upstream(true));
    world.stored = { ...oldRecord("queued", {}, "OLD"), expiresAt: T0 + 1_800_000 };
    world.reset();
    expect(world.core.claim("ix-1", "a1")).toEqual({ proceed: true });
    expect(await world.core.cancel("ix-1")).toEqual({ kind: "already_assigned", interactionId: "ix-1" });
  });
});

describe("alarms twice, restarts at each await of a cancel racing a late dispatch answer", () => {
  it("two alarms at once while cancelling: one cancel request in flight", async () => {
    const world = await queued(false, "A");
    const del = world.core.cancel("ix-1");
    await settle();
    void world.core.alarm();
    void world.core.alarm();
    await settle();
    expect(world.upstream.cancels.filter((c) => !c.answered)).toHaveLength(1);
    world.upstream.cancels[0]!.answer({ kind: "cancelled" });
    expect((await del).kind).toBe("done");
  });

  for (const canVeto of [false, true]) {
    it(`cancel during dispatch, reset before the answer; new instance resolves and cancels; DELETE done only after (canVeto ${canVeto})`, async () => {
      const world = new World(new Upstream(canVeto));
      startCreate(world);
      await settle();
      const del = world.core.cancel("ix-1");
      await settle();
      expect(world.stored?.state).toBe("cancelling");
      world.reset();
      // the old instance's answer arrives but its writes are refused
      world.upstream.dispatches[0]!.answer({ kind: "accepted", upstreamId: "A" });
      await settle();
      let delOutcome: unknown;
      void del.then((o) => (delOutcome = o), () => (delOutcome = "stale"));
      await world.advance(SETTINGS.upstreamTimeoutMs * 2);
      void world.core.alarm();
      await settle();
      const resend = world.upstream.dispatches.filter((d) => d.gen === 1);
      expect(resend).toHaveLength(1);
      resend[0]!.answer({ kind: "accepted", upstreamId: "A" });
      await settle();
      expect(world.stored?.upstream.copies).toEqual([{ id: "A", cleanup: "pending" }]);
      expect(world.core.claim("ix-1", "a1")).toEqual({ proceed: false, reason: "cancelling" });
      const del2 = world.core.cancel("ix-1");
      await settle();
      const cancel = world.upstream.cancels.filter((c) => c.gen === 1 && !c.answered);
      expect(cancel.length).toBeGreaterThanOrEqual(1);
      cancel[0]!.answer({ kind: "cancelled" });
      expect((await del2).kind).toBe("done");
      expect(delOutcome === undefined || delOutcome === "stale" || (delOutcome as { kind: string }).kind !== "done").toBe(true);
    });
  }
});

describe("early/duplicate alarms on a lookup upstream", () => {
  it("restart mid-send, early and duplicate alarms: no lookup before the window + lag, then exactly one in flight", async () => {
    const world = lookupWorld();
    startCreate(world);
    await settle();
    world.reset(); // the first send may still land
    world.now = T0 + 700;
    void world.core.alarm();
    void world.core.alarm();
    await settle();
    expect(world.upstream.dispatches.filter((d) => d.gen === 1)).toHaveLength(0);
    await world.advance(5_299); // T0+5999
    void world.core.alarm();
    await settle();
    expect(world.upstream.dispatches.filter((d) => d.gen === 1)).toHaveLength(0);
    await world.advance(1);
    void world.core.alarm();
    void world.core.alarm();
    await settle();
    expect(world.upstream.dispatches.filter((d) => d.gen === 1)).toHaveLength(1);
    expect(world.upstream.maxDispatchesInFlight).toBe(1);
  });
});

describe("end to end, the guarantee on an old record", () => {
  it("old dispatching record (no sendingUntil), restart + DELETE: unconfirmed, never success, while the old send's copy could still be unseen by a lookup", async () => {
    const world = lookupWorld();
    world.stored = oldRecord("dispatching");
    world.reset();
    world.now = T0 + 200; // the old instance's create (copy X) may land until T0+1000, visible by T0+6000
    const del = world.core.cancel("ix-1");
    await settle();
    void world.core.alarm();
    await settle();
    // No lookup may leave before the old send's window and the lag have passed (it could not see X),
    // so nothing can confirm the cancel meanwhile: the DELETE is unconfirmed, never "done".
    expect(world.upstream.dispatches.filter((d) => d.gen === 1)).toHaveLength(0);
    await world.advance(SETTINGS.upstreamTimeoutMs);
    expect((await del).kind).toBe("unconfirmed");
  });
});

describe("day-two operations in the core", () => {
  it("a repeated DELETE while cancelling tries the upstream cancel again at once, not only at the next alarm", async () => {
    const world = await queued(true);
    const first = world.core.cancel("ix-1");
    await settle();
    world.upstream.cancels[0]!.answer({ kind: "retry", reason: "HTTP 503", status: 503, retryAfterMs: 30_000 });
    await world.advance(SETTINGS.upstreamTimeoutMs);
    expect((await first).kind).toBe("cancelling");
    expect(world.upstream.cancels).toHaveLength(1);

    const again = world.core.cancel("ix-1");
    await settle();
    expect(world.upstream.cancels).toHaveLength(2); // at once, not 30 s later
    world.upstream.cancels[1]!.answer({ kind: "cancelled" });
    await settle();
    expect(await again).toEqual({ kind: "done", interactionId: "ix-1", state: "cancelled" });
  });

  it("a dispatch resumed after a restart carries the create's x-request-id; a resumed cancel the DELETE's", async () => {
    const world = new World(new Upstream(true));
    void world.core.create({ ...input(false), requestId: "req-create-1" }).catch(() => undefined);
    await settle();
    expect(world.upstream.dispatches[0]!.request.requestId).toBe("req-create-1");
    world.reset(); // the create's answer is lost with the instance
    await world.advance(SETTINGS.upstreamTimeoutMs + 1);
    const resumed = world.core.alarm();
    await settle();
    expect(world.upstream.dispatches).toHaveLength(2);
    expect(world.upstream.dispatches[1]!.request.requestId).toBe("req-create-1");
    world.upstream.dispatches[1]!.answer({ kind: "accepted", upstreamId: "A" });
    await resumed;
    expect(world.stored?.state).toBe("queued");

    void world.core.cancel("ix-1", "req-cancel-1").catch(() => undefined);
    await settle();
    expect(world.upstream.cancels[0]!.request.requestId).toBe("req-cancel-1");
    world.reset();
    await world.advance(4 * SETTINGS.upstreamTimeoutMs);
    const cleanup = world.core.alarm();
    await settle();
    expect(world.upstream.cancels).toHaveLength(2);
    expect(world.upstream.cancels[1]!.request.requestId).toBe("req-cancel-1");
    world.upstream.cancels[1]!.answer({ kind: "cancelled" });
    await cleanup;
    expect(world.stored?.state).toBe("cancelled");
  });
});
