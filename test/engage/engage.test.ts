/**
 * The `genesys-engage` upstream end to end, once per dialect (projects "engage-nexus" and
 * "engage-gms"): the worker in workerd, its outbound calls answered by test/fakes/engage.ts (one
 * Node object per project, so every test resets it; all tests live in this one file and run in
 * order). The fake refuses any call without the Cloudflare Access service token
 * (test/engage/settings.ts), and every test ends by checking that each call carried it.
 *
 * Numbers this file relies on: ENGAGE_POLL_SECONDS=1, UPSTREAM_TIMEOUT_MS=1000,
 * CREATE_DEADLINE_MS=8000 (a repeat looks up only 1 s + 2 s after a lost answer).
 */
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { EngageFault, EngageLogged, FakeInteraction } from "../fakes/engage";
import { ENGAGE_HOST, ENGAGE_SERVICE } from "./settings";

const DIALECT = (env as unknown as { ENGAGE_API: "nexus" | "gms" }).ENGAGE_API;
const CONTROL = `http://${ENGAGE_HOST}/__control`;
const API = { authorization: "Bearer engage-key-0123456789abcdefghijklmnopqrstuv", "content-type": "application/json" };
const WAIT = { timeout: 15_000, interval: 200 };
vi.setConfig({ testTimeout: 30_000 });

interface FakeState {
  interactions: FakeInteraction[];
  requests: EngageLogged[];
}

async function control(path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${CONTROL}/${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });
  expect(res.status, `control ${path}`).toBe(200);
  return res.json();
}
const fakeState = () => control("state") as Promise<FakeState>;
const faults = (...rules: EngageFault[]) => control("faults", { rules });
const assign = (externalId: string, agentId: string) => control("assign", { externalId, agentId });

interface Answer {
  status: number;
  body: { success: boolean; errorMessage: string | null; errorCode?: string; result: any };
  text: string;
}

async function proxy(path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await exports.default.fetch(`http://proxy${path}`, init);
  const text = await res.text();
  const body = JSON.parse(text) as Answer["body"];
  expect(body.success, `HTTP ${res.status}: ${text}`).toBe(res.status >= 200 && res.status < 300);
  for (const leak of ["injected fault", "locked by an agent", "nexus-api-key", "gms-password", "engage-access-secret"]) expect(text).not.toContain(leak);
  return { status: res.status, body, text };
}

const create = (customerId: string, extra: Record<string, unknown> = {}) =>
  proxy("/CreateInteraction", { method: "POST", headers: API, body: JSON.stringify({ customerId, ...extra }) });
const cancel = (id: string) => proxy(`/${id}`, { method: "DELETE", headers: API });
const read = (id: string) => proxy(`/v1/interactions/${id}`, { headers: API });

let seq = 0;
const customer = (label: string) => `eng-${label}-${++seq}-${crypto.randomUUID().slice(0, 8)}`;

async function createQueued(label: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await create(customer(label), extra);
  expect(res.status, res.text).toBe(200);
  return res.body.result.interactionId as string;
}

async function interactionsOf(interactionId: string): Promise<FakeInteraction[]> {
  return (await fakeState()).interactions.filter((x) => x.externalId === interactionId);
}

/** The calls made about one interaction from request index `from` on, as `route:status`. */
async function callsFor(from: number, interactionId: string, upstreamId?: string): Promise<string[]> {
  const state = await fakeState();
  return state.requests
    .slice(from)
    .filter((r) =>
      r.route === "create"
        ? JSON.stringify(r.body ?? "").includes(interactionId)
        : r.path.includes(`ext_${interactionId}`) || (upstreamId !== undefined && r.path.includes(`/${upstreamId}`)),
    )
    .map((r) => `${r.route}:${r.status}`);
}

const requestCount = async () => (await fakeState()).requests.length;

beforeEach(async () => {
  await control("reset", {});
});

afterEach(async () => {
  // Every upstream call of the test (create, lookup, read, stop) carried the Access service token.
  const state = await fakeState();
  expect(state.requests.filter((r) => !r.access).map((r) => `${r.method} ${r.path}`)).toEqual([]);
});

describe(`genesys-engage (${DIALECT})`, () => {
  it("/healthz reports the configured upstream as valid", async () => {
    const res = await exports.default.fetch("http://proxy/healthz");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("genesys-engage");
  });

  it("create: one open media interaction, externalId = interactionId, the attributes as user data", async () => {
    const from = await requestCount();
    const id = await createQueued("create", {
      attachedData: [{ TRX: "Diyalog" }, { PrimaryProjectManagerId: "123456" }, { SecondaryProjectManagerId: "654321" }],
      identityNumber: "12345678901",
    });
    const [only, ...more] = await interactionsOf(id);
    expect(more).toEqual([]);
    expect(only!.userData).toMatchObject({ TRX: "Diyalog", PrimaryProjectManagerId: "123456", SecondaryProjectManagerId: "654321", identityNumber: "12345678901" });
    expect(only!.userData.customerId).toMatch(/^eng-create-/);
    const [sent] = (await fakeState()).requests.slice(from).filter((r) => r.route === "create");
    if (DIALECT === "nexus") {
      expect(sent!.path).toBe(`/nexus/v3/openmedia/${ENGAGE_SERVICE}/interactions`);
      expect(sent!.contentType).toMatch(/^application\/json/);
      expect(sent!.body).toMatchObject({ externalId: id, userData: { TRX: "Diyalog", PrimaryProjectManagerId: "123456" } });
    } else {
      expect(sent!.path).toBe(`/genesys/2/openmedia/${ENGAGE_SERVICE}`);
      expect(sent!.contentType).toMatch(/^application\/x-www-form-urlencoded/);
      expect(sent!.body).toMatchObject({ externalId: id, "userData[TRX]": "Diyalog", "userData[PrimaryProjectManagerId]": "123456" });
      // GMS hands the external id to the Interaction Server as user data ExternalId.
      expect(only!.userData.ExternalId).toBe(id);
    }
    const view = await read(id);
    expect(view.body.result).toMatchObject({ state: "queued", upstream: { adapter: "genesys-engage", id: only!.id } });
  });

  it("a lost create answer is recovered through the external id: no second interaction", async () => {
    await faults({ route: "create", drop: true });
    const from = await requestCount();
    const id = await createQueued("lost");
    const copies = await interactionsOf(id);
    expect(copies).toHaveLength(1);
    expect(await callsFor(from, id)).toEqual(["create:dropped", "ext:200"]);
    expect((await read(id)).body.result.upstream.id).toBe(copies[0]!.id);
  });

  it("503 and 429 with Retry-After: retried (looked up first), the next attempt no sooner than Retry-After says", async () => {
    // Create faults only: background polls of earlier tests' interactions also look up by external id.
    await faults({ route: "create", status: 503, retryAfterSeconds: 1 }, { route: "create", status: 429, retryAfterSeconds: 3 });
    const from = await requestCount();
    const id = await createQueued("busy");
    expect(await interactionsOf(id)).toHaveLength(1);
    expect(await callsFor(from, id)).toEqual(["create:503", "ext:404", "create:429", "ext:404", "create:200"]);
    const mine = (await fakeState()).requests.slice(from).filter((r) => r.route === "create" || r.path.includes(`ext_${id}`));
    // The lookup lag alone (2 s) would look up again sooner; Retry-After: 3 says not before 3 s.
    expect(mine[3]!.at - mine[2]!.at).toBeGreaterThanOrEqual(2950);
  });

  it("a refused create (400) fails as upstream_rejected and is not sent again", async () => {
    await faults({ route: "create", status: 400 });
    const res = await create(customer("bad"));
    expect(res.status).toBe(502);
    expect(res.body.errorCode).toBe("upstream_rejected");
    expect((await fakeState()).interactions).toHaveLength(0);
  });

  it("cancel before an agent: read, stop, confirmed gone → 200 cancelled", async () => {
    const id = await createQueued("cancel");
    const upstreamId = (await interactionsOf(id))[0]!.id;
    const from = await requestCount();
    const res = await cancel(id);
    expect(res.status, res.text).toBe(200);
    expect(res.body.result.state).toBe("cancelled");
    expect(await interactionsOf(id)).toEqual([]);
    expect(await callsFor(from, id, upstreamId)).toEqual(["get:200", "stop:200", "get:404", "ext:404"]);
  });

  it("cancel after an agent has it: 409 already_assigned, nothing stopped", async () => {
    const id = await createQueued("taken");
    await assign(id, "agent-7");
    const from = await requestCount();
    const res = await cancel(id);
    expect(res.status).toBe(409);
    expect(res.body.errorCode).toBe("already_assigned");
    expect((await fakeState()).requests.slice(from).filter((r) => r.route === "stop")).toEqual([]);
    expect((await interactionsOf(id))[0]).toMatchObject({ InteractionState: 3, AssignedTo: "agent-7" });
  });

  it("the race: an agent gets it just before the stop → the stop is refused, the re-read says 409", async () => {
    const id = await createQueued("race");
    await faults({ route: "stop", assignAgent: "agent-9" });
    const res = await cancel(id);
    expect(res.status).toBe(409);
    expect(res.body.errorCode).toBe("already_assigned");
    expect((await interactionsOf(id))[0]).toMatchObject({ InteractionState: 3, AssignedTo: "agent-9" });
  });

  it("Engage unreachable during a cancel: 503 cancel_unconfirmed, then the cancel completes in the background", async () => {
    const id = await createQueued("down");
    await faults({ route: "get", status: 503, times: -1 });
    const res = await cancel(id);
    expect(res.status).toBe(503);
    expect(res.body.errorCode).toBe("cancel_unconfirmed");
    expect(await interactionsOf(id)).toHaveLength(1);
    await faults();
    await vi.waitFor(async () => expect((await read(id)).body.result.state).toBe("cancelled"), WAIT);
    expect(await interactionsOf(id)).toEqual([]);
    expect((await cancel(id)).status).toBe(200);
  });

  it("polling learns the assignment: routing gives it to the portfolio manager → assigned", async () => {
    await control("setup", { autoAssign: { afterMs: 300, agentId: "any-agent" } });
    const id = await createQueued("poll", { attachedData: { PrimaryProjectManagerId: "pm-42" } });
    await vi.waitFor(async () => expect((await read(id)).body.result.state).toBe("assigned"), WAIT);
    expect((await read(id)).body.result.upstream).toMatchObject({ agentId: "pm-42" });
    const res = await cancel(id);
    expect(res.status).toBe(409);
    expect(res.body.errorCode).toBe("already_assigned");
  });

  it("reads that answer 404 for an interaction Engage still holds (a read path the installation does not serve, a gateway's 404): a cancel is not confirmed until a stop went through", async () => {
    const id = await createQueued("read-404");
    const [held] = await interactionsOf(id);
    // Engage still has the interaction queued; only its reads (by id and by external id) answer 404.
    await faults({ route: "get", status: 404, times: -1 }, { route: "ext", status: 404, times: -1 });
    const res = await cancel(id);
    const stops = (await fakeState()).requests.filter((r) => r.route === "stop" && r.path.includes(`/${held!.id}`));
    if (res.status === 200) {
      // success:true promises the call never reaches an agent: Engage must no longer hold it.
      expect(await interactionsOf(id), "DELETE answered success while Engage still holds the interaction (no stop was sent)").toEqual([]);
    } else {
      expect(res.status).toBe(503);
      expect(res.body.errorCode).toBe("cancel_unconfirmed");
    }
    await faults();
    // Routing gives it to an agent now: the proxy must not have told Diyalog it was cancelled.
    if (res.status === 200) expect(stops.length, "no stop was sent").toBeGreaterThan(0);
  });

  it("two interactions under one external id (a lost create answer the lookup did not show yet): DELETE answers success only once Engage holds neither", async () => {
    // The first create lands but its answer is lost; the lookup before the next attempt does not show it yet.
    await faults({ route: "create", drop: true }, { route: "ext", status: 404 });
    const id = await createQueued("twin");
    await faults();
    const res = await cancel(id);
    if (res.status === 200) {
      // success:true promises the call never reaches an agent: no interaction of this call may stay queued in Engage.
      expect(await interactionsOf(id), "DELETE answered success while Engage still holds a copy found by the external id").toEqual([]);
    } else {
      expect(res.status).toBe(503);
      expect(res.body.errorCode).toBe("cancel_unconfirmed");
    }
  });
});
