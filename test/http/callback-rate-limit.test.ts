/**
 * Invalid signatures on the `http` upstream's callback routes count against the failed-authentication
 * limit per client address (design §2, §3: AUTH_FAILURE_LIMITER, 600 per 60 s), the limit a wrong
 * API key counts against on the Diyalog routes. Without it a caller could try signatures unthrottled.
 *
 * Only well-formed ids nobody created are used and no request passes the signature with a body
 * that reaches an interaction, so the fake upstream of the "http" project is never called. The
 * addresses are this file's own (other files of the project come from other addresses).
 */
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from "vitest";
import { checkEnvelope, fetchWithEnv, type Answer } from "../integration/helpers";
import { sign, signedHeaders } from "../fakes/http-upstream";
import { unknownInteractionId } from "../objects";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const FAILED_AUTH_LIMIT = 600;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Locally the limiter counts in windows aligned to the minute; start a burst in a fresh one. */
async function freshWindow(needMs: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < needMs) await sleep(left + 250);
}

async function post(path: string, ip: string, headers: Record<string, string>, body: string): Promise<Answer> {
  // The worker's fetch directly: hundreds of calls through exports.default.fetch get slow.
  return checkEnvelope(
    await fetchWithEnv({}, path, { method: "POST", headers: { "content-type": "application/json", "cf-connecting-ip": ip, ...headers }, body }),
  );
}

let quiet: MockInstance[] = [];
beforeAll(() => {
  quiet = (["log", "info", "warn", "error", "debug"] as const).map((level) => vi.spyOn(console, level).mockImplementation(() => {}));
});
afterAll(() => {
  for (const spy of quiet) spy.mockRestore();
});

describe("failed signatures on the callback routes are limited per client address", () => {
  it("past 600 bad signatures an address gets 429 rate_limited with Retry-After; a valid signature and other addresses are not throttled", async () => {
    const ip = "192.0.2.151";
    await freshWindow(15_000);
    const statuses: number[] = [];
    for (let i = 0; i < FAILED_AUTH_LIMIT; i++) {
      const id = unknownInteractionId();
      const route = i % 2 === 0 ? "claim" : "events";
      const body = JSON.stringify(route === "claim" ? { type: "claim", interactionId: id } : { type: "abandoned", interactionId: id });
      const ts = Math.floor(Date.now() / 1000);
      // Every kind of failure: no headers, a stale timestamp, a wrong signature.
      const headers: Record<string, string> =
        i % 3 === 0
          ? {}
          : i % 3 === 1
            ? { "webhook-id": `msg_${i}`, "webhook-timestamp": String(ts - 3600), "webhook-signature": await sign(SECRET, `msg_${i}`, ts - 3600, body) }
            : { "webhook-id": `msg_${i}`, "webhook-timestamp": String(ts), "webhook-signature": "v1,AAAA" };
      statuses.push((await post(`/v1/upstream/interactions/${id}/${route}`, ip, headers, body)).status);
    }
    expect(statuses).toEqual(Array(FAILED_AUTH_LIMIT).fill(401));

    // One more bad signature from the same address, on either route: 429 with Retry-After.
    for (const route of ["claim", "events"]) {
      const id = unknownInteractionId();
      const body = JSON.stringify({ type: route === "claim" ? "claim" : "failed", interactionId: id });
      const limited = await post(`/v1/upstream/interactions/${id}/${route}`, ip, { "webhook-signature": "v1,AAAA" }, body);
      expect(limited.status).toBe(429);
      expect(limited.body.errorCode).toBe("rate_limited");
      const retryAfter = limited.res.headers.get("retry-after");
      expect(retryAfter).toMatch(/^[1-9]\d*$/);
      expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    }

    // A correctly signed callback from that address still reaches the interaction (unknown here: 404).
    const id = unknownInteractionId();
    const body = JSON.stringify({ type: "claim", interactionId: id, agentId: "agent-1" });
    const valid = await post(`/v1/upstream/interactions/${id}/claim`, ip, await signedHeaders(SECRET, body), body);
    expect(valid.status).toBe(404);
    expect(valid.body.errorCode).toBe("not_found");

    // Another address still gets 401.
    const other = await post(`/v1/upstream/interactions/${id}/claim`, "192.0.2.152", { "webhook-signature": "v1,AAAA" }, body);
    expect(other.status).toBe(401);
    expect(other.body.errorCode).toBe("unauthorized");
  }, 120_000);
});
