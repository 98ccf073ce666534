import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from "vitest";
import { sign } from "../fakes/http-upstream";
import { checkEnvelope, fetchWithEnv } from "../integration/helpers";
import { unknownInteractionId } from "../objects";

/**
 * Fuzzing the upstream → proxy routes of the generic http contract (claim hook, events), which
 * only exist with UPSTREAM=http: ids, bodies, content types and signatures (right, wrong, stale,
 * missing) are generated, and every answer must be a JSON envelope, never a 5xx (issue 7). A
 * correctly signed body that does not name the route's action and interaction is refused (400).
 * Ids are random, so no interaction of another file is touched and the fake upstream is never
 * called. Project "security" (UPSTREAM=http), beside personal-data.test.ts.
 */

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET = `whsec_${btoa("another secret of thirty-two b..")}`;
const ALLOWED = new Set([200, 400, 401, 404, 409, 413, 415]);

/** Well-formed ids nobody created (a few, so the runs do not each build a new Durable Object). */
const UNKNOWN_IDS = Array.from({ length: 16 }, unknownInteractionId);

const id = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...UNKNOWN_IDS) },
  { weight: 1, arbitrary: fc.oneof(fc.webSegment(), fc.constantFrom("..", "%2F", "%00", "x".repeat(300))) },
);

/** Stands for the route's own interaction id in a generated body (replaced when the request is made). */
const SAME_ID = "<the route's id>";

/** Bodies shaped like callbacks: the type and interaction may or may not be the route's (design §2 binding). */
const callback = fc.record(
  {
    type: fc.oneof(fc.constantFrom("claim", "abandoned", "completed", "failed"), fc.string(), fc.jsonValue({ maxDepth: 1 })),
    interactionId: fc.oneof({ weight: 3, arbitrary: fc.constant(SAME_ID) }, fc.constantFrom(...UNKNOWN_IDS), fc.uuid(), fc.jsonValue({ maxDepth: 1 })),
    agentId: fc.oneof(fc.string({ maxLength: 200 }), fc.jsonValue({ maxDepth: 1 })),
    reason: fc.oneof(fc.string({ maxLength: 600 }), fc.jsonValue({ maxDepth: 1 })),
  },
  { requiredKeys: [] },
);

const body: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: callback.map((b) => JSON.stringify(b)) },
  fc.record({ agentId: fc.oneof(fc.string({ maxLength: 200 }), fc.jsonValue({ maxDepth: 2 })) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)),
  fc.record({ type: fc.oneof(fc.constantFrom("abandoned", "completed", "failed"), fc.string()), reason: fc.oneof(fc.string({ maxLength: 600 }), fc.jsonValue({ maxDepth: 2 })) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.constant(""),
  fc.nat({ max: 6000 }).map((n) => `{"type":"claim","interactionId":"${SAME_ID}","agentId":"${"a".repeat(n)}"}`),
);

const ROUTE_TYPES: Record<string, readonly unknown[]> = { claim: ["claim"], events: ["abandoned", "completed", "failed"] };

/**
 * A correctly signed JSON object that does not name the route's action and interaction must be
 * refused (400) before any interaction is consulted; one that does reaches it (404: nobody created it).
 */
function bindingVerdict(route: string, id: string, text: string): "refused" | "bound" | "other" {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return "other";
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return "refused";
  const { type, interactionId } = parsed as Record<string, unknown>;
  return ROUTE_TYPES[route]!.includes(type) && interactionId === id ? "bound" : "refused";
}

type Signature = "right" | "wrong-secret" | "stale" | "missing" | "garbage";

const request = fc.record({
  id,
  route: fc.constantFrom("claim", "events"),
  body,
  contentType: fc.option(fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded"), { nil: undefined }),
  signature: fc.constantFrom<Signature>("right", "right", "right", "wrong-secret", "stale", "missing", "garbage"),
});

describe("fuzz: signed upstream routes", () => {
  let quiet: MockInstance[] = [];
  beforeAll(() => {
    quiet = (["log", "info", "warn", "error", "debug"] as const).map((level) => vi.spyOn(console, level).mockImplementation(() => {}));
  });
  afterAll(() => {
    for (const spy of quiet) spy.mockRestore();
  });

  it("claims and events with arbitrary ids, bodies and signatures answer envelopes, never a 5xx (800 runs)", async () => {
    const seen = new Map<number, number>();
    const judgedAs = { refused: 0, bound: 0, other: 0 };
    await fc.assert(
      fc.asyncProperty(request, async ({ id, route, body: template, contentType, signature }) => {
        const body = template.replaceAll(SAME_ID, id);
        const headers: Record<string, string> = {};
        if (contentType !== undefined) headers["content-type"] = contentType;
        const msgId = `msg_${crypto.randomUUID()}`;
        const now = Math.floor(Date.now() / 1000);
        if (signature !== "missing") {
          const at = signature === "stale" ? now - 3600 : now;
          headers["webhook-id"] = msgId;
          headers["webhook-timestamp"] = String(at);
          headers["webhook-signature"] =
            signature === "garbage" ? "v1,not-base64!!" : await sign(signature === "wrong-secret" ? OTHER_SECRET : SECRET, msgId, at, body);
        }
        // The worker's fetch directly: `exports.default.fetch` slows down with every call in a file.
        const res = await fetchWithEnv({}, `/v1/upstream/interactions/${id}/${route}`, { method: "POST", headers, body });
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        expect(ALLOWED.has(res.status), `status ${res.status}`).toBe(true);
        await checkEnvelope(res);
        if (signature !== "right") expect([401, 404, 413]).toContain(res.status);
        const judged = signature === "right" && UNKNOWN_IDS.includes(id) && contentType?.startsWith("application/json") && body.length <= 4096;
        if (judged) {
          const verdict = bindingVerdict(route, id, body);
          if (verdict === "refused") expect(res.status, body).toBe(400);
          if (verdict === "bound") expect([400, 404], body).toContain(res.status);
          judgedAs[verdict] += 1;
        }
      }),
      { numRuns: 800 },
    );
    // Every layer was reached: signature refusals, unknown ids, and bodies parsed and judged.
    for (const status of [400, 401, 404]) expect(seen.get(status) ?? 0, `some ${status}s`).toBeGreaterThan(0);
    // Both sides of the binding rule were judged: refused bodies and bound ones.
    expect(judgedAs.refused, "refused callbacks").toBeGreaterThan(0);
    expect(judgedAs.bound, "bound callbacks").toBeGreaterThan(0);
  }, 120_000);
});
