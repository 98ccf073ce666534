import { env, exports } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import worker from "../../src/index";
import { afterAll, describe, expect, it } from "vitest";
import { BASE, call, callWithEnv, cleanup, createOk, expectFailure, KEY, sampleBody } from "./helpers";

/**
 * The console's static files (served through the ASSETS binding) and its simulator view,
 * `GET /v1/simulator`. The page itself needs no key; its API calls do. The browser test
 * (scripts/browser-test.ts) drives the page itself.
 */

afterAll(cleanup);

const SIGNING_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

describe("the console's files", () => {
  it("GET /console is the HTML page, without a key, locked to its own origin", async () => {
    const res = await exports.default.fetch(`${BASE}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type") ?? "").toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy") ?? "").toMatch(/(^|;)\s*default-src 'self'(;|$)/);
    expect(res.headers.get("content-security-policy") ?? "").toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-request-id")).toBeTruthy();
    const html = await res.text();
    expect(html).toContain('<script src="/console.js" defer></script>');
    expect(html).toContain('<link rel="stylesheet" href="/console.css">');
    // No inline script or style (the CSP would block them), nothing from another origin.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style="/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it.each([
    ["/console.js", /javascript/],
    ["/console.css", /text\/css/],
  ])("GET %s is served", async (path, type) => {
    const res = await exports.default.fetch(`${BASE}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type") ?? "").toMatch(type);
    expect((await res.text()).length).toBeGreaterThan(1000);
  });

  it("the script keeps the key in sessionStorage and sends it in a header, never in a URL", async () => {
    const js = await (await exports.default.fetch(`${BASE}/console.js`)).text();
    expect(js).toContain("sessionStorage");
    expect(js).not.toContain("localStorage");
    expect(js).toMatch(/authorization: `Bearer \$\{session\.key\}`/);
    expect(js).not.toMatch(/innerHTML/);
  });

  it("GET /console.svg is the page's icon (a missing icon would be a 404 in every visitor's devtools)", async () => {
    const res = await exports.default.fetch(`${BASE}/console.svg`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type") ?? "").toMatch(/^image\/svg\+xml/);
    const html = await (await exports.default.fetch(`${BASE}/console`)).text();
    expect(html).toContain('<link rel="icon" href="/console.svg" type="image/svg+xml">');
  });

  it("HEAD /console answers without a body", async () => {
    const res = await exports.default.fetch(`${BASE}/console`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
  });

  it.each(["/console", "/console.js", "/console.css", "/console.svg", "/openapi.json"])("POST, PUT, PATCH %s → 405 with Allow", async (path) => {
    for (const method of ["POST", "PUT", "PATCH"]) {
      const answer = await call(path, { method });
      expectFailure(answer, 405, "method_not_allowed");
      expect(answer.res.headers.get("allow")).toBe("GET, HEAD");
    }
  });

  it("DELETE on the single-segment files is a cancel of that id, like DELETE /healthz (design §1 routing)", async () => {
    for (const path of ["/console", "/openapi.json"]) {
      expectFailure(await call(path, { method: "DELETE" }), 401, "unauthorized");
      expectFailure(await call(path, { method: "DELETE", headers: { authorization: `Bearer ${KEY}` } }), 404, "not_found");
    }
  });

  it("the page loads with an invalid configuration too (it needs none)", async () => {
    const modified = { ...env, UPSTREAM_TIMEOUT_MS: "not a number" } as unknown as Env;
    const res = await worker.fetch(new Request(`${BASE}/console`) as Parameters<typeof worker.fetch>[0], modified, createExecutionContext());
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("<!doctype html>");
    expectFailure(await callWithEnv({ UPSTREAM_TIMEOUT_MS: "not a number" }, "/healthz"), 503, "config_invalid");
  });
});

describe("GET /v1/simulator", () => {
  const auth = { authorization: `Bearer ${KEY}` };

  it("needs a key", async () => {
    expectFailure(await call("/v1/simulator"), 401, "unauthorized");
    expectFailure(await call("/v1/simulator", { headers: { authorization: "Bearer wrong" } }), 401, "unauthorized");
  });

  it("shows the agents and a queued call", async () => {
    const id = await createOk(sampleBody(crypto.randomUUID(), 1));
    const answer = await call("/v1/simulator", { headers: auth });
    expect(answer.status).toBe(200);
    const { agents, queue } = answer.body.result as { agents: { id: string; busy: boolean }[]; queue: { interactionId: string; waitingMs: number }[] };
    expect(agents.map((a) => a.id)).toEqual(["agent-1"]); // SIM_AGENTS=1 in vitest.config.ts
    expect(queue.map((q) => q.interactionId)).toContain(id);
    expect(answer.text).not.toContain("customerId");
  });

  it("other methods → 405 with Allow", async () => {
    const answer = await call("/v1/simulator", { method: "POST", headers: auth });
    expectFailure(answer, 405, "method_not_allowed");
    expect(answer.res.headers.get("allow")).toBe("GET, HEAD");
  });

  it("is absent (404) with another upstream", async () => {
    const http = { UPSTREAM: "http", UPSTREAM_URL: "http://127.0.0.1:9", UPSTREAM_SIGNING_SECRET: SIGNING_SECRET };
    expectFailure(await callWithEnv(http, "/v1/simulator", { headers: auth }), 404, "not_found");
    expectFailure(await callWithEnv(http, "/v1/simulator", { method: "POST", headers: auth }), 404, "not_found");
  });
});
