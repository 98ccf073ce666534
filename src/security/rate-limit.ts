import { ApiError } from "../http/envelope";

/**
 * Rate limits through Workers Rate Limiting bindings (`[[ratelimits]]` in wrangler.toml). A
 * deployment without the binding is simply not limited. Both limits have a 60 s period, which is
 * what `Retry-After` tells the caller.
 */

const PERIOD_SECONDS = 60;

/** Counts one request against `key`; throws 429 `rate_limited` when over the limit. */
export async function enforce(limiter: RateLimit | undefined, key: string, what: string): Promise<void> {
  if (!limiter) return;
  const { success } = await limiter.limit({ key });
  if (!success) {
    throw new ApiError(429, "rate_limited", `too many requests ${what}; retry later`, null, {
      "retry-after": String(PERIOD_SECONDS),
    });
  }
}

/** The caller's address as Cloudflare reports it (absent in some local setups). */
export function clientIp(request: Request): string {
  return request.headers.get("cf-connecting-ip") ?? "unknown";
}
