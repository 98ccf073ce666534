/**
 * The proxy's own signed requests to the `http` upstream name their action and target in the signed
 * body (Standard Webhooks signs `id.timestamp.body`, not the method, path or Idempotency-Key), so an
 * upstream that checks them, as the fake does, refuses one replayed against another target.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";

const FAKE = "http://127.0.0.1:9";
const API = { authorization: "Bearer security-key-0123456789abcdefghijklmnopqrstuv", "content-type": "application/json" };

type Captured = { method: string; path: string; headers: Record<string, string>; body: string };
type FakeState = { captured: Captured[]; records: { id: string; interactionId: string; state: string }[] };

async function call(path: string, init: RequestInit) {
  const response = await exports.default.fetch(`http://proxy${path}`, init);
  return { status: response.status, body: (await response.json()) as { result: Record<string, unknown> } };
}
const fakeState = async () => (await (await fetch(`${FAKE}/__control/state`)).json()) as FakeState;

async function created(prefix: string): Promise<string> {
  const answer = await call("/CreateInteraction", { method: "POST", headers: API, body: JSON.stringify({ customerId: `${prefix}-${crypto.randomUUID()}` }) });
  expect(answer.status).toBe(200);
  return answer.body.result.interactionId as string;
}

describe("the proxy's signed outbound requests are bound to their target", () => {
  it("its signed cancel of one call, replayed as a cancel of another, is refused and changes nothing", async () => {
    vi.spyOn(console, "info").mockImplementation(() => {});
    await fetch(`${FAKE}/__control/reset`, { method: "POST", body: "{}" });
    const a = await created("replay-a");
    const b = await created("replay-b");
    expect((await call(`/${a}`, { method: "DELETE", headers: API })).status).toBe(200);

    const state = await fakeState();
    const cancel = state.captured.find((r) => r.method === "DELETE")!;
    expect(JSON.parse(cancel.body)).toMatchObject({ type: "cancel", interactionId: a });
    const victim = state.records.find((r) => r.interactionId === b)!;
    const replay = await fetch(`${FAKE}/interactions/${encodeURIComponent(victim.id)}`, { method: "DELETE", headers: cancel.headers, body: cancel.body });
    expect(replay.status).toBe(400);
    expect((await fakeState()).records.find((r) => r.id === victim.id)!.state).toBe("queued");
    expect((await call(`/v1/interactions/${b}`, { headers: API })).body.result.state).toBe("queued");
  });

  it("its signed create, replayed with another Idempotency-Key, is refused: one upstream copy", async () => {
    vi.spyOn(console, "info").mockImplementation(() => {});
    await fetch(`${FAKE}/__control/reset`, { method: "POST", body: "{}" });
    const id = await created("replay-create");
    const create = (await fakeState()).captured.find((r) => r.method === "POST")!;
    expect(JSON.parse(create.body)).toMatchObject({ type: "create", interactionId: id });
    const replay = await fetch(`${FAKE}/interactions`, {
      method: "POST",
      headers: { ...create.headers, "content-type": "application/json", "idempotency-key": crypto.randomUUID() },
      body: create.body,
    });
    expect(replay.status).toBe(400);
    expect((await fakeState()).records.filter((r) => r.interactionId === id)).toHaveLength(1);
  });
});
