import { afterEach, describe, expect, it } from "vitest";
import { authHeaders, call, callWithEnv, cleanup, createOk, expectFailure, KEY, sampleBody } from "./helpers";

/** Routing rules, unknown and malformed ids, /healthz (design §1). */

afterEach(cleanup);

const auth = { authorization: `Bearer ${KEY}` };

describe("unknown, malformed and hostile ids → 404 not_found", () => {
  const unknownUuid = "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f";
  const hostile: [string, string][] = [
    ["a v4 UUID (the ids of the layout before one object per customer)", unknownUuid],
    ["a malformed id", "not-an-interaction-id"],
    ["a number", "12345"],
    ["an encoded slash", "abc%2Fdef"],
    ["an encoded traversal", "..%2F..%2Fhealthz"],
    ["a fully encoded traversal", "%2e%2e%2f%2e%2e%2fCreateInteraction"],
    ["an encoded backslash traversal", "..%5C..%5Cetc%5Cpasswd"],
    ["a UUID with an encoded slash suffix", `${unknownUuid}%2F..`],
    ["a 2000-character id", "a".repeat(2000)],
    ["a 2000-character UUID-prefixed id", unknownUuid + "0".repeat(2000 - unknownUuid.length)],
    ["an encoded NUL", `${unknownUuid}%00`],
    ["a well-formed id whose first 64 characters are no object's id", `${"f".repeat(64)}${"A".repeat(22)}`],
    ["a well-formed id that is one character short", `${"0".repeat(64)}${"A".repeat(21)}`],
  ];

  it.each(hostile)("GET /v1/interactions/{%s}", async (_, id) => {
    expectFailure(await call(`/v1/interactions/${id}`, { headers: auth }), 404, "not_found");
  });

  it.each(hostile)("DELETE /{%s}", async (_, id) => {
    expectFailure(await call(`/${id}`, { method: "DELETE", headers: auth }), 404, "not_found");
  });

  it.each(hostile)("DELETE /v1/interactions/{%s}", async (_, id) => {
    expectFailure(await call(`/v1/interactions/${id}`, { method: "DELETE", headers: auth }), 404, "not_found");
  });

  it("a real id with an extra character or an encoded-slash suffix is not that interaction", async () => {
    const id = await createOk(sampleBody(crypto.randomUUID(), 1));
    for (const variant of [`${id}0`, `${id}%2F`, `${id}%2F..%2F${id}`, `x${id}`]) {
      expectFailure(await call(`/v1/interactions/${variant}`, { headers: auth }), 404, "not_found");
      expectFailure(await call(`/${variant}`, { method: "DELETE", headers: auth }), 404, "not_found");
    }
    // Nothing above touched the real one.
    const read = await call(`/v1/interactions/${id}`, { headers: auth });
    expect(read.body.result.state).toBe("queued");
  });

  it("an id naming the right object with another random part is not that interaction (nor any other)", async () => {
    const id = await createOk(sampleBody(crypto.randomUUID(), 1));
    const last = id.at(-1) === "A" ? "B" : "A";
    for (const variant of [`${id.slice(0, -1)}${last}`, `${id.slice(0, 64)}${"_".repeat(22)}`]) {
      expectFailure(await call(`/v1/interactions/${variant}`, { headers: auth }), 404, "not_found");
      expectFailure(await call(`/${variant}`, { method: "DELETE", headers: auth }), 404, "not_found");
    }
    expect((await call(`/v1/interactions/${id}`, { headers: auth })).body.result.state).toBe("queued");
  });
});

describe("wrong method on a fixed route → 405 method_not_allowed with Allow", () => {
  const cases: [string, string, string][] = [
    ["GET", "/CreateInteraction", "POST"],
    ["PUT", "/CreateInteraction", "POST"],
    ["PATCH", "/CreateInteraction", "POST"],
    ["GET", "/v1/interactions", "POST"],
    ["PUT", "/v1/interactions", "POST"],
    ["DELETE", "/v1/interactions", "POST"],
    ["POST", "/healthz", "GET"],
    ["PUT", "/healthz", "GET"],
    ["PATCH", "/healthz", "GET"],
  ];
  it.each(cases)("%s %s", async (method, path, allowed) => {
    const answer = await call(path, { method, headers: authHeaders() });
    expectFailure(answer, 405, "method_not_allowed");
    const allow = answer.res.headers.get("allow");
    expect(allow, "Allow header").not.toBeNull();
    const methods = allow!.split(",").map((m) => m.trim().toUpperCase());
    expect(methods).toContain(allowed);
    expect(methods).not.toContain(method);
  });

  it("405 does not need a key", async () => {
    const answer = await call("/CreateInteraction", { method: "GET" });
    expectFailure(answer, 405, "method_not_allowed");
    expect(answer.res.headers.get("allow")).toContain("POST");
  });
});

describe("DELETE on a single path segment is a cancel of that id", () => {
  it("DELETE /healthz → 404 not_found", async () => {
    expectFailure(await call("/healthz", { method: "DELETE", headers: auth }), 404, "not_found");
  });

  it("DELETE /CreateInteraction → 404 not_found", async () => {
    expectFailure(await call("/CreateInteraction", { method: "DELETE", headers: auth }), 404, "not_found");
  });
});

describe("a wrong method on a route that is not fixed → 404 not_found", () => {
  it.each(["PUT", "PATCH", "POST"])("%s /v1/interactions/{id}", async (method) => {
    const id = await createOk(sampleBody(crypto.randomUUID(), 1));
    const answer = await call(`/v1/interactions/${id}`, { method, headers: authHeaders(), body: "{}" });
    expectFailure(answer, 404, "not_found");
    // The interaction is untouched.
    expect((await call(`/v1/interactions/${id}`, { headers: auth })).body.result.state).toBe("queued");
  });

  it.each(["GET", "PUT", "POST"])("%s /{id} (only DELETE is a cancel)", async (method) => {
    const id = await createOk(sampleBody(crypto.randomUUID(), 1));
    const init: RequestInit = method === "GET" ? { method, headers: auth } : { method, headers: authHeaders(), body: "{}" };
    expectFailure(await call(`/${id}`, init), 404, "not_found");
  });
});

describe("unknown paths → 404 not_found envelope", () => {
  const unknown: [string, string][] = [
    ["GET", "/"],
    ["DELETE", "/"],
    ["POST", "/"],
    ["GET", "/nope"],
    ["POST", "/nope"],
    ["GET", "/v2/interactions"],
    ["POST", "/v1/interaction"],
    ["GET", "/v1/interactions/a/b"],
    ["GET", "/v1/interactions/"],
    ["DELETE", "/v1/interactions/"],
    ["POST", "/CreateInteraction/extra"],
    ["DELETE", "/a/b"],
    ["DELETE", "/v1/interactions/a/b"],
    ["POST", "/createinteraction"],
    ["GET", "/.env"],
    ["GET", "/wp-admin/install.php"],
  ];
  it.each(unknown)("%s %s (with a key)", async (method, path) => {
    expectFailure(await call(path, { method, headers: authHeaders() }), 404, "not_found");
  });
  it.each(unknown)("%s %s (without a key)", async (method, path) => {
    expectFailure(await call(path, { method }), 404, "not_found");
  });
});

describe("GET /healthz", () => {
  it("answers 200 with status ok, without a key and without secrets", async () => {
    const answer = await call("/healthz");
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.success).toBe(true);
    expect(answer.body.result.status).toBe("ok");
    expect(answer.text).not.toContain("test-key-0123456789abcdefghijklmnopqrstuv");
    expect(answer.text).not.toContain("second-key-0123456789abcdefghijklmnopqrstuv");
  });

  it("reports the version of package.json and the build's commit (BUILD_COMMIT, else unknown)", async () => {
    const { version } = (await import("../../package.json")).default;
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    expect((await call("/healthz")).body.result).toMatchObject({ version, commit: "unknown" });
    const built = await callWithEnv({ BUILD_COMMIT: "0123abcd4567" }, "/healthz");
    expect(built.body.result).toMatchObject({ status: "ok", version, commit: "0123abcd4567" });
    // An invalid configuration still says which build answers.
    const broken = await callWithEnv({ BUILD_COMMIT: "0123abcd4567", UPSTREAM: "nope" }, "/healthz");
    expect(broken.status).toBe(503);
    expect(broken.body.result).toMatchObject({ status: "config_invalid", version, commit: "0123abcd4567" });
  });

  it("also answers with a key", async () => {
    const answer = await call("/healthz", { headers: auth });
    expect(answer.status).toBe(200);
    expect(answer.body.result.status).toBe("ok");
  });
});
