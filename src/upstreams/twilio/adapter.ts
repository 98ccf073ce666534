import type { Config } from "../../config";
import { unreachable, type CancelResult, type DispatchRequest, type DispatchResult, type UpstreamAdapter, type UpstreamRef } from "../adapter";
import type { TwilioConfig } from "./config";
import { taskClient } from "./tasks";

/**
 * `twilio-taskrouter` (design §2): each interaction is a Task in `TWILIO_WORKFLOW_SID`. The Workflow's
 * AssignmentCallbackUrl points at the proxy (routes.ts), which answers accept or reject for every
 * reservation: that is the veto, so `canVeto` is true. Cancel updates the Task to `canceled` with
 * `If-Match`.
 */

/** TaskRouter's longest Task TTL (two weeks). */
const MAX_TASK_TIMEOUT_SECONDS = 1_209_600;
/** The Task outlives the proxy's own queue timeout a little, so the proxy expires (and cancels) it first. */
const TTL_MARGIN_SECONDS = 300;

/** What the Task carries: the normalised attributes, then the proxy's own keys, which always win. */
export function taskAttributes(request: DispatchRequest, identityNumberAttribute: string): Record<string, string> {
  const attributes: Record<string, string> = { ...request.attributes };
  if (request.identityNumber !== undefined && identityNumberAttribute !== "") attributes[identityNumberAttribute] = request.identityNumber;
  attributes.customerId = request.customerId;
  // Last, so no attachedData key can hide the id the lookup and the assignment callback rely on.
  attributes.interactionId = request.interactionId;
  return attributes;
}

export function twilioAdapter(config: Config, fetcher: typeof fetch = fetch): UpstreamAdapter {
  const client = taskClient(config.vendor as TwilioConfig, fetcher);
  const ttl = Math.min(MAX_TASK_TIMEOUT_SECONDS, config.queueTimeoutSeconds + TTL_MARGIN_SECONDS);

  return {
    name: "twilio-taskrouter",
    canVeto: true,

    async dispatch(request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult> {
      try {
        if (request.mayExist) {
          const found = await client.find(request.interactionId, signal);
          if (found) return found;
        }
        return await client.create(taskAttributes(request, config.identityNumberAttribute), ttl, signal);
      } catch (err) {
        return unreachable(err);
      }
    },

    async cancel(ref: UpstreamRef, signal: AbortSignal): Promise<CancelResult> {
      try {
        return await client.cancel(ref.upstreamId, signal);
      } catch (err) {
        return unreachable(err);
      }
    },
  };
}
