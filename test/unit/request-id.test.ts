import { describe, expect, it } from "vitest";
import { parseConfig, type Config } from "../../src/config";
import { InteractionCore } from "../../src/interactions/interaction-core";
import type { CancelResult, DispatchRequest, DispatchResult, UpstreamAdapter, UpstreamRef } from "../../src/upstreams/adapter";
import { httpAdapter } from "../../src/upstreams/http";
import { memoryHost } from "./memory-host";

/**
 * The Diyalog request's `x-request-id` travels on: from `create`/`cancel` into the upstream calls
 * they cause (core), and onto the `http` upstream's outgoing requests (adapter).
 */

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

function httpConfig(): Config {
  const result = parseConfig({ UPSTREAM: "http", UPSTREAM_URL: "https://queue.example", UPSTREAM_SIGNING_SECRET: SECRET });
  if (!result.ok) throw new Error(result.problems.join("; "));
  return result.config;
}

/** A fetch that records what it was asked and answers like a healthy upstream. */
function recordingFetch() {
  const seen: Request[] = [];
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    seen.push(request);
    return request.method === "POST" ? Response.json({ id: "up-1" }, { status: 201 }) : new Response(null, { status: 204 });
  }) as typeof fetch;
  return { seen, fetcher };
}

describe("http adapter", () => {
  const request: DispatchRequest = { interactionId: "ix-1", customerId: "c-1", attributes: {}, mayExist: false };

  it("sends x-request-id with the create and the cancel when it has one", async () => {
    const { seen, fetcher } = recordingFetch();
    const adapter = httpAdapter(httpConfig(), fetcher);
    expect(await adapter.dispatch({ ...request, requestId: "req-create-1" }, AbortSignal.timeout(1000))).toEqual({ kind: "accepted", upstreamId: "up-1" });
    expect(await adapter.cancel({ interactionId: "ix-1", upstreamId: "up-1", requestId: "req-cancel-1" }, AbortSignal.timeout(1000))).toEqual({ kind: "cancelled" });
    expect(seen.map((r) => [r.method, r.headers.get("x-request-id")])).toEqual([
      ["POST", "req-create-1"],
      ["DELETE", "req-cancel-1"],
    ]);
    // Still signed and keyed as before.
    expect(seen[0]!.headers.get("idempotency-key")).toBe("ix-1");
    expect(seen[0]!.headers.get("webhook-signature")).toMatch(/^v1,/);
  });

  it("sends no x-request-id when there is none (work started by an alarm)", async () => {
    const { seen, fetcher } = recordingFetch();
    const adapter = httpAdapter(httpConfig(), fetcher);
    await adapter.dispatch(request, AbortSignal.timeout(1000));
    await adapter.cancel({ interactionId: "ix-1", upstreamId: "up-1" }, AbortSignal.timeout(1000));
    expect(seen.map((r) => r.headers.has("x-request-id"))).toEqual([false, false]);
  });
});

describe("interaction core", () => {
  /** A core over memory with an adapter that accepts at once and records what it was given. */
  function world() {
    const dispatched: DispatchRequest[] = [];
    const cancelled: UpstreamRef[] = [];
    const adapter: UpstreamAdapter = {
      name: "recording",
      canVeto: true,
      async dispatch(request): Promise<DispatchResult> {
        dispatched.push(request);
        return { kind: "accepted", upstreamId: `up-${request.interactionId}` };
      },
      async cancel(ref): Promise<CancelResult> {
        cancelled.push(ref);
        return { kind: "cancelled" };
      },
    };
    const { host } = memoryHost({
      adapter,
      settings: { upstreamTimeoutMs: 1000, createDeadlineMs: 5000, queueTimeoutMs: 60_000, retentionMs: 60_000 },
      now: () => Date.now(),
    });
    return { core: new InteractionCore(host), dispatched, cancelled };
  }

  const input = { interactionId: "ix-2", customerId: "c-2", attributes: { TRX: "Diyalog" }, existing: false };

  it("create's requestId reaches the dispatch, cancel's reaches the upstream cancel", async () => {
    const { core, dispatched, cancelled } = world();
    expect(await core.create({ ...input, requestId: "req-create-2" })).toMatchObject({ kind: "created", state: "queued" });
    expect(dispatched.map((d) => d.requestId)).toEqual(["req-create-2"]);
    expect(await core.cancel("ix-2", "req-cancel-2")).toEqual({ kind: "done", interactionId: "ix-2", state: "cancelled" });
    expect(cancelled).toEqual([{ interactionId: "ix-2", upstreamId: "up-ix-2", requestId: "req-cancel-2" }]);
  });

  it("without a requestId the upstream calls carry none", async () => {
    const { core, dispatched, cancelled } = world();
    await core.create(input);
    await core.cancel("ix-2");
    expect(dispatched[0]).not.toHaveProperty("requestId");
    expect(cancelled[0]).not.toHaveProperty("requestId");
  });
});
