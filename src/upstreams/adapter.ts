import { encodeBase64 } from "../security/webhook-signature";

/**
 * The one interface every upstream implements: dispatch, cancel, and (for upstreams that do not
 * call back) a poll that tells whether an agent has the interaction. Adapters know HTTP and the
 * vendor's shapes, nothing about Diyalog.
 */

export interface DispatchRequest {
  interactionId: string;
  customerId: string;
  attributes: Record<string, string>;
  identityNumber?: string;
  /**
   * True when an earlier attempt may have reached the upstream (a lost answer, a restart): an
   * upstream without idempotency keys must look the interaction up before creating it again.
   */
  mayExist: boolean;
  /** The `x-request-id` of the Diyalog request that caused this call, for upstreams that log it. */
  requestId?: string;
}

export interface UpstreamRef {
  interactionId: string;
  upstreamId: string;
  /** The `x-request-id` of the Diyalog request that caused this call, when there is one. */
  requestId?: string;
}

/** Transient trouble: try again later, no sooner than `retryAfterMs` when the upstream said so. */
export interface Retry {
  kind: "retry";
  reason: string;
  status?: number;
  retryAfterMs?: number;
}

export type DispatchResult =
  /** `others`: further copies a lookup found for the same interaction (each is cancelled). */
  | { kind: "accepted"; upstreamId: string; others?: string[] }
  | { kind: "rejected"; reason: string; status?: number }
  | Retry;

export type CancelResult = { kind: "cancelled" } | { kind: "too_late"; agentId?: string } | Retry;

export type PollResult = { kind: "waiting" } | { kind: "assigned"; agentId?: string } | { kind: "gone" } | Retry;

export interface UpstreamAdapter {
  readonly name: string;
  /** True when the upstream asks the proxy before an agent gets the call, so a cancel holds at once. */
  readonly canVeto: boolean;
  /** Creates the interaction upstream; must be idempotent per interactionId (key or lookup). */
  dispatch(request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult>;
  cancel(ref: UpstreamRef, signal: AbortSignal): Promise<CancelResult>;
  /**
   * Upstreams without an idempotency key, whose repeated create first looks the interaction up: how
   * long a copy a create made may take to show in that lookup (an assumption about the vendor, see
   * docs/upstreams). The proxy looks up only once every create it may still have on the wire has
   * landed and this long has passed, so the lookup sees every copy.
   */
  readonly lookupLagMs?: number;
  /** Only for upstreams that never call back: how the proxy learns an agent took the call. */
  poll?(ref: UpstreamRef, signal: AbortSignal): Promise<PollResult>;
  readonly pollIntervalMs?: number;
}

const BASE_DELAY_MS = 200;
const MAX_DELAY_MS = 30_000;

/**
 * Full-jitter exponential backoff (a random delay up to base·2^attempt, capped), never sooner than
 * an upstream's `Retry-After`.
 */
export function backoffMs(attempt: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(attempt, 20));
  const jittered = Math.floor(random() * ceiling);
  return retryAfterMs === undefined ? jittered : Math.max(jittered, Math.min(retryAfterMs, MAX_DELAY_MS * 4));
}

/** Reads `Retry-After` (seconds or an HTTP date) into milliseconds. */
/** Why a call got no answer at all: its deadline ("timed out") or the network ("network error"). */
export function unanswered(err: unknown): "timed out" | "network error" {
  const name = err instanceof Error ? err.name : "Error";
  return name === "TimeoutError" || name === "AbortError" ? "timed out" : "network error";
}

/** A call that never got an answer: always worth another try. */
export function unreachable(err: unknown): Retry {
  return { kind: "retry", reason: unanswered(err) };
}

export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** An `Authorization: Basic` value for `user:password` credentials (UTF-8, then base64). */
export function basicAuthorization(user: string, password: string): string {
  return `Basic ${encodeBase64(new TextEncoder().encode(`${user}:${password}`))}`;
}
