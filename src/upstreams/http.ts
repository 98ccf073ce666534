import type { Config } from "../config";
import { signWebhook } from "../security/webhook-signature";
import {
  parseRetryAfter,
  type CancelResult,
  type DispatchRequest,
  type DispatchResult,
  type Retry,
  type UpstreamAdapter,
  type UpstreamRef,
} from "./adapter";

/**
 * The generic `http` upstream (design §2): any queue system that accepts
 * `POST {UPSTREAM_URL}/interactions` with an `Idempotency-Key` and `DELETE …/interactions/{id}`,
 * and asks the proxy's claim hook before giving a call to an agent (so it can veto).
 * Every request is signed with the Standard Webhooks scheme.
 */

/** 4xx answers that mean "try again", not "never". */
const TRANSIENT_4XX = new Set([408, 429]);

function transient(response: Response, reason: string): Retry {
  const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
  return retryAfterMs === undefined
    ? { kind: "retry", reason, status: response.status }
    : { kind: "retry", reason, status: response.status, retryAfterMs };
}

function unreachable(err: unknown): Retry {
  const name = err instanceof Error ? err.name : "Error";
  return { kind: "retry", reason: name === "TimeoutError" || name === "AbortError" ? "timed out" : "network error" };
}

/** The Diyalog request's id travels on, so one id finds a call in both systems' logs. */
function requestIdHeader(requestId: string | undefined): Record<string, string> {
  return requestId === undefined ? {} : { "x-request-id": requestId };
}

export function httpAdapter(config: Config, fetcher: typeof fetch = fetch): UpstreamAdapter {
  const base = config.upstreamUrl!;
  const secrets = config.signingSecrets;

  async function send(method: string, path: string, body: string, signal: AbortSignal, extra: Record<string, string> = {}) {
    const headers: Record<string, string> = { ...(await signWebhook(secrets, body)), ...extra };
    if (body !== "") headers["content-type"] = "application/json";
    const response = await fetcher(`${base}${path}`, { method, headers, signal, ...(body === "" ? {} : { body }) });
    return response;
  }

  return {
    name: "http",
    canVeto: true,

    async dispatch(request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult> {
      // The signature covers the body only: it names the action and the interaction, so the signed
      // request cannot be replayed as another one (the upstream checks Idempotency-Key against it).
      const payload: Record<string, unknown> = {
        type: "create",
        interactionId: request.interactionId,
        customerId: request.customerId,
        attributes: request.attributes,
      };
      if (request.identityNumber !== undefined && config.identityNumberAttribute !== "") {
        payload.identityNumber = request.identityNumber;
      }
      let response: Response;
      try {
        response = await send("POST", "/interactions", JSON.stringify(payload), signal, {
          "idempotency-key": request.interactionId,
          ...requestIdHeader(request.requestId),
        });
      } catch (err) {
        return unreachable(err);
      }
      if (response.ok) {
        let id: unknown;
        try {
          id = ((await response.json()) as { id?: unknown } | null)?.id;
        } catch {
          id = undefined;
        }
        // Accepted but unreadable: ask again with the same key rather than lose the id.
        if (typeof id !== "string" || id === "" || id.length > 256) return { kind: "retry", reason: "2xx without an id", status: response.status };
        return { kind: "accepted", upstreamId: id };
      }
      await response.body?.cancel();
      // 409 to a create: a request with the same Idempotency-Key is still in flight upstream (the
      // usual answer of idempotent APIs). It may yet create the interaction, so it is not a refusal.
      if (response.status === 409) return transient(response, "HTTP 409 (same key in flight)");
      if (response.status >= 400 && response.status < 500 && !TRANSIENT_4XX.has(response.status)) {
        return { kind: "rejected", reason: `HTTP ${response.status}`, status: response.status };
      }
      return transient(response, `HTTP ${response.status}`);
    },

    async cancel(ref: UpstreamRef, signal: AbortSignal): Promise<CancelResult> {
      let response: Response;
      try {
        // The body names the target, as signed: replayed on another path, the upstream can refuse it.
        const body = JSON.stringify({ type: "cancel", interactionId: ref.interactionId, upstreamId: ref.upstreamId });
        response = await send("DELETE", `/interactions/${encodeURIComponent(ref.upstreamId)}`, body, signal, requestIdHeader(ref.requestId));
      } catch (err) {
        return unreachable(err);
      }
      await response.body?.cancel();
      if (response.ok || response.status === 404) return { kind: "cancelled" };
      if (response.status === 409) return { kind: "too_late" };
      return transient(response, `HTTP ${response.status}`);
    },
  };
}
