import { backoffMs, type CancelResult } from "../upstreams/adapter";
import { log, type LogFields } from "../observability/log";
import { warnCancelUnconfirmed } from "../observability/events";
import type { Authority } from "./interaction-core";
import { pendingCopies } from "./machine";

/**
 * Cancels every copy still owed, one after the other; a transient failure is retried by the
 * alarm, no sooner than the stored retry time. Each answer applies to the copy it was sent for.
 */
export function cleanupRunner(a: Authority): () => Promise<void> {
  // Failed attempts in a row, for the backoff; kept in memory (the retry time itself is stored).
  let attempts = 0;
  return async function cleanupLoop(): Promise<void> {
    for (;;) {
      const ix = a.load();
      const copy = ix ? pendingCopies(ix)[0] : undefined;
      if (!ix || !copy) return;
      if (a.held(ix)) return a.arm();
      const requestId = a.requestId();
      const ref = {
        interactionId: ix.interactionId,
        upstreamId: copy.id,
        ...(requestId === undefined ? {} : { requestId }),
      };
      let result: CancelResult;
      const started = a.host.now();
      try {
        result = await a.host.adapter.cancel(ref, a.host.timeout(a.host.settings.upstreamTimeoutMs));
      } catch (err) {
        result = { kind: "retry", reason: err instanceof Error ? err.name : "error" };
      }
      if (result.kind === "retry") {
        a.host.metric?.("upstream_error", { outcome: "cancel", upstream: a.host.adapter.name, status: result.status ?? 0, ref: ix.customerRef });
        warnCancelUnconfirmed(a.host.metric, ix, a.host.now(), result.status);
      }
      const call: LogFields = {
        requestId: ref.requestId,
        interactionId: ix.interactionId,
        customerRef: ix.customerRef,
        upstream: a.host.adapter.name,
        outcome: result.kind,
        upstreamStatus: result.kind === "retry" ? result.status : undefined,
        latencyMs: a.host.now() - started,
      };
      if (result.kind === "retry") {
        log("warn", "upstream cancel", call);
        attempts += 1;
        a.scheduleRetry(backoffMs(attempts, result.retryAfterMs));
        return;
      }
      attempts = 0;
      a.dropRetry();
      if (result.kind === "cancelled") a.stepAfterCall({ type: "upstream_cancelled", upstreamId: copy.id }, "upstream cancel", call);
      else {
        const agent = result.agentId ? { agentId: result.agentId } : {};
        a.stepAfterCall({ type: "upstream_too_late", upstreamId: copy.id, ...agent }, "upstream cancel", call);
      }
    }
  };
}
