import { describe, expect, it } from "vitest";
import { parseConfig, type Config } from "../../src/config";
import { ApiError } from "../../src/http/envelope";
import { authenticate, constantTimeEqual, presentedKey } from "../../src/security/auth";

function config(env: Record<string, unknown>): Config {
  const result = parseConfig(env);
  if (!result.ok) throw new Error(result.problems.join("; "));
  return result.config;
}

const keys = config({ DIYALOG_API_KEYS: "key-one-0123456789abcdefghijklmnopqrstuv, key-two-0123456789abcdefghijklmnopqrstuv ,key-three-0123456789abcdefghijklmnopqrstuv" });

function request(headers: Record<string, string> = {}): Request {
  return new Request("https://proxy.example.com/CreateInteraction", { method: "POST", headers });
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error("expected an ApiError, the promise resolved");
}

async function expectUnauthorized(headers: Record<string, string>, cfg: Config = keys): Promise<ApiError> {
  const err = await rejection(authenticate(request(headers), cfg));
  expect(err.status).toBe(401);
  expect(err.code).toBe("unauthorized");
  return err;
}

describe("authenticate: accepted keys", () => {
  it.each(["key-one-0123456789abcdefghijklmnopqrstuv", "key-two-0123456789abcdefghijklmnopqrstuv", "key-three-0123456789abcdefghijklmnopqrstuv"])("Bearer %s", async (key) => {
    await expect(authenticate(request({ authorization: `Bearer ${key}` }), keys)).resolves.toMatchObject({ kind: "key" });
  });

  it.each(["key-one-0123456789abcdefghijklmnopqrstuv", "key-two-0123456789abcdefghijklmnopqrstuv", "key-three-0123456789abcdefghijklmnopqrstuv"])("X-API-Key %s", async (key) => {
    await expect(authenticate(request({ "x-api-key": key }), keys)).resolves.toMatchObject({ kind: "key" });
  });

  it("the Bearer scheme is case-insensitive and surrounding blanks are tolerated", async () => {
    for (const value of ["bearer key-one-0123456789abcdefghijklmnopqrstuv", "BEARER key-one-0123456789abcdefghijklmnopqrstuv", "Bearer   key-one-0123456789abcdefghijklmnopqrstuv", "Bearer\tkey-one-0123456789abcdefghijklmnopqrstuv", "Bearer key-one-0123456789abcdefghijklmnopqrstuv  "]) {
      await expect(authenticate(request({ authorization: value }), keys)).resolves.toMatchObject({ kind: "key" });
    }
  });

  it("X-API-Key is trimmed", async () => {
    await expect(authenticate(request({ "x-api-key": "  key-two-0123456789abcdefghijklmnopqrstuv  " }), keys)).resolves.toMatchObject({ kind: "key" });
  });

  it("a non-Bearer Authorization header falls back to X-API-Key", async () => {
    await expect(authenticate(request({ authorization: "Basic a2V5LW9uZTo=", "x-api-key": "key-one-0123456789abcdefghijklmnopqrstuv" }), keys)).resolves.toMatchObject({ kind: "key" });
  });

  it("a single configured key works", async () => {
    const one = config({ DIYALOG_API_KEYS: "solo-0123456789abcdefghijklmnopqrstuv" });
    await expect(authenticate(request({ authorization: "Bearer solo-0123456789abcdefghijklmnopqrstuv" }), one)).resolves.toMatchObject({ kind: "key" });
    await expectUnauthorized({ authorization: "Bearer key-one-0123456789abcdefghijklmnopqrstuv" }, one);
  });
});

describe("authenticate: refused", () => {
  it("no key at all → 401 unauthorized", async () => {
    const err = await expectUnauthorized({});
    expect(err.message).toMatch(/API key is required/);
  });

  it.each([
    ["a wrong Bearer key", { authorization: "Bearer nope" }],
    ["a wrong X-API-Key", { "x-api-key": "nope" }],
    ["a prefix of a key", { authorization: "Bearer key-on" }],
    ["a key with a suffix", { authorization: "Bearer key-one-0123456789abcdefghijklmnopqrstuv1" }],
    ["a different case", { authorization: "Bearer KEY-ONE" }],
    ["the whole list", { "x-api-key": "key-one-0123456789abcdefghijklmnopqrstuv,key-two-0123456789abcdefghijklmnopqrstuv" }],
  ])("%s → 401 unauthorized", async (_name, headers) => {
    const err = await expectUnauthorized(headers);
    expect(err.message).toBe("the API key is not valid");
  });

  it.each([
    ["Bearer without a key", { authorization: "Bearer" }],
    ["Bearer with blanks only", { authorization: "Bearer    " }],
    ["a key without a scheme", { authorization: "key-one-0123456789abcdefghijklmnopqrstuv" }],
    ["another scheme", { authorization: "Basic key-one-0123456789abcdefghijklmnopqrstuv" }],
    ["an empty X-API-Key", { "x-api-key": "   " }],
  ])("%s → 401 unauthorized", async (_name, headers) => {
    await expectUnauthorized(headers);
  });

  it("a Bearer key with a space inside is not split into a valid key", async () => {
    await expectUnauthorized({ authorization: "Bearer key-one-0123456789abcdefghijklmnopqrstuv extra" });
  });

  it("a wrong Bearer key is not rescued by a right X-API-Key (Authorization decides)", async () => {
    await expectUnauthorized({ authorization: "Bearer wrong", "x-api-key": "key-one-0123456789abcdefghijklmnopqrstuv" });
  });

  it("401s carry no result and no secret", async () => {
    const err = await expectUnauthorized({ authorization: "Bearer wrong" });
    expect(err.result).toBeNull();
    expect(err.message).not.toContain("key-one-0123456789abcdefghijklmnopqrstuv");
    expect(err.message).not.toContain("wrong");
  });
});

describe("authenticate: no keys configured", () => {
  const none = config({});

  it("fails closed with 503 auth_not_configured", async () => {
    for (const headers of [{}, { authorization: "Bearer anything" }, { "x-api-key": "anything" }] as Record<string, string>[]) {
      const err = await rejection(authenticate(request(headers), none));
      expect(err.status).toBe(503);
      expect(err.code).toBe("auth_not_configured");
      expect(err.message).toMatch(/DIYALOG_API_KEYS/);
    }
  });

  it("a key list of only commas and blanks counts as no keys", async () => {
    const err = await rejection(authenticate(request({ authorization: "Bearer x" }), config({ DIYALOG_API_KEYS: " , ," })));
    expect(err.status).toBe(503);
    expect(err.code).toBe("auth_not_configured");
  });

  it("is open when ALLOW_UNAUTHENTICATED=true", async () => {
    const open = config({ ALLOW_UNAUTHENTICATED: "true" });
    await expect(authenticate(request(), open)).resolves.toEqual({ kind: "anonymous" });
    await expect(authenticate(request({ authorization: "Bearer whatever" }), open)).resolves.toEqual({ kind: "anonymous" });
  });

  it("ALLOW_UNAUTHENTICATED does not open an API that has keys", async () => {
    const both = config({ ALLOW_UNAUTHENTICATED: "true", DIYALOG_API_KEYS: "k1-0123456789abcdefghijklmnopqrstuvw" });
    await expectUnauthorized({}, both);
    await expectUnauthorized({ authorization: "Bearer k2" }, both);
    await expect(authenticate(request({ authorization: "Bearer k1-0123456789abcdefghijklmnopqrstuvw" }), both)).resolves.toMatchObject({ kind: "key" });
  });
});

describe("presentedKey", () => {
  it("prefers a Bearer token, then X-API-Key", () => {
    expect(presentedKey(request({ authorization: "Bearer a", "x-api-key": "b" }))).toBe("a");
    expect(presentedKey(request({ "x-api-key": "b" }))).toBe("b");
    expect(presentedKey(request({ authorization: "Basic zzz", "x-api-key": "b" }))).toBe("b");
    expect(presentedKey(request())).toBeUndefined();
    expect(presentedKey(request({ "x-api-key": "" }))).toBeUndefined();
  });
});

describe("the caller a valid key identifies", () => {
  it("is a digest that stays the same per key, differs between keys and never contains the key", async () => {
    const one = await authenticate(request({ authorization: "Bearer key-one-0123456789abcdefghijklmnopqrstuv" }), keys);
    const again = await authenticate(request({ "x-api-key": "key-one-0123456789abcdefghijklmnopqrstuv" }), keys);
    const two = await authenticate(request({ authorization: "Bearer key-two-0123456789abcdefghijklmnopqrstuv" }), keys);
    expect(one).toEqual(again);
    expect(one).not.toEqual(two);
    expect(JSON.stringify(one)).not.toContain("key-one-0123456789abcdefghijklmnopqrstuv");
  });
});

describe("constantTimeEqual", () => {
  it("compares whole strings of any length", async () => {
    expect(await constantTimeEqual("abc", "abc")).toBe(true);
    expect(await constantTimeEqual("abc", "abd")).toBe(false);
    expect(await constantTimeEqual("abc", "abcd")).toBe(false);
    expect(await constantTimeEqual("", "")).toBe(true);
    expect(await constantTimeEqual("", "a")).toBe(false);
    expect(await constantTimeEqual("ş", "s")).toBe(false);
  });
});
