/**
 * Personal data (issue 7, design §1 "customerId"/"identityNumber", §3 RETENTION_SECONDS):
 * - customerId and identityNumber (and attribute values) never reach the logs, across creates,
 *   reads, cancels, claims, validation and auth failures and every kind of upstream error;
 * - GET masks them;
 * - after a terminal state plus RETENTION_SECONDS the interaction's alarm deletes everything it
 *   stored and its customer-index entry; the id then answers 404, also after a restart.
 *
 * Project "security" (vitest.config.ts): the generic http upstream against a fake of its own,
 * UPSTREAM_TIMEOUT_MS=300, CREATE_DEADLINE_MS=1500, RETENTION_SECONDS=2. The tests of this file run
 * one after another and are the only ones that use that fake, so its faults are theirs alone
 * (signed-fuzz.test.ts, beside it, never makes the proxy call the upstream).
 *
 * Logs are captured with spies on console: the worker and its Durable Objects run in this isolate,
 * so their lines land in the spies (the tests check that the interactions' own lines are there).
 */
import { env, exports } from "cloudflare:workers";
import { customerStub } from "../../src/interactions/stubs";
import { latestIn, objectOf } from "../objects";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { signedHeaders, type Faults } from "../fakes/http-upstream";
import { ERROR_CODES } from "../integration/helpers";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const FAKE = "http://127.0.0.1:9";
const KEY = "security-key-0123456789abcdefghijklmnopqrstuv";
const API = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
const RETENTION_MS = 2000;
const WAIT = { timeout: 15_000, interval: 200 };

// ---------------------------------------------------------------------------------------------
// Captured output.

let spies: MockInstance[] = [];
beforeAll(() => {
  spies = (["log", "info", "warn", "error", "debug", "trace"] as const).map((level) => vi.spyOn(console, level).mockImplementation(() => {}));
});
afterAll(() => {
  vi.restoreAllMocks();
});

/** Every line printed so far by anything in this isolate. */
function printed(): string {
  return spies.flatMap((spy) => spy.mock.calls.map((args) => args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "))).join("\n");
}

function records(): Record<string, unknown>[] {
  return printed()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

// ---------------------------------------------------------------------------------------------
// The proxy, its fake upstream and the Durable Objects.

interface Answer {
  status: number;
  body: { success: boolean; errorMessage: string | null; errorCode?: string; result: any };
  text: string;
}

/** Calls the worker and checks the envelope invariant on the answer. */
async function proxy(path: string, init: RequestInit = {}): Promise<Answer> {
  const headers = new Headers(init.headers);
  if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", `198.18.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}`);
  const res = await exports.default.fetch(`http://proxy${path}`, { ...init, headers });
  const text = await res.text();
  expect(res.headers.get("content-type") ?? "", text).toMatch(/^application\/json/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  const body = JSON.parse(text) as Answer["body"];
  expect(body.success, text).toBe(res.status >= 200 && res.status < 300);
  if (!body.success) expect(ERROR_CODES as readonly string[]).toContain(body.errorCode);
  return { status: res.status, body, text };
}

const create = (payload: unknown, headers: Record<string, string> = API) =>
  proxy("/CreateInteraction", { method: "POST", headers, body: typeof payload === "string" ? payload : JSON.stringify(payload) });
const read = (id: string) => proxy(`/v1/interactions/${id}`, { headers: API });
const cancel = (id: string) => proxy(`/${id}`, { method: "DELETE", headers: API });

async function signed(path: string, payload: unknown): Promise<Answer> {
  const body = JSON.stringify(payload);
  return proxy(path, { method: "POST", headers: { "content-type": "application/json", ...(await signedHeaders(SECRET, body)) }, body });
}
const claim = (id: string, agentId: string) => signed(`/v1/upstream/interactions/${id}/claim`, { type: "claim", interactionId: id, agentId });
const event = (id: string, payload: Record<string, unknown>) => signed(`/v1/upstream/interactions/${id}/events`, { interactionId: id, ...payload });

async function control(path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${FAKE}/__control/${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  await res.body?.cancel();
}
const setFaults = (faults: Faults) => control("faults", faults);

const interactionObject = (id: string) => objectOf(id);
const customerObject = (customerId: string) => customerStub(env, customerId);

/** What a Durable Object has in storage: its keys and its pending alarm. */
function storedIn(stub: DurableObjectStub): Promise<{ keys: string[]; alarm: number | null }> {
  return runInDurableObject(stub, async (_instance, state) => ({
    keys: [...state.storage.kv.list()].map(([key]) => key),
    alarm: await state.storage.getAlarm(),
  }));
}

/** The customer's object holds nothing of them any more (it held only their interactions), and no alarm. */
async function expectNoIndexEntry(customerId: string): Promise<void> {
  expect(await storedIn(await customerObject(customerId))).toEqual({ keys: [], alarm: null });
  expect(await latestIn(await customerObject(customerId))).toBeUndefined();
}

/** Restarts a Durable Object: the running instance is thrown away; the next call builds a new one from storage. */
async function restart(stub: DurableObjectStub): Promise<void> {
  await expect(runInDurableObject(stub, (_instance, state) => state.abort("test restart"))).rejects.toThrow();
}

// ---------------------------------------------------------------------------------------------
// Personal data of this file: distinctive, so any appearance in a log line is found.

interface Person {
  customerId: string;
  identityNumber: string;
  attribute: string;
}
const people: Person[] = [];
function person(): Person {
  const p = {
    customerId: `pd-customer-${crypto.randomUUID()}`,
    identityNumber: `7${Array.from({ length: 10 }, () => Math.floor(Math.random() * 10)).join("")}`,
    attribute: `pd-attribute-${crypto.randomUUID()}`,
  };
  people.push(p);
  return p;
}
const bodyOf = (p: Person) => ({
  customerId: p.customerId,
  identityNumber: p.identityNumber,
  attachedData: [{ TRX: "Diyalog" }, { Note: p.attribute }],
});

function expectMasked(view: Record<string, unknown>, p: Person): void {
  expect(view.customerId).toBe("*".repeat(p.customerId.length - 2) + p.customerId.slice(-2));
  expect(view.identityNumber).toBe("*********" + p.identityNumber.slice(-2));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeEach(async () => {
  await control("reset", {});
});

// ---------------------------------------------------------------------------------------------

describe("customerId and identityNumber never reach the logs", () => {
  const ids: string[] = [];

  it("a call's whole life: create, masked read, claim, refused cancel, completion", async () => {
    const p = person();
    const created = await create(bodyOf(p));
    expect(created.status, created.text).toBe(200);
    const id = created.body.result.interactionId as string;
    ids.push(id);

    const view = await read(id);
    expect(view.status).toBe(200);
    expect(view.body.result.state).toBe("queued");
    expectMasked(view.body.result, p);
    expect(view.text).not.toContain(p.customerId);
    expect(view.text).not.toContain(p.identityNumber);

    expect((await claim(id, "agent-7")).status).toBe(200);
    const refused = await cancel(id);
    expect(refused.status).toBe(409);
    expect(refused.text).not.toContain(p.customerId);
    expect((await event(id, { type: "completed", reason: "call ended" })).status).toBe(200);
  });

  it("a repeat create (double tap) and a cancel while queued", async () => {
    const p = person();
    const first = await create(bodyOf(p));
    const again = await create({ ...bodyOf(p), attachedData: { Note: p.attribute } });
    expect(again.body.result.interactionId).toBe(first.body.result.interactionId);
    const id = first.body.result.interactionId as string;
    ids.push(id);
    expectMasked((await read(id)).body.result, p);
    const done = await cancel(id);
    expect(done.body.result).toEqual({ interactionId: id, state: "cancelled" });
  });

  it("refused requests carrying personal data: validation, malformed JSON, wrong key, wrong media type", async () => {
    const p = person();
    const long = await create({ ...bodyOf(p), identityNumber: p.identityNumber.repeat(7) });
    expect(long.body.errorCode).toBe("validation_failed");
    expect(long.text).not.toContain(p.identityNumber);
    const control = await create({ ...bodyOf(p), customerId: `${p.customerId}\u0007` });
    expect(control.body.errorCode).toBe("validation_failed");
    expect(control.text).not.toContain(p.customerId);
    const nested = await create({ ...bodyOf(p), attachedData: { Note: { value: p.attribute } } });
    expect(nested.body.errorCode).toBe("validation_failed");
    const broken = await create(JSON.stringify(bodyOf(p)).slice(0, -1));
    expect(broken.body.errorCode).toBe("invalid_json");
    expect(broken.text).not.toContain(p.customerId);
    const unauthorized = await create(bodyOf(p), { ...API, authorization: "Bearer not-the-key" });
    expect(unauthorized.body.errorCode).toBe("unauthorized");
    const media = await create(bodyOf(p), { ...API, "content-type": "text/plain" });
    expect(media.body.errorCode).toBe("unsupported_media_type");
  });

  it("upstream refuses for good (422) → 502 upstream_rejected; the read still masks", async () => {
    await setFaults({ rejectCreatesWith: 422 });
    const p = person();
    const refused = await create(bodyOf(p));
    expect(refused.status, refused.text).toBe(502);
    expect(refused.body.errorCode).toBe("upstream_rejected");
    const id = refused.body.result.interactionId as string;
    ids.push(id);
    expect(refused.text).not.toContain("upstream-internal-detail");
    const view = await read(id);
    // Purged already if the machine was slow; otherwise failed and masked.
    if (view.status === 200) {
      expect(view.body.result.state).toBe("failed");
      expectMasked(view.body.result, p);
    } else {
      expect(view.body.errorCode).toBe("not_found");
    }
  });

  it("upstream down (503s), then timing out, then throttling with Retry-After", async () => {
    for (const faults of [{ error503: 1 }, { delayMs: 1000 }] as Faults[]) {
      await setFaults(faults);
      const p = person();
      const answer = await create(bodyOf(p));
      expect(answer.status, answer.text).toBe(503);
      expect(answer.body.errorCode).toBe("upstream_unavailable");
      ids.push(answer.body.result.interactionId as string);
    }
    await setFaults({ rateLimit: 0.5, retryAfterSeconds: 0 });
    const p = person();
    const answer = await create(bodyOf(p));
    expect([200, 503], answer.text).toContain(answer.status);
    ids.push(answer.body.result.interactionId as string);
    await setFaults({});
    // Resolving the lost creates (re-sent with the same key, then cancelled) also logs.
    for (const id of ids.slice(-3)) {
      await vi.waitFor(async () => {
        await runDurableObjectAlarm(interactionObject(id));
        const view = await read(id);
        if (view.status === 200) expect(view.body.result.upstream.cleanup ?? "none").not.toBe("pending");
      }, WAIT);
    }
  });

  it("a cancel while the upstream is unreachable (202 cancelling), completed after it recovers", async () => {
    const p = person();
    const created = await create(bodyOf(p));
    const id = created.body.result.interactionId as string;
    ids.push(id);
    await setFaults({ error503: 1 });
    const answer = await cancel(id);
    expect(answer.status, answer.text).toBe(202);
    expect(answer.body.result.state).toBe("cancelling");
    await setFaults({});
    await vi.waitFor(async () => {
      await runDurableObjectAlarm(interactionObject(id));
      const view = await read(id);
      if (view.status === 200) expect(view.body.result.state).toBe("cancelled");
    }, WAIT);
  });

  it("no request data chooses where the proxy connects: every upstream call goes to UPSTREAM_URL (SSRF)", async () => {
    const real = globalThis.fetch;
    const targets: string[] = [];
    const requestIds: (string | null)[] = [];
    // The http adapter takes `fetch` when the interaction's object is built, which happens after this.
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation((input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.includes("/__control/")) {
        targets.push(url);
        requestIds.push(new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)).get("x-request-id"));
      }
      return real(input, init);
    });
    const offeredId = "evil\tid; injected=1";
    try {
      const p = person();
      const evil = "http://169.254.169.254/latest/meta-data/";
      const created = await create(
        { ...bodyOf(p), url: evil, attachedData: { url: evil, host: "evil.example", callback: "https://evil.example/hook", Note: p.attribute } },
        {
          ...API,
          "x-forwarded-host": "evil.example",
          "x-forwarded-proto": "http",
          forwarded: "for=1.2.3.4;host=evil.example;proto=http",
          "x-original-url": evil,
          "x-rewrite-url": evil,
          origin: "https://evil.example",
          referer: evil,
          "x-request-id": offeredId,
        },
      );
      expect(created.status, created.text).toBe(200);
      const id = created.body.result.interactionId as string;
      ids.push(id);
      expect((await cancel(id)).status).toBe(200);
      expect(targets.length).toBeGreaterThanOrEqual(2);
      for (const target of targets) expect(target).toMatch(/^http:\/\/127\.0\.0\.1:9\/interactions(\/up_[0-9a-f-]+)?$/);
      // The request id that travels upstream is the proxy's own, not the unusable one offered.
      expect(requestIds[0]).toMatch(/^[0-9a-f-]{36}$/);
      for (const sent of requestIds) expect(sent).not.toBe(offeredId);
    } finally {
      spy.mockRestore();
    }
  });

  it("none of it printed a customerId, identityNumber or attribute value (and the capture saw the interactions)", () => {
    const text = printed();
    const lines = records();
    // The capture works: each interaction's transitions (on the line of the request that caused
    // them, or on their own), and upstream calls that failed, are in it.
    const moved = (r: (typeof lines)[number]) => r.msg === "transition" || (r.msg === "request" && typeof r.transitions === "string");
    for (const id of ids) expect(lines.some((r) => moved(r) && r.interactionId === id), `transitions of ${id}`).toBe(true);
    // Failed upstream calls have lines of their own; a successful one is on the transition it caused.
    const dispatches = lines.filter((r) => r.msg === "upstream dispatch");
    const outcomes = new Set(dispatches.map((r) => r.outcome));
    expect(outcomes.has("rejected") && outcomes.has("retry")).toBe(true);
    expect(lines.some((r) => r.msg === "request" && String(r.transitions).endsWith(">queued") && r.upstreamOutcome === "accepted")).toBe(true);
    expect(lines.some((r) => r.msg === "upstream cancel" && r.outcome === "retry")).toBe(true);
    expect(lines.some((r) => r.msg === "authentication failed")).toBe(true);
    expect(lines.some((r) => r.msg === "request" && r.status === 400)).toBe(true);

    expect(people.length).toBeGreaterThanOrEqual(8);
    for (const p of people) {
      expect(text).not.toContain(p.customerId);
      expect(text).not.toContain(p.identityNumber);
      expect(text).not.toContain(p.attribute);
      // Nor a recognisable piece of them.
      expect(text).not.toContain(p.customerId.slice("pd-customer-".length, "pd-customer-".length + 13));
      expect(text).not.toContain(p.identityNumber.slice(0, 8));
    }
    expect(text).not.toContain(KEY);
    expect(text).not.toContain("not-the-key");
  });
});

describe("purge after a terminal state + RETENTION_SECONDS (2 s in this project)", () => {
  /** Waits until the id answers 404, running the interaction's alarm between tries. */
  async function purged(id: string): Promise<void> {
    await vi.waitFor(async () => {
      await runDurableObjectAlarm(interactionObject(id));
      expect((await read(id)).status).toBe(404);
    }, WAIT);
  }

  it("a cancelled interaction: kept until retention ends, then everything is deleted and the id answers 404", async () => {
    const p = person();
    const created = await create(bodyOf(p));
    const id = created.body.result.interactionId as string;
    const terminalAt = Date.now();
    expect((await cancel(id)).body.result.state).toBe("cancelled");

    // Until retention ends the data is there (masked), with an alarm at the purge time.
    const before = await read(id);
    expect(before.status).toBe(200);
    expectMasked(before.body.result, p);
    let stored = await storedIn(interactionObject(id));
    expect(stored.keys).toEqual([`ix:${id}`]);
    expect(stored.alarm).not.toBeNull();
    // The stored alarm moves only earlier while requests run (fewer writes): an earlier one (the
    // dispatch's fallback) runs first, keeps the data, and sets the alarm to the purge time.
    if (stored.alarm! < terminalAt + RETENTION_MS - 100) {
      await runDurableObjectAlarm(interactionObject(id));
      expect((await read(id)).status).toBe(200);
      stored = await storedIn(interactionObject(id));
    }
    expect(stored.alarm).toBeGreaterThanOrEqual(terminalAt + RETENTION_MS - 100);
    expect(await latestIn(await customerObject(p.customerId))).toBe(id);
    // The customer's object is named by a keyed digest of the customerId, which its keys never carry.
    expect(stored.keys.join(" ")).not.toContain(p.customerId);

    await purged(id);
    expect(Date.now() - terminalAt).toBeGreaterThanOrEqual(RETENTION_MS - 100);

    // Nothing is left: no record, no alarm, no customer-index entry.
    expect(await storedIn(interactionObject(id))).toEqual({ keys: [], alarm: null });
    await expectNoIndexEntry(p.customerId);
    // Every route treats the id as unknown.
    expect((await cancel(id)).body.errorCode).toBe("not_found");
    expect((await claim(id, "agent-1")).status).toBe(404);
    expect((await event(id, { type: "completed" })).status).toBe(404);

    // After a restart the instance is built from storage: still nothing.
    await restart(interactionObject(id));
    await restart(await customerObject(p.customerId));
    expect((await read(id)).body.errorCode).toBe("not_found");
    expect(await storedIn(interactionObject(id))).toEqual({ keys: [], alarm: null });

    // The customer is free: a new create makes a new interaction.
    const again = await create(bodyOf(p));
    expect(again.status).toBe(200);
    expect(again.body.result.interactionId).not.toBe(id);
    await cancel(again.body.result.interactionId as string);
  });

  it("one customer's two interactions share an object and its alarm: the older is purged, the waiting one kept", async () => {
    const p = person();
    const first = (await create(bodyOf(p))).body.result.interactionId as string;
    expect((await cancel(first)).body.result.state).toBe("cancelled");
    const second = (await create(bodyOf(p))).body.result.interactionId as string;
    expect(second).not.toBe(first);
    expect(second.slice(0, 64)).toBe(first.slice(0, 64)); // the same customer object

    await purged(first);
    const stored = await storedIn(interactionObject(second));
    expect(stored.keys).toEqual([`ix:${second}`]);
    // The waiting call keeps an alarm (its queue timeout, or an earlier one that will set it).
    expect(stored.alarm).not.toBeNull();
    expect((await read(second)).body.result.state).toBe("queued");
    expect(await latestIn(await customerObject(p.customerId))).toBe(second);

    expect((await cancel(second)).body.result.state).toBe("cancelled");
    await purged(second);
    expect(await storedIn(interactionObject(second))).toEqual({ keys: [], alarm: null });
    await expectNoIndexEntry(p.customerId);
  });

  it("a restart between the terminal state and the purge: the stored alarm still purges", async () => {
    await setFaults({ rejectCreatesWith: 422 });
    const p = person();
    const failed = await create(bodyOf(p));
    expect(failed.status).toBe(502);
    const id = failed.body.result.interactionId as string;

    // The object that knew the interaction is gone before retention ends.
    await restart(interactionObject(id));
    const view = await read(id);
    expect(view.status).toBe(200);
    expect(view.body.result.state).toBe("failed");
    expectMasked(view.body.result, p);

    await purged(id);
    expect(await storedIn(interactionObject(id))).toEqual({ keys: [], alarm: null });
    await expectNoIndexEntry(p.customerId);
    await restart(interactionObject(id));
    expect((await read(id)).status).toBe(404);
  });

  it("an assigned interaction is purged too, and an interaction that is still waiting is not", async () => {
    const assigned = person();
    const a = (await create(bodyOf(assigned))).body.result.interactionId as string;
    expect((await claim(a, "agent-2")).status).toBe(200);
    const waiting = person();
    const w = (await create(bodyOf(waiting))).body.result.interactionId as string;

    await purged(a);
    await sleep(RETENTION_MS);
    await runDurableObjectAlarm(interactionObject(w));
    const still = await read(w);
    expect(still.status).toBe(200);
    expect(still.body.result.state).toBe("queued");
    expect(await latestIn(await customerObject(waiting.customerId))).toBe(w);
    await cancel(w);
  });
});
