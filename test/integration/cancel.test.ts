import { afterEach, describe, expect, it } from "vitest";
import { authHeaders, call, cancel, cleanup, createOk, expectFailure, getInteraction, sampleBody } from "./helpers";

/**
 * Cancel (design §1, the cancel table) of queued calls. Every call in this file is cancelled at
 * once; whether a cancelled call can still reach the agent is proven in cancel-veto.test.ts, where
 * the agent is guaranteed free.
 */

afterEach(cleanup);

describe.each(["/", "/v1/interactions/"] as const)("DELETE %s{id}", (path) => {
  it("cancels a queued call: 200 {interactionId, state: cancelled}", async () => {
    const id = await createOk(sampleBody(crypto.randomUUID(), 1));
    expect((await getInteraction(id)).body.result.state).toBe("queued");

    const del = await cancel(id, path);
    expect(del.status, del.text).toBe(200);
    expect(del.body).toEqual({ success: true, errorMessage: null, result: { interactionId: id, state: "cancelled" } });

    const read = await getInteraction(id);
    expect(read.status).toBe(200);
    expect(read.body.result.state).toBe("cancelled");
    const states = read.body.result.timeline.map((e: { state: string }) => e.state);
    expect(states.at(-1)).toBe("cancelled");
  });

  it("is idempotent: a second cancel answers 200 with the same body", async () => {
    const id = await createOk(sampleBody(crypto.randomUUID(), 2));
    const first = await cancel(id, path);
    const second = await cancel(id, path);
    for (const answer of [first, second]) {
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toEqual({ success: true, errorMessage: null, result: { interactionId: id, state: "cancelled" } });
    }
  });
});

describe("cancel", () => {
  it("both DELETE paths cancel the same interaction (second path sees it cancelled)", async () => {
    const id = await createOk(sampleBody(crypto.randomUUID(), 3));
    const a = await cancel(id, "/");
    const b = await cancel(id, "/v1/interactions/");
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.body.result).toEqual({ interactionId: id, state: "cancelled" });
  });

  it("concurrent cancels of one call both answer 200 cancelled", async () => {
    const id = await createOk(sampleBody(crypto.randomUUID(), 1));
    const [a, b] = await Promise.all([cancel(id, "/"), cancel(id, "/v1/interactions/")]);
    for (const answer of [a, b]) {
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body.result).toEqual({ interactionId: id, state: "cancelled" });
    }
  });

  it("a DELETE carrying a body or any content type still cancels (the body is ignored)", async () => {
    const a = await createOk(sampleBody(crypto.randomUUID(), 1));
    const b = await createOk(sampleBody(crypto.randomUUID(), 1));
    const withJson = await call(`/${a}`, { method: "DELETE", headers: authHeaders(), body: JSON.stringify({ reason: "hung up" }) });
    const withText = await call(`/v1/interactions/${b}`, { method: "DELETE", headers: authHeaders({ "content-type": "text/plain" }), body: "bye" });
    expect(withJson.body.result).toEqual({ interactionId: a, state: "cancelled" });
    expect(withText.body.result).toEqual({ interactionId: b, state: "cancelled" });
  });

  it("a query string does not change the routes", async () => {
    const id = await createOk(sampleBody(crypto.randomUUID(), 1), "/CreateInteraction?source=diyalog&retry=1");
    expect((await call(`/v1/interactions/${id}?x=1`, { headers: authHeaders() })).body.result.state).toBe("queued");
    const del = await call(`/${id}?reason=hangup`, { method: "DELETE", headers: authHeaders() });
    expect(del.body.result).toEqual({ interactionId: id, state: "cancelled" });
  });

  it("a cancel without a key is refused and does not cancel", async () => {
    const id = await createOk(sampleBody(crypto.randomUUID(), 1));
    const refused = await cancel(id, "/", {});
    expectFailure(refused, 401, "unauthorized");
    expect((await getInteraction(id)).body.result.state).toBe("queued");
  });
});
