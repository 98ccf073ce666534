import { Hono, type Context } from "hono";
import type { AppEnv } from "../../app-env";
import { isInteractionId } from "../../diyalog/routes";
import { readText } from "../../http/body";
import { ApiError } from "../../http/envelope";
import { interactionStub } from "../../interactions/stubs";
import type { TwilioConfig } from "./config";
import { verifyTwilioSignature } from "./signature";
import { TASK_SID, taskClient } from "./tasks";

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

/** The URL Twilio signed: the public origin when the worker sits behind another proxy. */
function signedUrl(requestUrl: string, publicBaseUrl: string | undefined): string {
  const url = new URL(requestUrl);
  const origin = publicBaseUrl ? new URL(publicBaseUrl).origin : url.origin;
  return origin + url.pathname + url.search;
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

function instruction(body: object): Response {
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { "content-type": "application/json", "cache-control": "no-store", "x-content-type-options": "nosniff" },
  });
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

async function assignment(c: Context<AppEnv>): Promise<Response> {
  const config = c.get("config");
  if (config.upstream !== "twilio-taskrouter") throw new ApiError(404, "not_found", "no such route");
  const twilio = config.vendor as TwilioConfig;
  const text = await readText(c.req.raw, CALLBACK_BODY_LIMIT);
  const params = new URLSearchParams(text);
  const url = signedUrl(c.req.url, config.publicBaseUrl);
  if (!(await verifyTwilioSignature(twilio.authToken, c.req.header("x-twilio-signature"), url, params))) {
    throw new ApiError(401, "unauthorized", "X-Twilio-Signature rejected");
  }
  const interactionId = interactionIdOf(params.get("TaskAttributes"));
  // Not a Task the proxy made (the Workflow is shared): leave the reservation to TaskRouter.
  if (!interactionId) return instruction({});
  c.set("interactionId", interactionId);
  const worker = params.get("WorkerSid");
  const outcome = await interactionStub(c.env, interactionId).claim(interactionId, worker && WORKER_SID.test(worker) ? worker : undefined);
  if (outcome.proceed) return instruction({ instruction: "accept" });
  const taskSid = params.get("TaskSid");
  if (WITHDRAW.has(outcome.reason) && taskSid && TASK_SID.test(taskSid)) {
    // The interaction's object cancels its Task too once it knows the sid; this covers the Task it
    // has not learned yet (a create whose answer is still on its way) and purged interactions.
    background(c, taskClient(twilio).cancel(taskSid, AbortSignal.timeout(config.upstreamTimeoutMs)));
  }
  return instruction({ instruction: "reject" });
}

export function twilioRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.post(ASSIGNMENT_PATH, assignment);
  return routes;
}
