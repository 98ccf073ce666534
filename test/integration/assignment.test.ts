import { afterEach, expect, it, vi } from "vitest";
import { cancel, cleanup, createOk, expectFailure, getInteraction, sampleBody } from "./helpers";

/**
 * The simulator (design §2): its single agent (SIM_AGENTS=1) claims the oldest queued call after
 * SIM_ASSIGN_DELAY_MS=600 and then stays busy for SIM_HANDLE_MS=60000. This file is the only one
 * that lets a call reach the agent, and it does so once (each test file has its own storage).
 */

afterEach(cleanup);

it("a call left alone is assigned to agent-1; then DELETE answers 409 already_assigned", async () => {
  const customerId = crypto.randomUUID();
  const cancelledId = await createOk(sampleBody(crypto.randomUUID(), 1));
  // The older call is cancelled: the agent must skip it and take the next one.
  expect((await cancel(cancelledId)).status).toBe(200);

  const id = await createOk(sampleBody(customerId, 2));
  expect((await getInteraction(id)).body.result.state).toBe("queued");

  const view = await vi.waitFor(
    async () => {
      const read = await getInteraction(id);
      expect(read.status).toBe(200);
      expect(read.body.result.state).toBe("assigned");
      return read.body.result;
    },
    { timeout: 10_000, interval: 100 },
  );
  expect(view.upstream.agentId).toBe("agent-1");
  const states = view.timeline.map((e: { state: string }) => e.state);
  expect(states).toEqual(expect.arrayContaining(["received", "queued", "assigned"]));
  expect(states.at(-1)).toBe("assigned");

  for (const path of ["/", "/v1/interactions/"] as const) {
    const del = await cancel(id, path);
    expectFailure(del, 409, "already_assigned");
  }
  // The refused cancel changed nothing.
  const after = await getInteraction(id);
  expect(after.body.result.state).toBe("assigned");
  expect(after.body.result.upstream.agentId).toBe("agent-1");

  // The cancelled call stayed cancelled.
  expect((await getInteraction(cancelledId)).body.result.state).toBe("cancelled");

  // Assigned is terminal: the same customer calling again gets a new interaction.
  const next = await createOk(sampleBody(customerId, 2));
  expect(next).not.toBe(id);
  expect((await getInteraction(next)).body.result.state).toBe("queued");
  expect((await cancel(next)).status).toBe(200);
});
