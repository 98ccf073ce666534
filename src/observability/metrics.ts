/**
 * Metrics through the Workers Analytics Engine binding `METRICS` (optional: without it nothing is
 * written). One data point per event: index = event name; blobs = event, outcome, upstream, HTTP
 * status; double = a value (milliseconds for latencies, 1 for counts). No personal data.
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
  | "time_to_assignment";

export interface MetricLabels {
  outcome?: string;
  upstream?: string;
  status?: number;
}

export type MetricSink = (event: MetricEvent, labels: MetricLabels, value?: number) => void;

/** A sink writing to the dataset, or doing nothing when the binding is absent. Never throws. */
export function metricSink(dataset: AnalyticsEngineDataset | undefined): MetricSink {
  if (!dataset) return () => {};
  return (event, labels, value = 1) => {
    try {
      dataset.writeDataPoint({
        indexes: [event],
        blobs: [event, labels.outcome ?? "", labels.upstream ?? "", labels.status === undefined ? "" : String(labels.status)],
        doubles: [value],
      });
    } catch {
      // A metric must never fail a request.
    }
  };
}
