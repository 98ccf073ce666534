/** The `twilio-taskrouter` variables (design §3): required names, SID shapes, credential pairs, URL override. */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { parseTwilioConfig, type TwilioConfig } from "../../src/upstreams/twilio/config";

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
