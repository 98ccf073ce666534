import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { checkConfig, parseDevVars, parseSecretList } from "../../scripts/lib/check-config";
import wranglerToml from "../../wrangler.toml?raw";

/**
 * `npm run check-config` (issue 17): the worker's own parser over an environment's vars and the
 * names (or, locally, values) of its secrets, so a typo or a forgotten secret shows before a deploy.
 */

const LONG_KEY = "k".repeat(40);
const SECRET = `whsec_${btoa("s".repeat(32))}`;

/** `wrangler secret list --env production` output, as piped in. */
const SECRET_LIST = `[
  { "name": "DIYALOG_API_KEYS", "type": "secret_text" },
  { "name": "PERSONAL_DATA_KEYS", "type": "secret_text" },
  { "name": "CUSTOMER_REF_KEY", "type": "secret_text" }
]`;
/** The personal-data secrets a production environment needs (README "Going live"). */
const DATA_SECRETS = ["PERSONAL_DATA_KEYS", "CUSTOMER_REF_KEY"];
const DATA_KEYS = { PERSONAL_DATA_KEYS: btoa("k".repeat(32)), CUSTOMER_REF_KEY: btoa("r".repeat(32)) };

/** A sample production environment: the http upstream, one var mistyped, the signing secret never set. */
const PRODUCTION_VARS = { ENVIRONMENT: "production", UPSTREAM: "http", UPSTREAM_URL: "http://queue.bank.example/api", QUEUE_TIMEOUT_SECONDS: "30m" };

describe("check-config over a sample production environment", () => {
  it("catches a missing secret and a bad var, naming each", () => {
    const result = checkConfig(PRODUCTION_VARS, { names: parseSecretList(SECRET_LIST) });
    expect(result.ok).toBe(false);
    const named = result.problems.map((p) => p.slice(0, p.indexOf(":"))).sort();
    expect(named).toEqual(["QUEUE_TIMEOUT_SECONDS", "UPSTREAM_SIGNING_SECRET", "UPSTREAM_URL"]);
    expect(result.problems.join("\n")).toContain("UPSTREAM_SIGNING_SECRET: required when UPSTREAM=http");
  });

  it("passes once the var is fixed and the secret is listed; secret values are not known, so not judged", () => {
    const vars = { ...PRODUCTION_VARS, UPSTREAM_URL: "https://queue.bank.example/api", QUEUE_TIMEOUT_SECONDS: "1800" };
    const result = checkConfig(vars, { names: ["DIYALOG_API_KEYS", "UPSTREAM_SIGNING_SECRET", ...DATA_SECRETS] });
    expect(result).toEqual({ ok: true, problems: [], unchecked: ["DIYALOG_API_KEYS", "UPSTREAM_SIGNING_SECRET", ...DATA_SECRETS] });
    // The worker, given real values of that shape, agrees.
    expect(parseConfig({ ...vars, DIYALOG_API_KEYS: LONG_KEY, UPSTREAM_SIGNING_SECRET: SECRET, ...DATA_KEYS }).ok).toBe(true);
  });

  it("production without the personal-data secrets is a problem (records would be sealed under the public development keys)", () => {
    const vars = { ...PRODUCTION_VARS, UPSTREAM_URL: "https://queue.bank.example/api", QUEUE_TIMEOUT_SECONDS: "1800" };
    const result = checkConfig(vars, { names: ["DIYALOG_API_KEYS", "UPSTREAM_SIGNING_SECRET"] });
    expect(result.problems).toEqual([expect.stringMatching(/^PERSONAL_DATA_KEYS: required when ENVIRONMENT=production/)]);
    expect(parseConfig({ ...vars, ENVIRONMENT: "staging", DIYALOG_API_KEYS: LONG_KEY, UPSTREAM_SIGNING_SECRET: SECRET }).ok).toBe(true);
  });

  it("no DIYALOG_API_KEYS secret is a problem (the routes would answer 503 auth_not_configured)", () => {
    const result = checkConfig({ ...PRODUCTION_VARS, UPSTREAM_URL: "https://queue.bank.example/api", QUEUE_TIMEOUT_SECONDS: "1800" }, { names: ["UPSTREAM_SIGNING_SECRET", ...DATA_SECRETS] });
    expect(result.problems).toEqual([expect.stringMatching(/^DIYALOG_API_KEYS: missing/)]);
  });

  it("production without UPSTREAM (vars are not inherited from the top level) is refused, not run as the simulator", () => {
    const result = checkConfig({ ENVIRONMENT: "production" }, { names: ["DIYALOG_API_KEYS", ...DATA_SECRETS] });
    expect(result.problems).toEqual([expect.stringMatching(/^UPSTREAM: required when ENVIRONMENT=production/)]);
  });

  it("a secret also set as a var is reported", () => {
    const result = checkConfig({ UPSTREAM: "simulator", DIYALOG_API_KEYS: LONG_KEY }, { names: ["DIYALOG_API_KEYS"] });
    expect(result.problems).toEqual([expect.stringMatching(/^DIYALOG_API_KEYS: set both as a var/)]);
  });
});

describe("check-config with .dev.vars: values are checked in full", () => {
  it("a short key and a short signing secret are refused, naming the variable and never the value", () => {
    const devVars = parseDevVars(`# local\nUPSTREAM=http\nUPSTREAM_URL="http://127.0.0.1:9999"\nDIYALOG_API_KEYS=short-key\nUPSTREAM_SIGNING_SECRET='whsec_AA=='\n`);
    expect(devVars).toEqual({ UPSTREAM: "http", UPSTREAM_URL: "http://127.0.0.1:9999", DIYALOG_API_KEYS: "short-key", UPSTREAM_SIGNING_SECRET: "whsec_AA==" });
    const result = checkConfig({}, { values: devVars });
    expect(result.problems.map((p) => p.slice(0, p.indexOf(":"))).sort()).toEqual(["DIYALOG_API_KEYS", "UPSTREAM_SIGNING_SECRET"]);
    expect(result.problems.join("\n")).not.toContain("short-key");
  });
});

describe("parseSecretList", () => {
  it("reads wrangler's JSON (after any banner) or one name a line", () => {
    expect(parseSecretList(` ⛅️ wrangler 4.86.0\n${SECRET_LIST}`)).toEqual(["DIYALOG_API_KEYS", ...DATA_SECRETS]);
    expect(parseSecretList("DIYALOG_API_KEYS\nUPSTREAM_SIGNING_SECRET\n")).toEqual(["DIYALOG_API_KEYS", "UPSTREAM_SIGNING_SECRET"]);
  });
});

describe("ENVIRONMENT=production in the worker's parser", () => {
  it("refuses the simulator, explicit or by default, and ALLOW_UNAUTHENTICATED=true", () => {
    const base = { ENVIRONMENT: "production", DIYALOG_API_KEYS: LONG_KEY, ...DATA_KEYS };
    for (const env of [base, { ...base, UPSTREAM: "simulator" }]) {
      const result = parseConfig(env);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.problems).toEqual([expect.stringMatching(/^UPSTREAM: /)]);
        expect(result.withoutUpstream).toBeUndefined();
      }
    }
    const open = parseConfig({ ...base, UPSTREAM: "http", UPSTREAM_URL: "https://q.example", UPSTREAM_SIGNING_SECRET: SECRET, ALLOW_UNAUTHENTICATED: "true" });
    expect(open.ok === false && open.problems).toEqual([expect.stringMatching(/^ALLOW_UNAUTHENTICATED: /)]);
    expect(parseConfig({ ...base, ENVIRONMENT: "staging" }).ok).toBe(true);
    // The header-less mode: no key, ALLOW_UNAUTHENTICATED=true and the secret DIYALOG_BASE_PATH.
    const headerless = { ENVIRONMENT: "production", UPSTREAM: "http", UPSTREAM_URL: "https://q.example", ALLOW_UNAUTHENTICATED: "true" };
    expect(parseConfig({ ...headerless, UPSTREAM_SIGNING_SECRET: SECRET, DIYALOG_BASE_PATH: "/d/6f1c2b9e4d7a4f0e8c1b3a5d7e9f1a2b", ...DATA_KEYS }).ok).toBe(true);
    expect(checkConfig(headerless, { names: ["UPSTREAM_SIGNING_SECRET", "DIYALOG_BASE_PATH", ...DATA_SECRETS] })).toMatchObject({ ok: true, problems: [] });
  });
});

describe("wrangler.toml environments", () => {
  it("production sets ENVIRONMENT=production, no simulator, no key, and repeats every binding", () => {
    // Production is the last table group of the file.
    const production = wranglerToml.slice(wranglerToml.indexOf("[env.production]"));
    expect(production).not.toMatch(/^\[(?!\[?env\.production[\].])/m);
    const active = production.split("\n").filter((l) => !l.trim().startsWith("#")).join("\n");
    expect(active).toContain('ENVIRONMENT = "production"');
    expect(active).not.toMatch(/simulator"/);
    expect(active).not.toMatch(/DIYALOG_API_KEYS|ALLOW_UNAUTHENTICATED/);
    for (const binding of ["CUSTOMER_INTERACTIONS", "SIMULATOR", "KEY_RATE_LIMITER", "AUTH_FAILURE_LIMITER", "METRICS"]) expect(active).toContain(`"${binding}"`);
  });

  it("no environment binds the classes of the earlier layout, and the last migration deletes them", () => {
    const active = wranglerToml.split("\n").filter((l) => !l.trim().startsWith("#")).join("\n");
    expect(active).not.toMatch(/class_name = "(InteractionObject|CustomerObject)"|name = "(INTERACTIONS|CUSTOMERS)"/);
    const migrations = [...active.matchAll(/^\[\[migrations\]\]\ntag = "(\w+)"\n(\w+) = (.*)$/gm)].map((m) => m.slice(1).join(" "));
    expect(migrations).toEqual([
      'v1 new_sqlite_classes ["InteractionObject", "CustomerObject", "SimulatorObject"]',
      'v2 new_sqlite_classes ["CustomerInteractions"]',
      'v3 deleted_classes ["InteractionObject", "CustomerObject"]',
    ]);
  });
});
