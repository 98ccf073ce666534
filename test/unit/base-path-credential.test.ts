import { describe, expect, it } from "vitest";
import { MIN_API_KEY_LENGTH, parseConfig } from "../../src/config";

/**
 * Header-less mode (README "Deploying for Diyalog"): with ALLOW_UNAUTHENTICATED=true and no key, the
 * secret DIYALOG_BASE_PATH is the only credential of the Diyalog routes. The rule that keeps an API
 * key from being guessable (at least MIN_API_KEY_LENGTH characters) holds for it too.
 */

const SECRET = `whsec_${btoa("s".repeat(32))}`;
const PRODUCTION = { ENVIRONMENT: "production", UPSTREAM: "http", UPSTREAM_URL: "https://queue.bank.example/api", UPSTREAM_SIGNING_SECRET: SECRET, ALLOW_UNAUTHENTICATED: "true", PERSONAL_DATA_KEYS: btoa("k".repeat(32)), CUSTOMER_REF_KEY: btoa("r".repeat(32)) };

describe("DIYALOG_BASE_PATH as the only credential", () => {
  it.each(["/d", "/diyalog", "/d/1234"])("production refuses the guessable prefix %s when it is the only credential", (path) => {
    const result = parseConfig({ ...PRODUCTION, DIYALOG_BASE_PATH: path });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems.join("\n")).toMatch(/DIYALOG_BASE_PATH/);
  });

  it("a prefix with as much secret as a key is accepted", () => {
    const path = `/d/${"a1".repeat(MIN_API_KEY_LENGTH / 2)}`;
    expect(parseConfig({ ...PRODUCTION, DIYALOG_BASE_PATH: path }).ok).toBe(true);
  });
});
