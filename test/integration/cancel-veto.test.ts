import { afterEach, expect, it, vi } from "vitest";
import { cancel, cleanup, createOk, getInteraction, sampleBody, sleep } from "./helpers";

/**
 * The guarantee (design §1): a cancel answered success:true is never followed by an assignment.
 * This file has its own storage, so the simulator's single agent (claims the oldest queued call
 * after 600 ms) is free: if a cancel did not hold, the agent would take that call. A control call
 * at the end proves the agent was free and working all along.
 */

afterEach(cleanup);

it("cancelled calls are never assigned, even after the agent's claim delay has passed", async () => {
  const viaRoot = await createOk(sampleBody(crypto.randomUUID(), 1));
  const viaV1 = await createOk(sampleBody(crypto.randomUUID(), 2), "/v1/interactions");
  const a = await cancel(viaRoot, "/");
  const b = await cancel(viaV1, "/v1/interactions/");
  expect(a.body).toEqual({ success: true, errorMessage: null, result: { interactionId: viaRoot, state: "cancelled" } });
  expect(b.body).toEqual({ success: true, errorMessage: null, result: { interactionId: viaV1, state: "cancelled" } });

  await sleep(600 + 1400);

  for (const id of [viaRoot, viaV1]) {
    const read = await getInteraction(id);
    expect(read.status).toBe(200);
    expect(read.body.result.state).toBe("cancelled");
    const states = read.body.result.timeline.map((e: { state: string }) => e.state);
    expect(states).not.toContain("assigned");
    expect(read.body.result.upstream.agentId).toBeUndefined();
    // Cancelling again still says cancelled.
    const again = await cancel(id);
    expect(again.status).toBe(200);
    expect(again.body.result).toEqual({ interactionId: id, state: "cancelled" });
  }

  // Control: the agent was free, so a call left alone is taken by it.
  const control = await createOk(sampleBody(crypto.randomUUID(), 3));
  await vi.waitFor(
    async () => {
      const read = await getInteraction(control);
      expect(read.body.result.state).toBe("assigned");
      expect(read.body.result.upstream.agentId).toBe("agent-1");
    },
    { timeout: 10_000, interval: 100 },
  );
  // And the cancelled ones are still cancelled.
  for (const id of [viaRoot, viaV1]) expect((await getInteraction(id)).body.result.state).toBe("cancelled");
});
