import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { addressBucket } from "../../src/security/rate-limit";
import { authHeaders, call, callWithEnv, checkEnvelope, cleanup, createOk, expectFailure, fetchWithEnv, KEY, postCreate, sampleBody, sleep, track, type Answer } from "./helpers";

/**
 * Rate limits (design §3 "rate limit", issue 7): Workers Rate Limiting bindings fixed in
 * wrangler.toml — KEY_RATE_LIMITER 600 per 60 s per API key on every authenticated Diyalog route,
 * AUTH_FAILURE_LIMITER 600 per 60 s per client address for failed authentications.
 *
 * The limiter buckets are shared by every test file of the project, so this file uses keys and
 * addresses nobody else uses. Locally the limiter counts in fixed windows aligned to the minute;
 * a burst waits for a fresh window when the current one is nearly over, so its count is exact.
 */

const KEY_LIMIT = 600;
const FAILED_AUTH_LIMIT = 600;

/** Waits for the next minute when fewer than `needMs` are left in this one. */
async function freshWindow(needMs: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < needMs) await sleep(left + 250);
}

/** Everything the worker (and its Durable Objects, same isolate) printed while a test ran; kept off the terminal. */
let printed: MockInstance[] = [];
beforeEach(() => {
  printed = (["log", "info", "warn", "error", "debug"] as const).map((level) => vi.spyOn(console, level).mockImplementation(() => {}));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await cleanup();
});
function logLines(): string[] {
  return printed.flatMap((spy) => spy.mock.calls.map((args) => args.map(String).join(" ")));
}
function logRecords(msg: string): Record<string, unknown>[] {
  return logLines()
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.msg === msg);
}

function expectRetryAfter(answer: Answer): void {
  const retryAfter = answer.res.headers.get("retry-after");
  expect(retryAfter, "Retry-After").toMatch(/^[1-9]\d*$/);
  expect(Number(retryAfter)).toBeLessThanOrEqual(60);
}

describe("per API key: 600 per 60 s on every authenticated route", () => {
  it("a burst past the limit gets 429 rate_limited with Retry-After on every route, while another key is unaffected", async () => {
    // Two keys of their own, so the burst cannot throttle other test files' keys.
    const burstKey = `rl-burst-${crypto.randomUUID()}`;
    const otherKey = `rl-other-${crypto.randomUUID()}`;
    const keys = { DIYALOG_API_KEYS: `${burstKey},${otherKey}` };
    const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
    await freshWindow(10_000);

    // 600 requests that pass the key limit and stop at the next check (415: the cheapest route).
    const statuses: number[] = [];
    for (let sent = 0; sent < KEY_LIMIT; sent += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, () =>
          callWithEnv(keys, "/CreateInteraction", { method: "POST", headers: { ...bearer(burstKey), "content-type": "text/plain" }, body: "x" }),
        ),
      );
      statuses.push(...batch.map((a) => a.status));
    }
    expect(statuses).toEqual(Array(KEY_LIMIT).fill(415));

    // The 601st, whatever the route, header or body: 429 before the content type or size is looked at.
    const over: [string, RequestInit][] = [
      ["/CreateInteraction", { method: "POST", headers: { ...bearer(burstKey), "content-type": "text/plain" }, body: "x" }],
      ["/CreateInteraction", { method: "POST", headers: { ...bearer(burstKey), "content-type": "application/json" }, body: JSON.stringify(sampleBody(crypto.randomUUID(), 1)) }],
      ["/v1/interactions", { method: "POST", headers: { "x-api-key": burstKey, "content-type": "application/json" }, body: "x".repeat(64 * 1024) }],
      ["/v1/interactions/3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f", { headers: bearer(burstKey) }],
      ["/3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f", { method: "DELETE", headers: bearer(burstKey) }],
      ["/v1/interactions/3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f", { method: "DELETE", headers: { "x-api-key": burstKey } }],
    ];
    for (const [path, init] of over) {
      const answer = await callWithEnv(keys, path, init);
      expectFailure(answer, 429, "rate_limited");
      expectRetryAfter(answer);
      expect(answer.body.result).toBeNull();
    }

    // The other key is untouched: it creates, reads and cancels.
    const create = await callWithEnv(keys, "/CreateInteraction", {
      method: "POST",
      headers: { ...bearer(otherKey), "content-type": "application/json" },
      body: JSON.stringify(sampleBody(crypto.randomUUID(), 2)),
    });
    expect(create.status, create.text).toBe(200);
    const id = track(create.body.result.interactionId as string);
    expect((await callWithEnv(keys, `/v1/interactions/${id}`, { headers: bearer(otherKey) })).status).toBe(200);
    const cancel = await callWithEnv(keys, `/${id}`, { method: "DELETE", headers: bearer(otherKey) });
    expect(cancel.status, cancel.text).toBe(200);

    // And the throttled key never reached the interaction routes: nothing was created for it.
    expect(statuses.every((s) => s !== 200)).toBe(true);

    // The refusals are in the request log, never with the key.
    expect(logRecords("request").filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(over.length);
    const text = logLines().join("\n");
    expect(text).not.toContain(burstKey);
    expect(text).not.toContain(otherKey);
  }, 90_000);

  it("the configured test keys are not throttled by this file (sanity: the default key still creates)", async () => {
    await createOk(sampleBody(crypto.randomUUID(), 1));
  });
});

describe("per client address: 600 failed authentications per 60 s", () => {
  it("past the limit an address gets 429 rate_limited with Retry-After, a valid key from it still works, other addresses get 401", async () => {
    const ip = "192.0.2.71";
    const marker = `guess-${crypto.randomUUID()}`;
    await freshWindow(5_000);
    const from = (extra: Record<string, string> = {}) => ({ "cf-connecting-ip": ip, ...extra });

    // Failures of every kind, on every Diyalog route, up to the limit: each one is a 401.
    const failures: [string, RequestInit][] = [];
    for (let i = 0; i < FAILED_AUTH_LIMIT; i++) {
      const wrong = `${marker}-${i}`;
      const kinds: [string, RequestInit][] = [
        ["/CreateInteraction", { method: "POST", headers: from({ authorization: `Bearer ${wrong}`, "content-type": "application/json" }), body: "{}" }],
        ["/v1/interactions", { method: "POST", headers: from({ "x-api-key": wrong, "content-type": "application/json" }), body: "{}" }],
        ["/v1/interactions/3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f", { headers: from() }],
        ["/3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f", { method: "DELETE", headers: from({ authorization: `Basic ${btoa(wrong)}` }) }],
      ];
      failures.push(kinds[i % kinds.length]!);
    }
    // (the handler is called directly: hundreds of calls through exports.default.fetch get slow)
    for (const [path, init] of failures) expectFailure(await callWithEnv({}, path, init), 401, "unauthorized");

    // The next failure, on any route: 429 with Retry-After.
    const limited = await call("/CreateInteraction", {
      method: "POST",
      headers: from({ authorization: `Bearer ${marker}-21`, "content-type": "application/json" }),
      body: JSON.stringify(sampleBody(crypto.randomUUID(), 1)),
    });
    expectFailure(limited, 429, "rate_limited");
    expectRetryAfter(limited);
    expectFailure(await call("/v1/interactions/3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f", { headers: from() }), 429, "rate_limited");

    // A valid key from the same address is not throttled by the address limit.
    await createOk(sampleBody(crypto.randomUUID(), 1), "/CreateInteraction", authHeaders(from()));
    const read = await call("/v1/interactions/3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f", { headers: from({ authorization: `Bearer ${KEY}` }) });
    expectFailure(read, 404, "not_found");

    // Another address still gets 401.
    expectFailure(
      await postCreate(sampleBody(crypto.randomUUID(), 1), "/CreateInteraction", { "cf-connecting-ip": "192.0.2.72", authorization: `Bearer ${marker}`, "content-type": "application/json" }),
      401,
      "unauthorized",
    );

    // Every failed authentication is logged with its reason and address, never with the key it presented.
    const logged = logRecords("authentication failed").filter((r) => r.client === ip);
    expect(logged.length).toBe(FAILED_AUTH_LIMIT + 2);
    expect(new Set(logged.map((r) => r.reason))).toEqual(new Set(["invalid_key", "missing_key"]));
    for (const record of logged) expect(Object.keys(record).sort()).toEqual(["client", "level", "msg", "reason", "requestId"]);
    expect(logRecords("request").filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(2);
    const text = logLines().join("\n");
    expect(text).not.toContain(marker);
    expect(text).not.toContain(btoa(`${marker}-3`));
    expect(text).not.toContain(KEY);
  }, 90_000);

  it("IPv6 addresses count per /64: rotating addresses inside one prefix does not reset the budget", async () => {
    await freshWindow(5_000);
    const prefix = "2001:db8:7e57:a1";
    for (let i = 1; i <= FAILED_AUTH_LIMIT; i++) {
      const answer = await callWithEnv({}, "/v1/interactions/3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f", { headers: { "cf-connecting-ip": `${prefix}::${i.toString(16)}` } });
      expectFailure(answer, 401, "unauthorized");
    }
    const rotated = await call("/v1/interactions/3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f", { headers: { "cf-connecting-ip": `${prefix}:ffff:1:2:3` } });
    expectFailure(rotated, 429, "rate_limited");
    // The neighbouring /64 is someone else.
    const neighbour = await call("/v1/interactions/3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f", { headers: { "cf-connecting-ip": "2001:db8:7e57:a2::1" } });
    expectFailure(neighbour, 401, "unauthorized");
  }, 90_000);
});

describe("when the limiter itself fails", () => {
  it("the request goes through (the call center is not stopped by a counter outage) and the outage is logged", async () => {
    const broken = { limit: async () => Promise.reject(new Error("limiter down")) };
    const res = await fetchWithEnv({ KEY_RATE_LIMITER: broken, AUTH_FAILURE_LIMITER: broken }, "/CreateInteraction", {
      method: "POST",
      headers: authHeaders({ "content-type": "text/plain" }),
      body: "x",
    });
    expectFailure(await checkEnvelope(res), 415, "unsupported_media_type");
    const unauthorized = await fetchWithEnv({ KEY_RATE_LIMITER: broken, AUTH_FAILURE_LIMITER: broken }, "/v1/interactions/3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f");
    expectFailure(await checkEnvelope(unauthorized), 401, "unauthorized");
    const outages = logRecords("rate limiter unavailable");
    expect(outages.map((r) => r.limit).sort()).toEqual(["api_key", "failed_auth"]);
  });
});

describe("addressBucket", () => {
  it.each([
    ["192.0.2.1", "192.0.2.1"],
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:DB8:0001:0002::9", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["unknown", "unknown"],
  ])("%s → %s", (address, bucket) => {
    expect(addressBucket(address)).toBe(bucket);
  });
});
