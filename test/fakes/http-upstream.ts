/**
 * A faithful fake of a queue system speaking the generic `http` upstream contract (design §2), for
 * tests and the fault-injection script. It runs in Node (miniflare's outboundService, or behind
 * node:http in `scripts/`), verifies the proxy's Standard Webhooks signatures with its own code,
 * keeps one record per Idempotency-Key, and can inject 503s, 429s with Retry-After, slow answers
 * and dropped responses (the record is created, the answer never arrives).
 *
 * Control endpoints (same origin): GET /__control/state, POST /__control/faults, POST /__control/reset.
 */

import { DroppedResponse, base64 } from "./common";

export interface Faults {
  /** Probability that a request answers 503 without doing anything. */
  error503?: number;
  /** Probability that a request answers 429 with Retry-After (seconds) without doing anything. */
  rateLimit?: number;
  retryAfterSeconds?: number;
  /** Probability that a request is carried out but its answer is lost. */
  drop?: number;
  /** Delay before answering, in ms. */
  delayMs?: number;
  /** Answer every create with this status (a permanent refusal, e.g. 422). */
  rejectCreatesWith?: number;
}

export interface UpstreamRecord {
  id: string;
  interactionId: string;
  state: "queued" | "assigned" | "cancelled";
  agentId?: string;
  body: { type: "create"; interactionId: string; customerId: string; attributes: Record<string, string>; identityNumber?: string };
}

export interface AgentOptions {
  /** Base URL of the proxy whose claim hook the agents call. */
  proxyUrl: string;
  minDelayMs: number;
  maxDelayMs: number;
}

/** A signed request of the proxy as the fake received it. */
export interface CapturedRequest {
  method: string;
  path: string;
  headers: Record<(typeof WEBHOOK_HEADERS)[number], string>;
  body: string;
}

const WEBHOOK_HEADERS = ["webhook-id", "webhook-timestamp", "webhook-signature"] as const;

/** The bodies of the two callbacks (design §2): each names its action and its interaction. */
export function claimBody(interactionId: string, agentId?: string): string {
  return JSON.stringify({ type: "claim", interactionId, ...(agentId === undefined ? {} : { agentId }) });
}

export function eventBody(interactionId: string, type: "abandoned" | "completed" | "failed", reason?: string): string {
  return JSON.stringify({ type, interactionId, ...(reason === undefined ? {} : { reason }) });
}

const encoder = new TextEncoder();

async function hmacKey(secret: string): Promise<CryptoKey> {
  const raw = Uint8Array.from(atob(secret.replace(/^whsec_/, "")), (c) => c.charCodeAt(0));
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/** Standard Webhooks signing, written independently of the proxy's own module. */
export async function sign(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(`${id}.${timestamp}.${body}`));
  return `v1,${base64(mac)}`;
}

export async function signedHeaders(secret: string, body: string): Promise<Record<string, string>> {
  const id = `msg_${crypto.randomUUID()}`;
  const timestamp = Math.floor(Date.now() / 1000);
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": await sign(secret, id, timestamp, body) };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

export class FakeUpstream {
  faults: Faults = {};
  records = new Map<string, UpstreamRecord>();
  private byKey = new Map<string, string>();
  /** Every signed request the fake accepted, for assertions. */
  requests: { method: string; path: string; idempotencyKey?: string }[] = [];
  /** The same requests as they arrived (webhook-* headers and body), e.g. to replay them at the proxy. */
  captured: CapturedRequest[] = [];
  unsigned = 0;
  claimsGranted: { interactionId: string; agentId: string; at: number }[] = [];
  claimsRefused = 0;
  private timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(
    private readonly secret: string,
    private readonly agents?: AgentOptions,
    private readonly random: () => number = Math.random,
  ) {}

  reset(): void {
    this.faults = {};
    this.records.clear();
    this.byKey.clear();
    this.requests = [];
    this.captured = [];
    this.unsigned = 0;
    this.claimsGranted = [];
    this.claimsRefused = 0;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Records per interactionId: more than one would be a duplicate create. */
  createsPerInteraction(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of this.records.values()) counts.set(r.interactionId, (counts.get(r.interactionId) ?? 0) + 1);
    return counts;
  }

  state() {
    return {
      records: [...this.records.values()],
      requests: this.requests,
      captured: this.captured,
      unsigned: this.unsigned,
      claimsGranted: this.claimsGranted,
      claimsRefused: this.claimsRefused,
    };
  }

  private async verified(request: Request, body: string): Promise<boolean> {
    const id = request.headers.get("webhook-id");
    const ts = request.headers.get("webhook-timestamp");
    const sig = request.headers.get("webhook-signature");
    if (!id || !ts || !sig) return false;
    if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
    const expected = await sign(this.secret, id, Number(ts), body);
    return sig.split(" ").includes(expected);
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const body = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    if (url.pathname.startsWith("/__control/")) return this.control(url.pathname, request.method, body);

    if (!(await this.verified(request, body))) {
      this.unsigned += 1;
      return json(401, { error: "bad signature" });
    }
    this.captured.push({
      method: request.method,
      path: url.pathname,
      headers: Object.fromEntries(WEBHOOK_HEADERS.map((h) => [h, request.headers.get(h) ?? ""])) as CapturedRequest["headers"],
      body,
    });
    const f = this.faults;
    if (f.delayMs) await new Promise((r) => setTimeout(r, f.delayMs));
    if (f.error503 && this.random() < f.error503) return json(503, { error: "unavailable" });
    if (f.rateLimit && this.random() < f.rateLimit) {
      return json(429, { error: "slow down" }, { "retry-after": String(f.retryAfterSeconds ?? 1) });
    }
    const drop = f.drop !== undefined && this.random() < f.drop;
    const response = await this.route(request, url, body);
    if (drop) throw new DroppedResponse();
    return response;
  }

  private async route(request: Request, url: URL, body: string): Promise<Response> {
    if (request.method === "POST" && url.pathname === "/interactions") {
      const key = request.headers.get("idempotency-key") ?? undefined;
      this.requests.push({ method: "POST", path: url.pathname, ...(key ? { idempotencyKey: key } : {}) });
      if (!key) return json(400, { error: "Idempotency-Key required" });
      // The signature covers the body only, so the body must name this action and the key's interaction.
      const bound = parseBody(body);
      if (bound?.type !== "create" || bound.interactionId !== key) return json(400, { error: "body does not match the request" });
      if (this.faults.rejectCreatesWith) return json(this.faults.rejectCreatesWith, { error: "refused", secret: "upstream-internal-detail" });
      const existing = this.byKey.get(key);
      if (existing) return json(200, { id: existing });
      const parsed = JSON.parse(body) as UpstreamRecord["body"];
      const id = `up_${crypto.randomUUID()}`;
      this.byKey.set(key, id);
      this.records.set(id, { id, interactionId: parsed.interactionId, state: "queued", body: parsed });
      this.scheduleAgent(id);
      return json(201, { id });
    }
    const match = /^\/interactions\/([^/]+)$/.exec(url.pathname);
    if (request.method === "DELETE" && match) {
      this.requests.push({ method: "DELETE", path: url.pathname });
      const upstreamId = decodeURIComponent(match[1]!);
      const bound = parseBody(body);
      if (bound?.type !== "cancel" || bound.upstreamId !== upstreamId) return json(400, { error: "body does not match the request" });
      const record = this.records.get(upstreamId);
      if (record && record.interactionId !== bound.interactionId) return json(400, { error: "body does not match the request" });
      if (!record) return json(404, { error: "unknown" });
      if (record.state === "assigned") return json(409, { error: "assigned" });
      record.state = "cancelled";
      return json(200, { id: record.id, state: "cancelled" });
    }
    return json(404, { error: "no route" });
  }

  /** An agent of the fake queue takes the call after a random short delay, asking the proxy first. */
  private scheduleAgent(upstreamId: string): void {
    if (!this.agents) return;
    const { minDelayMs, maxDelayMs } = this.agents;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.claim(upstreamId, `agent-${1 + Math.floor(this.random() * 5)}`).catch(() => {});
    }, minDelayMs + this.random() * (maxDelayMs - minDelayMs));
    this.timers.add(timer);
  }

  /**
   * Asks the proxy's claim hook; only a 200 `proceed:true` gives the call to the agent. A claim that
   * got no answer (the proxy restarting) is asked again, as a real queue would, for up to 30 s.
   */
  async claim(upstreamId: string, agentId: string): Promise<boolean> {
    const record = this.records.get(upstreamId);
    if (!record || record.state !== "queued" || !this.agents) return false;
    const body = claimBody(record.interactionId, agentId);
    let response: Response | undefined;
    let answer: { result?: { proceed?: boolean } } = {};
    const giveUpAt = Date.now() + 30_000;
    for (let attempt = 0; response === undefined && Date.now() < giveUpAt; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 500));
      try {
        const res = await fetch(`${this.agents.proxyUrl}/v1/upstream/interactions/${record.interactionId}/claim`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(await signedHeaders(this.secret, body)) },
          body,
        });
        answer = (await res.json()) as typeof answer;
        response = res;
      } catch {
        // no answer: ask again
      }
    }
    if (response?.status === 200 && answer.result?.proceed === true && record.state === "queued") {
      record.state = "assigned";
      record.agentId = agentId;
      this.claimsGranted.push({ interactionId: record.interactionId, agentId, at: Date.now() });
      return true;
    }
    this.claimsRefused += 1;
    return false;
  }

  private control(path: string, method: string, body: string): Response {
    if (path === "/__control/state" && method === "GET") return json(200, this.state());
    if (path === "/__control/faults" && method === "POST") {
      this.faults = JSON.parse(body) as Faults;
      return json(200, this.faults);
    }
    if (path === "/__control/reset" && method === "POST") {
      this.reset();
      return json(200, {});
    }
    return json(404, { error: "no control route" });
  }
}

/** A signed request's JSON body, or undefined when it is not a JSON object. */
function parseBody(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
