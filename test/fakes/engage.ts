/**
 * A fake of the Genesys Engage open media API in both dialects the `genesys-engage` adapter speaks,
 * written from Genesys' published references (docs/upstreams/genesys-engage.md lists what each says
 * and what they leave open). It runs in Node as miniflare's outboundService.
 *
 * nexus — Genesys Multicloud CX Web-based API Reference, "Openmedia" (base path /nexus/v3):
 * - `POST /openmedia/{openMediaService}/interactions`, header `x-api-key`, JSON createInteractionRequest
 *   `{externalId?, parentInteractionId?, receivedAt?, userData?, data?}` → 200; 400 invalid request
 *   parameters; 404 resource not found (unknown service); 409 resource already exists (an interaction
 *   with this external id).
 * - `GET /openmedia/{openMediaService}/interactions/ext_{externalId}` → 200, 400, 404.
 * - Read by id and stop: `GET …/interactions/{interactionId}`, `POST …/interactions/{interactionId}/stop`
 *   (the reference's other operations, as the adapter assumes them).
 * gms — GMS 8.5 API Reference, "Open Media API" (GMS 8.5.110+):
 * - `POST /genesys/2/openmedia/{serviceName}`, `application/x-www-form-urlencoded`, body parameters
 *   `externalId` ("passed to Interaction Server in the UserData with the key ExternalId"),
 *   `interactionType`/`interactionSubType`/`mediaType` (ignored unless the service allows overwrite),
 *   user data as `userData[key]=value`; optional basic authentication.
 * - Retrieve `GET /genesys/2/openmedia/{serviceName}/{interactionId}`, stop
 *   `POST /genesys/2/openmedia/{serviceName}/{interactionId}/stop`, and (assumed, as in nexus) the
 *   external-id form `…/ext_{externalId}`. GMS itself does not refuse a second interaction with the
 *   same external id.
 * Both: an interaction carries Interaction Server's system properties (eServices "System
 * Properties"): `InteractionState` 0 queued, 2 being processed by URS, 3 being handled by an agent;
 * `DeliveredAt` once offered to an agent; here also `AssignedTo` (the agent). Stopping removes it from
 * the Interaction Server (both reads then answer 404). An interaction an agent's desktop has (state 3)
 * is locked: a stop is refused with 409.
 *
 * With `access` set, every request must carry the Cloudflare Access service token, else 403 (what
 * Access answers in front of a Tunnel). Faults are rules consumed in order (429 with Retry-After,
 * 503, answers lost after the work was done, delays, an agent taking the interaction just before a
 * request: the race). Control endpoints: GET /__control/state, POST /__control/{reset,setup,faults,assign}.
 */

import { DroppedResponse } from "./common";

export type Dialect = "nexus" | "gms";
export type EngageRoute = "create" | "get" | "ext" | "stop";

export interface EngageFault {
  route?: EngageRoute;
  status?: number;
  retryAfterSeconds?: number;
  /** Do the work, then lose the answer. */
  drop?: boolean;
  delayMs?: number;
  /** The race: routing gives the addressed interaction to this agent just before the request is served. */
  assignAgent?: string;
  times?: number;
}

export interface EngageSettings {
  service: string;
  apiKey?: string;
  basic?: { username: string; password: string };
  access?: { clientId: string; clientSecret: string };
  /**
   * Routing gives a queued interaction to an agent by itself after `afterMs` (plus up to `jitterMs`
   * at random): its PrimaryProjectManagerId if set, else `agentId`.
   */
  autoAssign?: { afterMs: number; jitterMs?: number; agentId: string };
  /** Random faults on every API request (the fault script): a share answered 503, a share whose answer is lost after the work. */
  chaos?: { error503: number; drop: number };
}

export interface FakeInteraction {
  id: string;
  externalId?: string;
  mediaType: string;
  InteractionState: number;
  DeliveredAt?: string;
  AssignedTo?: string;
  ReceivedAt: string;
  userData: Record<string, string>;
}

export interface EngageLogged {
  route: EngageRoute | "unknown";
  method: string;
  path: string;
  status: number | "dropped";
  at: number;
  contentType?: string;
  access: boolean;
  body?: unknown;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

const problem = (status: number, message: string, headers: Record<string, string> = {}) => json(status, { status, message }, headers);

export class FakeEngage {
  settings: EngageSettings;
  faults: EngageFault[] = [];
  interactions = new Map<string, FakeInteraction>();
  requests: EngageLogged[] = [];
  /** History that outlives a stop: creates per external id, and every interaction an agent was given. */
  createdPerExternalId = new Map<string, number>();
  given: { externalId?: string; id: string; agentId: string }[] = [];
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private seq = 0;

  constructor(
    readonly dialect: Dialect,
    private readonly initial: EngageSettings,
    private readonly random: () => number = Math.random,
  ) {
    this.settings = structuredClone(initial);
  }

  reset(): void {
    this.settings = structuredClone(this.initial);
    this.faults = [];
    this.interactions.clear();
    this.requests = [];
    this.createdPerExternalId.clear();
    this.given = [];
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private get base(): string {
    return this.dialect === "nexus" ? `/nexus/v3/openmedia/${this.settings.service}/interactions` : `/genesys/2/openmedia/${this.settings.service}`;
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const text = request.method === "GET" ? "" : await request.text();
    if (url.pathname.startsWith("/__control/")) return this.control(url.pathname, request.method, text);
    const { route, id } = this.routeOf(request.method, url.pathname);
    const access = this.settings.access;
    const entry: EngageLogged = {
      route: route ?? "unknown",
      method: request.method,
      path: url.pathname,
      status: 0,
      at: Date.now(),
      access: request.headers.get("cf-access-client-id") === access?.clientId && request.headers.get("cf-access-client-secret") === access?.clientSecret,
      ...(request.headers.get("content-type") ? { contentType: request.headers.get("content-type")! } : {}),
    };
    if (text !== "") entry.body = this.dialect === "gms" ? Object.fromEntries(new URLSearchParams(text)) : safeJson(text);
    this.requests.push(entry);

    let response: Response;
    if (access && !entry.access) response = problem(403, "Forbidden (Cloudflare Access)");
    else if (!this.authorized(request)) response = problem(401, "Unauthorized");
    else {
      const chaos = this.settings.chaos;
      const roll = chaos ? this.random() : 1;
      const rule = route ? (chaos && roll < chaos.error503 ? { status: 503 } : chaos && roll < chaos.error503 + chaos.drop ? { drop: true } : this.takeFault(route)) : undefined;
      if (rule?.delayMs) await new Promise((r) => setTimeout(r, rule.delayMs));
      if (rule?.assignAgent !== undefined) {
        const target = route === "ext" ? this.byExternal(id) : this.interactions.get(id);
        if (target) this.give(target, rule.assignAgent);
      }
      if (rule?.status !== undefined) {
        const seconds = rule.retryAfterSeconds ?? 1;
        response = problem(rule.status, "injected fault", rule.status === 429 || rule.status === 503 ? { "retry-after": String(seconds) } : {});
      } else {
        response = this.serve(route, id, request, text);
      }
      if (rule?.drop) {
        entry.status = "dropped";
        await response.body?.cancel();
        throw new DroppedResponse();
      }
    }
    entry.status = response.status;
    return response;
  }

  private routeOf(method: string, path: string): { route?: EngageRoute; id: string } {
    if (!path.startsWith(this.base)) return { id: "" };
    const rest = path.slice(this.base.length);
    if (rest === "" && method === "POST") return { route: "create", id: "" };
    const m = /^\/([^/]+)(\/stop)?$/.exec(rest);
    if (!m) return { id: "" };
    const segment = decodeURIComponent(m[1]!);
    if (m[2]) return method === "POST" ? { route: "stop", id: segment } : { id: "" };
    if (method !== "GET") return { id: "" };
    return segment.startsWith("ext_") ? { route: "ext", id: segment.slice(4) } : { route: "get", id: segment };
  }

  private authorized(request: Request): boolean {
    if (this.dialect === "nexus") return this.settings.apiKey === undefined || request.headers.get("x-api-key") === this.settings.apiKey;
    const basic = this.settings.basic;
    return basic === undefined || request.headers.get("authorization") === `Basic ${btoa(`${basic.username}:${basic.password}`)}`;
  }

  private takeFault(route: EngageRoute): EngageFault | undefined {
    const i = this.faults.findIndex((f) => f.route === undefined || f.route === route);
    if (i < 0) return undefined;
    const rule = this.faults[i]!;
    const times = rule.times ?? 1;
    if (times > 0) {
      if (times === 1) this.faults.splice(i, 1);
      else this.faults[i] = { ...rule, times: times - 1 };
    }
    return rule;
  }

  private byExternal(externalId: string): FakeInteraction | undefined {
    return [...this.interactions.values()].find((x) => x.externalId === externalId);
  }

  private serve(route: EngageRoute | undefined, id: string, request: Request, text: string): Response {
    if (route === undefined) return problem(404, "Resource is not found");
    switch (route) {
      case "create":
        return this.create(request, text);
      case "get": {
        const found = this.interactions.get(id);
        return found ? json(200, this.view(found)) : problem(404, "Resource is not found");
      }
      case "ext": {
        const found = this.byExternal(id);
        return found ? json(200, this.view(found)) : problem(404, "Resource is not found");
      }
      case "stop": {
        const found = this.interactions.get(id);
        if (!found) return problem(404, "Resource is not found");
        if (found.InteractionState === 3) return problem(409, "Interaction is locked by an agent");
        this.interactions.delete(id);
        return json(200, {});
      }
    }
  }

  private create(request: Request, text: string): Response {
    const type = request.headers.get("content-type") ?? "";
    let externalId: unknown;
    const userData: Record<string, string> = {};
    if (this.dialect === "nexus") {
      if (!type.startsWith("application/json")) return problem(400, "Invalid request parameters provided");
      const b = safeJson(text) as { externalId?: unknown; userData?: unknown } | undefined;
      if (!b || typeof b !== "object") return problem(400, "Invalid request parameters provided");
      externalId = b.externalId;
      if (b.userData !== undefined) {
        if (typeof b.userData !== "object" || b.userData === null || Array.isArray(b.userData)) return problem(400, "Invalid request parameters provided");
        for (const [k, v] of Object.entries(b.userData)) {
          if (typeof v !== "string") return problem(400, "Invalid request parameters provided");
          userData[k] = v;
        }
      }
      if (externalId !== undefined && this.byExternal(String(externalId))) return problem(409, "Resource already exists");
    } else {
      if (!type.startsWith("application/x-www-form-urlencoded")) return problem(400, "Bad request");
      const form = new URLSearchParams(text);
      externalId = form.get("externalId") ?? undefined;
      for (const [k, v] of form) {
        const m = /^userData\[(.+)\]$/.exec(k);
        if (m) userData[m[1]!] = v;
        else if (!["externalId", "interactionType", "interactionSubType", "mediaType"].includes(k)) return problem(400, `Unknown parameter ${k}`);
      }
      if (typeof externalId === "string") userData.ExternalId = externalId;
    }
    if (externalId !== undefined && (typeof externalId !== "string" || externalId === "" || externalId.length > 255)) return problem(400, "Invalid request parameters provided");
    this.seq += 1;
    const id = `0001${Date.now().toString(36).toUpperCase()}${String(this.seq).padStart(4, "0")}`;
    const interaction: FakeInteraction = {
      id,
      ...(typeof externalId === "string" ? { externalId } : {}),
      mediaType: "diyalog",
      InteractionState: 0,
      ReceivedAt: new Date().toISOString(),
      userData,
    };
    this.interactions.set(id, interaction);
    if (interaction.externalId !== undefined) this.createdPerExternalId.set(interaction.externalId, (this.createdPerExternalId.get(interaction.externalId) ?? 0) + 1);
    // The routing strategy picks it up at once (URS), then an agent after a while.
    interaction.InteractionState = 2;
    this.schedule(interaction);
    return json(200, this.dialect === "nexus" ? this.view(interaction) : { interactionId: id });
  }

  view(x: FakeInteraction): Record<string, unknown> {
    const props = {
      InteractionState: x.InteractionState,
      ...(x.externalId === undefined ? {} : { ExternalId: x.externalId }),
      MediaType: x.mediaType,
      ReceivedAt: x.ReceivedAt,
      ...(x.DeliveredAt ? { DeliveredAt: x.DeliveredAt } : {}),
      ...(x.AssignedTo ? { AssignedTo: x.AssignedTo } : {}),
      userData: { ...x.userData },
    };
    return this.dialect === "nexus" ? { id: x.id, externalId: x.externalId, ...props } : { interactionId: x.id, ...props };
  }

  give(x: FakeInteraction, agentId: string): void {
    x.InteractionState = 3;
    x.DeliveredAt = new Date().toISOString();
    x.AssignedTo = agentId;
    this.given.push({ ...(x.externalId === undefined ? {} : { externalId: x.externalId }), id: x.id, agentId });
  }

  private schedule(x: FakeInteraction): void {
    const auto = this.settings.autoAssign;
    if (!auto) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.interactions.get(x.id) === x && x.InteractionState !== 3) this.give(x, x.userData.PrimaryProjectManagerId ?? auto.agentId);
    }, auto.afterMs + this.random() * (auto.jitterMs ?? 0));
    this.timers.add(t);
  }

  private control(path: string, method: string, text: string): Response {
    const body = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
    if (path === "/__control/state" && method === "GET") {
      return json(200, { interactions: [...this.interactions.values()], requests: this.requests, faults: this.faults });
    }
    switch (path) {
      case "/__control/reset":
        this.reset();
        return json(200, {});
      case "/__control/setup":
        this.settings = { ...this.settings, ...(body as Partial<EngageSettings>) };
        return json(200, this.settings);
      case "/__control/faults":
        this.faults = (body.rules as EngageFault[] | undefined) ?? [];
        return json(200, this.faults);
      case "/__control/assign": {
        const x = this.byExternal(String(body.externalId));
        if (!x) return problem(404, "no such interaction");
        this.give(x, String(body.agentId));
        return json(200, this.view(x));
      }
      default:
        return problem(404, "no control route");
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
