/**
 * Metrics through the Workers Analytics Engine binding `METRICS` (optional: without it nothing is
 * written). One data point per event: index = event name; blobs = event, outcome, upstream, HTTP
 * status, interactionId (only where an alert counts interactions), customerRef (about an interaction); double = a value (milliseconds
 * for latencies, 1 for counts). No personal data. README "Operations" has the queries.
 */

export type MetricEvent =
  /** outcome: created | upstream_rejected | upstream_unavailable */
  | "create"
  /** outcome: ok | cancelling | too_late | unconfirmed | not_found */
  | "cancel"
  /** value: ms from the first dispatch attempt to the upstream's acceptance */
  | "dispatch_latency"
  /** status: the upstream's HTTP status (0 = no answer); outcome: dispatch | cancel | poll */
  | "upstream_error"
  /** value: ms from create to an agent having the call */
  | "time_to_assignment"
  /** a 401 or 429 answer; status: 401 | 429; outcome: the route */
  | "rejected"
  /** a callback whose signature failed; outcome: the reason code */
  | "signature_failed"
  /** a claim (http hook, Twilio assignment) refused; outcome: the reason (the interaction's state, not_found) */
  | "claim_refused"
  /** a call nobody took in time; value: ms from create */
  | "expired"
  /** an upstream cancel still unconfirmed past a few minutes (once per retry); value: ms since the cancel; id: interactionId */
  | "cancel_unconfirmed";

export interface MetricLabels {
  outcome?: string;
  upstream?: string;
  status?: number;
  /** An interactionId, where an alert counts distinct interactions. */
  id?: string;
  /** The customer's keyed reference, on every metric about an interaction (design §6). */
  ref?: string;
}

export type MetricSink = (event: MetricEvent, labels: MetricLabels, value?: number) => void;

/** A sink writing to the dataset, or doing nothing when the binding is absent. Never throws. */
export function metricSink(dataset: AnalyticsEngineDataset | undefined): MetricSink {
  if (!dataset) return () => {};
  return (event, labels, value = 1) => {
    try {
      dataset.writeDataPoint({
        indexes: [event],
        blobs: [event, labels.outcome ?? "", labels.upstream ?? "", labels.status === undefined ? "" : String(labels.status), labels.id ?? "", labels.ref ?? ""],
        doubles: [value],
      });
    } catch {
      // A metric must never fail a request.
    }
  };
}
