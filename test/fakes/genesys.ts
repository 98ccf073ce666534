/**
 * A fake of the Genesys Cloud endpoints the `genesys-cloud` adapter uses, written from Genesys'
 * public API reference (the Platform API client SDKs' TaskManagementApi/UsersApi docs and models:
 * WorkitemCreate, Workitem, WorkitemQueryPostRequest, WorkitemFilter, UsersSearchResponse, ErrorBody;
 * the SDK's `loginClientCredentialsGrant`). It runs in Node as miniflare's outboundService.
 *
 * - `POST {login}/oauth/token`: Basic client id:secret, form `grant_type=client_credentials` →
 *   `{access_token, token_type:"bearer", expires_in}`; a bad client → 401 `{"error":"invalid_client",…}`.
 * - API calls need `Authorization: Bearer <unexpired token>`, else 401 `bad.credentials`; each needs
 *   its permission, else 403 `missing.any.permissions`; errors use Genesys' ErrorBody
 *   `{message, code, status, messageParams, contextId, details, errors}`.
 * - `POST /api/v2/taskmanagement/workitems` (workitems:workitem:add) → 200 Workitem; checks name
 *   (3–256), typeId, queueId, preferredAgentIds (UUIDs of known users) and that every customFields
 *   name exists in the worktype's schema (`_text` ≤ 100 characters).
 * - `GET /api/v2/taskmanagement/workitems/{id}` (workitems:workitem:view) → Workitem or 404.
 * - `POST /api/v2/taskmanagement/workitems/query` (workitems:workitem:view): at most three filters,
 *   at least one EQ on workbinId, assigneeId, queueId or typeId → `{entities, count, selfUri}`.
 * - `POST /api/v2/taskmanagement/workitems/{id}/acd/cancel` (workitems:workitem:cancelRouting):
 *   a workitem queued in ACD → `AcdCancelled`, 200 Workitem; one an agent has → 400, unless
 *   `cancelWithdrawsAlerting` is set: then an Alerting offer is withdrawn (`AcdCancelled`, the
 *   assignee still named). The reference says neither, so the tests run both.
 * - `POST /api/v2/taskmanagement/workitems/{id}/terminate` (workitems:workitem:terminate, optional
 *   WorkitemTerminate body): any open workitem → `Terminated`, status category Closed; a closed one → 400.
 * - Genesys' "Workitem routing states": a new workitem starts `Idle` ("the workitem's initial
 *   state"); with `idleMs` set, one with a queue stays Idle that long before ACD starts routing it.
 * - `POST /api/v2/users/search` (directory:user:view): EXACT on `employerInfo.employeeId` or `id` →
 *   `{total, pageCount, pageSize, pageNumber, types, results?}` (no `results` when nothing matched);
 *   a result carries `employerInfo` only when the request's `expand` lists it (the reference leaves
 *   open whether search results carry it otherwise; the fake takes the strict reading).
 *
 * Faults are rules consumed in order by authenticated requests (429 with Retry-After, 503, answers
 * lost after the work was done, delays, an agent alerted just before a request: the race). Agents
 * take workitems asynchronously when `autoAssign` is set, or when a test says so. Control endpoints
 * (any host): GET /__control/state, POST /__control/{reset,setup,faults,assign,revoke}.
 */

import { DroppedResponse } from "./common";

export type Route = "login" | "create" | "get" | "query" | "cancel" | "terminate" | "users";

export interface FaultRule {
  /** Which route it applies to; any API route (not login) when absent. */
  route?: Route;
  /** Answer with this status without doing anything (429 carries Retry-After). */
  status?: number;
  retryAfterSeconds?: number;
  /** Do the work, then lose the answer. */
  drop?: boolean;
  delayMs?: number;
  /** The race: ACD offers the addressed workitem to this agent (Alerting) just before the request is served. */
  alertAgent?: string;
  /** How many matching requests it hits (default 1); -1 = until changed. */
  times?: number;
}

export interface GenesysUser {
  id: string;
  name: string;
  employeeId?: string;
  state?: "active" | "inactive";
}

export interface Settings {
  clients: Record<string, string>;
  tokenLifetimeSeconds: number;
  permissions: string[];
  worktypes: Record<string, { name: string; fields: string[] }>;
  queues: string[];
  users: GenesysUser[];
  /** Agents take a workitem of an ACD queue by themselves: Alerting after `afterMs`, Connected later. */
  autoAssign?: { afterMs: number; connectAfterMs?: number; agentId: string };
  /** A workitem with a queue stays Idle this long before ACD starts routing it (default: routed at once). */
  idleMs?: number;
  /** The ACD cancel also withdraws an offer that is Alerting (answering AcdCancelled with the assignee). */
  cancelWithdrawsAlerting?: boolean;
}

export interface FakeWorkitem {
  id: string;
  name: string;
  type: { id: string; name: string; selfUri: string };
  queue?: { id: string; selfUri: string };
  externalTag?: string;
  customFields?: Record<string, unknown>;
  preferredAgents?: { id: string; selfUri: string }[];
  assignmentState: string;
  statusCategory: string;
  assignee?: { id: string; name: string; selfUri: string };
  dateCreated: string;
  dateModified: string;
  dateAssignmentStateChanged: string;
  selfUri: string;
}

export interface LoggedRequest {
  route: Route | "unknown";
  method: string;
  host: string;
  path: string;
  status: number | "dropped";
  at: number;
  body?: unknown;
  authorization?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ALL_PERMISSIONS = [
  "workitems:workitem:add",
  "workitems:workitem:view",
  "workitems:workitem:cancelRouting",
  "workitems:workitem:terminate",
  "directory:user:view",
];
const PERMISSION: Record<Exclude<Route, "login">, string> = {
  create: "workitems:workitem:add",
  get: "workitems:workitem:view",
  query: "workitems:workitem:view",
  cancel: "workitems:workitem:cancelRouting",
  terminate: "workitems:workitem:terminate",
  users: "directory:user:view",
};
/** States in which ACD still routes the workitem, so an ACD cancel applies. */
const IN_ACD = new Set(["AcdStarted", "AlertTimeout", "Declined"]);

export const FAKE_WORKTYPE = "7d1f3c2a-9b4e-4e55-a1c2-3f4e5d6c7b8a";
export const FAKE_QUEUE = "0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e";
export const FAKE_VIP_QUEUE = "5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716";

export function defaultSettings(): Settings {
  return {
    clients: { "genesys-client": "genesys-secret" },
    tokenLifetimeSeconds: 86_400,
    permissions: [...ALL_PERMISSIONS],
    worktypes: { [FAKE_WORKTYPE]: { name: "Diyalog video call", fields: [] } },
    queues: [FAKE_QUEUE, FAKE_VIP_QUEUE],
    users: [],
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "inin-correlation-id": crypto.randomUUID(), ...headers },
  });
}

/** Genesys' ErrorBody. */
function error(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return json(status, { message, code, status, messageParams: {}, contextId: crypto.randomUUID(), details: [], errors: [] }, headers);
}

export class FakeGenesys {
  settings: Settings = defaultSettings();
  faults: FaultRule[] = [];
  workitems = new Map<string, FakeWorkitem>();
  tokens = new Map<string, number>();
  requests: LoggedRequest[] = [];
  private timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(
    private readonly loginHost: string,
    private readonly apiHost: string,
  ) {}

  reset(): void {
    this.settings = defaultSettings();
    this.faults = [];
    this.workitems.clear();
    this.tokens.clear();
    this.requests = [];
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const text = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    if (url.pathname.startsWith("/__control/")) return this.control(url.pathname, request.method, text);

    const route = this.routeOf(request.method, url);
    const entry: LoggedRequest = { route: route ?? "unknown", method: request.method, host: url.host, path: url.pathname, status: 0, at: Date.now() };
    if (route === "login") entry.authorization = request.headers.get("authorization") ?? "";
    if (text !== "") {
      try {
        entry.body = route === "login" ? Object.fromEntries(new URLSearchParams(text)) : JSON.parse(text);
      } catch {
        entry.body = text;
      }
    }
    this.requests.push(entry);

    // Faults hit authenticated requests only, so a test's fault is not spent on a token refused after a reset.
    const rule = route && (route === "login" || this.authorized(request)) ? this.takeFault(route) : undefined;
    if (rule?.delayMs) await new Promise((r) => setTimeout(r, rule.delayMs));
    if (rule?.alertAgent !== undefined) {
      const workitem = this.workitems.get(decodeURIComponent(url.pathname.split("/")[5] ?? ""));
      if (workitem) this.setState(workitem, "Alerting", rule.alertAgent);
    }
    let response: Response;
    if (rule?.status === 429) {
      const seconds = rule.retryAfterSeconds ?? 1;
      response = error(429, "too.many.requests", `Rate limit exceeded the maximum. Retry the request in [${seconds}] seconds`, { "retry-after": String(seconds) });
    } else if (rule?.status !== undefined) {
      response = error(rule.status, rule.status >= 500 ? "service.unavailable" : "bad.request", "injected fault");
    } else {
      response = await this.serve(route, request, url, entry.body);
    }
    if (rule?.drop) {
      entry.status = "dropped";
      await response.body?.cancel();
      throw new DroppedResponse();
    }
    entry.status = response.status;
    return response;
  }

  private routeOf(method: string, url: URL): Route | undefined {
    const p = url.pathname;
    if (url.host === this.loginHost) return method === "POST" && p === "/oauth/token" ? "login" : undefined;
    if (url.host !== this.apiHost) return undefined;
    if (method === "POST" && p === "/api/v2/taskmanagement/workitems") return "create";
    if (method === "POST" && p === "/api/v2/taskmanagement/workitems/query") return "query";
    if (method === "POST" && p === "/api/v2/users/search") return "users";
    if (method === "POST" && /^\/api\/v2\/taskmanagement\/workitems\/[^/]+\/acd\/cancel$/.test(p)) return "cancel";
    if (method === "POST" && /^\/api\/v2\/taskmanagement\/workitems\/[^/]+\/terminate$/.test(p)) return "terminate";
    if (method === "GET" && /^\/api\/v2\/taskmanagement\/workitems\/[^/]+$/.test(p) && p !== "/api/v2/taskmanagement/workitems/query") return "get";
    return undefined;
  }

  private takeFault(route: Route): FaultRule | undefined {
    const i = this.faults.findIndex((f) => (f.route === undefined ? route !== "login" : f.route === route));
    if (i < 0) return undefined;
    const rule = this.faults[i]!;
    const times = rule.times ?? 1;
    if (times > 0) {
      if (times === 1) this.faults.splice(i, 1);
      else this.faults[i] = { ...rule, times: times - 1 };
    }
    return rule;
  }

  private async serve(route: Route | undefined, request: Request, url: URL, body: unknown): Promise<Response> {
    if (route === undefined) return error(404, "not.found", "The requested resource was not found");
    if (route === "login") return this.login(request, body);
    if (!this.authorized(request)) return error(401, "bad.credentials", "Invalid login credentials.");
    const permission = PERMISSION[route];
    if (!this.settings.permissions.includes(permission)) {
      return error(403, "missing.any.permissions", `Unable to perform the requested action. You are missing the following permission(s): [${permission}]`);
    }
    const id = decodeURIComponent(url.pathname.split("/")[5] ?? "");
    switch (route) {
      case "create":
        return this.create(body);
      case "get": {
        const workitem = this.workitems.get(id);
        return workitem ? json(200, workitem) : error(404, "not.found", `Workitem ${id} not found`);
      }
      case "query":
        return this.query(body);
      case "cancel":
        return this.cancel(id);
      case "terminate":
        return this.terminate(id);
      case "users":
        return this.searchUsers(body);
    }
  }

  /** A Bearer token this fake issued and that has not expired. */
  private authorized(request: Request): boolean {
    const auth = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "");
    const expiresAt = auth ? this.tokens.get(auth[1]!) : undefined;
    return expiresAt !== undefined && expiresAt > Date.now();
  }

  private login(request: Request, form: unknown): Response {
    const basic = /^Basic (.+)$/.exec(request.headers.get("authorization") ?? "");
    const decoded = basic ? atob(basic[1]!) : "";
    const id = decoded.slice(0, Math.max(0, decoded.indexOf(":")));
    const secret = decoded.slice(decoded.indexOf(":") + 1);
    if (!basic || this.settings.clients[id] === undefined || this.settings.clients[id] !== secret) {
      return json(401, { error: "invalid_client", description: "authentication failed", error_description: "authentication failed" });
    }
    if (!request.headers.get("content-type")?.startsWith("application/x-www-form-urlencoded") || (form as Record<string, string>)?.grant_type !== "client_credentials") {
      return json(400, { error: "unsupported_grant_type", description: "grant type not supported", error_description: "grant type not supported" });
    }
    const token = `tok_${crypto.randomUUID().replaceAll("-", "")}`;
    this.tokens.set(token, Date.now() + this.settings.tokenLifetimeSeconds * 1000);
    return json(200, { access_token: token, token_type: "bearer", expires_in: this.settings.tokenLifetimeSeconds });
  }

  private create(raw: unknown): Response {
    const b = (raw ?? {}) as Record<string, unknown>;
    const bad = (message: string) => error(400, "bad.request", message);
    if (typeof b.name !== "string" || b.name.length < 3 || b.name.length > 256) return bad("name: size must be between 3 and 256");
    if (typeof b.typeId !== "string") return bad("typeId: must not be null");
    const worktype = this.settings.worktypes[b.typeId];
    if (!worktype) return bad(`Worktype ${b.typeId} does not exist`);
    if (b.queueId !== undefined && (typeof b.queueId !== "string" || !UUID.test(b.queueId) || !this.settings.queues.includes(b.queueId))) {
      return bad("queueId: must be the id of an existing queue");
    }
    if (b.externalTag !== undefined && (typeof b.externalTag !== "string" || b.externalTag.length > 255)) return bad("externalTag: invalid");
    const agents = b.preferredAgentIds ?? [];
    if (!Array.isArray(agents) || agents.some((a) => typeof a !== "string" || !UUID.test(a) || !this.settings.users.some((u) => u.id === a))) {
      return bad("preferredAgentIds: must be valid user UUIDs");
    }
    const fields = (b.customFields ?? {}) as Record<string, unknown>;
    for (const [name, value] of Object.entries(fields)) {
      if (!worktype.fields.includes(name)) return bad(`customFields: ${name} is not defined in the schema of the worktype`);
      if (name.endsWith("_text") && (typeof value !== "string" || value.length > 100)) return bad(`customFields: ${name} must be a text of at most 100 characters`);
    }
    const now = new Date().toISOString();
    const id = crypto.randomUUID();
    const workitem: FakeWorkitem = {
      id,
      name: b.name,
      type: { id: b.typeId, name: worktype.name, selfUri: `/api/v2/taskmanagement/worktypes/${b.typeId}` },
      assignmentState: b.queueId && !this.settings.idleMs ? "AcdStarted" : "Idle",
      statusCategory: "Open",
      dateCreated: now,
      dateModified: now,
      dateAssignmentStateChanged: now,
      selfUri: `/api/v2/taskmanagement/workitems/${id}`,
    };
    if (typeof b.queueId === "string") workitem.queue = { id: b.queueId, selfUri: `/api/v2/routing/queues/${b.queueId}` };
    if (typeof b.externalTag === "string") workitem.externalTag = b.externalTag;
    if (b.customFields !== undefined) workitem.customFields = fields;
    if (agents.length > 0) workitem.preferredAgents = (agents as string[]).map((a) => ({ id: a, selfUri: `/api/v2/users/${a}` }));
    this.workitems.set(id, workitem);
    this.scheduleAgent(workitem);
    return json(200, workitem);
  }

  private query(raw: unknown): Response {
    const b = (raw ?? {}) as { filters?: { name?: string; type?: string; operator?: string; values?: unknown[] }[]; pageSize?: number };
    const filters = b.filters;
    const bad = (message: string) => error(400, "bad.request", message);
    if (!Array.isArray(filters) || filters.length === 0 || filters.length > 3) return bad("filters: between 1 and 3 filters are required");
    const indexed = ["workbinId", "assigneeId", "queueId", "typeId"];
    if (!filters.some((f) => f.operator === "EQ" && indexed.includes(f.name ?? "") && f.values?.length === 1)) {
      return bad("This query requires at least one EQ filter on the workbinId, assigneeId, queueId or typeId attributes");
    }
    const read: Record<string, (w: FakeWorkitem) => string | undefined> = {
      typeId: (w) => w.type.id,
      queueId: (w) => w.queue?.id,
      assigneeId: (w) => w.assignee?.id,
      externalTag: (w) => w.externalTag,
      assignmentState: (w) => w.assignmentState,
      workbinId: () => undefined,
    };
    for (const f of filters) {
      if (!f.name || !read[f.name] || f.type !== "String" || (f.operator !== "EQ" && f.operator !== "IN") || !Array.isArray(f.values)) {
        return bad(`filters: unsupported filter ${String(f.name)}`);
      }
    }
    const pageSize = Math.min(Math.max(b.pageSize ?? 25, 1), 200);
    const entities = [...this.workitems.values()]
      .filter((w) => filters.every((f) => f.values!.includes(read[f.name!]!(w))))
      .slice(0, pageSize);
    return json(200, { entities, count: entities.length, selfUri: "/api/v2/taskmanagement/workitems/query" });
  }

  private cancel(id: string): Response {
    const workitem = this.workitems.get(id);
    if (!workitem) return error(404, "not.found", `Workitem ${id} not found`);
    const withdraw = this.settings.cancelWithdrawsAlerting === true && workitem.assignmentState === "Alerting";
    if (!IN_ACD.has(workitem.assignmentState) && !withdraw) {
      return error(400, "bad.request", "The workitem is not currently queued for assignment through ACD");
    }
    this.setState(workitem, "AcdCancelled");
    return json(200, workitem);
  }

  private terminate(id: string): Response {
    const workitem = this.workitems.get(id);
    if (!workitem) return error(404, "not.found", `Workitem ${id} not found`);
    if (workitem.statusCategory === "Closed") return error(400, "bad.request", "The workitem is already terminated");
    this.setState(workitem, "Terminated");
    return json(200, workitem);
  }

  private searchUsers(raw: unknown): Response {
    const b = (raw ?? {}) as {
      query?: { type?: string; fields?: string[]; value?: string; values?: string[] }[];
      pageSize?: number;
      pageNumber?: number;
      expand?: unknown;
    };
    const expanded = Array.isArray(b.expand) && b.expand.includes("employerInfo");
    if (!Array.isArray(b.query) || b.query.length === 0) return error(400, "bad.request", "query: must not be empty");
    let users = this.settings.users.filter((u) => (u.state ?? "active") === "active");
    for (const c of b.query) {
      if (c.type !== "EXACT" || !Array.isArray(c.fields) || c.fields.length === 0) return error(400, "bad.request", "unsupported search criteria");
      const wanted = c.values ?? (c.value === undefined ? [] : [c.value]);
      users = users.filter((u) =>
        c.fields!.some((field) => {
          const value = field === "employerInfo.employeeId" ? u.employeeId : field === "id" ? u.id : undefined;
          return value !== undefined && wanted.includes(value);
        }),
      );
    }
    const pageSize = b.pageSize ?? 25;
    const results = users.slice(0, pageSize).map((u) => ({
      id: u.id,
      name: u.name,
      state: u.state ?? "active",
      ...(u.employeeId === undefined || !expanded ? {} : { employerInfo: { employeeId: u.employeeId } }),
      selfUri: `/api/v2/users/${u.id}`,
    }));
    return json(200, {
      total: users.length,
      pageCount: Math.ceil(users.length / pageSize),
      pageSize,
      pageNumber: b.pageNumber ?? 1,
      types: ["users"],
      ...(results.length > 0 ? { results } : {}),
    });
  }

  setState(workitem: FakeWorkitem, state: string, agentId?: string): void {
    workitem.assignmentState = state;
    workitem.dateAssignmentStateChanged = workitem.dateModified = new Date().toISOString();
    if (agentId !== undefined) {
      const user = this.settings.users.find((u) => u.id === agentId);
      workitem.assignee = { id: agentId, name: user?.name ?? "Agent", selfUri: `/api/v2/users/${agentId}` };
    }
    if (state === "Terminated") workitem.statusCategory = "Closed";
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** An agent of the queue takes the workitem by itself (preferred agents first), if configured. */
  private scheduleAgent(workitem: FakeWorkitem): void {
    if (!workitem.queue) return;
    if (workitem.assignmentState === "Idle" && this.settings.idleMs) {
      // ACD starts routing it later, unless it was terminated (or otherwise moved on) meanwhile.
      this.later(this.settings.idleMs, () => {
        if (workitem.assignmentState !== "Idle") return;
        this.setState(workitem, "AcdStarted");
        this.scheduleAgent(workitem);
      });
      return;
    }
    const auto = this.settings.autoAssign;
    if (!auto) return;
    const agentId = workitem.preferredAgents?.[0]?.id ?? auto.agentId;
    const later = (ms: number, fn: () => void) => this.later(ms, fn);
    later(auto.afterMs, () => {
      if (!IN_ACD.has(workitem.assignmentState)) return;
      this.setState(workitem, "Alerting", agentId);
      if (auto.connectAfterMs !== undefined) later(auto.connectAfterMs, () => workitem.assignmentState === "Alerting" && this.setState(workitem, "Connected"));
    });
  }

  private control(path: string, method: string, text: string): Response {
    const body = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
    if (path === "/__control/state" && method === "GET") {
      return json(200, {
        workitems: [...this.workitems.values()],
        requests: this.requests,
        tokens: this.tokens.size,
        faults: this.faults,
        pendingTimers: this.timers.size,
      });
    }
    if (method !== "POST") return error(405, "method.not.allowed", "control routes are POST");
    switch (path) {
      case "/__control/reset":
        this.reset();
        return json(200, {});
      case "/__control/setup":
        this.settings = { ...this.settings, ...(body as Partial<Settings>) };
        return json(200, this.settings);
      case "/__control/faults":
        this.faults = (body.rules as FaultRule[] | undefined) ?? [];
        return json(200, this.faults);
      case "/__control/revoke":
        this.tokens.clear();
        return json(200, {});
      case "/__control/assign": {
        // A test plays ACD: {workitemId | externalTag, state, agentId?}
        const workitem = [...this.workitems.values()].find((w) => w.id === body.workitemId || (body.externalTag !== undefined && w.externalTag === body.externalTag));
        if (!workitem) return error(404, "not.found", "no such workitem");
        this.setState(workitem, String(body.state), body.agentId === undefined ? undefined : String(body.agentId));
        return json(200, workitem);
      }
      default:
        return error(404, "not.found", "no control route");
    }
  }
}
