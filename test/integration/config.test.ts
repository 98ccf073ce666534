import { afterEach, describe, expect, it, vi } from "vitest";
import { authHeaders, callWithEnv, cleanup, createOk, expectFailure, KEY, sampleBody, track } from "./helpers";
import { TWILIO_BINDINGS } from "../twilio/settings";

/**
 * Configuration (design §3): an invalid variable → 503 config_invalid everywhere, except reads and
 * cancels of stored interactions while only the upstream's variables are wrong; DIYALOG_BASE_PATH.
 */

afterEach(cleanup);

const auth = { authorization: `Bearer ${KEY}` };
const someId = "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f";

describe("an invalid variable", () => {
  const invalid: [string, string][] = [
    ["UPSTREAM_TIMEOUT_MS", "abc"],
    ["UPSTREAM_TIMEOUT_MS", "-5"],
    ["CREATE_DEADLINE_MS", "1.5"],
    ["ALLOW_UNAUTHENTICATED", "yes"],
    ["UPSTREAM", "carrier-pigeon"],
    ["SIM_AGENTS", "many"],
    ["QUEUE_TIMEOUT_SECONDS", "0"],
    ["RETENTION_SECONDS", "forever"],
    ["DIYALOG_BASE_PATH", "no-leading-slash"],
    // Dot segments vanish when the URL is parsed: no request could ever reach such a prefix.
    ["DIYALOG_BASE_PATH", "/d/.."],
    ["DIYALOG_BASE_PATH", "/d/."],
    ["DIYALOG_BASE_PATH", "/.."],
    ["DIYALOG_API_KEYS", "test-key-0123456789abcdefghijklmnopqrstuv,second\u200b-key"],
    // Personal data (design §6): a wrong key is named, never echoed; one key without the other is refused.
    ["PERSONAL_DATA_KEYS", `${btoa("k".repeat(32))}\u200b`],
    ["PERSONAL_DATA_KEYS", btoa("k".repeat(31))],
    ["CUSTOMER_REF_KEY", "notbase64!"],
    ["DATA_JURISDICTION", "us"],
    ["VISIBLE_ATTRIBUTES", "x".repeat(65)],
  ];

  it.each(invalid)("%s=%s: /healthz → 503 config_invalid naming the variable", async (name, value) => {
    const answer = await callWithEnv({ [name]: value }, "/healthz");
    expectFailure(answer, 503, "config_invalid", name);
    // No secrets in the health answer.
    expect(answer.text).not.toContain("test-key-0123456789abcdefghijklmnopqrstuv");
    expect(answer.text).not.toContain("second-key-0123456789abcdefghijklmnopqrstuv");
  });

  it.each(invalid)("%s=%s: every other route → 503 config_invalid naming the variable", async (name, value) => {
    const overrides = { [name]: value };
    const requests: [string, RequestInit][] = [
      ["/CreateInteraction", { method: "POST", headers: authHeaders(), body: JSON.stringify(sampleBody(crypto.randomUUID(), 1)) }],
      ["/v1/interactions", { method: "POST", headers: authHeaders(), body: JSON.stringify(sampleBody(crypto.randomUUID(), 1)) }],
      [`/v1/interactions/${someId}`, { headers: auth }],
      [`/${someId}`, { method: "DELETE", headers: auth }],
      [`/v1/interactions/${someId}`, { method: "DELETE", headers: auth }],
      // Unknown paths and requests without a key too: the configuration is checked first.
      ["/nope", { headers: auth }],
      ["/CreateInteraction", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }],
    ];
    for (const [path, init] of requests) {
      const answer = await callWithEnv(overrides, path, init);
      expectFailure(answer, 503, "config_invalid", name);
    }
  });

  it.each([
    ["UPSTREAM_SIGNING_SECRET", "hunter2-not-a-whsec-value"],
    ["UPSTREAM_URL", "https://operator:pa55word-xyz@queue.example"],
    ["UPSTREAM_URL", "http://queue.example.com/?token=tok-998877"],
  ])("%s=(bad): named, but its value is not echoed", async (name, value) => {
    const secretPart = value.includes("pa55") ? "pa55word-xyz" : value.includes("tok-") ? "tok-998877" : value;
    for (const path of ["/healthz", "/CreateInteraction"]) {
      const answer = await callWithEnv({ [name]: value }, path, { method: path === "/healthz" ? "GET" : "POST", headers: authHeaders(), body: path === "/healthz" ? null : "{}" });
      expectFailure(answer, 503, "config_invalid", name);
      expect(answer.text).not.toContain(secretPart);
    }
  });

  it("UPSTREAM_URL=not a url: /healthz → 503 config_invalid naming the variable", async () => {
    expectFailure(await callWithEnv({ UPSTREAM_URL: "not a url" }, "/healthz"), 503, "config_invalid", "UPSTREAM_URL");
  });

  it("UPSTREAM=http without a URL or secret is invalid and names both", async () => {
    const answer = await callWithEnv({ UPSTREAM: "http" }, "/healthz");
    expectFailure(answer, 503, "config_invalid", "UPSTREAM_URL");
    expect(answer.body.errorMessage).toContain("UPSTREAM_SIGNING_SECRET");
  });

  it("the valid configuration's /healthz is 200 ok", async () => {
    const answer = await callWithEnv({}, "/healthz");
    expect(answer.status).toBe(200);
    expect(answer.body.result.status).toBe("ok");
  });
});

describe("only the upstream's variables wrong (issue 12, defect 4): reads and cancels still served", () => {
  const broken: [string, Record<string, string>, string][] = [
    ["a signing secret that does not decode (whsec_abcde)", { UPSTREAM: "http", UPSTREAM_URL: "https://queue.example.com", UPSTREAM_SIGNING_SECRET: "whsec_abcde" }, "UPSTREAM_SIGNING_SECRET"],
    ["a signing secret of 17 bytes", { UPSTREAM: "http", UPSTREAM_URL: "https://queue.example.com", UPSTREAM_SIGNING_SECRET: `whsec_${btoa("second-secret-key")}` }, "UPSTREAM_SIGNING_SECRET"],
    ["UPSTREAM_URL=not a url", { UPSTREAM_URL: "not a url" }, "UPSTREAM_URL"],
    ["a zero-width space in TWILIO_API_KEY_SECRET", { ...TWILIO_BINDINGS, DIYALOG_API_KEYS: "test-key-0123456789abcdefghijklmnopqrstuv,second-key-0123456789abcdefghijklmnopqrstuv", TWILIO_API_KEY_SECRET: "test-api-key\u200b-secret-7Hk2pQ9xZr4m" }, "TWILIO_API_KEY_SECRET"],
  ];

  it.each(broken)("%s: /healthz → 503 naming the variable, never its value", async (_name, overrides, name) => {
    const answer = await callWithEnv(overrides, "/healthz");
    expectFailure(answer, 503, "config_invalid", name);
    expect(answer.text).not.toContain("whsec_abcde");
    expect(answer.text).not.toContain("7Hk2pQ9xZr4m");
  });

  it.each(broken)("%s: creates, callbacks and the simulator view → 503 config_invalid naming it", async (_name, overrides, name) => {
    const body = JSON.stringify(sampleBody(`c-${crypto.randomUUID()}`, 1));
    const requests: [string, RequestInit][] = [
      ["/CreateInteraction", { method: "POST", headers: authHeaders(), body }],
      ["/v1/interactions", { method: "POST", headers: authHeaders(), body }],
      [`/v1/upstream/interactions/${someId}/claim`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }],
      ["/v1/upstream/twilio/assignment", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "TaskSid=x" }],
      ["/v1/simulator", { headers: auth }],
      ["/nope", { headers: auth }],
    ];
    for (const [path, init] of requests) expectFailure(await callWithEnv(overrides, path, init), 503, "config_invalid", name);
  });

  it.each(broken)("%s: GET and DELETE of a stored interaction are served; unknown ids are 404; keys still checked", async (_name, overrides) => {
    const id = await createOk(sampleBody(`c-${crypto.randomUUID()}`, 2));
    const read = await callWithEnv(overrides, `/v1/interactions/${id}`, { headers: auth });
    expect(read.status, read.text).toBe(200);
    expect(read.body.result).toMatchObject({ interactionId: id, state: "queued", identityNumber: "*********01" });

    expectFailure(await callWithEnv(overrides, `/v1/interactions/${id}`), 401, "unauthorized");
    expectFailure(await callWithEnv(overrides, `/${id}`, { method: "DELETE" }), 401, "unauthorized");
    expectFailure(await callWithEnv(overrides, `/v1/interactions/${someId}`, { headers: auth }), 404, "not_found");
    expectFailure(await callWithEnv(overrides, `/${someId}`, { method: "DELETE", headers: auth }), 404, "not_found");

    // This project's objects run with its valid simulator configuration, so the cancel is confirmed;
    // under the broken one they answer 202 or 503 (test/twilio/config.test.ts).
    const del = await callWithEnv(overrides, `/${id}`, { method: "DELETE", headers: auth });
    expect(del.status, del.text).toBe(200);
    expect(del.body.result).toEqual({ interactionId: id, state: "cancelled" });
    const v1 = await callWithEnv(overrides, `/v1/interactions/${id}`, { method: "DELETE", headers: auth });
    expect(v1.status, v1.text).toBe(200);
  });

  it.each(broken)("%s: a customer's lookup and erasure are served (they read and cancel what is stored)", async (_name, overrides) => {
    const customerId = `c-${crypto.randomUUID()}`;
    const id = await createOk(sampleBody(customerId, 2));
    const body = JSON.stringify({ customerId });
    const lookup = await callWithEnv(overrides, "/v1/customers/lookup", { method: "POST", headers: authHeaders(), body });
    expect(lookup.status, lookup.text).toBe(200);
    expect(lookup.body.result.interactions.map((ix: { interactionId: string }) => ix.interactionId)).toEqual([id]);
    const erase = await callWithEnv(overrides, "/v1/customers/erase", { method: "POST", headers: authHeaders(), body });
    expect(erase.status, erase.text).toBe(200);
    expect(erase.body.result).toMatchObject({ erased: 1, cancelled: [id], cancelUnconfirmed: [] });
  });

  it("under DIYALOG_BASE_PATH the reads and cancels are served at the prefix", async () => {
    const overrides = { DIYALOG_BASE_PATH: "/d/secret", UPSTREAM_URL: "not a url" };
    const id = await createOk(sampleBody(`c-${crypto.randomUUID()}`, 1));
    const read = await callWithEnv(overrides, `/d/secret/v1/interactions/${id}`, { headers: auth });
    expect(read.status, read.text).toBe(200);
    expectFailure(await callWithEnv(overrides, `/v1/interactions/${id}`, { headers: auth }), 503, "config_invalid", "UPSTREAM_URL");
    const del = await callWithEnv(overrides, `/d/secret/${id}`, { method: "DELETE", headers: auth });
    expect(del.status, del.text).toBe(200);
  });

  it("with authentication misconfigured too, nothing is served", async () => {
    const id = await createOk(sampleBody(`c-${crypto.randomUUID()}`, 1));
    const overrides = { UPSTREAM_URL: "not a url", DIYALOG_API_KEYS: "test-key-0123456789abcdefghijklmnopqrstuv,k\u200b2" };
    for (const [path, init] of [
      [`/v1/interactions/${id}`, { headers: auth }],
      [`/${id}`, { method: "DELETE", headers: auth }],
    ] as [string, RequestInit][]) {
      expectFailure(await callWithEnv(overrides, path, init), 503, "config_invalid", "DIYALOG_API_KEYS");
    }
    expectFailure(await callWithEnv({ UPSTREAM_URL: "not a url", DIYALOG_API_KEYS: undefined }, `/v1/interactions/${id}`, { headers: auth }), 503, "auth_not_configured");
  });
});

describe("DIYALOG_BASE_PATH=/d/secret", () => {
  const secret = { DIYALOG_BASE_PATH: "/d/secret" };

  it("the Diyalog routes answer under the prefix", async () => {
    const create = await callWithEnv(secret, "/d/secret/CreateInteraction", {
      method: "POST",
      headers: authHeaders(),
      body: JSON.stringify(sampleBody(crypto.randomUUID(), 1)),
    });
    expect(create.status, create.text).toBe(200);
    const id = track(create.body.result.interactionId);

    const read = await callWithEnv(secret, `/d/secret/v1/interactions/${id}`, { headers: auth });
    expect(read.status, read.text).toBe(200);
    expect(read.body.result.state).toBe("queued");

    const del = await callWithEnv(secret, `/d/secret/${id}`, { method: "DELETE", headers: auth });
    expect(del.status, del.text).toBe(200);
    expect(del.body.result).toEqual({ interactionId: id, state: "cancelled" });

    const v1 = await callWithEnv(secret, "/d/secret/v1/interactions", {
      method: "POST",
      headers: authHeaders(),
      body: JSON.stringify(sampleBody(crypto.randomUUID(), 3)),
    });
    expect(v1.status, v1.text).toBe(200);
    const id2 = track(v1.body.result.interactionId);
    const del2 = await callWithEnv(secret, `/d/secret/v1/interactions/${id2}`, { method: "DELETE", headers: auth });
    expect(del2.status, del2.text).toBe(200);
  });

  it("the prefix, a secret, never reaches the worker's log lines", async () => {
    const prefix = `/d/s3cr3t-${crypto.randomUUID()}`;
    const spies = (["log", "info", "warn", "error"] as const).map((level) => vi.spyOn(console, level).mockImplementation(() => {}));
    try {
      const answer = await callWithEnv({ DIYALOG_BASE_PATH: prefix }, `${prefix}/v1/session`, { headers: auth });
      expect(answer.status, answer.text).toBe(200);
      const printed = spies.flatMap((spy) => spy.mock.calls.map((args) => args.map(String).join(" "))).join("\n");
      expect(printed).toContain('"route":"{basePath}/v1/session"');
      expect(printed).not.toContain(prefix.slice(3));
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it("the prefix does not replace the key", async () => {
    const answer = await callWithEnv(secret, "/d/secret/CreateInteraction", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(sampleBody(crypto.randomUUID(), 1)),
    });
    expectFailure(answer, 401, "unauthorized");
  });

  it("the unprefixed Diyalog routes answer 404 not_found", async () => {
    const create = await callWithEnv(secret, "/CreateInteraction", {
      method: "POST",
      headers: authHeaders(),
      body: JSON.stringify(sampleBody(crypto.randomUUID(), 1)),
    });
    expectFailure(create, 404, "not_found");
    expectFailure(
      await callWithEnv(secret, "/v1/interactions", { method: "POST", headers: authHeaders(), body: JSON.stringify(sampleBody(crypto.randomUUID(), 1)) }),
      404,
      "not_found",
    );
    expectFailure(await callWithEnv(secret, `/v1/interactions/${someId}`, { headers: auth }), 404, "not_found");
    expectFailure(await callWithEnv(secret, `/${someId}`, { method: "DELETE", headers: auth }), 404, "not_found");
  });

  it("a wrong prefix answers 404 not_found", async () => {
    for (const path of ["/d/secreT/CreateInteraction", "/d/CreateInteraction", "/d/secret2/CreateInteraction", "/secret/CreateInteraction"]) {
      const answer = await callWithEnv(secret, path, {
        method: "POST",
        headers: authHeaders(),
        body: JSON.stringify(sampleBody(crypto.randomUUID(), 1)),
      });
      expectFailure(answer, 404, "not_found");
    }
  });

  it("a wrong method under the prefix is 405 with Allow", async () => {
    const answer = await callWithEnv(secret, "/d/secret/CreateInteraction", { method: "GET", headers: auth });
    expectFailure(answer, 405, "method_not_allowed");
    expect(answer.res.headers.get("allow")).toContain("POST");
  });

  it("/healthz stays at the root", async () => {
    const answer = await callWithEnv(secret, "/healthz");
    expect(answer.status).toBe(200);
    expect(answer.body.result.status).toBe("ok");
    expect(answer.text).not.toContain("/d/secret");
  });
});
