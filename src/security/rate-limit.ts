import { ApiError } from "../http/envelope";
import { log } from "../observability/log";

/**
 * Rate limits through Workers Rate Limiting bindings (`[[ratelimits]]` in wrangler.toml). A
 * deployment without the binding is simply not limited. Both limits have a 60 s period, which is
 * what `Retry-After` tells the caller.
 */

const PERIOD_SECONDS = 60;

/** Which limit a request counts against, as logged when the limiter fails. */
export type LimitName = "api_key" | "failed_auth";

/**
 * Counts one request against `key`; throws 429 `rate_limited` when over the limit. A limiter that
 * fails is logged and lets the request through: an outage of the counter must not stop the call center.
 */
export async function enforce(limiter: RateLimit | undefined, key: string, what: string, name: LimitName): Promise<void> {
  if (!limiter) return;
  let allowed: boolean;
  try {
    allowed = (await limiter.limit({ key })).success;
  } catch {
    log("warn", "rate limiter unavailable", { limit: name });
    return;
  }
  // The request's own log line records the 429 (and a failed authentication has a line of its own).
  if (!allowed) {
    throw new ApiError(429, "rate_limited", `too many requests ${what}; retry later`, null, {
      "retry-after": String(PERIOD_SECONDS),
    });
  }
}

/**
 * One failed authentication (a wrong API key, a bad webhook signature): logged with its reason and
 * the client's address bucket (never what was presented), and counted against that bucket; past the
 * limit it throws 429 `rate_limited` (with Retry-After) instead of letting the caller see another 401.
 */
export async function countFailedAuthentication(
  limiter: RateLimit | undefined,
  request: Request,
  fields: { requestId: string; reason: string; route?: string; interactionId?: string },
): Promise<void> {
  const client = addressBucket(clientIp(request));
  // The request's own log line (same requestId, `warn` too) has the method, route and status; a
  // callback names its route and (when its path has one) the interaction here as well.
  log("warn", "authentication failed", { ...fields, client });
  await enforce(limiter, `ip:${client}`, "with failed authentication from this address", "failed_auth");
}

/** The caller's address as Cloudflare reports it (absent in some local setups). */
export function clientIp(request: Request): string {
  return request.headers.get("cf-connecting-ip") ?? "unknown";
}

/**
 * The bucket a client address counts in: an IPv4 address as it is, an IPv6 address by its /64
 * prefix (one subscriber or host usually holds a whole /64, so single addresses would be free).
 * The address comes from Cloudflare (`CF-Connecting-IP`), so it is well formed.
 */
export function addressBucket(address: string): string {
  // IPv4, or IPv4 written as IPv6 (::ffff:192.0.2.1): the IPv4 address itself.
  if (address.includes(".")) return address.slice(address.lastIndexOf(":") + 1);
  if (!address.includes(":")) return address;
  const [head = "", tail] = address.toLowerCase().split("::");
  const part = (text = "") => (text ? text.split(":") : []);
  const groups = [...part(head), ...Array<string>(Math.max(0, 8 - part(head).length - part(tail).length)).fill("0"), ...part(tail)];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}
