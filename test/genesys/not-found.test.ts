/**
 * Genesys answers 404 (and closed workitems) on the poll and the cancel: a 404 alone never confirms
 * a cancel or ends a call, and a workitem an agent took and closed between two polls is assigned.
 */
import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { FAKE_WORKTYPE } from "../fakes/genesys";
import { GENESYS_API_HOST } from "./settings";

const CONTROL = `http://${GENESYS_API_HOST}/__control`;
const API = { authorization: "Bearer genesys-key-0123456789abcdefghijklmnopqrstuv", "content-type": "application/json" };
const AGENT = "a1a1a1a1-0000-4000-8000-000000000001";

async function control(path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${CONTROL}/${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });
  expect(res.status, `control ${path}`).toBe(200);
  return res.json();
}
async function proxy(path: string, init: RequestInit = {}) {
  const res = await exports.default.fetch(`http://proxy${path}`, init);
  return { status: res.status, body: (await res.json()) as any };
}

beforeEach(async () => {
  await control("reset", {});
  await control("setup", {
    users: [{ id: AGENT, name: "Ayse", employeeId: "123456" }],
    worktypes: { [FAKE_WORKTYPE]: { name: "Diyalog video call", fields: ["channel_text", "national_id_text", "customerId_text"] } },
  });
});

describe("poll: a workitem an agent handled", () => {
  it("taken and closed by an agent between two polls → assigned, DELETE 409", async () => {
    const created = await proxy("/CreateInteraction", { method: "POST", headers: API, body: JSON.stringify({ customerId: `nf-${crypto.randomUUID()}` }) });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const id = created.body.result.interactionId as string;
    // ACD gives it to the agent, who handles and closes it before the next poll.
    await control("assign", { externalTag: id, state: "Terminated", agentId: AGENT });
    await vi.waitFor(async () => expect((await proxy(`/v1/interactions/${id}`, { headers: API })).body.result.state).not.toBe("queued"), {
      timeout: 15_000,
      interval: 300,
    });
    const view = await proxy(`/v1/interactions/${id}`, { headers: API });
    const del = await proxy(`/${id}`, { method: "DELETE", headers: API });
    expect.soft(view.body.result.state, JSON.stringify(view.body.result.timeline)).toBe("assigned");
    expect(del.status, JSON.stringify(del.body)).toBe(409);
  }, 30_000);
});

describe("poll: one 404 on GET workitem", () => {
  it("does not end the call: the query still shows the workitem, the call stays queued, and DELETE takes it out of ACD", async () => {
    const customerId = `nf-${crypto.randomUUID()}`;
    const created = await proxy("/CreateInteraction", { method: "POST", headers: API, body: JSON.stringify({ customerId }) });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const id = created.body.result.interactionId as string;
    await control("faults", { rules: [{ route: "get", status: 404, times: 1 }] });
    // The 404 was answered to a poll, and a later poll read the workitem again.
    await vi.waitFor(
      async () => {
        const requests = (await control("state")).requests as { route: string; status: number }[];
        const at = requests.findIndex((r) => r.route === "get" && r.status === 404);
        expect(at).toBeGreaterThanOrEqual(0);
        expect(requests.slice(at + 1).some((r) => r.route === "get" && r.status === 200)).toBe(true);
      },
      { timeout: 15_000, interval: 300 },
    );
    const view = await proxy(`/v1/interactions/${id}`, { headers: API });
    expect(view.body.result.state, JSON.stringify(view.body.result.timeline)).toBe("queued");
    const del = await proxy(`/${id}`, { method: "DELETE", headers: API });
    expect(del.status, JSON.stringify(del.body)).toBe(200);
    const workitem = ((await control("state")).workitems as any[]).find((w) => w.externalTag === id);
    expect(workitem.assignmentState).toBe("AcdCancelled");
  }, 30_000);
});

describe("cancel: one 404 on GET workitem", () => {
  it("is no confirmation: DELETE answers 200 only once the workitem is out of ACD routing", async () => {
    const created = await proxy("/CreateInteraction", { method: "POST", headers: API, body: JSON.stringify({ customerId: `nf-${crypto.randomUUID()}` }) });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const id = created.body.result.interactionId as string;
    await control("faults", { rules: [{ route: "get", status: 404, times: 1 }] });
    const del = await proxy(`/${id}`, { method: "DELETE", headers: API });
    const workitem = ((await control("state")).workitems as any[]).find((w) => w.externalTag === id);
    expect(del.status, JSON.stringify(del.body)).toBe(200);
    {
      expect(["AcdCancelled", "Terminated", "AcdExpired"], `DELETE answered ${JSON.stringify(del.body)}; workitem is ${workitem.assignmentState}`).toContain(
        workitem.assignmentState,
      );
    }
  }, 30_000);
});
