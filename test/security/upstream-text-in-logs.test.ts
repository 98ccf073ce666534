/**
 * Free text from an upstream (an event's `reason`, a claim's `agentId`) is kept in the interaction's
 * timeline, never copied into the worker's log lines: the transition line names its cause as a code.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { captureConsole } from "../console-capture";
import { signedHeaders } from "../fakes/http-upstream";

/** The security project's signing secret (vitest.config.ts). */
const TEST_SIGNING_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const API = { authorization: "Bearer security-key-0123456789abcdefghijklmnopqrstuv", "content-type": "application/json" };

const printed = captureConsole("all");

async function call(path: string, init: RequestInit) {
  const response = await exports.default.fetch(`http://proxy${path}`, init);
  return { status: response.status, body: (await response.json()) as { result: Record<string, unknown> } };
}

async function signed(path: string, payload: unknown) {
  const body = JSON.stringify(payload);
  return call(path, { method: "POST", headers: { "content-type": "application/json", ...(await signedHeaders(TEST_SIGNING_SECRET, body)) }, body });
}

async function created(): Promise<string> {
  const answer = await call("/CreateInteraction", { method: "POST", headers: API, body: JSON.stringify({ customerId: `logs-${crypto.randomUUID()}` }) });
  expect(answer.status).toBe(200);
  return answer.body.result.interactionId as string;
}

describe("upstream free text stays out of the logs", () => {
  it("an event's reason is in the timeline, not in any log line; the transition names its cause", async () => {
    const id = await created();
    const reason = `customer Ayse Yilmaz (TCKN 12345678901) hung up ${crypto.randomUUID()}`;
    const event = await signed(`/v1/upstream/interactions/${id}/events`, { type: "abandoned", interactionId: id, reason });
    expect(event.status).toBe(200);
    const read = await call(`/v1/interactions/${id}`, { headers: API });
    expect(JSON.stringify(read.body.result.timeline)).toContain(reason);
    expect(printed()).not.toContain(reason);
    expect(printed()).toContain('"cause":"upstream_abandoned"');
  });

  it("a claiming agent's id is in the timeline, not in any log line", async () => {
    const id = await created();
    const agent = `mehmet.oz@bank.example-${crypto.randomUUID().slice(0, 8)}`;
    const claim = await signed(`/v1/upstream/interactions/${id}/claim`, { type: "claim", interactionId: id, agentId: agent });
    expect(claim.status).toBe(200);
    const read = await call(`/v1/interactions/${id}`, { headers: API });
    expect(JSON.stringify(read.body.result.timeline)).toContain(agent);
    expect(printed()).not.toContain(agent);
  });
});
