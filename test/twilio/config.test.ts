/** The `twilio-taskrouter` variables (design §3): required names, SID shapes, credential pairs, URL override. */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { parseTwilioConfig, type TwilioConfig } from "../../src/upstreams/twilio/config";
import { CustomerInteractions } from "../../src/interactions/customer-interactions";
import { newInteractionId } from "../../src/interactions/stubs";
import { apply, createInteraction, type Context, type Event, type Interaction } from "../../src/interactions/machine";
import { objectOf } from "../objects";
import { TWILIO_OPTIONS } from "./settings";

const AC = `AC${"0123456789abcdef".repeat(2)}`;
const WS = `WS${"0123456789abcdef".repeat(2)}`;
const WW = `WW${"0123456789ABCDEF".repeat(2)}`;
const SK = `SK${"fedcba9876543210".repeat(2)}`;
const BASE = { UPSTREAM: "twilio-taskrouter", TWILIO_ACCOUNT_SID: AC, TWILIO_AUTH_TOKEN: "token-secret-value", TWILIO_WORKSPACE_SID: WS, TWILIO_WORKFLOW_SID: WW };

function vendor(env: Record<string, unknown>): TwilioConfig {
  const result = parseConfig(env);
  if (!result.ok) throw new Error(result.problems.join("; "));
  return result.config.vendor as TwilioConfig;
}

function problems(env: Record<string, unknown>): string[] {
  const result = parseTwilioConfig(env);
  if (result.ok) throw new Error("expected problems");
  return result.problems;
}

describe("twilio-taskrouter configuration", () => {
  it("the minimal set: REST with AccountSid:AuthToken, the public TaskRouter URL", () => {
    expect(vendor(BASE)).toEqual({
      accountSid: AC,
      authToken: "token-secret-value",
      restUser: AC,
      restPassword: "token-secret-value",
      workspaceSid: WS,
      workflowSid: WW,
      apiUrl: "https://taskrouter.twilio.com",
    });
  });

  it("an API key pair is used for REST; the auth token still verifies callbacks", () => {
    const v = vendor({ ...BASE, TWILIO_API_KEY_SID: SK, TWILIO_API_KEY_SECRET: "key-secret", TWILIO_API_URL: "http://127.0.0.1:9/" });
    expect(v).toMatchObject({ restUser: SK, restPassword: "key-secret", authToken: "token-secret-value", apiUrl: "http://127.0.0.1:9" });
  });

  it("every missing variable is named, once", () => {
    const list = problems({});
    expect(list).toEqual([
      "TWILIO_ACCOUNT_SID: required when UPSTREAM=twilio-taskrouter",
      "TWILIO_AUTH_TOKEN: required (it verifies the assignment callbacks)",
      "TWILIO_WORKSPACE_SID: required when UPSTREAM=twilio-taskrouter",
      "TWILIO_WORKFLOW_SID: required when UPSTREAM=twilio-taskrouter",
    ]);
    // The app-wide parse reports the same problems (and then every request answers 503 config_invalid).
    const result = parseConfig({ UPSTREAM: "twilio-taskrouter" });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toEqual(list);
  });

  it("SIDs must have their prefix and 32 hex digits", () => {
    expect(problems({ ...BASE, TWILIO_WORKSPACE_SID: WW })).toEqual(["TWILIO_WORKSPACE_SID: must be WS followed by 32 hex digits"]);
    expect(problems({ ...BASE, TWILIO_WORKFLOW_SID: `${WW}0` })).toEqual(["TWILIO_WORKFLOW_SID: must be WW followed by 32 hex digits"]);
    expect(problems({ ...BASE, TWILIO_ACCOUNT_SID: "ACxyz" })).toEqual(["TWILIO_ACCOUNT_SID: must be AC followed by 32 hex digits"]);
  });

  it("an API key needs both halves", () => {
    expect(problems({ ...BASE, TWILIO_API_KEY_SID: SK })).toEqual(["TWILIO_API_KEY_SECRET: required when TWILIO_API_KEY_SID is set"]);
    expect(problems({ ...BASE, TWILIO_API_KEY_SECRET: "s" })).toEqual(["TWILIO_API_KEY_SID: required when TWILIO_API_KEY_SECRET is set"]);
    expect(problems({ ...BASE, TWILIO_API_KEY_SID: "SK1", TWILIO_API_KEY_SECRET: "s" })).toEqual([
      "TWILIO_API_KEY_SID: must be SK followed by 32 hex digits",
    ]);
  });

  it("TWILIO_API_URL: https, or plain http only on this machine; no credentials or query", () => {
    expect(problems({ ...BASE, TWILIO_API_URL: "http://taskrouter.example.com" })).toEqual([
      "TWILIO_API_URL: must use https (plain http only for localhost/127.0.0.1)",
    ]);
    expect(problems({ ...BASE, TWILIO_API_URL: "https://u:p@taskrouter.example.com" })).toEqual([
      "TWILIO_API_URL: must not carry credentials, a query or a fragment",
    ]);
    expect(problems({ ...BASE, TWILIO_API_URL: "not a url" })).toEqual(["TWILIO_API_URL: must be an absolute URL"]);
  });

  it("no problem ever repeats a secret's value", () => {
    const secret = "super-secret-token-value";
    const list = problems({ ...BASE, TWILIO_AUTH_TOKEN: secret, TWILIO_API_KEY_SID: secret, TWILIO_API_KEY_SECRET: secret, TWILIO_ACCOUNT_SID: secret });
    expect(list.length).toBeGreaterThan(0);
    for (const p of list) expect(p).not.toContain(secret);
  });
});

describe("secrets are checked when the configuration is parsed (issue 12, defect 4)", () => {
  const token = "0f3c9d6e2b8a47159e6d3c2b1a0f9e8d";
  it.each([
    ["a zero-width space", `${token.slice(0, 8)}\u200b${token.slice(8)}`],
    ["a byte-order mark inside", `${token.slice(0, 8)}\ufeff${token.slice(8)}`],
    ["a space inside", `${token.slice(0, 8)} ${token.slice(8)}`],
    ["a line break inside", `${token.slice(0, 8)}\n${token.slice(8)}`],
    ["a non-Latin-1 letter", `${token.slice(0, 8)}ş${token.slice(8)}`],
    ["a Latin-1 letter", `${token.slice(0, 8)}é${token.slice(8)}`],
  ])("%s in TWILIO_AUTH_TOKEN or TWILIO_API_KEY_SECRET is named, never echoed", (_name, bad) => {
    const rule = "must be printable ASCII without spaces (check for a pasted invisible character)";
    expect(problems({ ...BASE, TWILIO_AUTH_TOKEN: bad })).toEqual([`TWILIO_AUTH_TOKEN: ${rule}`]);
    expect(problems({ ...BASE, TWILIO_API_KEY_SID: SK, TWILIO_API_KEY_SECRET: bad })).toEqual([`TWILIO_API_KEY_SECRET: ${rule}`]);
    for (const p of problems({ ...BASE, TWILIO_AUTH_TOKEN: bad })) expect(p).not.toContain(token.slice(8));
  });

  it("surrounding whitespace is dropped, as for every variable", () => {
    expect(vendor({ ...BASE, TWILIO_AUTH_TOKEN: ` ${token}\n` }).authToken).toBe(token);
  });
});

/**
 * The customer's Durable Object (`CustomerInteractions`) constructed, on its real storage, with a
 * broken Twilio configuration (a zero-width space pasted into TWILIO_API_KEY_SECRET once made `btoa`
 * throw in the constructor, so every read, cancel and alarm of every interaction failed). The records are written
 * straight into storage with the pure machine, so nothing here touches the TaskRouter fake.
 */
describe("an interaction's object under a broken Twilio configuration (issue 12, defect 4)", () => {
  const brokenEnv = {
    ...env,
    TWILIO_API_KEY_SECRET: `${TWILIO_OPTIONS.apiKeySecret.slice(0, 10)}\u200b${TWILIO_OPTIONS.apiKeySecret.slice(10)}`,
    UPSTREAM_TIMEOUT_MS: "100",
    RETENTION_SECONDS: "0",
  } as unknown as Env;

  /** A record moved through `events` by the pure machine, as the object would have stored it. */
  function record(events: Event[]): Interaction {
    const now = Date.now();
    const ctx: Context = { now, canVeto: true, queueTimeoutMs: 1_800_000, retentionMs: 0 };
    const interactionId = newInteractionId(env.CUSTOMER_INTERACTIONS.newUniqueId().toString());
    let ix = createInteraction({ interactionId, customerId: "c-broken", attributes: { TRX: "Diyalog" } }, "twilio-taskrouter", now, 3000);
    for (const event of events) ix = apply(ix, event, ctx).interaction;
    return ix;
  }
  const queued: Event[] = [{ type: "dispatch_started" }, { type: "dispatch_accepted", upstreamId: `WT${"e5".repeat(16)}` }];

  /**
   * Records alarms instead of setting them while `work` runs: a real alarm would run on the object
   * that workerd built with this project's valid configuration, not on the one under test.
   */
  async function recordingAlarms(state: DurableObjectState, work: (alarms: (number | null)[]) => Promise<void>): Promise<void> {
    const alarms: (number | null)[] = [];
    const storage = state.storage as unknown as Record<string, unknown>;
    Object.defineProperty(storage, "setAlarm", { configurable: true, value: (at: number | Date) => void alarms.push(Number(at)) });
    Object.defineProperty(storage, "deleteAlarm", { configurable: true, value: () => void alarms.push(null) });
    try {
      await work(alarms);
    } finally {
      delete storage.setAlarm;
      delete storage.deleteAlarm;
    }
  }

  it("the configuration is invalid, naming the variable", () => {
    const result = parseConfig(brokenEnv as unknown as Record<string, unknown>);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toEqual(["TWILIO_API_KEY_SECRET: must be printable ASCII without spaces (check for a pasted invisible character)"]);
  });

  it("starts, reads, and records a cancel: the veto holds and the cancel answers 202 cancelling", async () => {
    const ix = record(queued);
    const id = ix.interactionId;
    await runInDurableObject(objectOf(id), (_real, state) => recordingAlarms(state, async (alarms) => {
      state.storage.kv.put(`ix:${id}`, ix);
      const object = new CustomerInteractions(state, brokenEnv);
      expect((await object.get(id))?.state).toBe("queued");
      // The upstream cannot be reached: the cancel is recorded and kept (Twilio can veto → 202).
      expect(await object.cancel(id)).toMatchObject({ kind: "cancelling", interactionId: id });
      const stored = state.storage.kv.get<Interaction>(`ix:${id}`)!;
      expect(stored.state).toBe("cancelling");
      expect(stored.upstream.copies).toEqual([{ id: ix.upstream.copies[0]!.id, cleanup: "pending" }]);
      // The claim veto holds: TaskRouter's assignment callback is refused.
      expect(await object.claim(id, `WK${"f6".repeat(16)}`)).toMatchObject({ proceed: false, reason: "cancelling" });
      // The cancel is retried by an alarm, which runs and keeps it.
      expect(alarms.at(-1)).toBeGreaterThan(0);
      await object.alarm();
      expect(state.storage.kv.get<Interaction>(`ix:${id}`)!.state).toBe("cancelling");
      expect(alarms.at(-1)).toBeGreaterThan(0);
      await state.storage.deleteAll();
    }));
  });

  it("an alarm still purges a terminal interaction after retention", async () => {
    const ix = record([...queued, { type: "cancel_requested" }, { type: "upstream_cancelled", upstreamId: `WT${"e5".repeat(16)}` }]);
    expect(ix.state).toBe("cancelled");
    const id = ix.interactionId;
    const stub = objectOf(id);
    await runInDurableObject(stub, (_real, state) => recordingAlarms(state, async () => {
      state.storage.kv.put(`ix:${id}`, ix);
      const object = new CustomerInteractions(state, brokenEnv);
      expect((await object.get(id))?.state).toBe("cancelled");
      expect(await object.cancel(id)).toMatchObject({ kind: "done", interactionId: id, state: "cancelled" });
      await object.alarm();
      expect([...state.storage.kv.list()]).toEqual([]);
      expect(await state.storage.getAlarm()).toBeNull();
      expect(await object.get(id)).toBeNull();
    }));
    // No alarm is left behind to run on the object either.
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });
});
