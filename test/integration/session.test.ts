import { describe, expect, it } from "vitest";
import { authHeaders, call, callWithEnv, expectFailure, KEY } from "./helpers";

/**
 * `GET /v1/session` (the console's sign-in): a key is checked by a request meant for it, which
 * answers which upstream the proxy feeds and what the key may do, like every Diyalog route behind
 * DIYALOG_BASE_PATH.
 */

const SIGNING_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

describe("GET /v1/session", () => {
  it("with a valid key: the upstream and what the key may do", async () => {
    const answer = await call("/v1/session", { headers: { authorization: `Bearer ${KEY}` } });
    expect(answer.status).toBe(200);
    expect(answer.body.result).toStrictEqual({ upstream: "simulator", auth: "api_key", permissions: ["create", "cancel", "read", "lookup", "erase", "simulator"] });
  });

  it("X-API-Key works too", async () => {
    const answer = await call("/v1/session", { headers: { "x-api-key": KEY } });
    expect(answer.status).toBe(200);
    expect(answer.body.result.upstream).toBe("simulator");
  });

  it.each([
    ["no key", {}],
    ["a wrong key", { authorization: "Bearer not-the-key" }],
  ])("%s → 401 unauthorized", async (_, headers) => {
    expectFailure(await call("/v1/session", { headers }), 401, "unauthorized");
  });

  it("another method → 405 with Allow", async () => {
    const answer = await call("/v1/session", { method: "POST", headers: authHeaders(), body: "{}" });
    expectFailure(answer, 405, "method_not_allowed");
    expect(answer.res.headers.get("allow")).toBe("GET, HEAD");
  });

  it("with another upstream the simulator is not among the permissions", async () => {
    const answer = await callWithEnv(
      { UPSTREAM: "http", UPSTREAM_URL: "http://127.0.0.1:9", UPSTREAM_SIGNING_SECRET: SIGNING_SECRET },
      "/v1/session",
      { headers: { authorization: `Bearer ${KEY}` } },
    );
    expect(answer.status).toBe(200);
    expect(answer.body.result).toStrictEqual({ upstream: "http", auth: "api_key", permissions: ["create", "cancel", "read", "lookup", "erase"] });
  });

  it("behind DIYALOG_BASE_PATH it is only under the prefix: at the root it is 404, so no key is taken for accepted there", async () => {
    const secret = { DIYALOG_BASE_PATH: "/d/secret" };
    const headers = { authorization: `Bearer ${KEY}` };
    expectFailure(await callWithEnv(secret, "/v1/session", { headers }), 404, "not_found");
    const answer = await callWithEnv(secret, "/d/secret/v1/session", { headers });
    expect(answer.status).toBe(200);
    expect(answer.body.result.upstream).toBe("simulator");
    expectFailure(await callWithEnv(secret, "/d/secret/v1/session", { headers: { authorization: "Bearer wrong" } }), 401, "unauthorized");
  });
});
