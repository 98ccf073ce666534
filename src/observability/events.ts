import { log } from "./log";
import type { MetricSink } from "./metrics";

/**
 * Events an operator must see at `LOG_LEVEL=warn`: each writes one `warn` line and one metric.
 * Operational fields only (ids, routes, reason codes, statuses): never personal data.
 */

/** How long an upstream cancel may stay unconfirmed before each failed retry is reported. */
export const UNCONFIRMED_CANCEL_WARN_MS = 5 * 60_000;

/** A claim the interaction refused: the call must not go to that agent. */
export function warnClaimRefused(metric: MetricSink, reason: string, requestId: string, interactionId: string, customerRef?: unknown): void {
  const ref = typeof customerRef === "string" ? customerRef : undefined;
  log("warn", "claim refused", { requestId, interactionId, customerRef: ref, reason });
  metric("claim_refused", { outcome: reason, ref });
}

/** A call nobody took within QUEUE_TIMEOUT_SECONDS (or that expired before it was queued). */
export function warnExpired(metric: MetricSink | undefined, ix: AboutInteraction, waitedMs: number): void {
  const { interactionId, customerRef, upstream: { adapter: upstream } } = ix;
  log("warn", "expired", { interactionId, customerRef, upstream, waitedMs });
  metric?.("expired", { upstream, ref: customerRef }, waitedMs);
}

/** What these reports read of an interaction (structural: no dependency on the store's layout). */
export interface AboutInteraction {
  interactionId: string;
  /** The customer's keyed reference (never the customerId). */
  customerRef?: string;
  upstream: { adapter: string };
}

export interface LeftQueue extends AboutInteraction {
  timeline: readonly { at: string; state: string }[];
}

const LEFT = new Set(["cancelling", "cancelled", "failed", "expired"]);

/**
 * A failed upstream cancel, reported once the call left the queue (cancel, failure, expiry) at least
 * `UNCONFIRMED_CANCEL_WARN_MS` before `now`; earlier failures have their own `upstream cancel` line.
 */
export function warnCancelUnconfirmed(metric: MetricSink | undefined, ix: LeftQueue, now: number, status?: number): void {
  const left = ix.timeline.find((entry) => LEFT.has(entry.state));
  const sinceMs = left ? now - Date.parse(left.at) : 0;
  if (sinceMs < UNCONFIRMED_CANCEL_WARN_MS) return;
  const { interactionId, customerRef, upstream: { adapter: upstream } } = ix;
  log("warn", "cancel unconfirmed", { interactionId, customerRef, upstream, sinceMs, upstreamStatus: status });
  metric?.("cancel_unconfirmed", { upstream, status: status ?? 0, id: interactionId, ref: customerRef }, sinceMs);
}

/** A poll of an upstream without callbacks that failed (dispatch and cancel failures log their own line). */
export function warnPollFailed(metric: MetricSink | undefined, ix: AboutInteraction, status?: number): void {
  const { interactionId, customerRef, upstream: { adapter: upstream } } = ix;
  log("warn", "upstream poll", { interactionId, customerRef, upstream, upstreamStatus: status });
  metric?.("upstream_error", { outcome: "poll", upstream, status: status ?? 0, ref: customerRef });
}
