import { describe, expect, it } from "vitest";
import { getConfig, parseConfig, type Config } from "../../src/config";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SECRET_2 = "whsec_c2Vjb25kLXNlY3JldC1rZXk=";

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
        DIYALOG_API_KEYS: "k1",
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
      }),
    ).toStrictEqual({
      upstream: "http",
      upstreamUrl: "https://queue.example.com/api",
      signingSecrets: [SECRET],
      upstreamTimeoutMs: 2500,
      createDeadlineMs: 6000,
      apiKeys: ["k1"],
      allowUnauthenticated: true,
      queueTimeoutSeconds: 600,
      retentionSeconds: 0,
      identityNumberAttribute: "tckn",
      basePath: "/d/6f1c",
      publicBaseUrl: "https://proxy.example.com",
      simulator: { agents: 5, assignDelayMs: 0, handleMs: 1000 },
      logLevel: "warn",
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
    expect(ok({ DIYALOG_API_KEYS: "k1,k2" }).apiKeys).toEqual(["k1", "k2"]);
    expect(ok({ DIYALOG_API_KEYS: "  k1 ,  k2 ,, k3,  " }).apiKeys).toEqual(["k1", "k2", "k3"]);
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
    expectOneProblem({ UPSTREAM: "foo" }, "UPSTREAM", "must be one of simulator, http, genesys-cloud, twilio-taskrouter, amazon-connect");
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
  ])("a bad whsec secret (%s) is refused without echoing it", (_name, value) => {
    // the exact message proves the secret is not echoed
    expectOneProblem(
      { UPSTREAM: "http", UPSTREAM_URL: "https://q.example.com", UPSTREAM_SIGNING_SECRET: value },
      "UPSTREAM_SIGNING_SECRET",
      "each secret must be whsec_ followed by base64",
    );
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
