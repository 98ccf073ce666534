import type { Config } from "../../config";
import type { CancelResult, DispatchRequest, DispatchResult, PollResult, Retry, UpstreamAdapter, UpstreamRef } from "../adapter";
import { connectClient, type ContactStatus } from "./api";
import { taskAttributes } from "./attributes";
import type { ConnectConfig } from "./config";
import type { Failure } from "./errors";

/**
 * The `amazon-connect` upstream (design §2): each interaction is a Connect task started by
 * StartTaskContact into the configured flow, with `ClientToken` = interactionId so a repeated
 * create returns the same contact. Connect never asks the proxy before an agent takes a task, so
 * there is no veto: the proxy learns assignment by polling DescribeContact, and a cancel is only
 * confirmed once Connect shows the task ended without an agent.
 */

/** Shown to agents in the CCP; deliberately free of personal data. */
export const TASK_NAME = "Diyalog video call";

function retry(failure: Failure): Retry {
  const r: Retry = { kind: "retry", reason: failure.reason };
  if (failure.status !== undefined) r.status = failure.status;
  if (failure.retryAfterMs !== undefined) r.retryAfterMs = failure.retryAfterMs;
  return r;
}

const withAgent = (c: ContactStatus): boolean => c.connectedToAgentAt !== undefined;
const tooLate = (c: ContactStatus): CancelResult => (c.agentId === undefined ? { kind: "too_late" } : { kind: "too_late", agentId: c.agentId });

export function connectAdapter(config: Config, fetcher?: typeof fetch): UpstreamAdapter {
  const vendor = config.vendor as ConnectConfig;
  const client = connectClient(vendor, fetcher);

  return {
    name: "amazon-connect",
    canVeto: false,
    pollIntervalMs: vendor.pollSeconds * 1000,

    // ClientToken makes a repeat the same task, so a possible earlier copy (mayExist) needs no lookup.
    async dispatch(request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult> {
      const built = taskAttributes(request, config.identityNumberAttribute);
      if (!built.ok) return { kind: "rejected", reason: built.reason };
      const started = await client.startTask({ Name: TASK_NAME, Attributes: built.attributes, ClientToken: request.interactionId }, signal);
      if (started.ok) return { kind: "accepted", upstreamId: started.value };
      if (started.transient) return retry(started);
      return started.status === undefined ? { kind: "rejected", reason: started.reason } : { kind: "rejected", reason: started.reason, status: started.status };
    },

    /**
     * StopContact ends a task even while an agent has it, so look first: with an agent → too late,
     * nothing stopped. Otherwise stop, then look again: an agent who accepted between the two looks
     * had it (and lost it to the stop) → too late; else the cancel is confirmed.
     */
    async cancel(ref: UpstreamRef, signal: AbortSignal): Promise<CancelResult> {
      const before = await client.describeContact(ref.upstreamId, signal);
      if (!before.ok) return retry(before);
      if (withAgent(before.value)) return tooLate(before.value);
      if (before.value.disconnectedAt !== undefined) return { kind: "cancelled" };

      const stopped = await client.stopContact(ref.upstreamId, signal);
      if (!stopped.ok && stopped.transient) return retry(stopped);

      // Even a refused stop (e.g. the task ended meanwhile) is settled by what Connect shows now.
      const after = await client.describeContact(ref.upstreamId, signal);
      if (!after.ok) return retry(after);
      if (withAgent(after.value)) return tooLate(after.value);
      if (stopped.ok || after.value.disconnectedAt !== undefined) return { kind: "cancelled" };
      return retry(stopped);
    },

    async poll(ref: UpstreamRef, signal: AbortSignal): Promise<PollResult> {
      const seen = await client.describeContact(ref.upstreamId, signal);
      if (!seen.ok) return retry(seen);
      if (withAgent(seen.value)) return seen.value.agentId === undefined ? { kind: "assigned" } : { kind: "assigned", agentId: seen.value.agentId };
      // Ended without an agent: the flow disconnected it or it was stopped in the Connect console.
      if (seen.value.disconnectedAt !== undefined) return { kind: "gone" };
      return { kind: "waiting" };
    },
  };
}
