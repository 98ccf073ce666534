import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { engageAdapter, seenOf } from "../../src/upstreams/engage/adapter";

/**
 * The `genesys-engage` adapter's decisions on answers the end-to-end tests (test/engage/) do not
 * reach easily: a nexus create refused with 409 "Resource already exists", unreadable answers, and
 * how an interaction's Interaction Server properties are read.
 */

function adapter(routes: Record<string, () => Response>, calls: string[]) {
  const result = parseConfig({ UPSTREAM: "genesys-engage", ENGAGE_API: "nexus", ENGAGE_URL: "https://nexus.example", ENGAGE_SERVICE: "svc", ENGAGE_API_KEY: "k" });
  if (!result.ok) throw new Error(result.problems.join("; "));
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const key = `${init?.method ?? "GET"} ${new URL(String(input)).pathname.replace("/nexus/v3/openmedia/svc/interactions", "")}`;
    calls.push(key);
    const route = routes[key];
    return route ? route() : new Response(null, { status: 404 });
  }) as typeof fetch;
  return engageAdapter(result.config, fetcher);
}

const signal = () => new AbortController().signal;
const request = { interactionId: "ix-1", customerId: "c-1", attributes: {}, mayExist: false };

describe("genesys-engage adapter", () => {
  it("a nexus create answered 409 (the external id exists) learns that interaction: no second create", async () => {
    const calls: string[] = [];
    const a = adapter({ "POST ": () => new Response("{}", { status: 409 }), "GET /ext_ix-1": () => Response.json({ id: "0001X", InteractionState: 2 }) }, calls);
    expect(await a.dispatch(request, signal())).toEqual({ kind: "accepted", upstreamId: "0001X" });
    expect(calls).toEqual(["POST ", "GET /ext_ix-1"]);
  });

  it("409 while the external id does not show yet: retried, not refused", async () => {
    const a = adapter({ "POST ": () => new Response("{}", { status: 409 }) }, []);
    expect(await a.dispatch(request, signal())).toMatchObject({ kind: "retry", status: 409 });
  });

  it("a 2xx create without a readable id is retried (the next attempt finds it by its external id)", async () => {
    const a = adapter({ "POST ": () => new Response("not json", { status: 200 }) }, []);
    expect(await a.dispatch(request, signal())).toMatchObject({ kind: "retry" });
  });

  it("400 is a permanent refusal; 429 and 503 are retried no sooner than Retry-After", async () => {
    expect(await adapter({ "POST ": () => new Response("{}", { status: 400 }) }, []).dispatch(request, signal())).toMatchObject({ kind: "rejected", status: 400 });
    for (const status of [429, 503]) {
      const a = adapter({ "POST ": () => new Response("{}", { status, headers: { "retry-after": "7" } }) }, []);
      expect(await a.dispatch(request, signal())).toMatchObject({ kind: "retry", status, retryAfterMs: 7000 });
    }
  });

  it("a lookup that fails is never taken for 'nothing exists': no create follows", async () => {
    const calls: string[] = [];
    const a = adapter({ "GET /ext_ix-1": () => new Response("{}", { status: 503 }) }, calls);
    expect(await a.dispatch({ ...request, mayExist: true }, signal())).toMatchObject({ kind: "retry", status: 503 });
    expect(calls).toEqual(["GET /ext_ix-1"]);
  });

  it("a stop answered 404 is no confirmation by itself: the re-read decides", async () => {
    const calls: string[] = [];
    let reads = 0;
    const a = adapter(
      {
        "GET /0001X": () => (++reads === 1 ? Response.json({ id: "0001X", InteractionState: 2 }) : Response.json({ id: "0001X", InteractionState: 3, AssignedTo: "agent-1" })),
        "POST /0001X/stop": () => new Response("{}", { status: 404 }),
      },
      calls,
    );
    expect(await a.cancel({ interactionId: "ix-1", upstreamId: "0001X" }, signal())).toEqual({ kind: "too_late", agentId: "agent-1" });
    expect(calls).toEqual(["GET /0001X", "POST /0001X/stop", "GET /0001X"]);
  });

  it("reads Interaction Server's properties: state 3, DeliveredAt or an agent named → with an agent", () => {
    expect(seenOf({ id: "a", InteractionState: 2 })).toMatchObject({ id: "a", agent: false, ended: false });
    expect(seenOf({ interactionId: "a", InteractionState: 3 })).toMatchObject({ agent: true });
    expect(seenOf({ id: "a", InteractionState: 2, DeliveredAt: "2026-12-03T10:00:00Z" })).toMatchObject({ agent: true });
    expect(seenOf({ data: { id: "a", AssignedTo: "agent-9" } })).toMatchObject({ id: "a", agent: true, agentId: "agent-9" });
    expect(seenOf({ id: "a", state: "Stopped" })).toMatchObject({ agent: false, ended: true });
    expect(seenOf({ id: "../x" }).id).toBeUndefined();
  });
});
