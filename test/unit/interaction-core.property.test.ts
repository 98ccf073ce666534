import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canVeto, mulberry32, MODELS, statedLookupLagMs, World, type CancelPlan, type Command, type DispatchPlan, type Fault, type Model, type Scenario } from "./interaction-world";

/*
 * Property tests of InteractionCore and the customer index in a simulated world (see
 * interaction-world.ts), run through the SAME properties for every upstream model: http (key +
 * veto), http409 (key, 409 to a concurrent duplicate), twilio (lookup that may lag + veto), genesys
 * (lookup that may lag, lost create answers, Idle workitems, no veto, polled), connect (ClientToken
 * window, no veto, polled). fast-check's scheduler interleaves Diyalog's creates (several customers,
 * including two whose ids differ only by a lone surrogate vs U+FFFD), cancels and erasures (POST
 * /v1/customers/erase: every interaction of the customer, as CustomerInteractions.erase), upstream answers,
 * claims, abandons, alarms (due, duplicated, retried) and restarts of interactions and of the index,
 * as commands and as faults placed at any await point.
 *
 * guarantee (checked as it happens, and after settling and offering every waiting copy to an agent):
 *   (a) at most one adapter.dispatch in flight per live interaction instance;
 *   (b) after a cancel answered success (done, or 202 cancelling), or an erasure answered the
 *       interaction cancelled, no agent ever gets the interaction from any upstream copy (a claim
 *       is never granted, a non-veto ACD never gives it), and without a veto no copy is left
 *       waiting for one; an erasure answers only once no call it found waiting is still active;
 *   (c) no two customers are ever answered the same interaction; an answered interaction belongs
 *       to the customer who asked;
 *   (e) one active call per customer: no copy is made for a customer while another of their
 *       interactions still has a copy that can reach an agent;
 *   (f) a create answered "created" was past dispatching;
 *   (g) no interaction is granted to two different agents;
 *   (k) every create goes out as its own interaction, never "first attempt" on a repeat;
 *   (m) minimised: no stored record from which no create may be resent holds identityNumber; an
 *       erased one then holds no customerId (""), attribute values, identityNumber (or its mask)
 *       or upstream free text; every create sent still carries the customer's data; an
 *       erasure's answer finds every interaction it reached marked erased;
 *   (o) one active call per customer: at most one of a customer's stored records is active;
 *   (x) no unexpected error from a live instance.
 * liveness (once quiescent):
 *   (l) every interaction ends terminal and purged, nothing it sent is left waiting upstream
 *       (unless vetoed); (f) every create answered
 *       "created" stored its interaction; (q) the world does become quiescent.
 *
 * Runs: VITE_PROPERTY_RUNS (per model, split 70/30 between guarantee and liveness) overrides the
 * default, e.g. `VITE_PROPERTY_RUNS=100000 npx vitest run --project simulator <this file>`.
 * A failure prints fast-check's seed and path and the trace of the shrunk run; replay with FC_SEED
 * / FC_PATH below (and `-t` to pick the failing test).
 */

const FC_SEED: number | undefined = undefined;
const FC_PATH: string | undefined = undefined;
const SETTLE_ROUNDS = 400;

function env(name: string): string | undefined {
  const meta = (import.meta as unknown as { env?: Record<string, string | undefined> }).env;
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  // Vite hands tests running in workerd only the VITE_-prefixed variables.
  return meta?.[`VITE_${name}`] ?? meta?.[name] ?? proc?.env?.[name];
}

function envRuns(): number | undefined {
  const raw = env("PROPERTY_RUNS");
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * VITE_PROPERTY_WITHOUT (comma-separated) narrows the generator to look past a known failure:
 * `surrogates` (no customers whose ids differ only by a lone surrogate), `lag` (lookups see every
 * copy at once), `idle` (Genesys workitems route at once), `restarts` (no restarts at all), `zombies` (restarts always crash the old instance),
 * `erase` (no erasures).
 */
const WITHOUT = new Set((env("PROPERTY_WITHOUT") ?? "").split(",").filter(Boolean));
/**
 * The order in which, after a restart, the customer object meets records created in the same
 * millisecond (`latestTies` in interaction-world.ts): by default each run draws one, `key` (storage
 * key order, as CustomerInteractions.stored() lists them) or `creation`; VITE_PROPERTY_TIES=key or
 * =creation fixes it.
 */
const TIES = env("PROPERTY_TIES");
/** VITE_PROPERTY_SKIP (comma-separated invariant letters, e.g. `c,e`) ignores those invariants, for the same purpose. */
const SKIP = new Set((env("PROPERTY_SKIP") ?? "").split(",").filter(Boolean));
const kept = (violations: string[]) => violations.filter((v) => !SKIP.has(/^\((\w)\)/.exec(v)?.[1] ?? ""));

/** Runs per model (guarantee + liveness); 6 models → 60,000 runs in all by default. */
const RUNS_PER_MODEL = envRuns() ?? 10_000;
const GUARANTEE_RUNS = Math.ceil(RUNS_PER_MODEL * 0.7);
const LIVENESS_RUNS = RUNS_PER_MODEL - GUARANTEE_RUNS;

const dispatchPlanArb = fc.constantFrom<DispatchPlan>("accept", "accept", "503", "429", "reject", "lost", "lost-hang");
const cancelPlanArb = fc.constantFrom<CancelPlan>("ok", "ok", "503", "429", "lost", "lost-hang");
const hangArb = WITHOUT.has("zombies") ? fc.constant(true) : fc.boolean();
const targetArb = fc.oneof({ weight: 4, arbitrary: fc.nat({ max: 2 }) }, { weight: 1, arbitrary: fc.constant("index" as const) });

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.nat({ max: 2 }).map((c): Command => ({ t: "create", c })) },
  { weight: 3, arbitrary: fc.nat({ max: 2 }).map((n): Command => ({ t: "cancel", n })) },
  ...(WITHOUT.has("erase") ? [] : [{ weight: 1, arbitrary: fc.nat({ max: 2 }).map((c): Command => ({ t: "erase", c })) }]),
  {
    weight: 5,
    arbitrary: fc
      .record({ n: fc.nat({ max: 2 }), agent: fc.constantFrom("agent-1", "agent-2"), named: fc.boolean() })
      .map(({ n, agent, named }): Command => ({ t: "claim", n, agent, named })),
  },
  { weight: 1, arbitrary: fc.nat({ max: 2 }).map((n): Command => ({ t: "abandon", n })) },
  { weight: 2, arbitrary: fc.nat({ max: 2 }).map((n): Command => ({ t: "alarm", n })) },
  { weight: 1, arbitrary: fc.record({ target: targetArb, hang: hangArb }).map(({ target, hang }): Command => ({ t: WITHOUT.has("restarts") ? "tick" : "restart", ms: 0, target, hang }) as Command) },
  { weight: 4, arbitrary: fc.constantFrom(0, 100, 1_000, 4_000, 9_000, 40_000).map((ms): Command => ({ t: "tick", ms })) },
);

const faultArb: fc.Arbitrary<Fault> = fc.record({ step: fc.integer({ min: 1, max: 80 }), target: targetArb, hang: hangArb });

const customersArb = WITHOUT.has("surrogates")
  ? fc.constantFrom<string[]>(["customer-a"], ["customer-a", "customer-b"])
  : fc.constantFrom<string[]>(["customer-a"], ["customer-a", "customer-b"], ["X\ud83d", "X\ufffd"], ["customer-a", "X\ud83d", "X\ufffd"]);

function scenarioArb(model: Model): fc.Arbitrary<Scenario> {
  return fc.record({
    model: fc.constant(model),
    customers: customersArb,
    settings: fc.record({
      upstreamTimeoutMs: fc.constantFrom(1_000, 5_000),
      createDeadlineMs: fc.constantFrom(3_000, 8_000),
      queueTimeoutMs: fc.constantFrom(30_000, 120_000),
      retentionMs: fc.constantFrom(60_000, 86_400_000),
    }),
    dispatchPlans: fc.array(dispatchPlanArb, { maxLength: 8 }),
    cancelPlans: fc.array(cancelPlanArb, { maxLength: 6 }),
    retryAfterMs: fc.constantFrom(0, 500, 3_000, 20_000),
    randomSeed: fc.integer(),
    // Up to the lag the model's adapter states it assumes (a longer one is outside the guarantee).
    lookupLagMs: WITHOUT.has("lag") ? fc.constant(0) : fc.constantFrom(0, 0, 1_000, statedLookupLagMs(model)),
    // Connect keeps a ClientToken for days; no retry of the proxy's lasts that long.
    tokenWindowMs: fc.constant(7 * 86_400_000),
    idleMs: WITHOUT.has("idle") ? fc.constant(0) : fc.constantFrom(0, 400, 3_000),
    commands: fc.array(commandArb, { maxLength: 24 }).map((rest): Command[] => [{ t: "create", c: 0 }, ...rest]),
    faults: fc.array(faultArb, { maxLength: WITHOUT.has("restarts") ? 0 : 3 }),
    latestTies: TIES === "key" || TIES === "creation" ? fc.constant(TIES) : fc.constantFrom("key" as const, "creation" as const),
  });
}

async function simulate(scenario: Scenario, s: fc.Scheduler, drain: boolean): Promise<{ world: World; quiescent: boolean }> {
  const world = new World(s, scenario);
  const random = Math.random;
  const dateNow = Date.now;
  const { log, info, warn, error } = console;
  Math.random = mulberry32(scenario.randomSeed);
  // The real objects read Date.now(): it is the world's virtual clock here.
  Date.now = () => world.now;
  console.log = console.info = console.warn = console.error = () => {};
  try {
    s.scheduleSequence(scenario.commands.map((command) => ({ label: JSON.stringify(command), builder: () => world.run(command) })));
    const quiescent = await world.settle(SETTLE_ROUNDS);
    if (drain) {
      await world.drain();
      await world.settle(SETTLE_ROUNDS);
    }
    return { world, quiescent };
  } finally {
    Math.random = random;
    Date.now = dateNow;
    Object.assign(console, { log, info, warn, error });
  }
}

type Coverage = Record<string, number>;

function record(coverage: Coverage, world: World): void {
  const add = (key: string, n = 1) => (coverage[key] = (coverage[key] ?? 0) + n);
  add("runs");
  for (const c of world.calls) {
    if (!c.done) continue;
    if (!c.acked) {
      add(`${c.op}:noAnswer`);
      continue;
    }
    add(`${c.op}:${c.outcome?.kind}${c.outcome?.state ? `:${c.outcome.state}` : ""}`);
    if (c.op === "erase") add("erase:cancelledIds", c.outcome?.cancelled?.length ?? 0);
  }
  add("agentsGivenCall", world.assignments.length);
  for (const [key, n] of Object.entries(world.counters)) add(key, n);
}

function fail(violations: string[], world: World): never {
  throw new Error(`${violations.join("\n")}\n--- scenario ---\n${JSON.stringify(world.scenario)}\n--- trace ---\n${world.trace.join("\n")}`);
}

const params = (numRuns: number): fc.Parameters<[Scenario, fc.Scheduler]> => ({
  numRuns,
  verbose: fc.VerbosityLevel.Verbose,
  ...(FC_SEED === undefined ? {} : { seed: FC_SEED }),
  ...(FC_PATH === undefined ? {} : { path: FC_PATH }),
});

const ran: Record<string, number> = {};

describe("InteractionCore and the customer index under random interleavings, per upstream model (property)", () => {
  for (const model of MODELS) {
    it(`${model}: guarantee (one dispatch in flight, no agent after a successful cancel, customers kept apart, one active call) (${GUARANTEE_RUNS} runs)`, async () => {
      const coverage: Coverage = {};
      try {
        await fc.assert(
          fc.asyncProperty(scenarioArb(model), fc.scheduler(), async (scenario, s) => {
            const { world } = await simulate(scenario, s, true);
            record(coverage, world);
            const violations = kept(world.guaranteeViolations());
            if (violations.length > 0) fail(violations, world);
          }),
          params(GUARANTEE_RUNS),
        );
      } finally {
        ran[model] = (ran[model] ?? 0) + (coverage.runs ?? 0);
        console.log(`property runs: ${model} guarantee ${coverage.runs ?? 0}; coverage ${JSON.stringify(coverage)}`);
      }
      const atLeast = (key: string, n: number) => expect(coverage[key] ?? 0, key).toBeGreaterThanOrEqual(n);
      const runs = GUARANTEE_RUNS;
      // Erasures take a share of the commands and cancel calls too: DELETE's own successes, and all
      // calls answered cancelled (by a DELETE or an erasure), after which no agent may get them.
      atLeast("cancel:done:cancelled", runs / 30);
      expect((coverage["cancel:done:cancelled"] ?? 0) + (coverage["erase:cancelledIds"] ?? 0), "answered cancelled").toBeGreaterThanOrEqual(runs / 20);
      atLeast("create:created:queued", runs / 10);
      if (!WITHOUT.has("surrogates")) atLeast("lookalikeCustomerCreates", runs / 10);
      atLeast("agentsGivenCall", runs / 20);
      atLeast("cancelsWhileDispatching", runs / 50);
      if (!WITHOUT.has("restarts")) {
        atLeast("restartsWhileDispatching", runs / 50);
        atLeast("faultRestarts", runs / 5);
        atLeast("indexRestarts", runs / 20);
      }
      atLeast("duplicateAlarms", runs / 100);
      atLeast("lost", runs / 10);
      // Rare by nature (a claim must come after the cancel was acknowledged): observed 57–182 per 7,000.
      if (canVeto(model)) atLeast("claimsRefusedAfterCancelAck", runs / 250);
      else atLeast("polls", runs);
      if (model === "http409") atLeast("conflicts409", runs / 1000);
      if (!WITHOUT.has("erase")) {
        // Observed per 7,000 (2026-12): 370–421 of active calls, 579–658 while a create of the same
        // customer was in flight, 148–189 while a cancel of one of its calls was, 266–345 while
        // dispatching, 459–526 creates after an erasure, 2,066–2,407 erased records stored stripped.
        atLeast("erasuresOfActiveCalls", runs / 35);
        atLeast("erasuresWhileCreating", runs / 20);
        atLeast("erasuresWhileCancelling", runs / 100);
        atLeast("erasuresWhileDispatching", runs / 50);
        atLeast("createsAfterErasure", runs / 30);
        atLeast("createsAnsweredErased", runs / 30);
        atLeast("erasedRecordsStripped", runs / 7);
        // Rare: a claim after the erasure's answer (13–50 per 7,000 on the veto upstreams).
        if (canVeto(model)) atLeast("claimsRefusedAfterErasure", runs / 1000);
      }
    }, 600_000);

    it(`${model}: liveness (everything closes, nothing left upstream or in the index, no acknowledged create lost) (${LIVENESS_RUNS} runs)`, async () => {
      const coverage: Coverage = {};
      try {
        await fc.assert(
          fc.asyncProperty(scenarioArb(model), fc.scheduler(), async (scenario, s) => {
            const { world, quiescent } = await simulate(scenario, s, false);
            record(coverage, world);
            const violations = kept(world.livenessViolations(quiescent));
            if (violations.length > 0) fail(violations, world);
          }),
          params(LIVENESS_RUNS),
        );
      } finally {
        ran[model] = (ran[model] ?? 0) + (coverage.runs ?? 0);
        console.log(`property runs: ${model} liveness ${coverage.runs ?? 0}`);
      }
    }, 600_000);
  }

  it("prints the run count per model", () => {
    const total = Object.values(ran).reduce((a, b) => a + b, 0);
    console.log(`property runs per model: ${JSON.stringify(ran)}; total ${total}`);
    expect(Object.keys(ran).sort()).toEqual([...MODELS].sort());
  });
});
