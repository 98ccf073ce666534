import type { Context } from "hono";
import { Hono } from "hono/tiny";
import type { AppEnv } from "../../app-env";
import { isInteractionId } from "../../diyalog/routes";
import { readText } from "../../http/body";
import { ApiError } from "../../http/envelope";
import { upstreamId } from "../../interactions/machine";
import { unreachable } from "../adapter";
import { interactionStub } from "../../interactions/stubs";
import { log } from "../../observability/log";
import { warnClaimRefused } from "../../observability/events";
import { metricSink } from "../../observability/metrics";
import { countFailedAuthentication } from "../../security/rate-limit";
import type { TwilioConfig } from "./config";
import { verifyTwilioSignature } from "./signature";
import { RESERVATION_SID, TASK_SID, taskClient } from "./tasks";

/**
 * The Workflow's AssignmentCallbackUrl, `{PUBLIC_BASE_URL}/v1/upstream/twilio/assignment`: TaskRouter
 * asks it, for every reservation, before a worker gets the Task. The interaction's Durable Object
 * decides (the same claim as the `http` upstream's hook), so a claim and a cancel can never both win.
 * Answers are Twilio's own format, `{"instruction":"accept"|"reject"}`, within its 5 s limit.
 * Absent (404) unless `UPSTREAM=twilio-taskrouter`.
 */

export const ASSIGNMENT_PATH = "/v1/upstream/twilio/assignment";

/** Task and worker attributes together stay well below this. */
const CALLBACK_BODY_LIMIT = 64 * 1024;

const WORKER_SID = /^WK[0-9a-fA-F]{32}$/;

/**
 * Refusals after which the Task must not reach anyone: a reject alone would only re-queue it for the
 * next worker. A refusal because another worker already has the call (multi-reservation) is not one.
 */
const WITHDRAW = new Set(["cancelling", "cancelled", "failed", "expired", "not_found"]);

/**
 * The URL Twilio signed: `{PUBLIC_BASE_URL}/v1/upstream/twilio/assignment` as configured (its path
 * included: a gateway in front may add a prefix the worker never sees), with the request's query;
 * without PUBLIC_BASE_URL, the URL the request arrived at.
 */
export function signedUrl(requestUrl: string, publicBaseUrl: string | undefined): string {
  const url = new URL(requestUrl);
  return publicBaseUrl ? publicBaseUrl + ASSIGNMENT_PATH + url.search : url.origin + url.pathname + url.search;
}

/** The interactionId the proxy put in the Task's attributes, if this Task is one of the proxy's. */
function interactionIdOf(taskAttributes: string | null): string | undefined {
  if (!taskAttributes) return undefined;
  try {
    const id = (JSON.parse(taskAttributes) as { interactionId?: unknown } | null)?.interactionId;
    return typeof id === "string" && isInteractionId(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Twilio's answer format; `no-store` and `nosniff` come from the app's floor (applySecurityHeaders). */
function instruction(body: object): Response {
  return Response.json(body);
}

/** Keeps background work alive after the answer (no execution context when called outside a request). */
function background(c: Context<AppEnv>, work: Promise<unknown>): void {
  const settled = work.catch(() => {});
  try {
    c.executionCtx.waitUntil(settled);
  } catch {
    // already running; nothing else to keep alive
  }
}

/**
 * A callback whose signature does not verify: logged without anything it carried, counted against
 * the failed-authentication limit of its address (429 past it, as for a bad API key), else 401.
 */
async function badSignature(c: Context<AppEnv>): Promise<never> {
  const reason = "invalid_twilio_signature";
  metricSink(c.env.METRICS)("signature_failed", { outcome: reason });
  await countFailedAuthentication(c.env.AUTH_FAILURE_LIMITER, c.req.raw, { requestId: c.get("requestId"), reason, route: ASSIGNMENT_PATH });
  throw new ApiError(401, "unauthorized", "X-Twilio-Signature rejected");
}

/**
 * How long the reservation check may take: TaskRouter waits 5 s for the whole answer, so this is a
 * fixed share of that, not UPSTREAM_TIMEOUT_MS.
 */
const RESERVATION_READ_MS = 3000;

async function assignment(c: Context<AppEnv>): Promise<Response> {
  const config = c.get("config");
  if (config.upstream !== "twilio-taskrouter") throw new ApiError(404, "not_found", "no such route");
  const twilio = config.vendor as TwilioConfig;
  const text = await readText(c.req.raw, CALLBACK_BODY_LIMIT);
  const params = new URLSearchParams(text);
  const url = signedUrl(c.req.url, config.publicBaseUrl);
  if (!(await verifyTwilioSignature(twilio.authToken, c.req.header("x-twilio-signature"), url, params))) await badSignature(c);
  const interactionId = interactionIdOf(params.get("TaskAttributes"));
  // Not a Task the proxy made (the Workflow is shared): leave the reservation to TaskRouter.
  if (!interactionId) return instruction({});
  c.set("interactionId", interactionId);
  const taskSid = params.get("TaskSid") ?? "";
  const reservationSid = params.get("ReservationSid") ?? "";
  const worker = params.get("WorkerSid");
  const workerSid = worker && WORKER_SID.test(worker) ? worker : undefined;
  if (!TASK_SID.test(taskSid) || !RESERVATION_SID.test(reservationSid)) return instruction({ instruction: "reject" });
  const tasks = taskClient(twilio);
  // A withdrawal that fails is logged like any failed upstream call.
  let customerRef: string | undefined;
  const withdrawn = (r: { kind: string; status?: number }) => {
    if (r.kind === "retry") log("warn", "upstream cancel", { interactionId, customerRef, outcome: "retry", upstreamStatus: r.status });
  };
  const withdraw = () => background(c, tasks.cancel(taskSid, AbortSignal.timeout(config.upstreamTimeoutMs)).then(withdrawn));

  const stub = interactionStub(c.env, interactionId);
  const ix = await stub.get(interactionId);
  if (ix === null) {
    // Purged or never made: nobody may have it. Cancel the Task, a reject alone would re-queue it.
    withdraw();
    return instruction({ instruction: "reject" });
  }
  customerRef = ix.customerRef;
  c.set("told", { customerRef });
  const followed = upstreamId(ix);
  if (followed !== undefined && followed !== taskSid) {
    // A Task carrying this interactionId that is not the one the proxy follows (a second copy from a
    // create retried after a lost answer): never granted, and cancelled so nobody takes it by hand.
    log("warn", "assignment callback for a Task the interaction does not follow; rejected", { requestId: c.get("requestId"), interactionId, customerRef });
    withdraw();
    return instruction({ instruction: "reject" });
  }
  if (ix.state === "dispatching" || ix.state === "queued") {
    // A claim here would assign the call, so it must come from a live offer: Twilio's signature has
    // no timestamp, and a captured callback could otherwise be replayed later. TaskRouter waits for
    // the answer with the reservation `pending`; anything else is an old callback.
    let reservation: Awaited<ReturnType<typeof tasks.reservationStatus>>;
    try {
      reservation = await tasks.reservationStatus(taskSid, reservationSid, AbortSignal.timeout(RESERVATION_READ_MS));
    } catch (err) {
      reservation = unreachable(err);
    }
    if (reservation.kind !== "status" || reservation.status !== "pending") {
      // Unreadable now: reject (TaskRouter offers the Task again and the next offer is checked anew).
      log("warn", "assignment callback for a reservation that is not pending; rejected", {
        requestId: c.get("requestId"),
        interactionId,
        customerRef,
        reservation: reservation.kind === "status" ? reservation.status : reservation.kind,
      });
      return instruction({ instruction: "reject" });
    }
  }
  const outcome = await stub.claim(interactionId, workerSid, true);
  c.set("told", outcome.log);
  if (outcome.proceed) return instruction({ instruction: "accept" });
  warnClaimRefused(metricSink(c.env.METRICS), outcome.reason, c.get("requestId"), interactionId, outcome.log?.customerRef);
  // The interaction's object cancels its Task too once it knows the sid; this covers the Task it has
  // not learned yet (a create whose answer is still on its way).
  if (WITHDRAW.has(outcome.reason)) withdraw();
  return instruction({ instruction: "reject" });
}

export function twilioRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.post(ASSIGNMENT_PATH, assignment);
  return routes;
}
