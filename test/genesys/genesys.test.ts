/**
 * The `genesys-cloud` upstream end to end: the worker in workerd, its outbound calls answered by the
 * Genesys fake of test/fakes/genesys.ts (one Node object for the whole project, so every test resets
 * it and all tests that touch it live in this one file and run in order).
 *
 * The adapter's token and users caches live at module level in the worker's isolate and outlive a
 * test; assertions about logins therefore count logins made *during* a step, and a reset of the
 * fake (which forgets its tokens) costs the adapter one 401 and one fresh login.
 *
 * Numbers this file relies on (test/genesys/settings.ts): GENESYS_POLL_SECONDS=1,
 * UPSTREAM_TIMEOUT_MS=1000, CREATE_DEADLINE_MS=8000 (a repeat looks up only 1 s + 5 s after a lost answer).
 */
import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { FAKE_QUEUE, FAKE_VIP_QUEUE, FAKE_WORKTYPE, type FakeWorkitem, type FaultRule, type LoggedRequest, type Settings } from "../fakes/genesys";
import { GENESYS_API_HOST, GENESYS_LOGIN_HOST } from "./settings";

const CONTROL = `http://${GENESYS_API_HOST}/__control`;
const API = { authorization: "Bearer genesys-key-0123456789abcdefghijklmnopqrstuv", "content-type": "application/json" };
const WAIT = { timeout: 15_000, interval: 200 };
const TIMEOUT = 30_000;
// Inline vitest projects do not inherit the root testTimeout; a cold worker under a loaded run needs more than 5 s.
vi.setConfig({ testTimeout: TIMEOUT });

// Agents of the fake directory: the bank's employee ids resolve to these Genesys user ids.
const AYSE = "a1a1a1a1-0000-4000-8000-000000000001";
const MEHMET = "b2b2b2b2-0000-4000-8000-000000000002";
const RETIRED = "c3c3c3c3-0000-4000-8000-000000000003";
const TWIN_1 = "d4d4d4d4-0000-4000-8000-000000000004";
const TWIN_2 = "e5e5e5e5-0000-4000-8000-000000000005";
const DIRECTORY: Settings["users"] = [
  { id: AYSE, name: "Ayşe Y.", employeeId: "123456" },
  { id: MEHMET, name: "Mehmet K.", employeeId: "654321" },
  { id: RETIRED, name: "Retired", employeeId: "777777", state: "inactive" },
  { id: TWIN_1, name: "Twin 1", employeeId: "888888" },
  { id: TWIN_2, name: "Twin 2", employeeId: "888888" },
];
/** The worktype's schema: every customFields name the adapter sends must be here. */
const FIELDS = ["channel_text", "national_id_text", "customerId_text", "PrimaryProjectManagerId_text", "SecondaryProjectManagerId_text", "Region_text", "a_1st_key_text"];

// ---------------------------------------------------------------------------------------------
// The fake.

interface FakeState {
  workitems: FakeWorkitem[];
  requests: LoggedRequest[];
  tokens: number;
  /** ACD steps the fake still has scheduled (Idle → AcdStarted, Alerting, Connected). */
  pendingTimers: number;
}

async function control(path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${CONTROL}/${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });
  expect(res.status, `control ${path}`).toBe(200);
  return res.json();
}

const fakeState = () => control("state") as Promise<FakeState>;
const setup = (settings: Partial<Settings>) => control("setup", settings);
const faults = (...rules: FaultRule[]) => control("faults", { rules });
const assign = (externalTag: string, state: string, agentId?: string) => control("assign", { externalTag, state, agentId });

async function workitemsOf(interactionId: string): Promise<FakeWorkitem[]> {
  return (await fakeState()).workitems.filter((w) => w.externalTag === interactionId);
}

async function onlyWorkitem(interactionId: string): Promise<FakeWorkitem> {
  const found = await workitemsOf(interactionId);
  expect(found, "exactly one workitem per interaction").toHaveLength(1);
  return found[0]!;
}

/** Requests the fake logged from index `from` on. */
async function requestsSince(from: number): Promise<LoggedRequest[]> {
  return (await fakeState()).requests.slice(from);
}

const requestCount = async () => (await fakeState()).requests.length;

/**
 * The calls made for one interaction from index `from` on. Interactions of earlier steps keep
 * polling in the background (and meet the reset fake's 404s), so a test looks at its own calls only.
 */
async function callsFor(from: number, interactionId: string): Promise<string[]> {
  const state = await fakeState();
  const workitemIds = state.workitems.filter((w) => w.externalTag === interactionId).map((w) => w.id);
  return state.requests
    .slice(from)
    .filter((r) =>
      r.route === "create" || r.route === "query"
        ? JSON.stringify(r.body ?? "").includes(interactionId)
        : (r.route === "get" || r.route === "cancel" || r.route === "terminate") && workitemIds.some((w) => r.path.endsWith(w) || r.path.includes(`${w}/`)),
    )
    .filter((r) => r.status !== 401) // a token refused after the fake's reset is retried once: not this test's subject
    .map((r) => `${r.route}:${r.status}`);
}

// ---------------------------------------------------------------------------------------------
// The proxy. Every answer must be a JSON envelope whose `success` agrees with the status.

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
  // Nothing Genesys says reaches Diyalog: no ErrorBody text, no tokens, no secrets.
  for (const leak of ["Unable to perform", "bad.credentials", "missing.any.permissions", "injected fault", "tok_", "genesys-secret", "invalid_client"]) {
    expect(text).not.toContain(leak);
  }
  return { status: res.status, body, text };
}

const create = (customerId: string, extra: Record<string, unknown> = {}) =>
  proxy("/CreateInteraction", { method: "POST", headers: API, body: JSON.stringify({ customerId, ...extra }) });
const cancel = (id: string) => proxy(`/${id}`, { method: "DELETE", headers: API });
const read = (id: string) => proxy(`/v1/interactions/${id}`, { headers: API });

let customerSeq = 0;
function customer(label: string): string {
  customerSeq += 1;
  return `gen-${label}-${customerSeq}-${crypto.randomUUID().slice(0, 8)}`;
}

async function createQueued(label: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await create(customer(label), extra);
  expect(res.status, res.text).toBe(200);
  return res.body.result.interactionId as string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeEach(async () => {
  await control("reset", {});
  await setup({ users: DIRECTORY, worktypes: { [FAKE_WORKTYPE]: { name: "Diyalog video call", fields: FIELDS } } });
});

// =============================================================================================

describe("configuration", () => {
  it("UPSTREAM=genesys-cloud with these variables is a valid configuration", async () => {
    const res = await exports.default.fetch("http://proxy/healthz");
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain("genesys-secret");
  });
});

describe("create", () => {
  it(
    "one workitem: worktype, default queue, externalTag, mapped customFields, preferred agents by employeeId, no personal data in its name",
    async () => {
      const customerId = customer("happy");
      const from = await requestCount();
      const res = await create(customerId, {
        attachedData: [{ TRX: "Diyalog" }, { PrimaryProjectManagerId: "123456" }, { SecondaryProjectManagerId: "654321" }],
        identityNumber: "12345678901",
      });
      expect(res.status, res.text).toBe(200);
      const id: string = res.body.result.interactionId;

      const workitem = await onlyWorkitem(id);
      expect(workitem.type.id).toBe(FAKE_WORKTYPE);
      expect(workitem.queue?.id).toBe(FAKE_QUEUE);
      expect(workitem.externalTag).toBe(id);
      expect(workitem.name).toBe(`Diyalog call ${id.slice(0, 8)}`);
      expect(workitem.name).not.toContain(customerId);
      expect(workitem.name).not.toContain("12345678901");
      // GENESYS_FIELD_MAP names TRX and identityNumber; the rest default to <attribute>_text.
      expect(workitem.customFields).toEqual({
        channel_text: "Diyalog",
        PrimaryProjectManagerId_text: "123456",
        SecondaryProjectManagerId_text: "654321",
        customerId_text: customerId,
        national_id_text: "12345678901",
      });
      // PREFERRED_AGENT_KEYS order: primary first; the bank's ids resolved to Genesys user UUIDs.
      expect(workitem.preferredAgents?.map((a) => a.id)).toEqual([AYSE, MEHMET]);
      expect(workitem.assignmentState).toBe("AcdStarted");

      const calls = await requestsSince(from);
      const searches = calls.filter((r) => r.route === "users");
      for (const s of searches) {
        expect(s.body).toMatchObject({ expand: ["employerInfo"], query: [{ type: "EXACT", fields: ["employerInfo.employeeId"] }] });
      }
      // Login goes to the login host with the client's Basic credentials; everything else to the API host.
      for (const login of calls.filter((r) => r.route === "login")) {
        expect(login.host).toBe(GENESYS_LOGIN_HOST);
        expect(login.authorization).toBe(`Basic ${btoa("genesys-client:genesys-secret")}`);
        expect(login.body).toEqual({ grant_type: "client_credentials" });
      }
      expect(calls.filter((r) => r.route !== "login").every((r) => r.host === GENESYS_API_HOST)).toBe(true);
      // A fresh interaction is sure nothing exists yet: no lookup before its one create.
      expect(await callsFor(from, id)).toEqual(["create:200"]);

      const view = await read(id);
      expect(view.body.result).toMatchObject({ state: "queued", upstream: { adapter: "genesys-cloud", id: workitem.id } });
      expect(view.text).not.toContain("12345678901");
    },
    TIMEOUT,
  );

  it(
    "preferred agents from every attachedData shape, in PREFERRED_AGENT_KEYS order; unresolvable ids are skipped, never fatal",
    async () => {
      const cases: { attachedData: unknown; agents: string[] | undefined }[] = [
        // flat object, keys in the "wrong" order: PREFERRED_AGENT_KEYS decides, not the object
        { attachedData: { SecondaryProjectManagerId: "654321", PrimaryProjectManagerId: "123456" }, agents: [AYSE, MEHMET] },
        // array of one-key objects, a later key wins
        { attachedData: [{ PrimaryProjectManagerId: "999999" }, { PrimaryProjectManagerId: "123456" }], agents: [AYSE] },
        // a JSON number becomes the string "123456"
        { attachedData: { PrimaryProjectManagerId: 123456 }, agents: [AYSE] },
        // unknown employee id skipped, the secondary still preferred
        { attachedData: { PrimaryProjectManagerId: "999999", SecondaryProjectManagerId: "654321" }, agents: [MEHMET] },
        // inactive user and an ambiguous employee id (two users): neither is guessed
        { attachedData: { PrimaryProjectManagerId: "777777", SecondaryProjectManagerId: "888888" }, agents: undefined },
        // the same person twice is one preference
        { attachedData: { PrimaryProjectManagerId: "654321", SecondaryProjectManagerId: "654321" }, agents: [MEHMET] },
        // no manager keys at all
        { attachedData: { TRX: "Diyalog" }, agents: undefined },
      ];
      const warn = vi.spyOn(console, "warn");
      try {
        for (const c of cases) {
          const id = await createQueued("agents", { attachedData: c.attachedData });
          const workitem = await onlyWorkitem(id);
          expect(workitem.preferredAgents?.map((a) => a.id), JSON.stringify(c.attachedData)).toEqual(c.agents);
        }
        // A configured preferred agent that resolves to no user is logged: the key, never its value.
        const skipped = warn.mock.calls.map((args) => String(args[0])).filter((line) => line.includes("preferred agent not resolvable"));
        expect(skipped.some((line) => line.includes('"keys":"PrimaryProjectManagerId"'))).toBe(true);
        for (const line of skipped) for (const value of ["999999", "777777", "888888"]) expect(line).not.toContain(value);
      } finally {
        warn.mockRestore();
      }
    },
    TIMEOUT,
  );

  it("routes by GENESYS_QUEUE_ROUTES on an attachedData value, else GENESYS_QUEUE_ID; a field mapped to null is not sent", async () => {
    const vip = await createQueued("vip", { attachedData: { Segment: "VIP", Region: "Ege" } });
    const retail = await createQueued("retail", { attachedData: { Segment: "Retail" } });
    const vipItem = await onlyWorkitem(vip);
    expect(vipItem.queue?.id).toBe(FAKE_VIP_QUEUE);
    expect(vipItem.customFields).toEqual({ Region_text: "Ege", customerId_text: expect.any(String) });
    expect((await onlyWorkitem(retail)).queue?.id).toBe(FAKE_QUEUE);
  });

  it("attribute names are sanitised into names a worktype schema can hold", async () => {
    const id = await createQueued("sanitise", { attachedData: { "1st key": "x" } });
    expect((await onlyWorkitem(id)).customFields).toMatchObject({ a_1st_key_text: "x" });
  });
});

describe("OAuth token", () => {
  it(
    "one login serves many calls; a revoked token is refreshed once on 401; a token near its expiry is renewed before use",
    async () => {
      // Queued interactions poll every second; each step cancels its own so nothing else talks to Genesys.
      const quiet = async (id: string) => expect((await cancel(id)).status).toBe(200);
      await quiet(await createQueued("token-warm")); // after the fake's reset the cached token is refused once
      await sleep(1200); // interactions of earlier tests poll once more, meet 404s and stop

      let from = await requestCount();
      const a = await createQueued("token-a");
      const b = await createQueued("token-b");
      let calls = await requestsSince(from);
      expect(calls.filter((r) => r.route === "login"), "cached token reused").toHaveLength(0);
      expect(calls.filter((r) => r.status === 401)).toHaveLength(0);
      await quiet(a);
      await quiet(b);

      // Genesys revokes the token: the next call gets 401, the adapter logs in once and repeats it.
      await control("revoke", {});
      from = await requestCount();
      const revoked = await createQueued("token-revoked");
      calls = await requestsSince(from);
      expect(calls.map((r) => `${r.route}:${r.status}`)).toEqual(["create:401", "login:200", "create:200"]);
      await onlyWorkitem(revoked);
      await quiet(revoked);

      // Short-lived tokens: the adapter renews ahead of expiry (half the lifetime for a 2 s token) without a 401.
      await setup({ tokenLifetimeSeconds: 2 });
      await control("revoke", {});
      await quiet(await createQueued("token-short")); // 401, login (2 s token), create; then get, cancel
      await sleep(1200);
      from = await requestCount();
      await createQueued("token-renewed");
      calls = await requestsSince(from);
      expect(calls.map((r) => `${r.route}:${r.status}`)).toEqual(["login:200", "create:200"]);
    },
    TIMEOUT,
  );

  it("a refused OAuth client fails the create as upstream_rejected, naming the variables to check", async () => {
    await setup({ clients: { "genesys-client": "rotated-secret" } });
    await control("revoke", {});
    const from = await requestCount();
    const res = await create(customer("badclient"));
    expect(res.status).toBe(502);
    expect(res.body.errorCode).toBe("upstream_rejected");
    expect((await fakeState()).workitems).toHaveLength(0);
    const logins = (await requestsSince(from)).filter((r) => r.route === "login");
    expect(logins.length).toBeGreaterThan(0);
    expect(logins.every((r) => r.status === 401)).toBe(true);
    const view = await read(res.body.result.interactionId);
    expect(view.body.result.timeline.at(-1).detail).toContain("check GENESYS_CLIENT_ID, GENESYS_CLIENT_SECRET");
  });
});

describe("lost answers and rate limits", () => {
  it(
    "a lost create answer is resolved by a query on typeId + externalTag: one workitem, never a second create",
    async () => {
      await faults({ route: "create", drop: true });
      const from = await requestCount();
      const res = await create(customer("lost"), { attachedData: { TRX: "Diyalog" } });
      expect(res.status, res.text).toBe(200);
      const id: string = res.body.result.interactionId;

      const workitem = await onlyWorkitem(id);
      expect(await callsFor(from, id)).toEqual(["create:dropped", "query:200"]);
      const query = (await requestsSince(from)).find((r) => r.route === "query" && JSON.stringify(r.body).includes(id));
      expect(query?.body).toMatchObject({
        filters: [
          { name: "typeId", type: "String", operator: "EQ", values: [FAKE_WORKTYPE] },
          { name: "externalTag", type: "String", operator: "EQ", values: [id] },
        ],
      });
      expect((await read(id)).body.result).toMatchObject({ state: "queued", upstream: { id: workitem.id } });
    },
    TIMEOUT,
  );

  it(
    "a create that failed with 503 is looked up first, then sent again: still one workitem",
    async () => {
      await faults({ route: "create", status: 503 });
      const from = await requestCount();
      const id = await createQueued("503");
      await onlyWorkitem(id);
      expect(await callsFor(from, id)).toEqual(["create:503", "query:200", "create:200"]);
    },
    TIMEOUT,
  );

  it(
    "429 with Retry-After is honoured before the next attempt",
    async () => {
      await createQueued("429-warm");
      await faults({ route: "create", status: 429, retryAfterSeconds: 1 });
      const from = await requestCount();
      const id = await createQueued("429");
      await onlyWorkitem(id);
      expect(await callsFor(from, id)).toEqual(["create:429", "query:200", "create:200"]);
      const mine = (await requestsSince(from)).filter((r) => (r.route === "create" || r.route === "query") && JSON.stringify(r.body).includes(id));
      // Full jitter alone would try again within 400 ms; Retry-After: 1 says not before a second.
      expect(mine[1]!.at - mine[0]!.at).toBeGreaterThanOrEqual(950);
    },
    TIMEOUT,
  );

  it("missing permission fails the create as upstream_rejected; GET shows the reason, never Genesys' body", async () => {
    await setup({ permissions: ["workitems:workitem:view", "workitems:workitem:cancelRouting", "directory:user:view"] });
    const customerId = customer("403");
    const res = await create(customerId);
    expect(res.status).toBe(502);
    expect(res.body.errorCode).toBe("upstream_rejected");
    const state = await fakeState();
    expect(state.workitems).toHaveLength(0);
    expect(state.requests.filter((r) => r.route === "create").map((r) => r.status)).toContain(403);
    const view = await read(res.body.result.interactionId);
    expect(view.body.result).toMatchObject({ state: "failed", upstream: { status: 403 } });
    expect(view.body.result.timeline.at(-1).detail).toContain("missing permission (the OAuth client's role needs workitems:workitem:add)");
  });

  it("a custom field the worktype's schema lacks fails the create as upstream_rejected (status kept, body not)", async () => {
    await setup({ worktypes: { [FAKE_WORKTYPE]: { name: "Diyalog video call", fields: FIELDS.filter((f) => f !== "channel_text") } } });
    const res = await create(customer("schema"), { attachedData: { TRX: "Diyalog" } });
    expect(res.status).toBe(502);
    expect(res.body.errorCode).toBe("upstream_rejected");
    expect((await fakeState()).workitems).toHaveLength(0);
    const view = await read(res.body.result.interactionId);
    expect(view.body.result).toMatchObject({ state: "failed", upstream: { status: 400 } });
    expect(view.body.result.timeline.at(-1).detail).toContain("custom fields");
  });
});

describe("cancel", () => {
  it("before any agent has it: 200 cancelled, only after Genesys took it out of ACD routing", async () => {
    const id = await createQueued("cancel");
    const from = await requestCount();
    const res = await cancel(id);
    expect(res.status, res.text).toBe(200);
    expect(res.body.result).toEqual({ interactionId: id, state: "cancelled" });
    const workitem = await onlyWorkitem(id);
    expect(workitem.assignmentState).toBe("AcdCancelled");
    // Read first, then the ACD cancel; its answer (AcdCancelled) is the confirmation.
    expect(await callsFor(from, id)).toEqual(["get:200", "cancel:200"]);
    // Idempotent.
    expect((await cancel(id)).status).toBe(200);
  });

  for (const state of ["Alerting", "Connected"]) {
    it(`after an agent has it (${state}): 409 already_assigned, and the workitem is left alone`, async () => {
      const id = await createQueued(`taken-${state}`);
      await assign(id, state, AYSE);
      const from = await requestCount();
      const res = await cancel(id);
      expect(res.status, res.text).toBe(409);
      expect(res.body.errorCode).toBe("already_assigned");
      expect(await callsFor(from, id)).toEqual(["get:200"]); // read, seen with an agent, no ACD cancel
      expect((await onlyWorkitem(id)).assignmentState).toBe(state);
      expect((await read(id)).body.result).toMatchObject({ state: "assigned", upstream: { agentId: AYSE } });
    });
  }

  it("racing the offer: Genesys refuses the ACD cancel because an agent was just alerted → 409 already_assigned", async () => {
    const id = await createQueued("race");
    await faults({ route: "cancel", alertAgent: MEHMET });
    const res = await cancel(id);
    expect(res.status, res.text).toBe(409);
    expect(res.body.errorCode).toBe("already_assigned");
    expect((await read(id)).body.result).toMatchObject({ state: "assigned", upstream: { agentId: MEHMET } });
  });

  it("an ACD cancel that withdraws an offer already alerting an agent (answer names the assignee) → 409, never success", async () => {
    // The reference does not say Genesys refuses an ACD cancel while Alerting; here it does not.
    await setup({ cancelWithdrawsAlerting: true });
    const id = await createQueued("withdrawn");
    await faults({ route: "cancel", alertAgent: MEHMET });
    const res = await cancel(id);
    expect(res.status, res.text).toBe(409);
    expect(res.body.errorCode).toBe("already_assigned");
    const workitem = await onlyWorkitem(id);
    expect(workitem).toMatchObject({ assignmentState: "AcdCancelled", assignee: { id: MEHMET } });
    expect((await read(id)).body.result).toMatchObject({ state: "assigned", upstream: { agentId: MEHMET } });
  });

  it(
    "a workitem still Idle (routing not started yet) is terminated, never taken as cancelled; it then never reaches an agent",
    async () => {
      // Idle is Genesys' initial state: ACD starts routing it later, and then an agent connects.
      await setup({ idleMs: 3000, autoAssign: { afterMs: 100, connectAfterMs: 100, agentId: AYSE } });
      const id = await createQueued("idle");
      const from = await requestCount();
      expect((await onlyWorkitem(id)).assignmentState).toBe("Idle");
      const res = await cancel(id);
      expect(res.status, res.text).toBe(200);
      expect(res.body.result).toEqual({ interactionId: id, state: "cancelled" });
      // Let the fake's ACD run to the end: a success must never be followed by an agent.
      await vi.waitFor(async () => expect((await fakeState()).pendingTimers).toBe(0), WAIT);
      const workitem = await onlyWorkitem(id);
      expect(workitem.assignee).toBeUndefined();
      expect(workitem).toMatchObject({ assignmentState: "Terminated", statusCategory: "Closed" });
      expect(await callsFor(from, id)).toEqual(["get:200", "terminate:200"]);
    },
    TIMEOUT,
  );

  it(
    "Idle without the terminate permission: 503 cancel_unconfirmed (not success); once ACD routes it, the retried ACD cancel confirms",
    async () => {
      const permissions = ["workitems:workitem:add", "workitems:workitem:view", "workitems:workitem:cancelRouting", "directory:user:view"];
      await setup({ idleMs: 3000, permissions });
      const id = await createQueued("idle-unconfirmed");
      const first = await cancel(id);
      expect(first.status, first.text).toBe(503);
      expect(first.body.errorCode).toBe("cancel_unconfirmed");
      await vi.waitFor(async () => {
        const again = await cancel(id);
        expect(again.status, again.text).toBe(200);
        expect(again.body.result.state).toBe("cancelled");
      }, WAIT);
      expect((await onlyWorkitem(id)).assignmentState).toBe("AcdCancelled");
    },
    TIMEOUT,
  );

  it(
    "Genesys unreachable: 503 cancel_unconfirmed; the proxy keeps cancelling and a repeated DELETE reports the outcome",
    async () => {
      const id = await createQueued("unconfirmed");
      await faults({ status: 503, times: -1 });
      const first = await cancel(id);
      expect(first.status, first.text).toBe(503);
      expect(first.body.errorCode).toBe("cancel_unconfirmed");
      expect((await onlyWorkitem(id)).assignmentState).toBe("AcdStarted");

      await faults();
      await vi.waitFor(async () => {
        const again = await cancel(id);
        expect(again.status, again.text).toBe(200);
        expect(again.body.result.state).toBe("cancelled");
      }, WAIT);
      expect((await onlyWorkitem(id)).assignmentState).toBe("AcdCancelled");
    },
    TIMEOUT,
  );
});

describe("assignment learned by polling", () => {
  it(
    "an agent connected in Genesys makes the interaction assigned, with the agent's user id",
    async () => {
      const id = await createQueued("poll");
      await sleep(1200);
      expect((await read(id)).body.result.state).toBe("queued"); // polled at least once: still waiting
      await assign(id, "Connected", MEHMET);
      await vi.waitFor(async () => {
        expect((await read(id)).body.result).toMatchObject({ state: "assigned", upstream: { agentId: MEHMET } });
      }, WAIT);
      expect((await cancel(id)).status).toBe(409);
    },
    TIMEOUT,
  );

  it(
    "ACD offering it by itself (asynchronously) to the preferred agent is seen too",
    async () => {
      await setup({ autoAssign: { afterMs: 300, connectAfterMs: 300, agentId: AYSE } });
      const id = await createQueued("auto", { attachedData: { PrimaryProjectManagerId: "654321" } });
      await vi.waitFor(async () => {
        expect((await read(id)).body.result).toMatchObject({ state: "assigned", upstream: { agentId: MEHMET } });
      }, WAIT);
    },
    TIMEOUT,
  );

  it(
    "a workitem terminated in Genesys ends the interaction as failed",
    async () => {
      const id = await createQueued("terminated");
      await assign(id, "Terminated");
      await vi.waitFor(async () => {
        expect((await read(id)).body.result.state).toBe("failed");
      }, WAIT);
      // Nothing can reach an agent: a DELETE says success.
      expect((await cancel(id)).status).toBe(200);
    },
    TIMEOUT,
  );
});
