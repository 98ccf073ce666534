import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono/tiny";
import type { AppEnv } from "../app-env";
import { readJson, requireJson } from "../http/body";
import { ApiError, failure, methodNotAllowed, success } from "../http/envelope";
import { customerObject, interactionStub, isInteractionId, simulatorStub } from "../interactions/stubs";
import { interactionView } from "../interactions/view";
import { authenticate, presentedKey, type Caller } from "../security/auth";
import { addressBucket, clientIp, countFailedAuthentication, enforce } from "../security/rate-limit";
import { normaliseCreate, normaliseCustomerRequest } from "./create-request";
import { metricSink } from "../observability/metrics";

/**
 * Diyalog-facing routes (design §1): create, cancel, read. Order of checks: auth (failed ones
 * limited per address) → per-key limit → 415 → 413 → JSON → validation.
 */

function notFound(): ApiError {
  return new ApiError(404, "not_found", "no such interaction");
}

export { isInteractionId };

function interactionId(c: Context<AppEnv>): string {
  const raw = c.req.param("id");
  if (raw === undefined || !isInteractionId(raw)) throw notFound();
  c.set("interactionId", raw);
  return raw;
}

/**
 * A failed authentication is logged (never with the key it presented) and counts against the
 * client address (an IPv6 address by its /64); past the limit the answer is 429 instead of 401.
 */
async function failedAuthentication(c: Context<AppEnv>): Promise<void> {
  const reason = presentedKey(c.req.raw) === undefined ? "missing_key" : "invalid_key";
  await countFailedAuthentication(c.env.AUTH_FAILURE_LIMITER, c.req.raw, { requestId: c.get("requestId"), reason });
}

/**
 * Every Diyalog route needs a key (per-route, so it never guards /healthz or unknown paths).
 * Failed authentications are limited per client address; a valid key counts only against that
 * key's own limit, so one key never throttles another and an address limit never throttles a key.
 */
const requireKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  let caller: Caller;
  try {
    caller = await authenticate(c.req.raw, c.get("config"));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) await failedAuthentication(c);
    throw err;
  }
  const bucket = caller.kind === "key" ? `key:${caller.id}` : `ip:${addressBucket(clientIp(c.req.raw))}`;
  await enforce(c.env.KEY_RATE_LIMITER, bucket, "for this API key", "api_key");
  await next();
};

/** Shared by `POST /CreateInteraction` and `POST /v1/interactions`. */
async function createHandler(c: Context<AppEnv>) {
  requireJson(c.req.raw);
  const input = normaliseCreate(await readJson(c.req.raw));
  const { stub, customerRef } = await customerObject(c.env, input.customerId);
  const outcome = await stub.create({ ...input, requestId: c.get("requestId"), customerRef });
  if (outcome.kind !== "inactive") c.set("interactionId", outcome.interactionId);
  c.set("told", { ...outcome.log, customerRef });
  metricSink(c.env.METRICS)("create", { outcome: outcome.kind === "failed" ? outcome.code : outcome.kind, upstream: c.get("config").upstream, ref: customerRef });
  switch (outcome.kind) {
    case "created":
      return success({ interactionId: outcome.interactionId });
    case "failed":
      return outcome.code === "upstream_rejected"
        ? failure(502, "upstream_rejected", "the call center's queue refused the interaction", { interactionId: outcome.interactionId })
        : failure(503, "upstream_unavailable", "the call center's queue did not accept the interaction in time", {
            interactionId: outcome.interactionId,
          });
    case "cancelled":
      return failure(409, "cancelled", "the interaction was cancelled (by a DELETE or an erasure) before the call center's queue accepted it", {
        interactionId: outcome.interactionId,
      });
    case "inactive":
      throw new Error("a new interaction was reported inactive");
  }
}

/** Shared by `DELETE /{id}` and `DELETE /v1/interactions/{id}`. */
async function cancelHandler(c: Context<AppEnv>) {
  const id = interactionId(c);
  const outcome = await interactionStub(c.env, id).cancel(id, c.get("requestId"));
  c.set("told", outcome.log);
  const metricOutcome = { not_found: "not_found", done: "ok", cancelling: "cancelling", unconfirmed: "unconfirmed", already_assigned: "too_late" }[outcome.kind];
  metricSink(c.env.METRICS)("cancel", { outcome: metricOutcome, upstream: c.get("config").upstream, ref: outcome.log?.customerRef as string | undefined });
  switch (outcome.kind) {
    case "not_found":
      throw notFound();
    case "done":
      return success({ interactionId: id, state: outcome.state });
    case "cancelling":
      return success({ interactionId: id, state: "cancelling" }, 202);
    case "unconfirmed":
      return failure(503, "cancel_unconfirmed", "the cancel is recorded but the call center has not confirmed it yet; it keeps being retried", {
        interactionId: id,
        state: outcome.state,
      });
    case "already_assigned":
      return failure(409, "already_assigned", "an agent already has this interaction", { interactionId: id, state: "assigned" });
  }
}

async function getHandler(c: Context<AppEnv>) {
  const id = interactionId(c);
  const ix = await interactionStub(c.env, id).get(id);
  if (!ix) throw notFound();
  c.set("told", { customerRef: ix.customerRef });
  return success(interactionView(ix, c.get("config").visibleAttributes));
}

/**
 * `POST /v1/customers/lookup` and `/erase` (design §6): the customerId comes in the body (never in a
 * URL, which access logs keep), normalised as a create's; the request's log line carries only the
 * customer's keyed reference.
 */
async function customerRequest(c: Context<AppEnv>) {
  requireJson(c.req.raw);
  const { customerId } = normaliseCustomerRequest(await readJson(c.req.raw));
  const found = await customerObject(c.env, customerId);
  c.set("told", { customerRef: found.customerRef });
  return { customerId, ...found };
}

/** Every interaction of the customer still within retention, newest first, as reads show them. */
async function lookupHandler(c: Context<AppEnv>) {
  const { customerId, stub, customerRef } = await customerRequest(c);
  const visible = c.get("config").visibleAttributes;
  const interactions = (await stub.lookup(customerId)).map((ix) => interactionView(ix, visible));
  return success({ customerRef, interactions });
}

/** Cancels the customer's waiting call and deletes every personal field held for the customer. */
async function eraseHandler(c: Context<AppEnv>) {
  const { customerId, stub, customerRef } = await customerRequest(c);
  const { erased, cancelled, cancelUnconfirmed, log } = await stub.erase(customerId, c.get("requestId"));
  c.set("told", { ...log, customerRef, erased });
  return success({ customerRef, erased, cancelled, cancelUnconfirmed });
}

/** What a key may do, as `GET /v1/session` lists it: the Diyalog routes, and the simulator's view when it runs. */
export const SESSION_PERMISSIONS = ["create", "cancel", "read", "lookup", "erase", "simulator"] as const;

/**
 * `GET /v1/session`: the key is accepted (else 401, like every Diyalog route), which upstream the
 * proxy feeds, and what the key may do. The console signs in with it.
 */
async function sessionHandler(c: Context<AppEnv>) {
  const config = c.get("config");
  const permissions = SESSION_PERMISSIONS.filter((p) => p !== "simulator" || config.upstream === "simulator");
  return success({ upstream: config.upstream, auth: config.apiKeys.length > 0 ? "api_key" : "unauthenticated", permissions });
}

/** The route exists only with the embedded simulator. */
const simulatorOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.get("config").upstream !== "simulator") throw new ApiError(404, "not_found", "no such route");
  await next();
};

/** The simulator's agents and queue, for the console. */
async function simulatorHandler(c: Context<AppEnv>) {
  return success(await simulatorStub(c.env).snapshot());
}

/**
 * The Diyalog routes that work on what is stored, reads and cancels (and a customer's lookup and erasure), mounted at `DIYALOG_BASE_PATH`
 * (or the root) before every other route: they are still served when only the upstream's
 * configuration is invalid (app.ts). `DELETE` on any single path segment is a cancel of that id, so
 * it is registered before anything that could claim the path.
 */
export function diyalogStoredRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.delete("/:id", requireKey, cancelHandler);
  routes.get("/v1/interactions/:id", requireKey, getHandler);
  routes.delete("/v1/interactions/:id", requireKey, cancelHandler);
  // A customer's lookup reads, and an erasure cancels, what is stored: served as reads and cancels are.
  routes.post("/v1/customers/lookup", requireKey, lookupHandler);
  routes.all("/v1/customers/lookup", methodNotAllowed("POST"));
  routes.post("/v1/customers/erase", requireKey, eraseHandler);
  routes.all("/v1/customers/erase", methodNotAllowed("POST"));
  return routes;
}

/** The other Diyalog routes (creates, the key's session, the simulator's view), mounted after `diyalogStoredRoutes`. */
export function diyalogRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.post("/CreateInteraction", requireKey, createHandler);
  routes.all("/CreateInteraction", methodNotAllowed("POST"));
  routes.post("/v1/interactions", requireKey, createHandler);
  routes.all("/v1/interactions", methodNotAllowed("POST"));
  routes.get("/v1/session", requireKey, sessionHandler);
  routes.all("/v1/session", methodNotAllowed("GET, HEAD"));
  routes.get("/v1/simulator", simulatorOnly, requireKey, simulatorHandler);
  routes.all("/v1/simulator", simulatorOnly, methodNotAllowed("GET, HEAD"));
  return routes;
}
