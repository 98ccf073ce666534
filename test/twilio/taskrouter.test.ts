/**
 * The `twilio-taskrouter` upstream end to end, in workerd against the TaskRouter fake of
 * test/fakes/twilio.ts (one Node object shared by the "twilio" project: every test resets it, and
 * every test that touches it lives in this one file, whose tests run one after another).
 *
 * The test plays TaskRouter's side of the assignment callback: it asks the fake to reserve a Task
 * for a worker (the fake builds and signs the callback exactly as Twilio would), delivers it to
 * the proxy, and hands the proxy's answer back to the fake, which applies it as TaskRouter does.
 *
 * Numbers this file relies on (test/twilio/settings.ts): UPSTREAM_TIMEOUT_MS=500,
 * CREATE_DEADLINE_MS=3000, QUEUE_TIMEOUT_SECONDS default 1800.
 */
import { env, exports } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { latestInteractionOf as latestOf, settle as settleObject, unknownInteractionId } from "../objects";
import worker from "../../src/index";
import { getConfig } from "../../src/config";
import { twilioAdapter } from "../../src/upstreams/twilio/adapter";
import type { CancelResult, DispatchResult } from "../../src/upstreams/adapter";
import { signTwilio, type CallbackDelivery, type FakeRequest, type FakeTask, type TwilioFaults } from "../fakes/twilio";
import { FAKE_TWILIO_URL as FAKE, PUBLIC_BASE_URL, TWILIO_OPTIONS as TW } from "./settings";

const API = { authorization: "Bearer test-key-0123456789abcdefghijklmnopqrstuv", "content-type": "application/json" };
const ASSIGNMENT = "/v1/upstream/twilio/assignment";
const TASKS_PATH = `/v1/Workspaces/${TW.workspaceSid}/Tasks`;
const LEAK = "upstream-internal-detail";
const WAIT = { timeout: 15_000, interval: 150 };

// ---------------------------------------------------------------------------------------------
// The fake.

type Task = FakeTask & { parsedAttributes: Record<string, string> };
interface FakeState {
  tasks: Task[];
  requests: FakeRequest[];
  answers: { reservationSid: string; taskSid: string; workerSid: string; status: number; instruction: string | null }[];
}

async function control(path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${FAKE}/__control/${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });
  return res.json();
}

const setFaults = (faults: TwilioFaults) => control("faults", faults);
const fakeState = () => control("state") as Promise<FakeState>;

async function tasksOf(interactionId: string): Promise<Task[]> {
  return (await fakeState()).tasks.filter((t) => t.parsedAttributes.interactionId === interactionId);
}

async function taskOf(interactionId: string): Promise<Task> {
  let task: Task | undefined;
  await vi.waitFor(async () => {
    const tasks = await tasksOf(interactionId);
    expect(tasks).toHaveLength(1);
    task = tasks[0];
  }, WAIT);
  return task!;
}

async function task(sid: string): Promise<Task> {
  return (await fakeState()).tasks.find((t) => t.sid === sid)!;
}

/** REST requests that reached the fake for one Task (reads and updates). */
async function requestsFor(taskSid: string): Promise<FakeRequest[]> {
  return (await fakeState()).requests.filter((r) => r.path === `${TASKS_PATH}/${taskSid}`);
}

/** Creates a Task straight through the fake's API, as another system sharing the Workflow would. */
async function foreignTask(attributes: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${FAKE}${TASKS_PATH}`, {
    method: "POST",
    headers: { authorization: `Basic ${btoa(`${TW.accountSid}:${TW.authToken}`)}`, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ WorkflowSid: TW.workflowSid, Attributes: JSON.stringify(attributes) }).toString(),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { sid: string }).sid;
}

let workerSeq = 0;
function workerSid(): string {
  workerSeq += 1;
  return `WK${workerSeq.toString(16).padStart(32, "0")}`;
}

// ---------------------------------------------------------------------------------------------
// The proxy.

interface Answer {
  status: number;
  body: { success: boolean; errorMessage: string | null; errorCode?: string; result: any };
  text: string;
}

const answers: string[] = [];

async function proxy(path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await exports.default.fetch(`http://proxy${path}`, init);
  const text = await res.text();
  answers.push(text);
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
  const body = JSON.parse(text) as Answer["body"];
  expect(body.success, `HTTP ${res.status}: ${text}`).toBe(res.status >= 200 && res.status < 300);
  return { status: res.status, body, text };
}

const create = (customerId: string, extra: Record<string, unknown> = {}) =>
  proxy("/CreateInteraction", { method: "POST", headers: API, body: JSON.stringify({ customerId, ...extra }) });
const cancel = (id: string) => proxy(`/${id}`, { method: "DELETE", headers: API });
const read = (id: string) => proxy(`/v1/interactions/${id}`, { headers: API });

let customerSeq = 0;
function customer(label: string): string {
  customerSeq += 1;
  return `tw-${label}-${customerSeq}-${crypto.randomUUID().slice(0, 8)}`;
}

async function queued(label: string, extra: Record<string, unknown> = {}): Promise<{ id: string; task: Task }> {
  const res = await create(customer(label), extra);
  expect(res.status).toBe(200);
  const id: string = res.body.result.interactionId;
  return { id, task: await taskOf(id) };
}

const latestInteractionOf = (customerId: string) => latestOf(customerId, WAIT);
const settle = (id: string, check: () => Promise<void>) => settleObject(id, check, WAIT);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// TaskRouter's assignment callback.

interface Delivered {
  status: number;
  contentType: string;
  headers: Headers;
  text: string;
  instruction: string | undefined;
}

/** Posts a callback to the proxy (at its request path; Twilio signed the public URL). */
async function post(d: { url: string; headers: Record<string, string>; body: string }): Promise<Delivered> {
  const url = new URL(d.url);
  const res = await exports.default.fetch(`http://proxy${url.pathname}${url.search}`, { method: "POST", headers: d.headers, body: d.body });
  const text = await res.text();
  const contentType = res.headers.get("content-type") ?? "";
  let instruction: string | undefined;
  try {
    instruction = (JSON.parse(text) as { instruction?: string }).instruction;
  } catch {
    instruction = undefined;
  }
  return { status: res.status, contentType, headers: res.headers, text, instruction };
}

/** The fake reserves the Task for a worker; the callback is delivered and its answer applied. */
async function offer(taskSid: string, worker = workerSid()): Promise<Delivered & { reservationSid: string }> {
  const delivery = (await control("reserve", { taskSid, workerSid: worker })) as CallbackDelivery;
  expect(delivery.reservationSid, "the fake could not reserve the Task").toMatch(/^WR/);
  const answer = await post(delivery);
  await control("answer", { reservationSid: delivery.reservationSid, status: answer.status, contentType: answer.contentType, body: answer.text });
  return { ...answer, reservationSid: delivery.reservationSid };
}

/** A callback signed with the given token/URL/params, for the security tests. */
async function forged(params: Record<string, string>, opts: { token?: string; signedUrl?: string; signature?: string | null } = {}) {
  const signedUrl = opts.signedUrl ?? TW.assignmentCallbackUrl;
  const signature = opts.signature === undefined ? await signTwilio(opts.token ?? TW.authToken, signedUrl, params) : opts.signature;
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (signature !== null) headers["x-twilio-signature"] = signature;
  return { url: TW.assignmentCallbackUrl, headers, body: new URLSearchParams(params).toString() };
}

function callbackParams(taskSid: string, attributes: Record<string, unknown>, worker = workerSid()): Record<string, string> {
  return {
    AccountSid: TW.accountSid,
    WorkspaceSid: TW.workspaceSid,
    WorkflowSid: TW.workflowSid,
    TaskQueueSid: `WQ${"0".repeat(32)}`,
    WorkerSid: worker,
    WorkerAttributes: "{}",
    TaskSid: taskSid,
    TaskAttributes: JSON.stringify(attributes),
    TaskAge: "3",
    TaskPriority: "0",
    ReservationSid: `WR${"9".repeat(32)}`,
    Timestamp: String(Math.floor(Date.now() / 1000)),
  };
}

beforeEach(async () => {
  await control("reset", {});
});

// =============================================================================================

describe("create against TaskRouter", () => {
  it("one form-encoded Task in the Workflow, API-key auth, attributes + interactionId + customerId + identityNumber", async () => {
    const customerId = customer("happy");
    const res = await create(customerId, {
      // A key named like the proxy's own must not hide the real interactionId.
      attachedData: [{ TRX: "Diyalog" }, { PrimaryProjectManagerId: "123456" }, { SecondaryProjectManagerId: "654321" }, { interactionId: "spoof" }],
      identityNumber: "12345678901",
    });
    expect(res.status).toBe(200);
    const id: string = res.body.result.interactionId;

    const state = await fakeState();
    expect(state.tasks).toHaveLength(1);
    const [t] = state.tasks as [Task];
    expect(t.parsedAttributes).toEqual({
      TRX: "Diyalog",
      PrimaryProjectManagerId: "123456",
      SecondaryProjectManagerId: "654321",
      identityNumber: "12345678901",
      customerId,
      interactionId: id,
    });
    expect(t.assignment_status).toBe("pending");
    expect(t.workflow_sid).toBe(TW.workflowSid);
    // The Task outlives the proxy's queue timeout (1800 s) by a margin, so the proxy expires it first.
    expect(t.timeout).toBe(2100);
    // A fresh interaction cannot exist upstream yet: no lookup, one create, with the API key.
    expect(state.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([`POST ${TASKS_PATH} 201`]);
    expect(state.requests[0]!.principal).toBe(TW.apiKeySid);
    expect(state.requests[0]!.form).toMatchObject({ WorkflowSid: TW.workflowSid, Timeout: "2100" });

    const view = await read(id);
    expect(view.body.result).toMatchObject({ state: "queued", upstream: { adapter: "twilio-taskrouter", id: t.sid } });
    expect(view.text).not.toContain("12345678901");
  });

  it("a lost create answer is resolved by the EvaluateTaskAttributes lookup: one Task, never two", async () => {
    const customerId = customer("lost");
    await setFaults({ dropCreates: 1 });
    const pending = create(customerId);
    const id = await latestInteractionOf(customerId);
    await vi.waitFor(async () => expect((await fakeState()).requests.some((r) => r.dropped)).toBe(true), WAIT);
    await setFaults({});
    const res = await pending;

    expect(res.status).toBe(200);
    expect(res.body.result.interactionId).toBe(id);
    const state = await fakeState();
    expect(state.tasks).toHaveLength(1);
    const creates = state.requests.filter((r) => r.method === "POST" && r.path === TASKS_PATH);
    expect(creates).toHaveLength(1);
    const lookups = state.requests.filter((r) => r.method === "GET" && r.path === TASKS_PATH);
    expect(lookups.length).toBeGreaterThanOrEqual(1);
    expect(new URLSearchParams(lookups[0]!.query).get("EvaluateTaskAttributes")).toBe(`interactionId == "${id}"`);
    expect(lookups.every((r) => r.at > creates[0]!.at)).toBe(true);
    expect((await read(id)).body.result).toMatchObject({ state: "queued", upstream: { id: state.tasks[0]!.sid } });
  });

  it("throttling (429, code 20429, Retry-After: 1) is retried no sooner than Retry-After, within the deadline", async () => {
    const customerId = customer("429");
    await setFaults({ rateLimit: 1, retryAfterSeconds: 1 });
    const pending = create(customerId);
    await vi.waitFor(async () => expect((await fakeState()).requests.some((r) => r.status === 429)).toBe(true), WAIT);
    await setFaults({});
    const res = await pending;

    expect(res.status).toBe(200);
    const requests = (await fakeState()).requests;
    const first429 = requests.findIndex((r) => r.status === 429);
    const next = requests[first429 + 1];
    expect(next, "the 429 was never retried").toBeDefined();
    expect(next!.at - requests[first429]!.answeredAt).toBeGreaterThanOrEqual(950);
    expect((await fakeState()).tasks).toHaveLength(1);
    expect((await read(res.body.result.interactionId)).body.result.state).toBe("queued");
  });

  it("a permanent refusal (403, code 20403) → 502 upstream_rejected, failed, Twilio's message never shown", async () => {
    await setFaults({ rejectCreatesWith: { status: 403, code: 20403 } });
    const res = await create(customer("403"));
    expect(res.status).toBe(502);
    expect(res.body.errorCode).toBe("upstream_rejected");
    const id: string = res.body.result.interactionId;
    const view = await read(id);
    expect(view.body.result.state).toBe("failed");
    expect(view.body.result.upstream.status).toBe(403);
    expect(view.text).toContain("missing permission");
    expect(view.text).toContain("Twilio error 20403");
    expect(answers.join("\n")).not.toContain(LEAK);
    expect((await fakeState()).tasks).toHaveLength(0);
  });
});

describe("cancel against TaskRouter", () => {
  it("a queued Task is cancelled with If-Match on the ETag just read; a later offer is impossible", async () => {
    const { id, task: t } = await queued("cancel");
    const res = await cancel(id);
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual({ interactionId: id, state: "cancelled" });

    const after = await task(t.sid);
    expect(after.assignment_status).toBe("canceled");
    expect(after.reason).toBe("cancelled by Diyalog");
    const calls = await requestsFor(t.sid);
    expect(calls.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", "POST 200"]);
    expect(calls[1]!.ifMatch).toBe("0");
    expect(calls[1]!.form).toEqual({ AssignmentStatus: "canceled", Reason: "cancelled by Diyalog" });
    expect(calls.every((r) => r.principal === TW.apiKeySid)).toBe(true);
    expect((await control("reserve", { taskSid: t.sid, workerSid: workerSid() })).error).toBe("the Task is not pending");
    // Idempotent.
    expect((await cancel(id)).status).toBe(200);
  });

  it("412: the ETag moved between read and update (another writer) → re-read and cancel again", async () => {
    const { id, task: t } = await queued("412");
    await setFaults({ concurrentUpdates: 1 });
    const res = await cancel(id);
    expect(res.status).toBe(200);
    expect(res.body.result.state).toBe("cancelled");
    const calls = await requestsFor(t.sid);
    expect(calls.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", "POST 412", "GET 200", "POST 200"]);
    expect(calls[1]!.ifMatch).toBe("0");
    expect(calls[3]!.ifMatch).toBe("1");
    expect((await task(t.sid)).assignment_status).toBe("canceled");
    expect((await task(t.sid)).parsedAttributes.touchedBy).toBe("supervisor");
  });

  it("412 on every round: bounded, 202 cancelling (the veto holds), then cancelled once the Task holds still", async () => {
    const { id, task: t } = await queued("412x");
    await setFaults({ concurrentUpdates: 100 });
    const res = await cancel(id);
    expect(res.status).toBe(202);
    expect(res.body.result).toEqual({ interactionId: id, state: "cancelling" });
    // Each attempt gives up after three rounds (see the adapter tests); the alarm retries meanwhile.
    const calls = await requestsFor(t.sid);
    expect(calls.filter((r) => r.status === 412).length).toBeGreaterThanOrEqual(3);
    expect(calls.filter((r) => r.method === "POST").every((r) => r.status === 412)).toBe(true);
    // While it is being cancelled, TaskRouter's offer is refused.
    const refused = await offer(t.sid);
    expect(refused.instruction).toBe("reject");

    await setFaults({});
    await settle(id, async () => expect((await read(id)).body.result.state).toBe("cancelled"));
    expect((await task(t.sid)).assignment_status).toBe("canceled");
  });

  it("after the assignment callback was accepted → 409 already_assigned, the Task is left alone", async () => {
    const { id, task: t } = await queued("assigned");
    const worker = workerSid();
    const accepted = await offer(t.sid, worker);
    expect(accepted.instruction).toBe("accept");
    expect((await task(t.sid)).assignment_status).toBe("assigned");
    expect((await read(id)).body.result).toMatchObject({ state: "assigned", upstream: { agentId: worker } });

    const res = await cancel(id);
    expect(res.status).toBe(409);
    expect(res.body.errorCode).toBe("already_assigned");
    expect((await requestsFor(t.sid)).filter((r) => r.method === "POST")).toHaveLength(0);
    expect((await task(t.sid)).assignment_status).toBe("assigned");
  });

  it("a manual accept outside the callback (Flex, Reservations API) → 409 already_assigned, recorded as assigned", async () => {
    const { id, task: t } = await queued("manual");
    await control("status", { taskSid: t.sid, assignment_status: "assigned" });
    const res = await cancel(id);
    expect(res.status, res.text).toBe(409);
    expect(res.body.errorCode).toBe("already_assigned");
    const view = (await read(id)).body.result;
    expect(view.state).toBe("assigned");
    expect(view.timeline.at(-1).detail).toBe("an agent took the call upstream without asking the proxy");
  });

  it("the documented window: a manual accept found only after a slow TaskRouter let the DELETE answer 202 cancelling; a repeated DELETE says 409", async () => {
    const { id, task: t } = await queued("manual-late");
    await control("status", { taskSid: t.sid, assignment_status: "assigned" });
    // Slower than UPSTREAM_TIMEOUT_MS: the DELETE answers before the background cancel reads the Task.
    await setFaults({ delayMs: 700 });
    const first = await cancel(id);
    expect(first.status, first.text).toBe(202);
    expect(first.body.result.state).toBe("cancelling");
    await setFaults({});
    await settle(id, async () => expect((await read(id)).body.result.state).toBe("assigned"));
    const again = await cancel(id);
    expect(again.status).toBe(409);
    expect(again.body.errorCode).toBe("already_assigned");
  });

  it("TaskRouter unreachable: 202 cancelling at once; an offer meanwhile is rejected, the Task cancelled on recovery", async () => {
    const { id, task: t } = await queued("down");
    await setFaults({ error503: 1 });
    const res = await cancel(id);
    expect(res.status).toBe(202);
    expect(res.body.result.state).toBe("cancelling");

    const refused = await offer(t.sid);
    expect(refused.instruction).toBe("reject");
    // TaskRouter's own reading of the reject: the reservation is rejected and the Task re-queued.
    let now = await task(t.sid);
    expect(now.reservations[0]!.status).toBe("rejected");
    expect(now.assignment_status).toBe("pending");

    await setFaults({});
    await settle(id, async () => {
      expect((await read(id)).body.result.state).toBe("cancelled");
      expect((await task(t.sid)).assignment_status).toBe("canceled");
    });
    now = await task(t.sid);
    expect(now.reservations.every((r) => r.status !== "accepted")).toBe(true);
  });
});

describe("the assignment veto", () => {
  it("answers in Twilio's format: 200 application/json {\"instruction\":\"accept\"}, recording the worker", async () => {
    const { id, task: t } = await queued("format");
    const worker = workerSid();
    const answer = await offer(t.sid, worker);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toMatch(/^application\/json/);
    // Never cached by anything between TaskRouter and the proxy, never sniffed.
    expect(answer.headers.get("cache-control")).toBe("no-store");
    expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
    expect(JSON.parse(answer.text)).toEqual({ instruction: "accept" });
    const view = await read(id);
    expect(view.body.result.timeline.at(-1)).toMatchObject({ state: "assigned", detail: `agent ${worker} took the call` });
  });

  it("a cancel that lands while the proxy is cancelling the Task: the callback is rejected, the 412 re-read wins", async () => {
    const { id, task: t } = await queued("race-412");
    // Every answer from TaskRouter is slow, so the offer happens between the proxy's read and its update.
    await setFaults({ delayMs: 350 });
    const deleting = cancel(id);
    await vi.waitFor(async () => expect((await requestsFor(t.sid)).some((r) => r.method === "GET")).toBe(true), WAIT);
    const answer = await offer(t.sid);
    expect(answer.instruction).toBe("reject");
    const del = await deleting;
    expect([200, 202]).toContain(del.status);
    expect(del.body.success).toBe(true);

    await setFaults({});
    await settle(id, async () => {
      expect((await read(id)).body.result.state).toBe("cancelled");
      expect((await task(t.sid)).assignment_status).toBe("canceled");
    });
    const calls = await requestsFor(t.sid);
    expect(calls.some((r) => r.status === 412)).toBe(true);
    expect((await task(t.sid)).reservations.map((r) => r.status)).not.toContain("accepted");
  });

  it("guarantee under racing cancel and assignment callback: success:true is never followed by an accept", async () => {
    const outcomes = { cancelled: 0, assigned: 0 };
    for (let round = 0; round < 8; round++) {
      const { id, task: t } = await queued(`race-${round}`);
      const worker = workerSid();
      const cancelDelay = Math.floor(Math.random() * 30);
      const offerDelay = Math.floor(Math.random() * 30);
      let offered: (Delivered & { reservationSid: string }) | null = null;
      const [del] = await Promise.all([
        sleep(cancelDelay).then(() => cancel(id)),
        sleep(offerDelay).then(async () => {
          // The fake only offers a Task still pending (a cancel that got there first leaves nothing to offer).
          const delivery = (await control("reserve", { taskSid: t.sid, workerSid: worker })) as CallbackDelivery & { error?: string };
          if (delivery.error) return;
          const answer = await post(delivery);
          await control("answer", { reservationSid: delivery.reservationSid, status: answer.status, contentType: answer.contentType, body: answer.text });
          offered = { ...answer, reservationSid: delivery.reservationSid };
        }),
      ]);
      const o = offered as (Delivered & { reservationSid: string }) | null;
      if (del.body.success) {
        outcomes.cancelled += 1;
        expect([200, 202]).toContain(del.status);
        if (o) expect(o.instruction, `round ${round}: accepted after a successful cancel`).toBe("reject");
        await settle(id, async () => expect((await task(t.sid)).assignment_status).toBe("canceled"));
        expect((await read(id)).body.result.state).toBe("cancelled");
      } else {
        outcomes.assigned += 1;
        expect(del.status).toBe(409);
        expect(del.body.errorCode).toBe("already_assigned");
        expect(o?.instruction).toBe("accept");
        expect((await task(t.sid)).assignment_status).toBe("assigned");
      }
      const mine = (await fakeState()).answers.filter((a) => a.taskSid === t.sid);
      expect(mine.filter((a) => a.instruction === "accept").length).toBe(del.body.success ? 0 : 1);
    }
    expect(outcomes.cancelled + outcomes.assigned).toBe(8);
  });

  it("a worker offered the Task before TaskRouter's create answer arrived gets it (claim while dispatching)", async () => {
    const customerId = customer("fast");
    // Slower than UPSTREAM_TIMEOUT_MS: the create happens, its answer does not arrive in time.
    await setFaults({ delayMs: 700 });
    const pending = create(customerId);
    const id = await latestInteractionOf(customerId);
    const t = await taskOf(id);
    const answer = await offer(t.sid);
    expect(answer.instruction).toBe("accept");
    await setFaults({});
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.result.interactionId).toBe(id);
    expect((await read(id)).body.result.state).toBe("assigned");
    expect((await cancel(id)).status).toBe(409);
    expect(await tasksOf(id)).toHaveLength(1);
  });

  it("a re-offer to another worker after an accept is rejected but the Task is not cancelled", async () => {
    const { id, task: t } = await queued("reoffer");
    const first = workerSid();
    expect((await offer(t.sid, first)).instruction).toBe("accept");
    // The first worker's reservation ends without the call (TaskRouter puts the Task back to pending).
    await control("status", { taskSid: t.sid, assignment_status: "pending" });
    const second = await offer(t.sid);
    expect(second.instruction).toBe("reject");
    await sleep(300);
    expect((await requestsFor(t.sid)).filter((r) => r.method === "POST")).toHaveLength(0);
    expect((await task(t.sid)).assignment_status).toBe("pending");
    expect((await read(id)).body.result).toMatchObject({ state: "assigned", upstream: { agentId: first } });
  });

  it("a Task naming an interaction the proxy does not know is rejected and cancelled in the background", async () => {
    const unknown = unknownInteractionId();
    const sid = await foreignTask({ interactionId: unknown, customerId: "x" });
    const answer = await offer(sid);
    expect(answer.instruction).toBe("reject");
    await vi.waitFor(async () => expect((await task(sid)).assignment_status).toBe("canceled"), WAIT);
  });

  it("a Task that is not the proxy's (no interactionId) is left to TaskRouter: {} and no change", async () => {
    const sid = await foreignTask({ type: "email", interactionId: "not-a-uuid" });
    const answer = await offer(sid);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({});
    const t = await task(sid);
    expect(t.assignment_status).toBe("reserved");
    expect(t.reservations[0]!.status).toBe("pending");
  });
});

describe("assignment callback security", () => {
  it("unsigned, wrong token, tampered parameter, wrong URL → 401 unauthorized, nothing changes", async () => {
    const { id, task: t } = await queued("sec");
    // A live reservation's callback, as TaskRouter sent it.
    const delivery = (await control("reserve", { taskSid: t.sid, workerSid: workerSid() })) as CallbackDelivery;
    const params = Object.fromEntries(new URLSearchParams(delivery.body));
    const attempts = [
      await forged(params, { signature: null }),
      await forged(params, { token: "another-auth-token-entirely-0000" }),
      { ...(await forged(params)), body: new URLSearchParams({ ...params, WorkerSid: workerSid() }).toString() },
      await forged(params, { signedUrl: `http://proxy${ASSIGNMENT}` }),
      await forged(params, { signedUrl: `${PUBLIC_BASE_URL}${ASSIGNMENT}?x=1` }),
      await forged(params, { signature: "GvWf1cFY/Q7PnoempGyD5oXAezc=" }),
    ];
    for (const a of attempts) {
      const answer = await post(a);
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.text)).toMatchObject({ success: false, errorCode: "unauthorized", result: null });
    }
    expect((await read(id)).body.result.state).toBe("queued");
    // The genuine one still works.
    expect((await post(await forged(params))).instruction).toBe("accept");
  });

  it("without PUBLIC_BASE_URL the signature covers the URL the request arrived at, query included", async () => {
    const e = { ...env, PUBLIC_BASE_URL: "" } as unknown as Env;
    const params = callbackParams(`WT${"1".repeat(32)}`, { type: "email" });
    const call = async (signedUrl: string, requestUrl: string) => {
      const d = await forged(params, { signedUrl });
      const ctx = createExecutionContext();
      const res = await worker.fetch(new Request(requestUrl, { method: "POST", headers: d.headers, body: d.body }), e, ctx);
      await waitOnExecutionContext(ctx);
      return { status: res.status, text: await res.text() };
    };
    const here = `https://worker.example.net${ASSIGNMENT}?tenant=a`;
    expect(await call(here, here)).toEqual({ status: 200, text: "{}" });
    expect((await call(`${PUBLIC_BASE_URL}${ASSIGNMENT}?tenant=a`, here)).status).toBe(401);
  });

  it("the route does not exist unless UPSTREAM=twilio-taskrouter; only POST", async () => {
    const params = callbackParams(`WT${"1".repeat(32)}`, { interactionId: crypto.randomUUID() });
    const d = await forged(params);
    for (const overrides of [{ UPSTREAM: "simulator" }, { UPSTREAM: "http", UPSTREAM_URL: "http://127.0.0.1:9", UPSTREAM_SIGNING_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }]) {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request(`http://proxy${ASSIGNMENT}`, { method: "POST", headers: d.headers, body: d.body }),
        { ...env, ...overrides } as unknown as Env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ success: false, errorCode: "not_found" });
    }
    const get = await exports.default.fetch(`http://proxy${ASSIGNMENT}`);
    expect(get.status).toBe(404);
    expect(await get.json()).toMatchObject({ success: false, errorCode: "not_found" });
  });
});

describe("assignment callback: what an operator sees at LOG_LEVEL=warn (issue 17)", () => {
  /** Delivers with LOG_LEVEL=warn and a recording METRICS dataset; answers the warn lines and the data points. */
  async function observed(d: { headers: Record<string, string>; body: string }) {
    const points: { indexes: string[]; blobs: string[] }[] = [];
    const lines: string[] = [];
    const spy = vi.spyOn(console, "warn").mockImplementation((line: string) => void lines.push(line));
    try {
      const e = { ...env, LOG_LEVEL: "warn", METRICS: { writeDataPoint: (p: (typeof points)[number]) => void points.push(p) } } as unknown as Env;
      const ctx = createExecutionContext();
      const res = await worker.fetch(new Request(`http://proxy${ASSIGNMENT}`, { method: "POST", headers: d.headers, body: d.body }), e, ctx);
      await waitOnExecutionContext(ctx);
      return { status: res.status, text: await res.text(), warns: lines.map((l) => JSON.parse(l) as Record<string, unknown>), points };
    } finally {
      spy.mockRestore();
      getConfig({});
    }
  }
  const blobsOf = (points: { indexes: string[]; blobs: string[] }[], event: string) => points.filter((p) => p.indexes[0] === event).map((p) => p.blobs);

  it("a bad signature: warn line with the route and reason, `signature_failed` counted", async () => {
    const params = callbackParams(`WT${"1".repeat(32)}`, { interactionId: crypto.randomUUID() });
    const seen = await observed(await forged(params, { token: "another-auth-token-entirely-0000" }));
    expect(seen.status).toBe(401);
    expect(seen.warns).toContainEqual(expect.objectContaining({ msg: "authentication failed", route: ASSIGNMENT, reason: "invalid_twilio_signature" }));
    expect(blobsOf(seen.points, "signature_failed")).toEqual([["signature_failed", "invalid_twilio_signature", "", "", "", ""]]);
  });

  it("an offer for a cancelled call: rejected, warn line with interactionId and reason, `claim_refused` counted", async () => {
    const { id, task: t } = await queued("ops-refused");
    expect((await cancel(id)).status).toBe(200);
    const params = callbackParams(t.sid, { interactionId: id });
    const seen = await observed(await forged(params));
    expect(JSON.parse(seen.text)).toEqual({ instruction: "reject" });
    expect(seen.warns).toContainEqual(expect.objectContaining({ msg: "claim refused", interactionId: id, customerRef: expect.stringMatching(/^[\w-]{16}$/), reason: "cancelled" }));
    expect(blobsOf(seen.points, "claim_refused")).toEqual([["claim_refused", "cancelled", "", "", "", expect.stringMatching(/^[\w-]{16}$/)]]);
  });
});

describe("assignment callback: URL forms, throttling, binding to the Task and replays", () => {
  /** Calls the worker with these bindings changed, as a request arriving at `requestUrl`. */
  async function deliverWith(overrides: Record<string, unknown>, requestUrl: string, d: { headers: Record<string, string>; body: string }) {
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request(requestUrl, { method: "POST", headers: d.headers, body: d.body }), { ...env, ...overrides } as unknown as Env, ctx);
    await waitOnExecutionContext(ctx);
    return { status: res.status, text: await res.text() };
  }

  it("PUBLIC_BASE_URL with a path: the signature covers {PUBLIC_BASE_URL}/v1/upstream/twilio/assignment, path included", async () => {
    const base = "https://gateway.bank.example/queue/diyalog";
    const params = callbackParams(`WT${"1".repeat(32)}`, { type: "email" });
    // The gateway strips its prefix: the request reaches the worker at the bare path.
    const arrived = `https://worker.example.net${ASSIGNMENT}`;
    expect(await deliverWith({ PUBLIC_BASE_URL: base }, arrived, await forged(params, { signedUrl: `${base}${ASSIGNMENT}` }))).toEqual({ status: 200, text: "{}" });
    // Signed over the origin alone (without the configured path): not what Twilio was told to call.
    expect((await deliverWith({ PUBLIC_BASE_URL: base }, arrived, await forged(params, { signedUrl: `https://gateway.bank.example${ASSIGNMENT}` }))).status).toBe(401);
  });

  it("Twilio's inconsistent URL forms are accepted as twilio-node accepts them: with :443, and the legacy query encoding", async () => {
    const params = callbackParams(`WT${"1".repeat(32)}`, { type: "email" });
    const withPort = await forged(params, { signedUrl: TW.assignmentCallbackUrl.replace(".com/", ".com:443/") });
    expect(await post(withPort)).toMatchObject({ status: 200, text: "{}" });
    const otherPort = await forged(params, { signedUrl: TW.assignmentCallbackUrl.replace(".com/", ".com:8443/") });
    expect((await post(otherPort)).status).toBe(401);
    // Twilio signed the query as configured (an apostrophe); the request URL carries it as %27.
    const legacy = await forged(params, { signedUrl: `${TW.assignmentCallbackUrl}?tenant=O'Brien` });
    expect(await post({ ...legacy, url: `${TW.assignmentCallbackUrl}?tenant=O'Brien` })).toMatchObject({ status: 200, text: "{}" });
  });

  it("an invalid signature counts against the failed-authentication limit of its address (429 past it); a valid one does not", async () => {
    const counted: string[] = [];
    const limiter = { limit: async ({ key }: { key: string }) => (counted.push(key), { success: counted.length < 3 }) };
    const params = callbackParams(`WT${"1".repeat(32)}`, { type: "email" });
    const bad = await forged(params, { token: "another-auth-token-entirely-0000" });
    const from = { ...bad, headers: { ...bad.headers, "cf-connecting-ip": "203.0.113.7" } };
    const overrides = { AUTH_FAILURE_LIMITER: limiter };
    expect((await deliverWith(overrides, TW.assignmentCallbackUrl, from)).status).toBe(401);
    expect((await deliverWith(overrides, TW.assignmentCallbackUrl, from)).status).toBe(401);
    const third = await deliverWith(overrides, TW.assignmentCallbackUrl, from);
    expect(third.status).toBe(429);
    expect(JSON.parse(third.text)).toMatchObject({ success: false, errorCode: "rate_limited" });
    expect(counted).toEqual(["ip:203.0.113.7", "ip:203.0.113.7", "ip:203.0.113.7"]);
    const good = await forged(params);
    expect((await deliverWith(overrides, TW.assignmentCallbackUrl, { ...good, headers: { ...good.headers, "cf-connecting-ip": "203.0.113.7" } })).status).toBe(200);
    expect(counted).toHaveLength(3);
  });

  it("a callback for another Task naming the interaction (not the Task the proxy created) is rejected without assigning, and that Task cancelled", async () => {
    const { id, task: t } = await queued("other-task");
    const stray = await foreignTask({ ...t.parsedAttributes });
    const answer = await offer(stray);
    expect(answer.instruction).toBe("reject");
    expect((await read(id)).body.result.state).toBe("queued");
    await vi.waitFor(async () => expect((await task(stray)).assignment_status).toBe("canceled"), WAIT);
    expect((await task(t.sid)).assignment_status).toBe("pending");
    // The interaction's own Task is still granted.
    expect((await offer(t.sid)).instruction).toBe("accept");
  });

  it("a captured callback replayed later cannot assign: a timed-out reservation is rejected, the accepted one gets the same answer, a cancelled call stays cancelled", async () => {
    const { id, task: t } = await queued("replay");
    const first = workerSid();
    // TaskRouter's callback never reached the proxy (captured on the way); the reservation times out.
    const captured = (await control("reserve", { taskSid: t.sid, workerSid: first })) as CallbackDelivery;
    await control("timeout", { reservationSid: captured.reservationSid });
    const replayed = await post(captured);
    expect(replayed.instruction).toBe("reject");
    expect((await read(id)).body.result.state).toBe("queued");

    // A live offer is granted; replaying its callback gets the same answer and changes nothing.
    const second = workerSid();
    const live = (await control("reserve", { taskSid: t.sid, workerSid: second })) as CallbackDelivery;
    const granted = await post(live);
    expect(granted.instruction).toBe("accept");
    await control("answer", { reservationSid: live.reservationSid, status: granted.status, contentType: granted.contentType, body: granted.text });
    expect((await post(live)).instruction).toBe("accept");
    expect((await post(captured)).instruction).toBe("reject");
    expect((await read(id)).body.result).toMatchObject({ state: "assigned", upstream: { agentId: second } });

    // A cancelled call: the replay of a callback for it is rejected.
    const other = await queued("replay-cancelled");
    const held = (await control("reserve", { taskSid: other.task.sid, workerSid: workerSid() })) as CallbackDelivery;
    expect((await cancel(other.id)).body.success).toBe(true);
    expect((await post(held)).instruction).toBe("reject");
    expect((await read(other.id)).body.result.state).toBe("cancelled");
  });
});

describe("adapter classification (direct calls against the fake)", () => {
  const config = () => {
    const result = getConfig(env);
    if (!result.ok) throw new Error(result.problems.join("; "));
    return result.config;
  };
  const signal = () => AbortSignal.timeout(2000);

  async function taskIn(status: string): Promise<string> {
    const sid = await foreignTask({ interactionId: crypto.randomUUID() });
    if (status !== "pending") await control("status", { taskSid: sid, assignment_status: status });
    return sid;
  }

  it("cancel: assigned / wrapping / completed → too_late without an update; canceled or deleted → cancelled", async () => {
    const adapter = twilioAdapter(config());
    for (const status of ["assigned", "wrapping", "completed"]) {
      const sid = await taskIn(status);
      expect(await adapter.cancel({ interactionId: "x", upstreamId: sid }, signal())).toEqual({ kind: "too_late" });
      expect((await requestsFor(sid)).filter((r) => r.method === "POST")).toHaveLength(0);
    }
    const canceled = await taskIn("canceled");
    expect(await adapter.cancel({ interactionId: "x", upstreamId: canceled }, signal())).toEqual({ kind: "cancelled" });
    const gone = await taskIn("canceled");
    await control("delete", { taskSid: gone });
    expect(await adapter.cancel({ interactionId: "x", upstreamId: gone }, signal())).toEqual({ kind: "cancelled" });
  });

  it("cancel: a Task whose ETag keeps moving → three rounds of read + If-Match update, then a 412 retry", async () => {
    const sid = await taskIn("pending");
    await setFaults({ concurrentUpdates: 100 });
    expect(await twilioAdapter(config()).cancel({ interactionId: "x", upstreamId: sid }, signal())).toEqual({
      kind: "retry",
      reason: "the Task kept changing (HTTP 412)",
      status: 412,
    });
    const calls = await requestsFor(sid);
    expect(calls.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", "POST 412", "GET 200", "POST 412", "GET 200", "POST 412"]);
    expect(calls.filter((r) => r.method === "POST").map((r) => r.ifMatch)).toEqual(["0", "1", "2"]);
    expect((await task(sid)).assignment_status).toBe("pending");
  });

  it("cancel: a reserved Task is cancelled and its pending reservation with it", async () => {
    const sid = await foreignTask({ interactionId: crypto.randomUUID() });
    await control("reserve", { taskSid: sid, workerSid: workerSid() });
    expect(await twilioAdapter(config()).cancel({ interactionId: "x", upstreamId: sid }, signal())).toEqual({ kind: "cancelled" });
    const t = await task(sid);
    expect(t.assignment_status).toBe("canceled");
    expect(t.reservations[0]!.status).toBe("canceled");
  });

  it("cancel: throttling carries Retry-After; 503 and timeouts are retries; bad credentials are retries too (never 'cancelled')", async () => {
    const sid = await taskIn("pending");
    const adapter = twilioAdapter(config());
    await setFaults({ rateLimit: 1, retryAfterSeconds: 2 });
    expect(await adapter.cancel({ interactionId: "x", upstreamId: sid }, signal())).toMatchObject({ kind: "retry", status: 429, retryAfterMs: 2000 });
    await setFaults({ error503: 1 });
    expect(await adapter.cancel({ interactionId: "x", upstreamId: sid }, signal())).toMatchObject({ kind: "retry", status: 503 });
    await setFaults({ delayMs: 400 });
    expect(await adapter.cancel({ interactionId: "x", upstreamId: sid }, AbortSignal.timeout(100))).toEqual({ kind: "retry", reason: "timed out" });
    await setFaults({});
    const wrong = twilioAdapter({ ...config(), vendor: { ...(config().vendor as object), restPassword: "wrong" } });
    const refused: CancelResult = await wrong.cancel({ interactionId: "x", upstreamId: sid }, signal());
    expect(refused).toMatchObject({ kind: "retry", status: 401, reason: "authentication failed (HTTP 401, Twilio error 20003)" });
    expect((await task(sid)).assignment_status).toBe("pending");
  });

  it("dispatch: 400 → rejected with Twilio's code only; 429 without Retry-After → plain retry; mayExist finds a cancelled copy", async () => {
    const adapter = twilioAdapter(config());
    const request = { interactionId: crypto.randomUUID(), customerId: "c1", attributes: { a: "b" }, mayExist: false };
    await setFaults({ rejectCreatesWith: { status: 400, code: 20001 } });
    const rejected: DispatchResult = await adapter.dispatch(request, signal());
    expect(rejected).toEqual({ kind: "rejected", reason: "refused (HTTP 400, Twilio error 20001)", status: 400 });
    expect(JSON.stringify(rejected)).not.toContain(LEAK);
    await setFaults({ rateLimit: 1 });
    expect(await adapter.dispatch(request, signal())).toEqual({ kind: "retry", reason: "throttled (HTTP 429, Twilio error 20429)", status: 429 });
    await setFaults({});

    // A copy that exists (even cancelled) is found, never created again.
    const sid = await foreignTask({ interactionId: request.interactionId });
    await control("status", { taskSid: sid, assignment_status: "canceled" });
    expect(await adapter.dispatch({ ...request, mayExist: true }, signal())).toEqual({ kind: "accepted", upstreamId: sid });
    // Nothing there yet: look up, then create.
    const fresh = { ...request, interactionId: crypto.randomUUID(), mayExist: true };
    const made = await adapter.dispatch(fresh, signal());
    expect(made.kind).toBe("accepted");
    expect(await tasksOf(fresh.interactionId)).toHaveLength(1);
  });
});

describe("review: customerRef on the assignment callback's own log lines", () => {
  // Defect (design §6: "Every log line and metric about an interaction carries customerRef"): the Twilio
  // assignment route (src/upstreams/twilio/routes.ts) writes its own warn lines about an interaction
  // ("assignment callback for a reservation that is not pending; rejected", "… for a Task the
  // interaction does not follow; rejected", and a failed withdrawal's "upstream cancel") with the
  // interactionId but without the customer's reference, although it has just read the interaction.
  it("a rejected stale reservation's warn line carries the customer's reference", async () => {
    const { id, task: t } = await queued("review-ref");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const captured = (await control("reserve", { taskSid: t.sid, workerSid: workerSid() })) as CallbackDelivery;
      await control("timeout", { reservationSid: captured.reservationSid });
      expect((await post(captured)).instruction).toBe("reject");
      const lines = warn.mock.calls.map((args) => JSON.parse(String(args[0])) as Record<string, unknown>);
      const line = lines.find((l) => l.interactionId === id && String(l.msg).startsWith("assignment callback"));
      expect(line).toBeDefined();
      expect(line!.customerRef).toEqual(expect.any(String));
    } finally {
      warn.mockRestore();
      await cancel(id);
    }
  });
});
