import { describe, expect, it } from "vitest";
import { getConfig, objectConfig, parseConfig, type Config } from "../../src/config";
import { CAN_VETO, createAdapter, objectAdapter, unavailableAdapter } from "../../src/upstreams";
import { TWILIO_BINDINGS } from "../twilio/settings";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/** 32 bytes: "second-secret-key-of-32-bytes..." */
const SECRET_2 = `whsec_${btoa("second-secret-key-of-32-bytes...")}`;
const HTTP = { UPSTREAM: "http", UPSTREAM_URL: "https://q.example.com" };

function ok(env: Record<string, unknown>): Config {
  const result = parseConfig(env);
  if (!result.ok) throw new Error(`expected a valid configuration, got: ${result.problems.join("; ")}`);
  return result.config;
}

function problems(env: Record<string, unknown>): string[] {
  const result = parseConfig(env);
  if (result.ok) throw new Error(`expected problems, got a valid configuration: ${JSON.stringify(result.config)}`);
  return result.problems;
}

/** The problems list has exactly one entry, for `name`. */
function expectOneProblem(env: Record<string, unknown>, name: string, message?: string | RegExp): string {
  const list = problems(env);
  expect(list).toHaveLength(1);
  const [problem] = list as [string];
  expect(problem.startsWith(`${name}: `), `"${problem}" should start with "${name}: "`).toBe(true);
  if (typeof message === "string") expect(problem).toBe(`${name}: ${message}`);
  else if (message) expect(problem).toMatch(message);
  return problem;
}

describe("parseConfig: defaults", () => {
  it("an empty env gives the documented defaults", () => {
    expect(ok({})).toStrictEqual({
      upstream: "simulator",
      upstreamUrl: undefined,
      signingSecrets: [],
      upstreamTimeoutMs: 5000,
      createDeadlineMs: 8000,
      apiKeys: [],
      allowUnauthenticated: false,
      queueTimeoutSeconds: 1800,
      retentionSeconds: 86_400,
      identityNumberAttribute: "identityNumber",
      basePath: undefined,
      publicBaseUrl: undefined,
      simulator: { agents: 2, assignDelayMs: 3000, handleMs: 30_000 },
      logLevel: "info",
      personalDataKeys: [],
      customerRefKey: undefined,
      jurisdiction: undefined,
      visibleAttributes: ["TRX", "PrimaryProjectManagerId", "SecondaryProjectManagerId"],
    });
  });

  it("blank values count as unset", () => {
    const config = ok({ UPSTREAM: "  ", UPSTREAM_TIMEOUT_MS: "", DIYALOG_API_KEYS: " ", ALLOW_UNAUTHENTICATED: "", SIM_AGENTS: "   " });
    expect(config.upstream).toBe("simulator");
    expect(config.upstreamTimeoutMs).toBe(5000);
    expect(config.apiKeys).toEqual([]);
    expect(config.allowUnauthenticated).toBe(false);
    expect(config.simulator.agents).toBe(2);
  });

  it("ignores bindings and unknown variables", () => {
    const config = ok({ INTERACTIONS: { idFromName() {} }, SOMETHING_ELSE: "x", RATE_LIMITER: {} });
    expect(config.upstream).toBe("simulator");
  });
});

describe("parseConfig: values", () => {
  it("reads every variable", () => {
    expect(
      ok({
        UPSTREAM: "http",
        UPSTREAM_URL: "https://queue.example.com/api/",
        UPSTREAM_SIGNING_SECRET: SECRET,
        UPSTREAM_TIMEOUT_MS: "2500",
        CREATE_DEADLINE_MS: "6000",
        DIYALOG_API_KEYS: "k1-0123456789abcdefghijklmnopqrstuv",
        ALLOW_UNAUTHENTICATED: "true",
        QUEUE_TIMEOUT_SECONDS: "600",
        RETENTION_SECONDS: "0",
        IDENTITY_NUMBER_ATTRIBUTE: "tckn",
        DIYALOG_BASE_PATH: "/d/6f1c",
        PUBLIC_BASE_URL: "https://proxy.example.com",
        SIM_AGENTS: "5",
        SIM_ASSIGN_DELAY_MS: "0",
        SIM_HANDLE_MS: "1000",
        LOG_LEVEL: "warn",
        PERSONAL_DATA_KEYS: `${btoa("n".repeat(32))},${btoa("o".repeat(32))}`,
        CUSTOMER_REF_KEY: btoa("r".repeat(32)),
        DATA_JURISDICTION: "eu",
        VISIBLE_ATTRIBUTES: "TRX,Region",
      }),
    ).toStrictEqual({
      upstream: "http",
      upstreamUrl: "https://queue.example.com/api",
      signingSecrets: [SECRET],
      upstreamTimeoutMs: 2500,
      createDeadlineMs: 6000,
      apiKeys: ["k1-0123456789abcdefghijklmnopqrstuv"],
      allowUnauthenticated: true,
      queueTimeoutSeconds: 600,
      retentionSeconds: 0,
      identityNumberAttribute: "tckn",
      basePath: "/d/6f1c",
      publicBaseUrl: "https://proxy.example.com",
      simulator: { agents: 5, assignDelayMs: 0, handleMs: 1000 },
      logLevel: "warn",
      personalDataKeys: [btoa("n".repeat(32)), btoa("o".repeat(32))],
      customerRefKey: btoa("r".repeat(32)),
      jurisdiction: "eu",
      visibleAttributes: ["TRX", "Region"],
    });
  });

  it("accepts numbers as well as strings (vars in wrangler.toml may be numbers)", () => {
    const config = ok({ UPSTREAM_TIMEOUT_MS: 1500, SIM_AGENTS: 3, ALLOW_UNAUTHENTICATED: true });
    expect(config.upstreamTimeoutMs).toBe(1500);
    expect(config.simulator.agents).toBe(3);
    expect(config.allowUnauthenticated).toBe(true);
  });

  it("trims integers", () => {
    expect(ok({ UPSTREAM_TIMEOUT_MS: " 2500 " }).upstreamTimeoutMs).toBe(2500);
  });

  it("ALLOW_UNAUTHENTICATED accepts exactly true and false", () => {
    expect(ok({ ALLOW_UNAUTHENTICATED: "true" }).allowUnauthenticated).toBe(true);
    expect(ok({ ALLOW_UNAUTHENTICATED: "false" }).allowUnauthenticated).toBe(false);
  });

  it("an empty IDENTITY_NUMBER_ATTRIBUTE means not forwarded", () => {
    expect(ok({ IDENTITY_NUMBER_ATTRIBUTE: "" }).identityNumberAttribute).toBe("");
    expect(ok({ IDENTITY_NUMBER_ATTRIBUTE: " nationalId " }).identityNumberAttribute).toBe("nationalId");
  });
});

describe("parseConfig: comma-separated lists", () => {
  it("DIYALOG_API_KEYS is split, trimmed and empty entries dropped", () => {
    const [k1, k2, k3] = ["k1", "k2", "k3"].map((k) => `${k}-${"x".repeat(30)}`);
    expect(ok({ DIYALOG_API_KEYS: `${k1},${k2}` }).apiKeys).toEqual([k1, k2]);
    expect(ok({ DIYALOG_API_KEYS: `  ${k1} ,  ${k2} ,, ${k3},  ` }).apiKeys).toEqual([k1, k2, k3]);
    expect(ok({ DIYALOG_API_KEYS: " , , " }).apiKeys).toEqual([]);
  });

  it("UPSTREAM_SIGNING_SECRET holds several secrets, trimmed, in order (the first signs)", () => {
    expect(ok({ UPSTREAM_SIGNING_SECRET: ` ${SECRET} , ${SECRET_2} ,` }).signingSecrets).toEqual([SECRET, SECRET_2]);
  });
});

describe("parseConfig: each bad value names its variable", () => {
  it.each([
    ["UPSTREAM_TIMEOUT_MS", "abc", "must be an integer from 100 to 60000"],
    ["UPSTREAM_TIMEOUT_MS", "-1", "must be an integer from 100 to 60000"],
    ["UPSTREAM_TIMEOUT_MS", "99", "must be an integer from 100 to 60000"],
    ["UPSTREAM_TIMEOUT_MS", "60001", "must be an integer from 100 to 60000"],
    ["UPSTREAM_TIMEOUT_MS", "1.5", "must be an integer from 100 to 60000"],
    ["UPSTREAM_TIMEOUT_MS", "1e3", "must be an integer from 100 to 60000"],
    ["UPSTREAM_TIMEOUT_MS", "5000ms", "must be an integer from 100 to 60000"],
    ["CREATE_DEADLINE_MS", "soon", "must be an integer from 100 to 120000"],
    ["QUEUE_TIMEOUT_SECONDS", "0", "must be an integer from 1 to 604800"],
    ["RETENTION_SECONDS", "forever", "must be an integer from 0 to 31536000"],
    ["SIM_AGENTS", "101", "must be an integer from 0 to 100"],
    ["SIM_ASSIGN_DELAY_MS", "x", "must be an integer from 0 to 3600000"],
    ["SIM_HANDLE_MS", "-5", "must be an integer from 0 to 86400000"],
  ])("%s=%j", (name, value, message) => {
    expectOneProblem({ [name]: value }, name, message);
  });

  it("UPSTREAM=foo", () => {
    expectOneProblem({ UPSTREAM: "foo" }, "UPSTREAM", "must be one of simulator, http, genesys-cloud, twilio-taskrouter, amazon-connect, genesys-engage");
  });

  it("a vendor UPSTREAM without its variables names each missing one", () => {
    const result = parseConfig({ UPSTREAM: "genesys-cloud" });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.join("\n")).toMatch(/GENESYS_CLIENT_ID/);
  });

  it("LOG_LEVEL is one of info, warn, error", () => {
    expect(ok({ LOG_LEVEL: " error " }).logLevel).toBe("error");
    expectOneProblem({ LOG_LEVEL: "debug" }, "LOG_LEVEL", "must be one of info, warn, error");
    expectOneProblem({ LOG_LEVEL: "WARN" }, "LOG_LEVEL", "must be one of info, warn, error");
  });

  it("ALLOW_UNAUTHENTICATED=yes", () => {
    expectOneProblem({ ALLOW_UNAUTHENTICATED: "yes" }, "ALLOW_UNAUTHENTICATED", 'must be "true" or "false"');
    expectOneProblem({ ALLOW_UNAUTHENTICATED: "1" }, "ALLOW_UNAUTHENTICATED", 'must be "true" or "false"');
  });

  it("DIYALOG_BASE_PATH=no-slash", () => {
    expectOneProblem({ DIYALOG_BASE_PATH: "no-slash" }, "DIYALOG_BASE_PATH", /must look like \/segment/);
  });

  it.each(["/", "/d/a b", "/d?x=1", "//d", "/d//e"])("DIYALOG_BASE_PATH=%j is refused", (value) => {
    expectOneProblem({ DIYALOG_BASE_PATH: value }, "DIYALOG_BASE_PATH");
  });

  it("DIYALOG_BASE_PATH loses its trailing slash", () => {
    expect(ok({ DIYALOG_BASE_PATH: "/d/6f1c-A_b.~/" }).basePath).toBe("/d/6f1c-A_b.~");
  });

  it("UPSTREAM_URL must use https", () => {
    expectOneProblem({ UPSTREAM_URL: "http://example.com" }, "UPSTREAM_URL", /must use https/);
    expectOneProblem(
      { UPSTREAM: "http", UPSTREAM_URL: "http://example.com", UPSTREAM_SIGNING_SECRET: SECRET },
      "UPSTREAM_URL",
      /must use https/,
    );
  });

  it.each(["ftp://example.com", "not a url", "example.com", "https://user:pw@example.com", "https://example.com/?q=1", "https://example.com/#x"])(
    "UPSTREAM_URL=%j is refused",
    (value) => {
      expectOneProblem({ UPSTREAM_URL: value }, "UPSTREAM_URL");
    },
  );

  it("PUBLIC_BASE_URL follows the same rules", () => {
    expectOneProblem({ PUBLIC_BASE_URL: "http://proxy.example.com" }, "PUBLIC_BASE_URL", /must use https/);
  });

  it.each([
    ["http://127.0.0.1:9999", "http://127.0.0.1:9999"],
    ["http://localhost:9999/", "http://localhost:9999"],
    ["http://[::1]:9999/base", "http://[::1]:9999/base"],
    ["https://queue.example.com/v1//", "https://queue.example.com/v1"],
  ])("UPSTREAM_URL=%s is allowed as %s", (value, expected) => {
    const config = ok({ UPSTREAM: "http", UPSTREAM_URL: value, UPSTREAM_SIGNING_SECRET: SECRET });
    expect(config.upstream).toBe("http");
    expect(config.upstreamUrl).toBe(expected);
  });

  it("UPSTREAM=http needs UPSTREAM_URL", () => {
    expectOneProblem({ UPSTREAM: "http", UPSTREAM_SIGNING_SECRET: SECRET }, "UPSTREAM_URL", "required when UPSTREAM=http");
  });

  it("UPSTREAM=http needs UPSTREAM_SIGNING_SECRET", () => {
    expectOneProblem(
      { UPSTREAM: "http", UPSTREAM_URL: "http://127.0.0.1:9999" },
      "UPSTREAM_SIGNING_SECRET",
      "required when UPSTREAM=http",
    );
  });

  it("UPSTREAM=http alone names both missing variables", () => {
    expect(problems({ UPSTREAM: "http" })).toEqual([
      "UPSTREAM_URL: required when UPSTREAM=http",
      "UPSTREAM_SIGNING_SECRET: required when UPSTREAM=http",
    ]);
  });

  it.each([
    ["no prefix", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    ["not base64", "whsec_not base64!"],
    ["empty after prefix", "whsec_"],
    ["too much padding", "whsec_abc==="],
    ["one good, one bad", `${SECRET},whsec_%%%`],
    // issue 12, defect 4: these passed the old pattern, and signing then threw on every request
    ["base64 of an impossible length", "whsec_abcde"],
    ["a single base64 character", "whsec_A"],
    ["padding in the middle", "whsec_MfKQ=9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    ["fewer than 24 bytes (17)", `whsec_${btoa("second-secret-key")}`],
    ["23 bytes", `whsec_${btoa("x".repeat(23))}`],
    ["a good one, then one too short", `${SECRET},whsec_${btoa("short")}`],
    ["whitespace inside", "whsec_MfKQ9r8GKYqr TwjUPD8ILPZIo2LaLaSw"],
    ["a zero-width space inside", "whsec_MfKQ9r8GKYqr\u200bTwjUPD8ILPZIo2LaLaSw"],
    ["base64url instead of standard base64", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La-_Sw"],
  ])("a bad whsec secret (%s) is refused without echoing it", (_name, value) => {
    // the exact message proves the secret is not echoed
    expectOneProblem(
      { ...HTTP, UPSTREAM_SIGNING_SECRET: value },
      "UPSTREAM_SIGNING_SECRET",
      "each secret must be whsec_ followed by the standard base64 of at least 24 bytes",
    );
  });

  it("accepts secrets of 24 bytes and more, padded or not", () => {
    const exactly24 = `whsec_${btoa("y".repeat(24))}`;
    const padded = `whsec_${btoa("z".repeat(40))}`;
    expect(padded.endsWith("=")).toBe(true);
    expect(ok({ ...HTTP, UPSTREAM_SIGNING_SECRET: `${exactly24},${padded},${SECRET}` }).signingSecrets).toEqual([exactly24, padded, SECRET]);
  });

  it.each([
    ["a zero-width space", "k1,k\u200b2"],
    ["a byte-order mark inside", "ke\ufeffy"],
    ["a space inside", "my key"],
    ["a non-ASCII letter", "anahtar-ş"],
    ["a control character", "key\u0007"],
  ])("DIYALOG_API_KEYS with %s is refused without echoing the key", (_name, value) => {
    expectOneProblem({ DIYALOG_API_KEYS: value }, "DIYALOG_API_KEYS", "each key must be printable ASCII without spaces (check for a pasted invisible character)");
  });

  it("DIYALOG_API_KEYS: a key shorter than 32 characters is refused, naming the variable and never the key", () => {
    const long = "k".repeat(32);
    expect(ok({ DIYALOG_API_KEYS: long }).apiKeys).toEqual([long]);
    expectOneProblem({ DIYALOG_API_KEYS: "a" }, "DIYALOG_API_KEYS", "each key must be at least 32 characters long");
    expectOneProblem({ DIYALOG_API_KEYS: `${long},${"s".repeat(31)}` }, "DIYALOG_API_KEYS", "each key must be at least 32 characters long");
  });

  it("lists every bad variable at once", () => {
    const list = problems({
      UPSTREAM: "foo",
      UPSTREAM_TIMEOUT_MS: "abc",
      ALLOW_UNAUTHENTICATED: "yes",
      DIYALOG_BASE_PATH: "no-slash",
      UPSTREAM_URL: "http://example.com",
    });
    expect(list.map((p) => p.slice(0, p.indexOf(":"))).sort()).toEqual(
      ["ALLOW_UNAUTHENTICATED", "DIYALOG_BASE_PATH", "UPSTREAM", "UPSTREAM_TIMEOUT_MS", "UPSTREAM_URL"].sort(),
    );
  });

  it("never throws, whatever the env holds", () => {
    for (const env of [{ UPSTREAM: {} }, { UPSTREAM_TIMEOUT_MS: [] }, { DIYALOG_API_KEYS: null }, { SIM_AGENTS: Symbol.for("x") }]) {
      expect(() => parseConfig(env as Record<string, unknown>)).not.toThrow();
    }
    expect(parseConfig({ UPSTREAM: {} }).ok).toBe(false);
  });

  it("a value that is not text, a number or a boolean is named, as are values that parse but break a rule", () => {
    for (const value of [{}, [], null, Symbol.for("x")]) {
      expect(problems({ UPSTREAM: value, SIM_AGENTS: "7" })).toEqual(["UPSTREAM: Invalid input"]);
      expect(problems({ DIYALOG_API_KEYS: value })).toEqual(["DIYALOG_API_KEYS: Invalid input"]);
      expect(problems({ IDENTITY_NUMBER_ATTRIBUTE: value })).toEqual(["IDENTITY_NUMBER_ATTRIBUTE: Invalid input"]);
    }
    // One problem per variable, in the order of the variables, whatever the order of the env.
    expect(problems({ SIM_AGENTS: "x", UPSTREAM_TIMEOUT_MS: "1", CUSTOMER_REF_KEY: `${btoa("r".repeat(32))},${btoa("s".repeat(32))}` })).toEqual([
      "UPSTREAM_TIMEOUT_MS: must be an integer from 100 to 60000",
      "SIM_AGENTS: must be an integer from 0 to 100",
      "CUSTOMER_REF_KEY: takes one key",
    ]);
  });
});

describe("getConfig", () => {
  it("parses once per env object and reuses the result", () => {
    const env = { UPSTREAM_TIMEOUT_MS: "1234" };
    const first = getConfig(env);
    expect(first.ok && first.config.upstreamTimeoutMs).toBe(1234);
    env.UPSTREAM_TIMEOUT_MS = "abc";
    expect(getConfig(env)).toBe(first);
    const other = getConfig({ UPSTREAM_TIMEOUT_MS: "abc" });
    expect(other.ok).toBe(false);
  });
});

describe("parseConfig: only the upstream's variables wrong (issue 12, defect 4)", () => {
  it.each([
    ["a short signing secret", { ...HTTP, UPSTREAM_SIGNING_SECRET: "whsec_abcde" }, "UPSTREAM_SIGNING_SECRET"],
    ["a malformed UPSTREAM_URL", { UPSTREAM: "http", UPSTREAM_URL: "not a url", UPSTREAM_SIGNING_SECRET: SECRET }, "UPSTREAM_URL"],
    ["a missing UPSTREAM_URL", { UPSTREAM: "http", UPSTREAM_SIGNING_SECRET: SECRET }, "UPSTREAM_URL"],
    ["a malformed PUBLIC_BASE_URL", { PUBLIC_BASE_URL: "http://proxy.example.com" }, "PUBLIC_BASE_URL"],
    ["a vendor secret with a zero-width space", { ...TWILIO_BINDINGS, TWILIO_AUTH_TOKEN: "0f3c9d6e\u200b2b8a47159e6d3c2b1a0f9e8d" }, "TWILIO_AUTH_TOKEN"],
  ])("%s: invalid, but the rest (authentication included) is kept for reads and cancels", (_name, env, variable) => {
    const full: Record<string, string> = { DIYALOG_API_KEYS: "k1-0123456789abcdefghijklmnopqrstuv", DIYALOG_BASE_PATH: "/d/x", ...env };
    const result = parseConfig(full);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.slice(0, p.indexOf(":")))).toEqual([variable]);
    expect(result.withoutUpstream).toBeDefined();
    expect(result.withoutUpstream!.apiKeys).toEqual([full.DIYALOG_API_KEYS]);
    expect(result.withoutUpstream!.basePath).toBe("/d/x");
    expect(result.withoutUpstream!.upstream).toBe(full.UPSTREAM ?? "simulator");
  });

  it.each([
    ["an authentication variable", { ...HTTP, UPSTREAM_SIGNING_SECRET: "whsec_abcde", DIYALOG_API_KEYS: "k\u200b1" }],
    ["ALLOW_UNAUTHENTICATED", { ALLOW_UNAUTHENTICATED: "yes" }],
    ["a timing variable", { ...HTTP, UPSTREAM_SIGNING_SECRET: SECRET, RETENTION_SECONDS: "forever" }],
    ["UPSTREAM itself", { UPSTREAM: "carrier-pigeon" }],
  ])("%s wrong: nothing is kept, every route answers 503", (_name, env) => {
    const result = parseConfig(env);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.withoutUpstream).toBeUndefined();
  });
});

describe("vendor secrets are checked for what their use needs (issue 12, defect 4)", () => {
  const GENESYS = {
    UPSTREAM: "genesys-cloud",
    GENESYS_REGION: "mypurecloud.de",
    GENESYS_CLIENT_ID: "client-id",
    GENESYS_CLIENT_SECRET: "client-secret-value",
    GENESYS_WORKTYPE_ID: "4c1f6e2a-8b3d-4e5f-9a6b-7c8d9e0f1a2b",
    GENESYS_QUEUE_ID: "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
  };
  const CONNECT = {
    UPSTREAM: "amazon-connect",
    AWS_REGION: "eu-central-1",
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE000000001",
    AWS_SECRET_ACCESS_KEY: "made+up/secret+key/for+tests+only+00000",
    CONNECT_INSTANCE_ID: "9c2e3d4a-5b6c-4d7e-8f90-a1b2c3d4e5f6",
    CONNECT_CONTACT_FLOW_ID: "846ec553-a005-41c0-8341-0123456789ab",
  };
  const RULE = "must be printable ASCII without spaces (check for a pasted invisible character)";

  it.each([
    ["a zero-width space", "secret\u200bvalue"],
    ["a byte-order mark inside", "secret\ufeffvalue"],
    ["a space inside", "secret value"],
    ["a non-ASCII letter", "sécret-value"],
  ])("Genesys client id and secret with %s are named, never echoed", (_name, bad) => {
    expect(ok(GENESYS).upstream).toBe("genesys-cloud");
    expectOneProblem({ ...GENESYS, GENESYS_CLIENT_SECRET: bad }, "GENESYS_CLIENT_SECRET", RULE);
    expectOneProblem({ ...GENESYS, GENESYS_CLIENT_ID: bad }, "GENESYS_CLIENT_ID", RULE);
  });

  it.each([
    ["a zero-width space", "made+up/secret\u200bkey/for+tests+only+00000"],
    ["a non-ASCII letter", "made+up/secret+kéy/for+tests+only+00000"],
    ["a space inside", "made+up/secret key/for+tests+only+00000"],
  ])("AWS_SECRET_ACCESS_KEY with %s is named, never echoed", (_name, bad) => {
    expect(ok(CONNECT).upstream).toBe("amazon-connect");
    const problem = expectOneProblem({ ...CONNECT, AWS_SECRET_ACCESS_KEY: bad }, "AWS_SECRET_ACCESS_KEY");
    expect(problem).not.toContain("for+tests");
  });
});

describe("the Durable Objects' configuration and adapter never fail (issue 12, defect 4)", () => {
  const fakeEnv = (vars: Record<string, unknown>) => vars as unknown as Env;

  it("objectConfig: the valid configuration, else the valid part, else each variable that parses", () => {
    expect(objectConfig({ RETENTION_SECONDS: "60" })).toMatchObject({ upstream: true, config: { retentionSeconds: 60 } });
    expect(objectConfig({ ...HTTP, UPSTREAM_SIGNING_SECRET: "whsec_abcde", RETENTION_SECONDS: "60" })).toMatchObject({
      upstream: false,
      config: { upstream: "http", retentionSeconds: 60, signingSecrets: [] },
    });
    // Everything broken that can be: what parses is used, the rest takes its default.
    const broken = objectConfig({ UPSTREAM: "carrier-pigeon", RETENTION_SECONDS: "7", UPSTREAM_TIMEOUT_MS: "soon", DIYALOG_API_KEYS: "a b" });
    expect(broken.upstream).toBe(false);
    expect(broken.config).toMatchObject({ retentionSeconds: 7, upstreamTimeoutMs: 5000, apiKeys: [] });
  });

  it("an unavailable adapter answers every dispatch and cancel with a transient failure", async () => {
    const adapter = unavailableAdapter("twilio-taskrouter");
    const signal = new AbortController().signal;
    expect(await adapter.dispatch({ interactionId: "i", customerId: "c", attributes: {}, mayExist: true }, signal)).toMatchObject({ kind: "retry" });
    expect(await adapter.cancel({ interactionId: "i", upstreamId: "u" }, signal)).toMatchObject({ kind: "retry" });
    expect(adapter.poll).toBeUndefined();
  });

  it("canVeto follows the configured upstream; an unknown one cannot veto", () => {
    expect(unavailableAdapter("http").canVeto).toBe(true);
    expect(unavailableAdapter("twilio-taskrouter").canVeto).toBe(true);
    expect(unavailableAdapter("genesys-cloud").canVeto).toBe(false);
    expect(unavailableAdapter("amazon-connect").canVeto).toBe(false);
    expect(unavailableAdapter("genesys-engage").canVeto).toBe(false);
    expect(unavailableAdapter("carrier-pigeon").canVeto).toBe(false);
    expect(unavailableAdapter("toString").canVeto).toBe(false);
  });

  it("CAN_VETO agrees with each adapter's own canVeto", () => {
    const valid: Record<string, Record<string, unknown>> = {
      simulator: {},
      http: { ...HTTP, UPSTREAM_SIGNING_SECRET: SECRET },
      "twilio-taskrouter": TWILIO_BINDINGS,
      "genesys-cloud": {
        UPSTREAM: "genesys-cloud",
        GENESYS_REGION: "mypurecloud.de",
        GENESYS_CLIENT_ID: "client-id",
        GENESYS_CLIENT_SECRET: "client-secret",
        GENESYS_WORKTYPE_ID: "4c1f6e2a-8b3d-4e5f-9a6b-7c8d9e0f1a2b",
        GENESYS_QUEUE_ID: "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
      },
      "amazon-connect": {
        UPSTREAM: "amazon-connect",
        AWS_REGION: "eu-central-1",
        AWS_ACCESS_KEY_ID: "AKIDEXAMPLE000000001",
        AWS_SECRET_ACCESS_KEY: "made+up/secret+key/for+tests+only+00000",
        CONNECT_INSTANCE_ID: "9c2e3d4a-5b6c-4d7e-8f90-a1b2c3d4e5f6",
        CONNECT_CONTACT_FLOW_ID: "846ec553-a005-41c0-8341-0123456789ab",
      },
      "genesys-engage": { UPSTREAM: "genesys-engage", ENGAGE_API: "gms", ENGAGE_URL: "https://gms.bank.internal", ENGAGE_SERVICE: "diyalog" },
    };
    for (const [name, canVeto] of Object.entries(CAN_VETO)) {
      const result = parseConfig(valid[name]!);
      if (!result.ok) throw new Error(`${name}: ${result.problems.join("; ")}`);
      expect(result.config.upstream).toBe(name);
      expect(createAdapter(result.config, fakeEnv({})).canVeto, name).toBe(canVeto);
    }
  });

  it("objectAdapter: the unavailable one under an invalid configuration, named as configured", () => {
    const env = { ...TWILIO_BINDINGS, TWILIO_API_KEY_SECRET: "test-api-key-secret\u200b7Hk2pQ9xZr4m" };
    const { config, upstream } = objectConfig(env);
    expect(upstream).toBe(false);
    const adapter = objectAdapter(config, upstream, fakeEnv(env));
    expect(adapter).toMatchObject({ name: "twilio-taskrouter", canVeto: true });
    expect(objectAdapter(objectConfig({ UPSTREAM: "carrier-pigeon" }).config, false, fakeEnv({ UPSTREAM: "carrier-pigeon" })).canVeto).toBe(false);
  });
});
