/**
 * The genesys-cloud adapter's pure parts and its decisions against scripted Genesys answers (a stub
 * fetch, no fake, no Durable Object): configuration, field mapping, queue routing, preferred agents,
 * assignment states, the token client, and the answers that must never be taken as "nothing exists".
 */
import { describe, expect, it } from "vitest";
import { parseConfig, type Config } from "../../src/config";
import { preferredAgents } from "../../src/upstreams/genesys/agents";
import { genesysAdapter } from "../../src/upstreams/genesys/adapter";
import { parseGenesysConfig, type GenesysConfig } from "../../src/upstreams/genesys/config";
import { assignmentOf, customFields, fieldNameFor, queueFor, workitemCreate } from "../../src/upstreams/genesys/workitem";
import { GENESYS_BINDINGS } from "./settings";

const Q1 = "11111111-1111-4111-8111-111111111111";
const Q2 = "22222222-2222-4222-8222-222222222222";
const USER = "33333333-3333-4333-8333-333333333333";
const BASE = {
  GENESYS_REGION: "mypurecloud.de",
  GENESYS_CLIENT_ID: "id",
  GENESYS_CLIENT_SECRET: "secret",
  GENESYS_WORKTYPE_ID: "44444444-4444-4444-8444-444444444444",
  GENESYS_QUEUE_ID: Q1,
};

function parsed(env: Record<string, unknown>): GenesysConfig {
  const result = parseGenesysConfig(env);
  if (!result.ok) throw new Error(result.problems.join("; "));
  return result.value;
}

function problems(env: Record<string, unknown>): string[] {
  const result = parseGenesysConfig(env);
  return result.ok ? [] : result.problems;
}

describe("configuration", () => {
  it("derives login and API hosts from GENESYS_REGION and applies the defaults", () => {
    const c = parsed(BASE);
    expect(c).toMatchObject({
      loginUrl: "https://login.mypurecloud.de",
      apiUrl: "https://api.mypurecloud.de",
      preferredAgentKeys: ["PrimaryProjectManagerId", "SecondaryProjectManagerId"],
      agentIdLookup: "uuid",
      pollSeconds: 5,
      queueRoutes: [],
    });
    expect(parsed({ ...BASE, PREFERRED_AGENT_KEYS: "" }).preferredAgentKeys).toEqual([]);
    expect(parsed({ ...BASE, PREFERRED_AGENT_KEYS: " A , B " }).preferredAgentKeys).toEqual(["A", "B"]);
  });

  it("names the variable in every problem", () => {
    expect(problems({})).toEqual(
      expect.arrayContaining([
        "GENESYS_CLIENT_ID: required when UPSTREAM=genesys-cloud",
        "GENESYS_CLIENT_SECRET: required when UPSTREAM=genesys-cloud",
        "GENESYS_WORKTYPE_ID: required when UPSTREAM=genesys-cloud",
        "GENESYS_QUEUE_ID: required when UPSTREAM=genesys-cloud",
        expect.stringMatching(/^GENESYS_REGION: required/),
      ]),
    );
    const bad = problems({
      ...BASE,
      GENESYS_QUEUE_ID: "not-a-uuid",
      GENESYS_API_URL: "http://api.example.com",
      GENESYS_LOGIN_URL: "https://user:pw@login.example.com",
      GENESYS_AGENT_ID_LOOKUP: "email",
      GENESYS_POLL_SECONDS: "0",
      GENESYS_QUEUE_ROUTES: '[{"key":"Segment","value":"VIP"}]',
      GENESYS_FIELD_MAP: '{"TRX":"bad name!"}',
    });
    expect(bad).toEqual([
      "GENESYS_QUEUE_ID: must be a queue UUID",
      "GENESYS_LOGIN_URL: must not carry credentials, a query or a fragment",
      "GENESYS_API_URL: must use https (plain http only for localhost/127.0.0.1)",
      'GENESYS_AGENT_ID_LOOKUP: must be "uuid" or "employeeId"',
      "GENESYS_POLL_SECONDS: must be an integer from 1 to 300",
      'GENESYS_QUEUE_ROUTES[0]: must be a JSON array of {"key","value","queueId"} with a queue UUID',
      'GENESYS_FIELD_MAP.TRX: must be a custom field name (letters, digits, _; e.g. "segment_text") or null',
    ]);
    expect(problems({ ...BASE, GENESYS_FIELD_MAP: "{" })).toEqual(["GENESYS_FIELD_MAP: must be valid JSON"]);
  });

  it("plain http only for localhost/127.0.0.1 overrides, which replace the region", () => {
    const { GENESYS_REGION: _, ...noRegion } = BASE;
    const c = parsed({ ...noRegion, GENESYS_API_URL: "http://127.0.0.1:9/", GENESYS_LOGIN_URL: "http://localhost:9" });
    expect(c.apiUrl).toBe("http://127.0.0.1:9");
    expect(c.loginUrl).toBe("http://localhost:9");
    expect(problems({ ...noRegion, GENESYS_API_URL: "http://127.0.0.1:9" })).toEqual([
      "GENESYS_REGION: required (e.g. mypurecloud.de) unless GENESYS_API_URL and GENESYS_LOGIN_URL are both set",
    ]);
  });

  it("UPSTREAM=genesys-cloud reaches the adapter's config through the registry; problems block the worker", () => {
    const ok = parseConfig(GENESYS_BINDINGS);
    expect(ok.ok).toBe(true);
    const bad = parseConfig({ ...GENESYS_BINDINGS, GENESYS_CLIENT_SECRET: "" });
    expect(bad).toMatchObject({ ok: false, problems: ["GENESYS_CLIENT_SECRET: required when UPSTREAM=genesys-cloud"] });
  });
});

describe("workitem body", () => {
  const config = parsed({
    ...BASE,
    GENESYS_QUEUE_ROUTES: JSON.stringify([
      { key: "Segment", value: "VIP", queueId: Q2 },
      { key: "Segment", value: "VIP", queueId: Q1 },
    ]),
    GENESYS_FIELD_MAP: JSON.stringify({ TRX: "channel_text", Secret: null, identityNumber: "tckn_text" }),
  });

  it("sanitises attribute names into custom field names", () => {
    expect(fieldNameFor("TRX")).toBe("TRX_text");
    expect(fieldNameFor("müşteri no")).toBe("m__teri_no_text");
    expect(fieldNameFor("1st")).toBe("a_1st_text");
    expect(fieldNameFor("__proto__")).toBe("a___proto___text");
  });

  it("maps attributes by GENESYS_FIELD_MAP, drops null-mapped ones, defaults to <name>_text; no prototype tricks", () => {
    const attributes: Record<string, string> = Object.create(null);
    for (const [k, v] of [["TRX", "Diyalog"], ["Secret", "x"], ["Region", "Ege"], ["__proto__", "p"]] as const) attributes[k] = v;
    const fields = customFields(attributes, config.fieldMap);
    expect({ ...fields }).toEqual({ channel_text: "Diyalog", Region_text: "Ege", a___proto___text: "p" });
    expect(Object.getPrototypeOf(fields)).toBeNull();
  });

  it("routes by the first matching route, else the default queue", () => {
    expect(queueFor({ Segment: "VIP" }, config)).toBe(Q2);
    expect(queueFor({ Segment: "vip" }, config)).toBe(Q1);
    expect(queueFor({}, config)).toBe(Q1);
  });

  it("identityNumber goes under IDENTITY_NUMBER_ATTRIBUTE, mapped like any attribute; empty = not forwarded; never in the name", () => {
    const request = { interactionId: "0123456789abcdef", customerId: "C-1", attributes: { TRX: "Diyalog" }, identityNumber: "12345678901", mayExist: false };
    const body = workitemCreate(request, config, "identityNumber", [USER]);
    expect(body).toEqual({
      name: "Diyalog call 01234567",
      typeId: BASE.GENESYS_WORKTYPE_ID,
      queueId: Q1,
      externalTag: "0123456789abcdef",
      customFields: { channel_text: "Diyalog", customerId_text: "C-1", tckn_text: "12345678901" },
      preferredAgentIds: [USER],
    });
    const unforwarded = workitemCreate(request, config, "", []);
    expect(unforwarded.customFields).toEqual({ channel_text: "Diyalog", customerId_text: "C-1" });
    expect(unforwarded).not.toHaveProperty("preferredAgentIds");
    expect(JSON.stringify(workitemCreate(request, config, "TCKN", []))).toContain('"TCKN_text":"12345678901"');
  });
});

describe("preferred agents", () => {
  const never = async () => {
    throw new Error("no lookup in uuid mode");
  };
  const signal = new AbortController().signal;

  it("uuid mode: UUID values in key order, others skipped", async () => {
    const config = { preferredAgentKeys: ["P", "S", "T"], agentIdLookup: "uuid" as const };
    expect(await preferredAgents({ S: USER.toUpperCase(), P: "123456", T: "" }, config, never, signal)).toEqual({ ids: [USER], skipped: ["P"] });
  });

  it("employeeId mode: resolved through the lookup; a failing lookup skips, never throws", async () => {
    const config = { preferredAgentKeys: ["P", "S"], agentIdLookup: "employeeId" as const };
    const lookup = async (id: string) => {
      if (id === "boom") throw new Error("search failed");
      return id === "1" ? USER : undefined;
    };
    expect(await preferredAgents({ P: "boom", S: "1" }, config, lookup, signal)).toEqual({ ids: [USER], skipped: ["P"] });
  });
});

describe("assignment states", () => {
  it.each([
    ["Alerting", "with_agent"],
    ["Connected", "with_agent"],
    ["Held", "with_agent"],
    ["Parked", "with_agent"],
    ["Disconnected", "with_agent"],
    ["AcdStarted", "routing"],
    ["AlertTimeout", "routing"],
    ["Declined", "routing"],
    ["AcdCancelled", "ended"],
    ["Terminated", "ended"],
    ["AcdExpired", "ended"],
    ["Idle", "not_routed"],
    [undefined, "routing"],
  ])("%s → %s", (state, kind) => {
    expect(assignmentOf({ assignmentState: state }).kind).toBe(kind);
  });

  it("carries the assignee's user id", () => {
    expect(assignmentOf({ assignmentState: "Connected", assignee: { id: USER } })).toEqual({ kind: "with_agent", agentId: USER });
    expect(assignmentOf({ assignmentState: "AcdStarted", statusCategory: "Closed" })).toEqual({ kind: "ended" });
  });
});

// ---------------------------------------------------------------------------------------------
// The adapter against scripted answers.

type Script = (method: string, path: string, body: unknown) => Response | Promise<Response>;
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

let scriptSeq = 0;
/** An adapter whose fetch is `script`; its own client id keeps its token apart in the isolate-wide cache. */
function scripted(script: Script, env: Record<string, unknown> = {}) {
  scriptSeq += 1;
  const result = parseConfig({
    UPSTREAM: "genesys-cloud",
    ...BASE,
    GENESYS_CLIENT_ID: `unit-${scriptSeq}-${crypto.randomUUID()}`,
    GENESYS_AGENT_ID_LOOKUP: "employeeId",
    ...env,
  });
  if (!result.ok) throw new Error(result.problems.join("; "));
  const calls: string[] = [];
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    const method = init?.method ?? "GET";
    const body = typeof init?.body === "string" && url.pathname !== "/oauth/token" ? JSON.parse(init.body) : undefined;
    const response = await script(method, url.pathname, body);
    calls.push(`${method} ${url.pathname} ${response.status}`);
    return response;
  }) as typeof fetch;
  return { adapter: genesysAdapter(result.config as Config, () => fetcher), calls };
}

const login = () => json(200, { access_token: `t-${crypto.randomUUID()}`, token_type: "bearer", expires_in: 86400 });
const signal = () => AbortSignal.timeout(5000);
const REQUEST = { interactionId: "abcdef01-2345-4678-9abc-def012345678", customerId: "C", attributes: {}, mayExist: true };
const REF = { interactionId: REQUEST.interactionId, upstreamId: "55555555-5555-4555-8555-555555555555" };

describe("adapter decisions", () => {
  it("a lookup that cannot be made is a retry, never a refusal (a refusal would mean 'nothing exists')", async () => {
    for (const status of [403, 400, 503]) {
      const { adapter, calls } = scripted((_m, path) => (path === "/oauth/token" ? login() : json(status, { message: "x", code: "y", status })));
      const result = await adapter.dispatch(REQUEST, signal());
      expect(result.kind, `query answered ${status}`).toBe("retry");
      expect(calls.some((c) => c.startsWith("POST /api/v2/taskmanagement/workitems "))).toBe(false);
    }
  });

  it("a create refusal after a clean lookup is a refusal; the reason names the permission, not Genesys' body", async () => {
    const { adapter } = scripted((_m, path) =>
      path === "/oauth/token"
        ? login()
        : path.endsWith("/query")
          ? json(200, { entities: [] })
          : json(403, { message: "You are missing workitems:workitem:add", code: "missing.any.permissions", status: 403 }),
    );
    expect(await adapter.dispatch(REQUEST, signal())).toEqual({
      kind: "rejected",
      reason: "missing permission (the OAuth client's role needs workitems:workitem:add)",
      status: 403,
    });
  });

  it("two 401s in a row: one refresh, then the call is refused (no loop)", async () => {
    const { adapter, calls } = scripted((_m, path) => (path === "/oauth/token" ? login() : json(401, { code: "bad.credentials", status: 401 })));
    const result = await adapter.dispatch({ ...REQUEST, mayExist: false }, signal());
    expect(result).toMatchObject({ kind: "rejected", status: 401 });
    expect(calls.map((c) => c.split(" ")[1])).toEqual(["/oauth/token", "/api/v2/taskmanagement/workitems", "/oauth/token", "/api/v2/taskmanagement/workitems"]);
  });

  it("a login outage is a retry with Retry-After; a created workitem without an id is a retry (found later by externalTag)", async () => {
    const down = scripted(() => json(503, { error: "unavailable" }, { "retry-after": "3" }));
    expect(await down.adapter.dispatch(REQUEST, signal())).toMatchObject({ kind: "retry", status: 503, retryAfterMs: 3000 });
    const noId = scripted((_m, path) => (path === "/oauth/token" ? login() : json(200, {})));
    expect(await noId.adapter.dispatch({ ...REQUEST, mayExist: false }, signal())).toMatchObject({ kind: "retry" });
  });

  it("cancel: an accepted ACD cancel that still shows routing is re-read, and not confirmed until Genesys shows it out", async () => {
    const { adapter, calls } = scripted((method, path) =>
      path === "/oauth/token" ? login() : json(200, { id: REF.upstreamId, assignmentState: "AcdStarted" }),
    );
    expect(await adapter.cancel(REF, signal())).toMatchObject({ kind: "retry" });
    expect(calls.map((c) => c.split(" ").slice(0, 2).join(" ")).filter((c) => !c.includes("oauth"))).toEqual([
      `GET /api/v2/taskmanagement/workitems/${REF.upstreamId}`,
      `POST /api/v2/taskmanagement/workitems/${REF.upstreamId}/acd/cancel`,
      `GET /api/v2/taskmanagement/workitems/${REF.upstreamId}`,
    ]);
  });

  it("cancel: a missing permission is retried (the DELETE stays unconfirmed); a 404 is cancelled only when the externalTag query does not show the workitem either", async () => {
    let cancelled = false;
    const forbidden = scripted((method, path) =>
      path === "/oauth/token" ? login() : method === "GET" ? json(200, { assignmentState: "AcdStarted" }) : json(403, {}),
    );
    expect(await forbidden.adapter.cancel(REF, signal())).toMatchObject({ kind: "retry", status: 403, reason: expect.stringContaining("cancelRouting") });
    const gone = scripted((_m, path) => {
      cancelled = true;
      return path === "/oauth/token" ? login() : path.endsWith("/query") ? json(200, { entities: [] }) : json(404, { code: "not.found", status: 404 });
    });
    expect(await gone.adapter.cancel(REF, signal())).toEqual({ kind: "cancelled" });
    expect(cancelled).toBe(true);
    const stillThere = scripted((_m, path) =>
      path === "/oauth/token"
        ? login()
        : path.endsWith("/query")
          ? json(200, { entities: [{ id: REF.upstreamId, externalTag: REF.interactionId, assignmentState: "AcdStarted" }] })
          : json(404, { code: "not.found", status: 404 }),
    );
    expect(await stillThere.adapter.cancel(REF, signal())).toMatchObject({ kind: "retry" });
  });

  it("cancel: an ACD cancel answered with an assignee is too late, even when the state says AcdCancelled", async () => {
    const { adapter } = scripted((method, path) =>
      path === "/oauth/token"
        ? login()
        : method === "GET"
          ? json(200, { id: REF.upstreamId, assignmentState: "AcdStarted" })
          : json(200, { id: REF.upstreamId, assignmentState: "AcdCancelled", assignee: { id: USER } }),
    );
    expect(await adapter.cancel(REF, signal())).toEqual({ kind: "too_late", agentId: USER });
  });

  it("cancel: Idle is terminated, not ACD-cancelled; a refused terminate that still shows Idle is not confirmed", async () => {
    const idle = { id: REF.upstreamId, assignmentState: "Idle", statusCategory: "Open" };
    const ok = scripted((method, path) =>
      path === "/oauth/token" ? login() : method === "GET" ? json(200, idle) : json(200, { ...idle, assignmentState: "Terminated", statusCategory: "Closed" }),
    );
    expect(await ok.adapter.cancel(REF, signal())).toEqual({ kind: "cancelled" });
    expect(ok.calls.filter((c) => c.startsWith("POST") && !c.includes("oauth"))).toEqual([`POST /api/v2/taskmanagement/workitems/${REF.upstreamId}/terminate 200`]);
    const refused = scripted((method, path) => (path === "/oauth/token" ? login() : method === "GET" ? json(200, idle) : json(400, {})));
    expect(await refused.adapter.cancel(REF, signal())).toMatchObject({ kind: "retry" });
    const forbidden = scripted((method, path) => (path === "/oauth/token" ? login() : method === "GET" ? json(200, idle) : json(403, {})));
    expect(await forbidden.adapter.cancel(REF, signal())).toMatchObject({ kind: "retry", status: 403, reason: expect.stringContaining("workitems:workitem:terminate") });
  });

  it("poll: waiting, assigned with the assignee (also once closed), gone only when the query agrees with a 404; errors are retries", async () => {
    const answer = (body: unknown, status = 200) => scripted((_m, path) => (path === "/oauth/token" ? login() : json(status, body))).adapter;
    expect(await answer({ assignmentState: "AcdStarted" }).poll!(REF, signal())).toEqual({ kind: "waiting" });
    expect(await answer({ assignmentState: "Alerting", assignee: { id: USER } }).poll!(REF, signal())).toEqual({ kind: "assigned", agentId: USER });
    expect(await answer({ assignmentState: "AcdCancelled" }).poll!(REF, signal())).toEqual({ kind: "gone" });
    expect(await answer({ assignmentState: "Terminated", statusCategory: "Closed", assignee: { id: USER } }).poll!(REF, signal())).toEqual({ kind: "assigned", agentId: USER });
    const notFound = (entities: unknown[]) =>
      scripted((_m, path) => (path === "/oauth/token" ? login() : path.endsWith("/query") ? json(200, { entities }) : json(404, {}))).adapter;
    expect(await notFound([]).poll!(REF, signal())).toEqual({ kind: "gone" });
    expect(await notFound([{ id: REF.upstreamId, externalTag: REF.interactionId, assignmentState: "AcdStarted" }]).poll!(REF, signal())).toEqual({ kind: "waiting" });
    expect(await answer({}, 404).poll!(REF, signal())).toMatchObject({ kind: "retry", status: 404 });
    expect(await answer({}, 500).poll!(REF, signal())).toMatchObject({ kind: "retry", status: 500 });
  });
});
