import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ACTIVE,
  IllegalTransition,
  TERMINAL,
  TRANSITIONS,
  apply,
  createInteraction,
  nextWake,
  note,
  transition,
  upstreamId,
  type Context,
  type Event,
  type Interaction,
  type State,
} from "../../src/interactions/machine";

const T0 = Date.UTC(2026, 0, 15, 9, 0, 0);
const DEADLINE_MS = 8_000;
const QUEUE_MS = 1_800_000;
const RETENTION_MS = 86_400_000;

function ctx(now = T0 + 1_000, canVeto = true): Context {
  return { now, canVeto, queueTimeoutMs: QUEUE_MS, retentionMs: RETENTION_MS };
}
const veto = (now?: number) => ctx(now, true);
const noVeto = (now?: number) => ctx(now, false);

const ALL_STATES: State[] = ["received", "dispatching", "queued", "assigned", "cancelling", "cancelled", "failed", "expired"];

// Fixtures reached only through `apply`, the way the Durable Object gets there.
function received(): Interaction {
  return createInteraction({ interactionId: "ix-1", customerId: "c1", attributes: { TRX: "Diyalog" } }, "simulator", T0, DEADLINE_MS);
}
function dispatching(): Interaction {
  return apply(received(), { type: "dispatch_started" }, ctx(T0 + 10)).interaction;
}
function queued(): Interaction {
  return apply(dispatching(), { type: "dispatch_accepted", upstreamId: "up-1" }, ctx(T0 + 20)).interaction;
}
function assigned(agentId: string | undefined = "agent-1"): Interaction {
  const event: Event = agentId === undefined ? { type: "claim" } : { type: "claim", agentId };
  return apply(queued(), event, ctx(T0 + 30)).interaction;
}
/** Cancelling with the upstream id known (cancelled while queued). */
function cancellingQueued(): Interaction {
  return apply(queued(), { type: "cancel_requested" }, ctx(T0 + 40)).interaction;
}
/** Cancelling while the dispatch was in flight (no upstream id yet). */
function cancellingDispatching(): Interaction {
  return apply(dispatching(), { type: "cancel_requested" }, ctx(T0 + 40)).interaction;
}
function cancelled(): Interaction {
  return apply(cancellingQueued(), { type: "upstream_cancelled", upstreamId: "up-1" }, ctx(T0 + 50)).interaction;
}
/** Failed by the create deadline while a dispatch was in flight: cleanup pending, no upstream id. */
function failedPending(): Interaction {
  return apply(dispatching(), { type: "dispatch_deadline" }, ctx(T0 + DEADLINE_MS)).interaction;
}
function failedRejected(): Interaction {
  return apply(dispatching(), { type: "dispatch_rejected", status: 422, reason: "bad request" }, ctx(T0 + 60)).interaction;
}
/** Expired while queued: cleanup pending, upstream id known. */
function expired(): Interaction {
  return apply(queued(), { type: "queue_timeout" }, ctx(T0 + QUEUE_MS)).interaction;
}

const FIXTURE: Record<State, () => Interaction> = {
  received,
  dispatching,
  queued,
  assigned: () => assigned(),
  cancelling: cancellingQueued,
  cancelled,
  failed: failedRejected,
  expired,
};

const states = (ix: Interaction) => ix.timeline.map((e) => e.state);

describe("fixtures", () => {
  it.each(ALL_STATES)("%s is reachable through apply", (state) => {
    const ix = FIXTURE[state]();
    expect(ix.state).toBe(state);
    // every step of its history was a legal move
    const history = states(ix);
    for (let i = 1; i < history.length; i++) expect(TRANSITIONS[history[i - 1]!]).toContain(history[i]);
  });
});

describe("createInteraction", () => {
  it("starts received, version 1, with one timeline entry and nothing sent", () => {
    const ix = createInteraction(
      { interactionId: "ix-9", customerId: "c9", attributes: { a: "1" }, identityNumber: "12345678901" },
      "http",
      T0,
      DEADLINE_MS,
    );
    expect(ix).toStrictEqual({
      interactionId: "ix-9",
      customerId: "c9",
      identityNumber: "12345678901",
      attributes: { a: "1" },
      state: "received",
      version: 1,
      createdAt: T0,
      dispatchDeadline: T0 + DEADLINE_MS,
      upstream: { adapter: "http", copies: [], sent: false },
      timeline: [{ at: new Date(T0).toISOString(), state: "received", detail: "create accepted" }],
    });
  });

  it("has no identityNumber key when none was given", () => {
    expect("identityNumber" in received()).toBe(false);
  });
});

describe("transition", () => {
  it("records a timeline entry, bumps the version and leaves the input untouched", () => {
    const before = received();
    const snapshot = structuredClone(before);
    const next = transition(before, "dispatching", "why", ctx(T0 + 123));
    expect(before).toStrictEqual(snapshot);
    expect(next.state).toBe("dispatching");
    expect(next.version).toBe(before.version + 1);
    expect(next.timeline).toHaveLength(2);
    expect(next.timeline[1]).toStrictEqual({ at: new Date(T0 + 123).toISOString(), state: "dispatching", detail: "why" });
    expect(next.purgeAt).toBeUndefined();
    expect(next.expiresAt).toBeUndefined();
  });

  it("sets expiresAt on queued, counted from creation", () => {
    const next = transition(dispatching(), "queued", "accepted", ctx(T0 + 5_000));
    expect(next.expiresAt).toBe(T0 + QUEUE_MS);
    expect(next.purgeAt).toBeUndefined();
  });

  it.each(["assigned", "failed", "expired", "cancelling"] as const)("from queued to %s sets purgeAt only when terminal", (to) => {
    const now = T0 + 7_777;
    const next = transition(queued(), to, "x", ctx(now));
    expect(next.purgeAt).toBe(TERMINAL.has(to) ? now + RETENTION_MS : undefined);
  });

  it("sets purgeAt on cancelled", () => {
    const next = transition(cancellingQueued(), "cancelled", "x", ctx(T0 + 99));
    expect(next.purgeAt).toBe(T0 + 99 + RETENTION_MS);
  });

  const illegal: [State, State][] = ALL_STATES.flatMap((from) =>
    ALL_STATES.filter((to) => !TRANSITIONS[from].includes(to)).map((to) => [from, to] as [State, State]),
  );

  it("the illegal list is what the design says: terminal states go nowhere, nothing goes back", () => {
    for (const t of TERMINAL) expect(TRANSITIONS[t]).toEqual([]);
    for (const s of ALL_STATES) expect(TRANSITIONS[s]).not.toContain(s);
    expect(TRANSITIONS.cancelling).not.toContain("queued");
    expect(TRANSITIONS.queued).not.toContain("dispatching");
    expect(TRANSITIONS.received).not.toContain("queued");
    expect(TRANSITIONS.received).not.toContain("assigned");
    expect(illegal.length).toBe(64 - 15);
  });

  it.each(illegal)("refuses %s → %s with IllegalTransition", (from, to) => {
    const ix = FIXTURE[from]();
    const snapshot = structuredClone(ix);
    let thrown: unknown;
    try {
      transition(ix, to, "nope", ctx());
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(IllegalTransition);
    expect((thrown as Error).name).toBe("IllegalTransition");
    expect((thrown as Error).message).toBe(`illegal transition ${from} → ${to}`);
    expect(ix).toStrictEqual(snapshot);
  });

  it.each(ALL_STATES.flatMap((from) => TRANSITIONS[from].map((to) => [from, to] as [State, State])))(
    "allows %s → %s",
    (from, to) => {
      expect(transition(FIXTURE[from](), to, "ok", ctx()).state).toBe(to);
    },
  );
});

describe("note", () => {
  it("adds a timeline entry in the current state and bumps the version", () => {
    const ix = queued();
    const next = note(ix, "hello", ctx(T0 + 5));
    expect(next.state).toBe("queued");
    expect(next.version).toBe(ix.version + 1);
    expect(next.timeline.at(-1)).toStrictEqual({ at: new Date(T0 + 5).toISOString(), state: "queued", detail: "hello" });
    expect(ix.timeline).toHaveLength(next.timeline.length - 1);
  });
});

describe("every legal transition is reached by apply", () => {
  type Case = { from: () => Interaction; event: Event; ctx?: Context };
  const cases: Record<string, Case[]> = {
    "received→dispatching": [{ from: received, event: { type: "dispatch_started" } }],
    "received→cancelling": [{ from: received, event: { type: "cancel_requested" } }],
    "received→failed": [
      { from: received, event: { type: "dispatch_rejected", status: 400, reason: "r" } },
      { from: received, event: { type: "dispatch_deadline" } },
      { from: received, event: { type: "upstream_event", kind: "failed" } },
    ],
    "received→expired": [{ from: received, event: { type: "queue_timeout" } }],
    "dispatching→queued": [{ from: dispatching, event: { type: "dispatch_accepted", upstreamId: "up-1" } }],
    "dispatching→assigned": [
      { from: dispatching, event: { type: "claim", agentId: "a" } },
      { from: dispatching, event: { type: "assignment_seen", agentId: "a" } },
    ],
    "dispatching→cancelling": [{ from: dispatching, event: { type: "cancel_requested" } }],
    "dispatching→failed": [
      { from: dispatching, event: { type: "dispatch_rejected", reason: "r" } },
      { from: dispatching, event: { type: "dispatch_deadline" } },
      { from: dispatching, event: { type: "upstream_event", kind: "abandoned" } },
    ],
    "dispatching→expired": [{ from: dispatching, event: { type: "queue_timeout" } }],
    "queued→assigned": [
      { from: queued, event: { type: "claim", agentId: "a" } },
      { from: queued, event: { type: "assignment_seen" } },
    ],
    "queued→cancelling": [{ from: queued, event: { type: "cancel_requested" } }],
    "queued→failed": [
      { from: queued, event: { type: "upstream_event", kind: "abandoned" } },
      { from: queued, event: { type: "upstream_event", kind: "failed", text: "r" } },
    ],
    "queued→expired": [{ from: queued, event: { type: "queue_timeout" } }],
    "cancelling→cancelled": [
      { from: cancellingQueued, event: { type: "upstream_cancelled", upstreamId: "up-1" } },
      { from: cancellingDispatching, event: { type: "dispatch_rejected", status: 400, reason: "r" } },
    ],
    "cancelling→assigned": [
      { from: cancellingQueued, event: { type: "upstream_too_late", upstreamId: "up-1", agentId: "a" }, ctx: noVeto() },
      { from: cancellingQueued, event: { type: "upstream_too_late", upstreamId: "up-1", agentId: "a" }, ctx: veto() },
      { from: cancellingQueued, event: { type: "assignment_seen", agentId: "a" }, ctx: noVeto() },
    ],
  };

  it("covers every pair of TRANSITIONS and nothing else", () => {
    const legal = ALL_STATES.flatMap((from) => TRANSITIONS[from].map((to) => `${from}→${to}`)).sort();
    expect(Object.keys(cases).sort()).toEqual(legal);
  });

  const flat = Object.entries(cases).flatMap(([pair, list]) => list.map((c) => [pair, c.event.type, c] as const));

  it.each(flat)("%s by %s", (pair, _type, c) => {
    const [from, to] = pair.split("→") as [State, State];
    const before = c.from();
    expect(before.state).toBe(from);
    const out = apply(before, c.event, c.ctx ?? ctx(T0 + 2_000));
    const added = out.interaction.timeline.slice(before.timeline.length);
    expect(added.length).toBeGreaterThan(0);
    expect(added[0]!.state).toBe(to);
    expect(added[0]!.at).toBe(new Date(c.ctx?.now ?? T0 + 2_000).toISOString());
    expect(out.interaction.version).toBe(before.version + added.length);
  });
});

describe("apply: dispatch", () => {
  it("dispatch_started marks the upstream as sent and records the move", () => {
    const out = apply(received(), { type: "dispatch_started" }, ctx(T0 + 10));
    expect(out.effects).toEqual([]);
    expect(out.interaction.state).toBe("dispatching");
    expect(out.interaction.upstream).toStrictEqual({ adapter: "simulator", copies: [], sent: true });
    expect(out.interaction.timeline.at(-1)).toStrictEqual({
      at: new Date(T0 + 10).toISOString(),
      state: "dispatching",
      detail: "sending to upstream",
    });
  });

  it("dispatch_started outside received changes nothing", () => {
    for (const make of [dispatching, queued, cancellingQueued, cancelled]) {
      const ix = make();
      const out = apply(ix, { type: "dispatch_started" }, ctx());
      expect(out.interaction).toBe(ix);
      expect(out.effects).toEqual([]);
    }
  });

  it("dispatch_accepted queues, records the upstream id and sets expiresAt", () => {
    const out = apply(dispatching(), { type: "dispatch_accepted", upstreamId: "up-7" }, ctx(T0 + 500));
    expect(out.effects).toEqual([]);
    expect(out.interaction.state).toBe("queued");
    expect(upstreamId(out.interaction)).toBe("up-7");
    expect(out.interaction.expiresAt).toBe(T0 + QUEUE_MS);
    expect(out.interaction.purgeAt).toBeUndefined();
    expect(out.interaction.timeline.at(-1)?.detail).toBe("accepted by upstream");
  });

  it("a repeated dispatch_accepted with the same id is a no-op", () => {
    const ix = queued();
    const out = apply(ix, { type: "dispatch_accepted", upstreamId: "up-1" }, ctx());
    expect(out.interaction).toBe(ix);
    expect(out.effects).toEqual([]);
  });

  it("dispatch_accepted after the cancel yields cancel_upstream and keeps cancelling", () => {
    const ix = cancellingDispatching();
    const out = apply(ix, { type: "dispatch_accepted", upstreamId: "up-late" }, ctx(T0 + 900));
    expect(out.effects).toEqual([{ type: "cancel_upstream" }]);
    expect(out.interaction.state).toBe("cancelling");
    expect(upstreamId(out.interaction)).toBe("up-late");
    expect(out.interaction.timeline.at(-1)).toStrictEqual({
      at: new Date(T0 + 900).toISOString(),
      state: "cancelling",
      detail: "upstream accepted after the cancel; cancelling it",
    });
    // and a duplicate of that late acceptance does not cancel twice
    const again = apply(out.interaction, { type: "dispatch_accepted", upstreamId: "up-late" }, ctx(T0 + 950));
    expect(again.effects).toEqual([]);
    expect(again.interaction).toBe(out.interaction);
  });

  it("dispatch_accepted after a failed create with cleanup pending yields cancel_upstream", () => {
    const out = apply(failedPending(), { type: "dispatch_accepted", upstreamId: "up-late" }, ctx(T0 + 9_000));
    expect(out.effects).toEqual([{ type: "cancel_upstream" }]);
    expect(out.interaction.state).toBe("failed");
    expect(upstreamId(out.interaction)).toBe("up-late");
    expect(out.interaction.upstream.cleanup).toBe("pending");
    expect(out.interaction.timeline.at(-1)?.detail).toBe("upstream accepted late; cancelling it");
  });

  it("dispatch_accepted after a claim (fast upstream) only records the id", () => {
    const ix = apply(dispatching(), { type: "claim", agentId: "a1" }, ctx()).interaction;
    const out = apply(ix, { type: "dispatch_accepted", upstreamId: "up-1" }, ctx());
    expect(out.effects).toEqual([]);
    expect(out.interaction.state).toBe("assigned");
    expect(upstreamId(out.interaction)).toBe("up-1");
    expect(out.interaction.timeline).toEqual(ix.timeline);
  });

  it("dispatch_rejected → failed with upstream_rejected, status recorded and nothing to clean up", () => {
    const out = apply(dispatching(), { type: "dispatch_rejected", status: 422, reason: "bad attributes" }, ctx(T0 + 70));
    expect(out.effects).toEqual([]);
    expect(out.interaction.state).toBe("failed");
    expect(out.interaction.failure).toBe("upstream_rejected");
    expect(out.interaction.upstream).toStrictEqual({ adapter: "simulator", copies: [], sent: true, status: 422, cleanup: "done" });
    expect(out.interaction.purgeAt).toBe(T0 + 70 + RETENTION_MS);
    expect(out.interaction.timeline.at(-1)).toStrictEqual({
      at: new Date(T0 + 70).toISOString(),
      state: "failed",
      detail: "upstream refused (HTTP 422): bad attributes",
    });
  });

  it("dispatch_rejected without a status leaves status unset", () => {
    const out = apply(dispatching(), { type: "dispatch_rejected", reason: "no such queue" }, ctx());
    expect(out.interaction.failure).toBe("upstream_rejected");
    expect("status" in out.interaction.upstream).toBe(false);
    expect(out.interaction.timeline.at(-1)?.detail).toBe("upstream refused: no such queue");
  });

  it("dispatch_rejected while cancelling without an upstream id → cancelled, nothing upstream", () => {
    const out = apply(cancellingDispatching(), { type: "dispatch_rejected", status: 400, reason: "r" }, ctx(T0 + 80));
    expect(out.effects).toEqual([]);
    expect(out.interaction.state).toBe("cancelled");
    expect(out.interaction.upstream.cleanup).toBe("done");
    expect(out.interaction.purgeAt).toBe(T0 + 80 + RETENTION_MS);
  });

  it("dispatch_rejected after a deadline failure settles the pending cleanup", () => {
    const ix = failedPending();
    const out = apply(ix, { type: "dispatch_rejected", status: 400, reason: "r" }, ctx(T0 + 9_000));
    expect(out.effects).toEqual([]);
    expect(out.interaction.state).toBe("failed");
    expect(out.interaction.failure).toBe("upstream_unavailable");
    expect(out.interaction.upstream.cleanup).toBe("done");
    expect(out.interaction.timeline).toHaveLength(ix.timeline.length + 1);
  });

  it("dispatch_rejected once queued changes nothing", () => {
    const ix = queued();
    expect(apply(ix, { type: "dispatch_rejected", status: 400, reason: "r" }, ctx()).interaction).toBe(ix);
  });

  it("dispatch_deadline while dispatching → failed upstream_unavailable, cleanup pending, resolve the dispatch", () => {
    const now = T0 + DEADLINE_MS;
    const out = apply(dispatching(), { type: "dispatch_deadline" }, ctx(now));
    expect(out.interaction.state).toBe("failed");
    expect(out.interaction.failure).toBe("upstream_unavailable");
    expect(out.interaction.upstream.cleanup).toBe("pending");
    expect(out.effects).toEqual([{ type: "resolve_dispatch" }]);
    expect(out.interaction.purgeAt).toBe(now + RETENTION_MS);
    expect(out.interaction.timeline.at(-1)).toStrictEqual({
      at: new Date(now).toISOString(),
      state: "failed",
      detail: "upstream did not accept within CREATE_DEADLINE_MS",
    });
  });

  it("dispatch_deadline before anything was sent → failed with nothing to clean up", () => {
    const out = apply(received(), { type: "dispatch_deadline" }, ctx(T0 + DEADLINE_MS));
    expect(out.interaction.state).toBe("failed");
    expect(out.interaction.failure).toBe("upstream_unavailable");
    expect(out.interaction.upstream.cleanup).toBeUndefined();
    expect(out.effects).toEqual([]);
  });

  it("dispatch_deadline after the interaction was queued changes nothing", () => {
    for (const make of [queued, () => assigned(), cancellingQueued, cancelled]) {
      const ix = make();
      const out = apply(ix, { type: "dispatch_deadline" }, ctx());
      expect(out.interaction).toBe(ix);
      expect(out.effects).toEqual([]);
    }
  });
});

describe("apply: cancel", () => {
  it("before anything was sent: cancelling → cancelled in one step, no effects", () => {
    const now = T0 + 300;
    const before = received();
    const out = apply(before, { type: "cancel_requested" }, ctx(now));
    expect(out.effects).toEqual([]);
    expect(out.interaction.state).toBe("cancelled");
    expect(states(out.interaction)).toEqual(["received", "cancelling", "cancelled"]);
    expect(out.interaction.timeline.slice(1)).toStrictEqual([
      { at: new Date(now).toISOString(), state: "cancelling", detail: "cancel requested" },
      { at: new Date(now).toISOString(), state: "cancelled", detail: "cancelled before dispatch: nothing was sent upstream" },
    ]);
    expect(out.interaction.version).toBe(before.version + 2);
    expect(out.interaction.purgeAt).toBe(now + RETENTION_MS);
  });

  it("while dispatching: cancelling with a resolve_dispatch effect", () => {
    const out = apply(dispatching(), { type: "cancel_requested" }, ctx(T0 + 40));
    expect(out.interaction.state).toBe("cancelling");
    expect(out.effects).toEqual([{ type: "resolve_dispatch" }]);
    expect(out.interaction.purgeAt).toBeUndefined();
    expect(out.interaction.timeline.at(-1)).toStrictEqual({
      at: new Date(T0 + 40).toISOString(),
      state: "cancelling",
      detail: "cancel requested",
    });
  });

  it("while queued: cancelling with a cancel_upstream effect", () => {
    const out = apply(queued(), { type: "cancel_requested" }, ctx(T0 + 40));
    expect(out.interaction.state).toBe("cancelling");
    expect(out.effects).toEqual([{ type: "cancel_upstream" }]);
  });

  it("received but already sent (resumed after a restart): resolve_dispatch", () => {
    const ix: Interaction = { ...received(), upstream: { adapter: "simulator", copies: [], sent: true } };
    const out = apply(ix, { type: "cancel_requested" }, ctx());
    expect(out.interaction.state).toBe("cancelling");
    expect(out.effects).toEqual([{ type: "resolve_dispatch" }]);
  });

  it.each([
    ["cancelling", cancellingQueued],
    ["cancelled", cancelled],
    ["assigned", () => assigned()],
    ["failed", failedRejected],
    ["expired", expired],
  ] as const)("a cancel in %s changes nothing and has no effects", (_name, make) => {
    const ix = make();
    const out = apply(ix, { type: "cancel_requested" }, ctx());
    expect(out.interaction).toBe(ix);
    expect(out.effects).toEqual([]);
  });

  it("upstream_cancelled confirms a cancelling interaction", () => {
    const out = apply(cancellingQueued(), { type: "upstream_cancelled", upstreamId: "up-1" }, ctx(T0 + 55));
    expect(out.interaction.state).toBe("cancelled");
    expect(out.interaction.upstream.cleanup).toBe("done");
    expect(out.interaction.purgeAt).toBe(T0 + 55 + RETENTION_MS);
    expect(out.interaction.timeline.at(-1)?.detail).toBe("upstream confirmed the cancel");
    expect(out.effects).toEqual([]);
  });

  it("upstream_cancelled settles the pending cleanup of an expired interaction", () => {
    const ix = expired();
    const out = apply(ix, { type: "upstream_cancelled", upstreamId: "up-1" }, ctx());
    expect(out.interaction.state).toBe("expired");
    expect(out.interaction.upstream.cleanup).toBe("done");
    expect(out.interaction.timeline.at(-1)?.detail).toBe("upstream copy cancelled");
    expect(out.interaction.purgeAt).toBe(ix.purgeAt);
  });

  it("upstream_cancelled in a state with nothing pending changes nothing", () => {
    for (const make of [queued, () => assigned(), failedRejected, cancelled]) {
      const ix = make();
      expect(apply(ix, { type: "upstream_cancelled", upstreamId: "up-1" }, ctx()).interaction).toBe(ix);
    }
  });

  it("upstream_too_late with canVeto false → assigned (the agent had it first)", () => {
    const out = apply(cancellingQueued(), { type: "upstream_too_late", upstreamId: "up-1", agentId: "agent-9" }, noVeto(T0 + 66));
    expect(out.interaction.state).toBe("assigned");
    expect(out.interaction.upstream.agentId).toBe("agent-9");
    expect(out.interaction.upstream.cleanup).toBe("done");
    expect(out.interaction.purgeAt).toBe(T0 + 66 + RETENTION_MS);
    expect(out.effects).toEqual([]);
  });

  it("upstream_too_late with canVeto true → assigned too: the upstream took the call outside the veto, and a DELETE must say so", () => {
    const out = apply(cancellingQueued(), { type: "upstream_too_late", upstreamId: "up-1", agentId: "agent-9" }, veto(T0 + 66));
    expect(out.interaction.state).toBe("assigned");
    expect(out.interaction.upstream.agentId).toBe("agent-9");
    expect(out.interaction.upstream.cleanup).toBe("done");
    expect(out.interaction.timeline.at(-1)?.detail).toBe("an agent took the call upstream without asking the proxy");
    expect(out.effects).toEqual([]);
  });

  it("upstream_too_late on a failed interaction with cleanup pending records that an agent has it (a DELETE answers 409)", () => {
    const ix = apply(failedPending(), { type: "dispatch_accepted", upstreamId: "up-1" }, veto()).interaction;
    const out = apply(ix, { type: "upstream_too_late", upstreamId: "up-1" }, veto());
    expect(out.interaction.state).toBe("failed");
    expect(out.interaction.upstream.cleanup).toBe("too_late");
    expect(out.interaction.timeline).toHaveLength(ix.timeline.length + 1);
  });

  it("upstream_too_late with nothing pending changes nothing", () => {
    const ix = queued();
    expect(apply(ix, { type: "upstream_too_late", upstreamId: "up-1" }, noVeto()).interaction).toBe(ix);
  });
});

describe("apply: claim decisions", () => {
  it.each([
    ["dispatching", dispatching],
    ["queued", queued],
  ] as const)("proceeds in %s, assigns and records the agent", (_name, make) => {
    const ix = make();
    const out = apply(ix, { type: "claim", agentId: "agent-1" }, ctx(T0 + 77));
    expect(out.claim).toEqual({ proceed: true });
    expect(out.effects).toEqual([]);
    expect(out.interaction.state).toBe("assigned");
    expect(out.interaction.upstream.agentId).toBe("agent-1");
    expect(out.interaction.purgeAt).toBe(T0 + 77 + RETENTION_MS);
    expect(out.interaction.timeline.at(-1)).toStrictEqual({
      at: new Date(T0 + 77).toISOString(),
      state: "assigned",
      detail: "agent agent-1 took the call",
    });
  });

  it("proceeds without an agent id", () => {
    const out = apply(queued(), { type: "claim" }, ctx());
    expect(out.claim).toEqual({ proceed: true });
    expect(out.interaction.state).toBe("assigned");
    expect("agentId" in out.interaction.upstream).toBe(false);
    expect(out.interaction.timeline.at(-1)?.detail).toBe("an agent took the call");
  });

  it("a repeat of the same agent's granted claim proceeds and changes nothing", () => {
    const ix = assigned("agent-1");
    const out = apply(ix, { type: "claim", agentId: "agent-1" }, ctx());
    expect(out.claim).toEqual({ proceed: true });
    expect(out.interaction).toBe(ix);
    expect(out.effects).toEqual([]);
  });

  it("a different agent is refused with reason assigned", () => {
    const ix = assigned("agent-1");
    const out = apply(ix, { type: "claim", agentId: "agent-2" }, ctx());
    expect(out.claim).toEqual({ proceed: false, reason: "assigned" });
    expect(out.interaction).toBe(ix);
  });

  it("an agent claiming a call granted without an agent id is refused", () => {
    const ix = assigned(undefined);
    const out = apply(ix, { type: "claim", agentId: "agent-2" }, ctx());
    expect(out.claim).toEqual({ proceed: false, reason: "assigned" });
  });

  it.each([
    ["received", received],
    ["cancelling", cancellingQueued],
    ["cancelling (dispatch in flight)", cancellingDispatching],
    ["cancelled", cancelled],
    ["failed", failedRejected],
    ["failed (cleanup pending)", failedPending],
    ["expired", expired],
  ] as const)("is refused in %s with reason = the state", (_name, make) => {
    const ix = make();
    for (const c of [veto(), noVeto()]) {
      const out = apply(ix, { type: "claim", agentId: "agent-1" }, c);
      expect(out.claim).toEqual({ proceed: false, reason: ix.state });
      expect(out.interaction).toBe(ix);
      expect(out.effects).toEqual([]);
    }
  });

  it("assignment_seen while cancelling without veto → assigned; with veto it is refused", () => {
    const seen = apply(cancellingQueued(), { type: "assignment_seen", agentId: "a" }, noVeto());
    expect(seen.interaction.state).toBe("assigned");
    expect(seen.interaction.upstream.agentId).toBe("a");
    const vetoed = apply(cancellingQueued(), { type: "assignment_seen", agentId: "a" }, veto());
    expect(vetoed.interaction.state).toBe("cancelling");
    expect(vetoed.claim).toEqual({ proceed: false, reason: "cancelling" });
  });
});

describe("apply: queue timeout and upstream events", () => {
  it("queue_timeout while queued → expired, cleanup pending, cancel upstream", () => {
    const now = T0 + QUEUE_MS;
    const out = apply(queued(), { type: "queue_timeout" }, ctx(now));
    expect(out.interaction.state).toBe("expired");
    expect(out.interaction.upstream.cleanup).toBe("pending");
    expect(out.effects).toEqual([{ type: "cancel_upstream" }]);
    expect(out.interaction.purgeAt).toBe(now + RETENTION_MS);
    expect(out.interaction.timeline.at(-1)).toStrictEqual({
      at: new Date(now).toISOString(),
      state: "expired",
      detail: "no agent within QUEUE_TIMEOUT_SECONDS",
    });
  });

  it("queue_timeout while dispatching → expired, resolve the dispatch", () => {
    const out = apply(dispatching(), { type: "queue_timeout" }, ctx());
    expect(out.interaction.state).toBe("expired");
    expect(out.effects).toEqual([{ type: "resolve_dispatch" }]);
    expect(out.interaction.upstream.cleanup).toBe("pending");
  });

  it("queue_timeout before anything was sent → expired without effects", () => {
    const out = apply(received(), { type: "queue_timeout" }, ctx());
    expect(out.interaction.state).toBe("expired");
    expect(out.effects).toEqual([]);
    expect(out.interaction.upstream.cleanup).toBeUndefined();
  });

  it("queue_timeout outside the active states changes nothing", () => {
    for (const make of [() => assigned(), cancellingQueued, cancelled, failedRejected, expired]) {
      const ix = make();
      const out = apply(ix, { type: "queue_timeout" }, ctx());
      expect(out.interaction).toBe(ix);
      expect(out.effects).toEqual([]);
    }
  });

  it.each(["abandoned", "failed"] as const)("upstream_event %s ends a waiting interaction as failed", (kind) => {
    const out = apply(queued(), { type: "upstream_event", kind, text: "caller hung up" }, ctx(T0 + 88));
    expect(out.interaction.state).toBe("failed");
    expect(out.interaction.upstream.cleanup).toBe("done");
    expect(out.interaction.purgeAt).toBe(T0 + 88 + RETENTION_MS);
    expect(out.effects).toEqual([]);
    expect(out.interaction.timeline.at(-1)).toStrictEqual({
      at: new Date(T0 + 88).toISOString(),
      state: "failed",
      detail: `upstream reported ${kind}`,
      text: "caller hung up",
    });
  });

  it("upstream_unseen (a poll no longer sees it queued) fails the call with its copy still to cancel", () => {
    const ix = queued();
    const out = apply(ix, { type: "upstream_unseen", reason: "poll" }, ctx(T0 + 88, false));
    expect(out.interaction.state).toBe("failed");
    expect(out.interaction.upstream.cleanup).toBe("pending");
    expect(out.interaction.upstream.copies.every((c) => c.cleanup === "pending")).toBe(true);
    expect(out.interaction.upstream.copies.length).toBeGreaterThan(0);
    expect(out.effects).toEqual([{ type: "cancel_upstream" }]);
    for (const make of [() => assigned(), cancellingQueued, cancelled, failedRejected, expired]) {
      const ended = make();
      expect(apply(ended, { type: "upstream_unseen", reason: "poll" }, ctx()).interaction).toBe(ended);
    }
  });

  it("upstream_event without a reason", () => {
    const out = apply(dispatching(), { type: "upstream_event", kind: "abandoned" }, ctx());
    expect(out.interaction.state).toBe("failed");
    expect(out.interaction.timeline.at(-1)?.detail).toBe("upstream reported abandoned");
  });

  it.each(["abandoned", "failed"] as const)("upstream_event %s after the interaction ended changes nothing", (kind) => {
    for (const make of [() => assigned(), cancellingQueued, cancelled, failedRejected, expired]) {
      const ix = make();
      expect(apply(ix, { type: "upstream_event", kind }, ctx()).interaction).toBe(ix);
    }
  });

  it("upstream_event completed is noted on an assigned interaction", () => {
    const ix = assigned();
    const out = apply(ix, { type: "upstream_event", kind: "completed" }, ctx(T0 + 99));
    expect(out.interaction.state).toBe("assigned");
    expect(out.interaction.version).toBe(ix.version + 1);
    expect(out.interaction.timeline.at(-1)).toStrictEqual({
      at: new Date(T0 + 99).toISOString(),
      state: "assigned",
      detail: "completed upstream",
    });
    expect(out.interaction.purgeAt).toBe(ix.purgeAt);
  });

  it("upstream_event completed on anything but assigned changes nothing", () => {
    for (const make of [received, dispatching, queued, cancellingQueued, cancelled]) {
      const ix = make();
      expect(apply(ix, { type: "upstream_event", kind: "completed" }, ctx()).interaction).toBe(ix);
    }
  });
});

describe("nextWake", () => {
  it("received and dispatching wake at the dispatch deadline", () => {
    expect(nextWake(received())).toBe(T0 + DEADLINE_MS);
    expect(nextWake(dispatching())).toBe(T0 + DEADLINE_MS);
  });

  it("an earlier retry wins over the deadline, a later one does not", () => {
    expect(nextWake(dispatching(), T0 + 500)).toBe(T0 + 500);
    expect(nextWake(dispatching(), T0 + DEADLINE_MS + 1)).toBe(T0 + DEADLINE_MS);
  });

  it("queued wakes at expiresAt", () => {
    expect(nextWake(queued())).toBe(T0 + QUEUE_MS);
    expect(nextWake(queued(), T0 + 10)).toBe(T0 + 10);
  });

  it("cancelling wakes at the retry", () => {
    expect(nextWake(cancellingQueued(), T0 + 1_234)).toBe(T0 + 1_234);
    expect(nextWake(cancellingDispatching(), T0 + 4_321)).toBe(T0 + 4_321);
  });

  // nextWake is pure: the retry time comes from the core, which always supplies one while upstream
  // work is in flight, so a restart mid-cancel still has an alarm to resume it.
  it("a cancelling interaction wakes for its upstream retry (the core always supplies one)", () => {
    expect(nextWake(cancellingQueued(), T0 + 5)).toBe(T0 + 5);
  });

  it("terminal states with nothing owed upstream wake at purgeAt", () => {
    for (const make of [() => assigned(), cancelled, failedRejected]) {
      const ix = make();
      expect(ix.purgeAt).toBeDefined();
      expect(nextWake(ix)).toBe(ix.purgeAt);
    }
  });

  it("a terminal state with cleanup pending wakes for the retry only: no purge while a copy is owed", () => {
    for (const make of [failedPending, expired]) {
      const ix = make();
      expect(ix.purgeAt).toBeDefined();
      expect(nextWake(ix)).toBeUndefined();
      expect(nextWake(ix, T0 + QUEUE_MS + 500)).toBe(T0 + QUEUE_MS + 500);
      expect(nextWake(ix, ix.purgeAt! + 1)).toBe(ix.purgeAt! + 1);
    }
  });

  it("a retry time is ignored once nothing is left to do", () => {
    const ix = assigned();
    expect(nextWake(ix, T0 + 5)).toBe(ix.purgeAt);
    const done = failedRejected();
    expect(nextWake(done, T0 + 5)).toBe(done.purgeAt);
  });

  it("a terminal state without purgeAt never wakes", () => {
    const ix: Interaction = { ...assigned() };
    delete ix.purgeAt;
    expect(nextWake(ix)).toBeUndefined();
  });
});

describe("apply: properties over random event sequences", () => {
  const eventArb: fc.Arbitrary<Event> = fc.oneof(
    fc.constant<Event>({ type: "dispatch_started" }),
    fc.constantFrom("up-1", "up-2").map<Event>((upstreamId) => ({ type: "dispatch_accepted", upstreamId })),
    fc.option(fc.constantFrom(400, 422), { nil: undefined }).map<Event>((status) =>
      status === undefined ? { type: "dispatch_rejected", reason: "r" } : { type: "dispatch_rejected", status, reason: "r" },
    ),
    fc.constant<Event>({ type: "dispatch_deadline" }),
    fc.constant<Event>({ type: "cancel_requested" }),
    fc.constant<Event>({ type: "upstream_cancelled", upstreamId: "up-1" }),
    fc.option(fc.constantFrom("a1", "a2"), { nil: undefined }).map<Event>((agentId) =>
      agentId === undefined ? { type: "upstream_too_late", upstreamId: "up-1" } : { type: "upstream_too_late", upstreamId: "up-1", agentId },
    ),
    fc.option(fc.constantFrom("a1", "a2"), { nil: undefined }).map<Event>((agentId) =>
      agentId === undefined ? { type: "claim" } : { type: "claim", agentId },
    ),
    fc.option(fc.constantFrom("a1", "a2"), { nil: undefined }).map<Event>((agentId) =>
      agentId === undefined ? { type: "assignment_seen" } : { type: "assignment_seen", agentId },
    ),
    fc.constant<Event>({ type: "queue_timeout" }),
    fc.constantFrom("abandoned", "failed", "completed").map<Event>((kind) => ({ type: "upstream_event", kind: kind as "abandoned" })),
  );

  it("never throws, only ever takes legal steps, and stamps purgeAt on every terminal state", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 25 }), fc.boolean(), (events, canVeto) => {
        let ix = received();
        let now = T0;
        for (const event of events) {
          now += 100;
          const before = ix;
          const out = apply(ix, event, ctx(now, canVeto));
          ix = out.interaction;
          expect(ix.version).toBeGreaterThanOrEqual(before.version);
          expect(ix.timeline.length - before.timeline.length).toBe(ix.version - before.version);
          if (out.claim) expect(event.type === "claim" || event.type === "assignment_seen").toBe(true);
          if (TERMINAL.has(ix.state)) expect(ix.purgeAt).toBeDefined();
          if (ix.state === "queued") expect(ix.expiresAt).toBe(T0 + QUEUE_MS);
        }
        const history = states(ix);
        for (let i = 1; i < history.length; i++) {
          if (history[i] !== history[i - 1]) expect(TRANSITIONS[history[i - 1]!]).toContain(history[i]);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("with a veto, a call whose cancel was recorded is never granted to a claim, nor assigned unless the upstream reports it", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 25 }), (events) => {
        let ix = received();
        let cancelledAt = -1;
        let breach = false;
        events.forEach((event, i) => {
          const out = apply(ix, event, ctx(T0 + i, true));
          // An assignment the upstream reports itself (outside the veto) is recorded; the proxy grants none.
          if (event.type === "upstream_too_late" && out.interaction.state === "assigned") breach = true;
          if (cancelledAt >= 0) {
            if (!breach) expect(out.interaction.state).not.toBe("assigned");
            // The only claim that may proceed is the agent the upstream itself reported repeating its
            // claim (an idempotent re-claim of a call that is already theirs); nobody else gets it.
            if (out.claim?.proceed) {
              expect(breach).toBe(true);
              expect(ix.state).toBe("assigned");
              expect(event.type === "claim" || event.type === "assignment_seen" ? event.agentId : null).toBe(ix.upstream.agentId);
            }
          }
          if (event.type === "cancel_requested" && ACTIVE.has(ix.state)) cancelledAt = i;
          ix = out.interaction;
        });
      }),
      { numRuns: 500 },
    );
  });
});
