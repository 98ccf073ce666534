import { afterEach, describe, expect, it, vi } from "vitest";
import { getConfig } from "../../src/config";
import { signedHeaders } from "../fakes/http-upstream";
import { unknownInteractionId } from "../objects";
import { authHeaders, checkEnvelope, cleanup, createOk, fetchWithEnv, sampleBody, track, type Answer } from "./helpers";

/**
 * Issue 17, the HTTP layer: at LOG_LEVEL=warn every 401 and 429, every callback signature failure
 * (route, reason, interactionId) and every refused claim (interactionId, reason) is logged, and each
 * is written to the Analytics Engine dataset: a fake `METRICS` binding records the data points.
 * No line or data point carries the customer's data.
 */

const SECRET = `whsec_${btoa("operations-test-signing-secret!!")}`;
const HTTP = { UPSTREAM: "http", UPSTREAM_URL: "http://127.0.0.1:9", UPSTREAM_SIGNING_SECRET: SECRET };

interface Point {
  indexes: string[];
  blobs: string[];
  doubles: number[];
}

/** Calls the worker with a recording METRICS dataset and LOG_LEVEL=warn; answers the warn lines and the points. */
async function observe(overrides: Record<string, unknown>, path: string, init: RequestInit = {}) {
  const points: Point[] = [];
  const METRICS = { writeDataPoint: (point: Point) => void points.push(point) };
  const lines: string[] = [];
  const warn = vi.spyOn(console, "warn").mockImplementation((line: string) => void lines.push(line));
  let answer: Answer;
  try {
    answer = await checkEnvelope(await fetchWithEnv({ LOG_LEVEL: "warn", METRICS, ...overrides }, path, init));
  } finally {
    warn.mockRestore();
  }
  return { answer, points, warns: lines.map((l) => JSON.parse(l) as Record<string, unknown>), text: lines.join("\n") };
}

const byEvent = (points: Point[], event: string) => points.filter((p) => p.indexes[0] === event).map((p) => p.blobs);

afterEach(async () => {
  getConfig({});
  await cleanup();
});

describe("401 and 429 answers: a warn line and a `rejected` data point", () => {
  it("a wrong API key", async () => {
    const id = unknownInteractionId();
    const seen = await observe({}, `/v1/interactions/${id}`, { headers: { authorization: `Bearer ${"w".repeat(40)}` } });
    expect(seen.answer.status).toBe(401);
    expect(seen.warns).toContainEqual(expect.objectContaining({ level: "warn", msg: "request", status: 401, route: "/v1/interactions/:id" }));
    expect(seen.warns).toContainEqual(expect.objectContaining({ msg: "authentication failed", reason: "invalid_key" }));
    expect(byEvent(seen.points, "rejected")).toEqual([["rejected", "/v1/interactions/:id", "", "401", "", ""]]);
    expect(seen.text).not.toContain("w".repeat(40));
  });

  it("throttling (the per-key limiter says no)", async () => {
    const KEY_RATE_LIMITER = { limit: async () => ({ success: false }) };
    const seen = await observe({ KEY_RATE_LIMITER }, "/v1/session", { headers: authHeaders() });
    expect(seen.answer.status).toBe(429);
    expect(seen.warns).toContainEqual(expect.objectContaining({ level: "warn", msg: "request", status: 429, route: "/v1/session" }));
    expect(byEvent(seen.points, "rejected")).toEqual([["rejected", "/v1/session", "", "429", "", ""]]);
  });

  it("a 200 writes no warn line and no `rejected` point", async () => {
    const seen = await observe({}, "/v1/session", { headers: authHeaders() });
    expect(seen.answer.status).toBe(200);
    expect(seen.warns).toEqual([]);
    expect(byEvent(seen.points, "rejected")).toEqual([]);
  });
});

describe("callback signature failures (UPSTREAM=http): route, reason and interactionId at warn; `signature_failed` counted", () => {
  it("a claim signed with another secret", async () => {
    const id = unknownInteractionId();
    const body = JSON.stringify({ type: "claim", interactionId: id });
    const headers = { ...(await signedHeaders(`whsec_${btoa("another-secret-of-32-bytes-long!")}`, body)), "content-type": "application/json" };
    const seen = await observe(HTTP, `/v1/upstream/interactions/${id}/claim`, { method: "POST", headers, body });
    expect(seen.answer.status).toBe(401);
    expect(seen.warns).toContainEqual(
      expect.objectContaining({ msg: "authentication failed", route: "/v1/upstream/interactions/:id/claim", reason: "bad_signature", interactionId: id }),
    );
    expect(seen.warns).toContainEqual(expect.objectContaining({ msg: "request", status: 401, interactionId: id }));
    expect(byEvent(seen.points, "signature_failed")).toEqual([["signature_failed", "bad_signature", "", "", "", ""]]);
  });
});

describe("refused claims: interactionId and reason at warn; `claim_refused` counted", () => {
  async function claim(id: string) {
    const body = JSON.stringify({ type: "claim", interactionId: id, agentId: "agent-7" });
    const headers = { ...(await signedHeaders(SECRET, body)), "content-type": "application/json" };
    return observe(HTTP, `/v1/upstream/interactions/${id}/claim`, { method: "POST", headers, body });
  }

  it("a claim for a cancelled interaction", async () => {
    const customerId = `ops-${crypto.randomUUID()}`;
    const id = track(await createOk(sampleBody(customerId, 1)));
    const del = await fetchWithEnv({}, `/${id}`, { method: "DELETE", headers: authHeaders() });
    expect(del.status).toBe(200);
    const seen = await claim(id);
    expect(seen.answer.status).toBe(409);
    expect(seen.warns).toContainEqual({ level: "warn", msg: "claim refused", requestId: expect.any(String), interactionId: id, customerRef: expect.stringMatching(/^[\w-]{16}$/), reason: "cancelled" });
    expect(byEvent(seen.points, "claim_refused")).toEqual([["claim_refused", "cancelled", "", "", "", expect.stringMatching(/^[\w-]{16}$/)]]);
    expect(seen.text).not.toContain(customerId);
  });

  it("a claim for an unknown interaction", async () => {
    const id = unknownInteractionId();
    const seen = await claim(id);
    expect(seen.answer.status).toBe(404);
    expect(seen.warns).toContainEqual(expect.objectContaining({ msg: "claim refused", interactionId: id, reason: "not_found" }));
    expect(byEvent(seen.points, "claim_refused")).toEqual([["claim_refused", "not_found", "", "", "", ""]]);
  });
});
