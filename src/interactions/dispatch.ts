import { backoffMs, type DispatchResult } from "../upstreams/adapter";
import { log, type LogFields } from "../observability/log";
import type { Authority } from "./interaction-core";
import type { Interaction } from "./machine";

/** Dispatch attempts made in one go when resolving a lost response; later ones ride on alarms. */
const RESOLVE_ATTEMPTS = 3;

/** The least wait before a refused repeat create is asked again (a lookup upstream may lag). */
const REFUSAL_RETRY_MS = 5_000;

/**
 * Sends the create until the upstream answers for good. While the create is waiting this is
 * bounded by the dispatch deadline; after that (a cancel or failure with a possibly lost
 * response) it repeats the same idempotent create to learn the upstream id, so it can be cancelled.
 * One loop at most runs per interaction (`InteractionCore.startDispatch`), so one create is in
 * flight at most.
 */
export async function dispatchLoop(a: Authority): Promise<void> {
  let attempt = 0;
  // Only the very first attempt of a fresh interaction is sure that nothing exists upstream yet.
  let mayExist = true;
  // The retry time this loop stored itself, and waits for in its own sleep.
  let ownRetry: number | undefined;
  // Whether this loop's last send came back with an answer that made nothing upstream (a refusal, a
  // 4xx): then no copy of it can still land. Memory only: after a restart the stored window holds.
  let landed = false;
  const { lookupLagMs } = a.host.adapter;
  const timeoutFor = (ix: Interaction, now: number) =>
    Math.max(1, Math.min(a.host.settings.upstreamTimeoutMs, ix.state === "dispatching" ? ix.dispatchDeadline - now : Infinity));
  for (;;) {
    let ix = a.load();
    if (!ix) return;
    if (ix.state === "received") {
      // The first send's window is stored with `dispatching`, in the same write.
      const sendingUntil = a.host.now() + timeoutFor({ ...ix, state: "dispatching" }, a.host.now());
      ix = a.step({ type: "dispatch_started", sendingUntil })!.interaction;
      mayExist = false;
    }
    if (!a.unresolved(ix)) return;
    const now = a.host.now();
    if (ix.state === "dispatching" && now >= ix.dispatchDeadline) {
      a.step({ type: "dispatch_deadline" });
      attempt = 0;
      continue;
    }
    if (a.held(ix, ownRetry)) {
      // A backoff or Retry-After stored earlier (perhaps before a restart) still holds.
      if (ix.state !== "dispatching") return a.arm();
      await a.host.sleep(Math.min(ix.retryAt!, ix.dispatchDeadline) - now);
      ownRetry = ix.retryAt;
      continue;
    }
    const timeout = timeoutFor(ix, now);
    if (mayExist && lookupLagMs !== undefined) {
      // A lookup upstream: look up only once every create that may still be on the wire (this
      // instance's, or one an instance before a restart sent) has landed and become visible, so
      // the lookup sees every copy. Then store the new send's window before it leaves: an instance
      // that was replaced cannot store, so it never sends again.
      const ready = landed ? now : (ix.sendingUntil ?? 0) + lookupLagMs;
      if (now < ready) {
        if (ix.state !== "dispatching") {
          ownRetry = a.scheduleRetry(ready - now);
          return;
        }
        await a.host.sleep(Math.min(ready, ix.dispatchDeadline) - now);
        continue;
      }
      a.markSending(now + timeout);
    }
    const requestId = a.requestId();
    const request = {
      interactionId: ix.interactionId,
      customerId: ix.customerId,
      attributes: ix.attributes,
      ...(ix.identityNumber === undefined ? {} : { identityNumber: ix.identityNumber }),
      mayExist,
      ...(requestId === undefined ? {} : { requestId }),
    };
    mayExist = true;
    let result: DispatchResult;
    const started = a.host.now();
    try {
      result = await a.host.adapter.dispatch(request, a.host.timeout(timeout));
    } catch (err) {
      result = { kind: "retry", reason: err instanceof Error ? err.name : "error" };
    }
    if (result.kind === "accepted") {
      a.host.metric?.("dispatch_latency", { upstream: a.host.adapter.name, ref: ix.customerRef }, a.host.now() - ix.createdAt);
    } else {
      a.host.metric?.("upstream_error", { outcome: "dispatch", upstream: a.host.adapter.name, status: result.status ?? 0, ref: ix.customerRef });
    }
    const call: LogFields = {
      requestId: request.requestId,
      interactionId: ix.interactionId,
      customerRef: ix.customerRef,
      upstream: a.host.adapter.name,
      outcome: result.kind,
      upstreamStatus: result.kind === "accepted" ? undefined : result.status,
      latencyMs: a.host.now() - started,
      attempt: attempt + 1,
    };
    if (result.kind === "accepted") {
      a.dropRetry();
      a.stepAfterCall({ type: "dispatch_accepted", upstreamId: result.upstreamId }, "upstream dispatch", call);
      // Further copies a lookup found are learned too, each to be cancelled.
      for (const other of result.others ?? []) a.step({ type: "dispatch_accepted", upstreamId: other });
      return;
    }
    // A request the upstream answered with a 4xx (a refusal, throttling) made nothing; a 5xx may
    // come from a gateway while the upstream goes on, and a timeout or network error tells nothing.
    landed = result.kind === "rejected" || (result.status !== undefined && result.status >= 400 && result.status < 500);
    log("warn", "upstream dispatch", call);
    if (result.kind === "rejected") {
      a.step({
        type: "dispatch_rejected",
        reason: result.reason,
        mayExist: request.mayExist,
        ...(result.status ? { status: result.status } : {}),
      });
    }
    attempt += 1;
    const current = a.load();
    // A refusal that was believed leaves nothing to resolve; one that was not is asked again.
    if (!current || !a.unresolved(current)) return;
    const delay = result.kind === "rejected" ? Math.max(REFUSAL_RETRY_MS, backoffMs(attempt)) : backoffMs(attempt, result.retryAfterMs);
    ownRetry = a.scheduleRetry(delay);
    if (current.state === "dispatching") {
      await a.host.sleep(Math.max(0, Math.min(delay, current.dispatchDeadline - a.host.now())));
    } else if (attempt < RESOLVE_ATTEMPTS && result.kind !== "rejected") {
      await a.host.sleep(delay);
    } else {
      return; // the stored retry time brings the alarm back
    }
  }
}
