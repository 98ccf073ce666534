import { describe, expect, it } from "vitest";
import { taskClient } from "../../src/upstreams/twilio/tasks";
import type { TwilioConfig } from "../../src/upstreams/twilio/config";

/**
 * The Task lookup that resolves a create whose answer may have been lost (issue 12): a lookup that
 * fails says nothing about what exists, and one that finds several Tasks reports them all.
 */

const CONFIG: TwilioConfig = {
  accountSid: `AC${"a".repeat(32)}`,
  authToken: "token",
  restUser: `AC${"a".repeat(32)}`,
  restPassword: "token",
  workspaceSid: `WS${"b".repeat(32)}`,
  workflowSid: `WW${"c".repeat(32)}`,
  apiUrl: "https://taskrouter.example",
};
const SID_1 = `WT${"1".repeat(32)}`;
const SID_2 = `WT${"2".repeat(32)}`;

const answering = (response: () => Response) => taskClient(CONFIG, (async () => response()) as typeof fetch);
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const signal = () => new AbortController().signal;

describe("Twilio Task lookup", () => {
  it.each([400, 401, 403, 404])("a %i to the lookup is transient, never a refusal of the create", async (status) => {
    const found = await answering(() => json({ code: 20001, message: "no" }, status)).find("ix-1", signal());
    expect(found).toMatchObject({ kind: "retry", status });
  });

  it("an unreadable list is transient, never \"nothing exists\"", async () => {
    expect(await answering(() => json({ meta: {} })).find("ix-1", signal())).toMatchObject({ kind: "retry" });
  });

  it("an empty list means nothing exists", async () => {
    expect(await answering(() => json({ tasks: [] })).find("ix-1", signal())).toBeUndefined();
  });

  it("several Tasks: the first is the call, the others are reported to be cancelled", async () => {
    expect(await answering(() => json({ tasks: [{ sid: SID_1 }, { sid: SID_2 }] })).find("ix-1", signal())).toEqual({ kind: "accepted", upstreamId: SID_1, others: [SID_2] });
  });
});

describe("Twilio Reservation status", () => {
  const RESERVATION = `WR${"3".repeat(32)}`;

  it.each(["pending", "accepted", "canceled"])("a documented status (%s) is passed on", async (status) => {
    const read = await answering(() => json({ reservation_status: status })).reservationStatus(SID_1, RESERVATION, signal());
    expect(read).toEqual({ kind: "status", status });
  });

  it("any other text in reservation_status is not passed on (the callback logs the status), and is not read as pending", async () => {
    const text = "customer Ayse Yilmaz (TCKN 12345678901) hung up";
    const read = await answering(() => json({ reservation_status: text })).reservationStatus(SID_1, RESERVATION, signal());
    expect(read).toMatchObject({ kind: "retry" });
    expect(JSON.stringify(read)).not.toContain(text);
  });
});
