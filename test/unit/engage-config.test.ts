import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { callWithEnv, expectFailure, KEY } from "../integration/helpers";

/**
 * `UPSTREAM=genesys-engage` configuration (design §3) and the on-premises variables
 * (`UPSTREAM_ACCESS_CLIENT_ID` / `_SECRET`): every problem names its variable, never a value;
 * requests answer 503 config_invalid naming it, and /healthz reports it.
 */

const NEXUS = {
  UPSTREAM: "genesys-engage",
  ENGAGE_API: "nexus",
  ENGAGE_URL: "https://nexus.bank.example",
  ENGAGE_SERVICE: "diyalog-video",
  ENGAGE_API_KEY: "nexus-key",
};
const GMS = { UPSTREAM: "genesys-engage", ENGAGE_API: "gms", ENGAGE_URL: "https://gms.bank.internal:8080", ENGAGE_SERVICE: "diyalog" };

function problems(env: Record<string, unknown>): string[] {
  const result = parseConfig(env);
  return result.ok ? [] : result.problems;
}

describe("genesys-engage configuration", () => {
  it("valid nexus and gms configurations parse (gms without basic auth too)", () => {
    for (const env of [NEXUS, GMS, { ...GMS, ENGAGE_USERNAME: "svc", ENGAGE_PASSWORD: "p4ss" }]) {
      const result = parseConfig(env);
      if (!result.ok) throw new Error(result.problems.join("; "));
      expect(result.config.upstream).toBe("genesys-engage");
      expect(result.config.vendor).toMatchObject({ api: env.ENGAGE_API, service: env.ENGAGE_SERVICE, pollSeconds: 5 });
    }
  });

  it.each([
    ["ENGAGE_API missing", { ...NEXUS, ENGAGE_API: undefined }, "ENGAGE_API"],
    ["ENGAGE_API unknown", { ...NEXUS, ENGAGE_API: "soap" }, "ENGAGE_API"],
    ["ENGAGE_URL missing", { ...GMS, ENGAGE_URL: undefined }, "ENGAGE_URL"],
    ["ENGAGE_URL plain http to another host", { ...GMS, ENGAGE_URL: "http://gms.bank.internal" }, "ENGAGE_URL"],
    ["ENGAGE_SERVICE missing", { ...GMS, ENGAGE_SERVICE: " " }, "ENGAGE_SERVICE"],
    ["ENGAGE_SERVICE with a slash", { ...GMS, ENGAGE_SERVICE: "a/b" }, "ENGAGE_SERVICE"],
    ["ENGAGE_API_KEY missing for nexus", { ...NEXUS, ENGAGE_API_KEY: undefined }, "ENGAGE_API_KEY"],
    ["ENGAGE_API_KEY with a pasted zero-width space", { ...NEXUS, ENGAGE_API_KEY: "key\u200b" }, "ENGAGE_API_KEY"],
    ["ENGAGE_PASSWORD without a user", { ...GMS, ENGAGE_PASSWORD: "p" }, "ENGAGE_USERNAME"],
    ["ENGAGE_USERNAME without a password", { ...GMS, ENGAGE_USERNAME: "u" }, "ENGAGE_USERNAME"],
    ["ENGAGE_POLL_SECONDS out of range", { ...GMS, ENGAGE_POLL_SECONDS: "0" }, "ENGAGE_POLL_SECONDS"],
    ["UPSTREAM_ACCESS_CLIENT_SECRET without the id", { ...GMS, UPSTREAM_ACCESS_CLIENT_SECRET: "s" }, "UPSTREAM_ACCESS_CLIENT_ID"],
    ["UPSTREAM_ACCESS_CLIENT_ID without the secret", { ...GMS, UPSTREAM_ACCESS_CLIENT_ID: "id.access" }, "UPSTREAM_ACCESS_CLIENT_SECRET"],
    ["UPSTREAM_ACCESS_CLIENT_SECRET with a line break", { ...GMS, UPSTREAM_ACCESS_CLIENT_ID: "id", UPSTREAM_ACCESS_CLIENT_SECRET: "a\nb" }, "UPSTREAM_ACCESS_CLIENT_SECRET"],
  ])("%s → one problem naming %s, without the value", (_label, env, name) => {
    const list = problems(env);
    expect(list).toHaveLength(1);
    expect(list[0]!.startsWith(`${name}: `), list[0]).toBe(true);
    for (const secret of ["nexus-key", "key\u200b", "p4ss", "a\nb"]) expect(list[0]).not.toContain(secret);
  });

  it("only upstream variables wrong: the rest of the configuration stays usable (cancels can be recorded)", () => {
    const result = parseConfig({ ...NEXUS, ENGAGE_SERVICE: undefined, DIYALOG_API_KEYS: "k".repeat(32) });
    expect(result.ok).toBe(false);
    expect(result.ok ? undefined : result.withoutUpstream?.upstream).toBe("genesys-engage");
  });

  it("the Access service token reaches the config only as a pair", () => {
    const both = parseConfig({ ...GMS, UPSTREAM_ACCESS_CLIENT_ID: "id.access", UPSTREAM_ACCESS_CLIENT_SECRET: "secret" });
    expect(both.ok && both.config.access).toEqual({ clientId: "id.access", clientSecret: "secret" });
    const none = parseConfig(GMS);
    expect(none.ok && none.config.access).toBeUndefined();
  });

  it("a missing Engage variable: requests answer 503 config_invalid naming it, and /healthz names it", async () => {
    const env = { ...NEXUS, ENGAGE_API_KEY: undefined, DIYALOG_API_KEYS: KEY };
    const health = await callWithEnv(env, "/healthz");
    expectFailure(health, 503, "config_invalid");
    expect(health.body.errorMessage).toContain("ENGAGE_API_KEY");
    expect(JSON.stringify(health.body.result)).toContain("ENGAGE_API_KEY");
    const create = await callWithEnv(env, "/CreateInteraction", {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ customerId: "c-engage-config" }),
    });
    expectFailure(create, 503, "config_invalid");
    expect(create.body.errorMessage).toContain("ENGAGE_API_KEY");
  });

  it("a bad ENGAGE_API is named by /healthz", async () => {
    const health = await callWithEnv({ ...GMS, ENGAGE_API: "rest" }, "/healthz");
    expectFailure(health, 503, "config_invalid");
    expect(health.body.errorMessage).toContain("ENGAGE_API:");
  });
});
