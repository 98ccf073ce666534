import { afterEach, describe, expect, it } from "vitest";
import {
  call,
  callWithEnv,
  cancel,
  cleanup,
  createOk,
  expectFailure,
  getInteraction,
  KEY,
  postCreate,
  sampleBody,
  SECOND_KEY,
  track,
} from "./helpers";

/** Authentication (design §1 "Authentication scope and order", §3 DIYALOG_API_KEYS / ALLOW_UNAUTHENTICATED). */

afterEach(cleanup);

const json = { "content-type": "application/json" };

describe("API keys", () => {
  it("accepts Authorization: Bearer <key>", async () => {
    await createOk(sampleBody(crypto.randomUUID(), 1), "/CreateInteraction", { ...json, authorization: `Bearer ${KEY}` });
  });

  it("accepts X-API-Key: <key>", async () => {
    await createOk(sampleBody(crypto.randomUUID(), 1), "/CreateInteraction", { ...json, "x-api-key": KEY });
  });

  it("the Bearer scheme is case-insensitive", async () => {
    await createOk(sampleBody(crypto.randomUUID(), 1), "/CreateInteraction", { ...json, authorization: `bearer ${KEY}` });
  });

  it("accepts the second configured key, on every Diyalog route", async () => {
    const headers = { authorization: `Bearer ${SECOND_KEY}` };
    const id = await createOk(sampleBody(crypto.randomUUID(), 1), "/v1/interactions", { ...json, ...headers });
    const read = await getInteraction(id, { "x-api-key": SECOND_KEY });
    expect(read.status).toBe(200);
    const del = await cancel(id, "/v1/interactions/", headers);
    expect(del.status).toBe(200);
    expect(del.body.result.state).toBe("cancelled");
  });

  const refused: [string, Record<string, string>][] = [
    ["no key", {}],
    ["a wrong Bearer key", { authorization: "Bearer wrong-key" }],
    ["a wrong X-API-Key", { "x-api-key": "wrong-key" }],
    ["a key prefix", { authorization: `Bearer ${KEY.slice(0, -1)}` }],
    ["a key with a suffix", { authorization: `Bearer ${KEY}x` }],
    ["Basic auth", { authorization: `Basic ${btoa(`user:${KEY}`)}` }],
    ["an empty Bearer", { authorization: "Bearer " }],
    ["both keys joined", { authorization: `Bearer ${KEY},${SECOND_KEY}` }],
  ];

  it.each(refused)("POST /CreateInteraction with %s → 401 unauthorized, no interaction id", async (_, headers) => {
    const answer = await postCreate(sampleBody(crypto.randomUUID(), 1), "/CreateInteraction", { ...json, ...headers });
    expectFailure(answer, 401, "unauthorized");
    expect(answer.body.result?.interactionId).toBeUndefined();
  });

  it.each(refused)("POST /v1/interactions with %s → 401", async (_, headers) => {
    expectFailure(await postCreate(sampleBody(crypto.randomUUID(), 1), "/v1/interactions", { ...json, ...headers }), 401, "unauthorized");
  });

  it.each(refused)("GET /v1/interactions/{id} with %s → 401, no data", async (_, headers) => {
    const customerId = crypto.randomUUID();
    const id = await createOk(sampleBody(customerId, 2));
    const answer = await getInteraction(id, headers);
    expectFailure(answer, 401, "unauthorized");
    expect(answer.text).not.toContain(id);
    expect(answer.text).not.toContain("Diyalog");
  });

  it.each(refused)("DELETE /{id} and /v1/interactions/{id} with %s → 401, not cancelled", async (_, headers) => {
    const id = await createOk(sampleBody(crypto.randomUUID(), 1));
    expectFailure(await cancel(id, "/", headers), 401, "unauthorized");
    expectFailure(await cancel(id, "/v1/interactions/", headers), 401, "unauthorized");
    expect((await getInteraction(id)).body.result.state).toBe("queued");
  });

  it("auth is checked before the content type and the body size", async () => {
    const big = "x".repeat(64 * 1024);
    expectFailure(await call("/CreateInteraction", { method: "POST", headers: { "content-type": "text/plain" }, body: "hi" }), 401, "unauthorized");
    expectFailure(await call("/CreateInteraction", { method: "POST", headers: json, body: big }), 401, "unauthorized");
    expectFailure(await call("/CreateInteraction", { method: "POST", headers: json, body: "{not json" }), 401, "unauthorized");
  });

  it("the 401 does not echo the presented key", async () => {
    const answer = await postCreate(sampleBody(crypto.randomUUID(), 1), "/CreateInteraction", { ...json, authorization: "Bearer sekrit-guess-123" });
    expectFailure(answer, 401, "unauthorized");
    expect(answer.text).not.toContain("sekrit-guess-123");
    expect(answer.text).not.toContain(KEY);
  });
});

// Rate limits (per key, and per address for failed authentications) are in rate-limit.test.ts.

describe("no keys configured", () => {
  const noKeys = { DIYALOG_API_KEYS: undefined };

  it("fails closed: 503 auth_not_configured on every Diyalog route", async () => {
    const id = "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f";
    const create = await callWithEnv(noKeys, "/CreateInteraction", {
      method: "POST",
      headers: json,
      body: JSON.stringify(sampleBody(crypto.randomUUID(), 1)),
    });
    expectFailure(create, 503, "auth_not_configured");
    expectFailure(
      await callWithEnv(noKeys, "/v1/interactions", { method: "POST", headers: json, body: JSON.stringify(sampleBody(crypto.randomUUID(), 1)) }),
      503,
      "auth_not_configured",
    );
    expectFailure(await callWithEnv(noKeys, `/v1/interactions/${id}`), 503, "auth_not_configured");
    expectFailure(await callWithEnv(noKeys, `/${id}`, { method: "DELETE" }), 503, "auth_not_configured");
    expectFailure(await callWithEnv(noKeys, `/v1/interactions/${id}`, { method: "DELETE" }), 503, "auth_not_configured");
    // Presenting a key does not help when none is configured.
    expectFailure(
      await callWithEnv(noKeys, "/CreateInteraction", {
        method: "POST",
        headers: { ...json, authorization: `Bearer ${KEY}` },
        body: JSON.stringify(sampleBody(crypto.randomUUID(), 1)),
      }),
      503,
      "auth_not_configured",
    );
  });

  it("an empty DIYALOG_API_KEYS also fails closed", async () => {
    for (const value of ["", " ", ","]) {
      expectFailure(
        await callWithEnv({ DIYALOG_API_KEYS: value }, "/CreateInteraction", {
          method: "POST",
          headers: { ...json, authorization: "Bearer " },
          body: JSON.stringify(sampleBody(crypto.randomUUID(), 1)),
        }),
        503,
        "auth_not_configured",
      );
    }
  });

  it("ALLOW_UNAUTHENTICATED=false without keys fails closed", async () => {
    expectFailure(
      await callWithEnv({ DIYALOG_API_KEYS: undefined, ALLOW_UNAUTHENTICATED: "false" }, "/CreateInteraction", {
        method: "POST",
        headers: json,
        body: JSON.stringify(sampleBody(crypto.randomUUID(), 1)),
      }),
      503,
      "auth_not_configured",
    );
  });

  it("/healthz answers 503 auth_not_configured without keys (the Diyalog routes cannot serve), naming why", async () => {
    for (const env of [noKeys, { DIYALOG_API_KEYS: " , ", ALLOW_UNAUTHENTICATED: "false" }]) {
      const answer = await callWithEnv(env, "/healthz");
      expectFailure(answer, 503, "auth_not_configured", "DIYALOG_API_KEYS");
      expect(answer.body.result).toMatchObject({ status: "auth_not_configured", version: expect.any(String) });
    }
  });

  it("/healthz answers 200 without keys when ALLOW_UNAUTHENTICATED=true (local use)", async () => {
    const answer = await callWithEnv({ DIYALOG_API_KEYS: undefined, ALLOW_UNAUTHENTICATED: "true" }, "/healthz");
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.result).toMatchObject({ status: "ok", auth: "unauthenticated" });
  });

  it("ALLOW_UNAUTHENTICATED=true without keys: create, read and cancel work without a key", async () => {
    const open = { DIYALOG_API_KEYS: undefined, ALLOW_UNAUTHENTICATED: "true" };
    const customerId = crypto.randomUUID();
    const create = await callWithEnv(open, "/CreateInteraction", { method: "POST", headers: json, body: JSON.stringify(sampleBody(customerId, 1)) });
    expect(create.status, create.text).toBe(200);
    const id = track(create.body.result.interactionId);
    const read = await callWithEnv(open, `/v1/interactions/${id}`);
    expect(read.status, read.text).toBe(200);
    expect(read.body.result.state).toBe("queued");
    const del = await callWithEnv(open, `/${id}`, { method: "DELETE" });
    expect(del.status, del.text).toBe(200);
    expect(del.body.result).toEqual({ interactionId: id, state: "cancelled" });
  });

  it("ALLOW_UNAUTHENTICATED=true does not open the API when keys are configured", async () => {
    const answer = await callWithEnv({ ALLOW_UNAUTHENTICATED: "true" }, "/CreateInteraction", {
      method: "POST",
      headers: json,
      body: JSON.stringify(sampleBody(crypto.randomUUID(), 1)),
    });
    expectFailure(answer, 401, "unauthorized");
  });
});
