import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono/tiny";
import type { AppEnv } from "../app-env";
import { parseJson, readText, requireJson } from "../http/body";
import { ApiError, failure, success } from "../http/envelope";
import { interactionStub } from "../interactions/stubs";
import { countFailedAuthentication } from "../security/rate-limit";
import { verifyWebhook } from "../security/webhook-signature";
import { isInteractionId } from "../diyalog/routes";
import { warnClaimRefused } from "../observability/events";
import { metricSink } from "../observability/metrics";

/**
 * Upstream → proxy routes of the generic `http` contract (design §2): the claim hook, asked right
 * before an agent gets a call (the veto), and lifecycle events. Authenticated by Standard Webhooks
 * signatures, not API keys; absent (404) unless `UPSTREAM=http` with a signing secret.
 *
 * Callbacks are bound to their target: the signature covers `id.timestamp.body`, not the URL, so the
 * body names the action (`type`) and the interaction, and both must match the route. Otherwise any
 * signed message (a claim for another interaction, an event, the proxy's own outbound create or
 * cancel) could be replayed here as a claim for any interaction.
 */

/** A string of `min` to `max` UTF-16 code units; `optional`: or absent. */
const textRule = (min: number, max: number, optional = false) => (v: unknown) =>
  v === undefined ? optional : typeof v === "string" && v.length >= min && v.length <= max;
const literalRule = (...values: string[]) => (v: unknown) => values.includes(v as string);

/**
 * The callback bodies (design §2), field by field in the order a problem is reported: the rules of
 * `ClaimBody` and `EventBody` (src/upstreams/callback-schemas.ts, the OpenAPI document's source).
 */
export const CALLBACK_RULES = {
  claim: [
    ["type", literalRule("claim")],
    ["interactionId", textRule(1, 128)],
    ["agentId", textRule(1, 128, true)],
  ],
  event: [
    ["type", literalRule("abandoned", "completed", "failed")],
    ["interactionId", textRule(1, 128)],
    ["reason", textRule(0, 500, true)],
  ],
} as const;

/** The first field of a callback body that breaks its rules ("body" when it is no object), or undefined. */
export function callbackProblem(kind: keyof typeof CALLBACK_RULES, body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "body";
  return CALLBACK_RULES[kind].find(([field, ok]) => !ok((body as Record<string, unknown>)[field]))?.[0];
}

interface ClaimBody {
  type: "claim";
  interactionId: string;
  agentId?: string;
}
interface EventBody {
  type: "abandoned" | "completed" | "failed";
  interactionId: string;
  reason?: string;
}

const SIGNED_BODY_LIMIT = 4 * 1024;

type Signed = AppEnv & { Variables: AppEnv["Variables"] & { body: unknown; interactionId: string } };

/** The routes exist only for the `http` upstream with a signing secret. */
const enabled: MiddlewareHandler<Signed> = async (c, next) => {
  const config = c.get("config");
  if (config.upstream !== "http" || config.signingSecrets.length === 0) throw new ApiError(404, "not_found", "no such route");
  await next();
};

/**
 * Checks that the id is well formed and the signature holds; leaves the parsed body. A bad signature
 * counts against the client address's failed-authentication limit (429 past it), as a wrong API key does.
 */
const verified: MiddlewareHandler<Signed> = async (c, next) => {
  const config = c.get("config");
  const id = c.req.param("id");
  if (id === undefined || !isInteractionId(id)) throw new ApiError(404, "not_found", "no such interaction");
  c.set("interactionId", id);
  const text = await readText(c.req.raw, SIGNED_BODY_LIMIT);
  const verdict = await verifyWebhook(config.signingSecrets, c.req.raw.headers, text);
  if (!verdict.ok) {
    metricSink(c.env.METRICS)("signature_failed", { outcome: verdict.reason });
    await countFailedAuthentication(c.env.AUTH_FAILURE_LIMITER, c.req.raw, { requestId: c.get("requestId"), reason: verdict.reason, route: c.req.routePath, interactionId: id });
    throw new ApiError(401, "unauthorized", `webhook signature rejected (${verdict.reason})`);
  }
  if (text.trim() !== "") requireJson(c.req.raw);
  c.set("body", text.trim() === "" ? {} : parseJson(text));
  await next();
};

function invalid(field: string, message: string): ApiError {
  return new ApiError(400, "validation_failed", `${field}: ${message}`, { field });
}

/** The body by the route's rules, naming the route's action and interaction; else 400 naming the field. */
function parse<T extends { type: string; interactionId: string }>(kind: keyof typeof CALLBACK_RULES, body: unknown, id: string): T {
  const field = callbackProblem(kind, body);
  if (field !== undefined) throw invalid(field, "Invalid input");
  if ((body as T).interactionId !== id) throw invalid("interactionId", "must be the interaction of the route");
  return body as T;
}

async function claimHandler(c: Context<Signed>) {
  const id = c.get("interactionId");
  const { agentId } = parse<ClaimBody>("claim", c.get("body"), id);
  const outcome = await interactionStub(c.env, id).claim(id, agentId, true);
  c.set("told", outcome.log);
  if (outcome.proceed) return success({ proceed: true });
  warnClaimRefused(metricSink(c.env.METRICS), outcome.reason, c.get("requestId"), id, outcome.log?.customerRef);
  if (outcome.reason === "not_found") {
    return failure(404, "not_found", "no such interaction", { proceed: false, reason: "not_found" });
  }
  return failure(409, "cancelled", `the interaction may not be given to an agent (it is ${outcome.reason})`, {
    proceed: false,
    reason: outcome.reason,
  });
}

async function eventHandler(c: Context<Signed>) {
  const id = c.get("interactionId");
  const event = parse<EventBody>("event", c.get("body"), id);
  const outcome = await interactionStub(c.env, id).upstreamEvent(id, event.type, event.reason);
  if (outcome === null) throw new ApiError(404, "not_found", "no such interaction");
  c.set("told", outcome.log);
  return success({ interactionId: id, state: outcome.state });
}

export function upstreamRoutes(): Hono<Signed> {
  const routes = new Hono<Signed>();
  routes.use("/v1/upstream/*", enabled);
  routes.post("/v1/upstream/interactions/:id/claim", verified, claimHandler);
  routes.post("/v1/upstream/interactions/:id/events", verified, eventHandler);
  return routes;
}
