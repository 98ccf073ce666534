import { env, exports } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { expect } from "vitest";
import worker from "../../src/index";

/**
 * Shared helpers for the integration tests: every call goes through HTTP to the worker, and every
 * response is checked against the envelope contract of design.md §1 before a test looks at it.
 */

export const BASE = "http://proxy";
export const KEY = "test-key-0123456789abcdefghijklmnopqrstuv";
export const SECOND_KEY = "second-key-0123456789abcdefghijklmnopqrstuv";

/** design.md §1 "errorCodes (a closed list)". */
export const ERROR_CODES = [
  "not_found",
  "method_not_allowed",
  "payload_too_large",
  "unsupported_media_type",
  "invalid_json",
  "validation_failed",
  "unauthorized",
  "auth_not_configured",
  "config_invalid",
  "rate_limited",
  "already_assigned",
  "cancelled",
  "upstream_rejected",
  "upstream_unavailable",
  "cancel_unconfirmed",
  "internal_error",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The only 5xx answers the contract documents (the simulator never refuses, so no 502 here). */
const DOCUMENTED_503 = new Set<string>(["auth_not_configured", "config_invalid", "upstream_unavailable", "cancel_unconfirmed"]);

/** Interaction ids: the customer object's id (64 hex digits) and 128 random bits (22 base64url characters). */
export const INTERACTION_ID = /^[0-9a-f]{64}[A-Za-z0-9_-]{22}$/;

export interface Envelope {
  success: boolean;
  errorMessage: string | null;
  errorCode?: ErrorCode;
  result: any;
}

export interface Answer {
  res: Response;
  status: number;
  body: Envelope;
  /** The raw body text, for checks that personal data never appears in it. */
  text: string;
}

/**
 * The invariant every API response must hold: a JSON envelope whose `success` agrees with the
 * status, a nullable string `errorMessage`, an object-or-null `result`, a closed-list `errorCode`
 * on failures, the no-store / nosniff headers, and no 5xx except the documented 503s.
 */
export async function checkEnvelope(res: Response): Promise<Answer> {
  const text = await res.text();
  const where = `${res.status} ${text.slice(0, 300)}`;
  expect(res.headers.get("content-type") ?? "", `content-type of ${where}`).toMatch(/^application\/json\b/i);
  expect(res.headers.get("cache-control"), `cache-control of ${where}`).toBe("no-store");
  expect(res.headers.get("x-content-type-options"), `x-content-type-options of ${where}`).toBe("nosniff");

  let body: Envelope;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`response is not JSON: ${where}`);
  }
  expect(body !== null && typeof body === "object" && !Array.isArray(body), `envelope object: ${where}`).toBe(true);
  expect(typeof body.success, `success is boolean: ${where}`).toBe("boolean");
  const ok = res.status >= 200 && res.status < 300;
  expect(body.success, `success agrees with status: ${where}`).toBe(ok);
  expect(body.errorMessage === null || typeof body.errorMessage === "string", `errorMessage string|null: ${where}`).toBe(true);
  expect(
    body.result === null || (typeof body.result === "object" && !Array.isArray(body.result)),
    `result object|null: ${where}`,
  ).toBe(true);
  if (ok) {
    expect(body.errorMessage, `success has errorMessage null: ${where}`).toBeNull();
    expect(body.errorCode, `success has no errorCode: ${where}`).toBeUndefined();
  } else {
    expect(typeof body.errorMessage, `failure has an errorMessage: ${where}`).toBe("string");
    expect(ERROR_CODES as readonly string[], `errorCode in the closed list: ${where}`).toContain(body.errorCode);
    // No stack traces leak.
    expect(body.errorMessage ?? "", `no stack trace: ${where}`).not.toMatch(/\n\s+at /);
  }
  if (res.status >= 500) {
    expect(res.status, `only documented 503s are 5xx: ${where}`).toBe(503);
    expect(DOCUMENTED_503.has(body.errorCode ?? ""), `503 with a documented errorCode: ${where}`).toBe(true);
  }
  return { res, status: res.status, body, text };
}

/** Checks a failure answer: status, errorCode and (optionally) that the message names something. */
export function expectFailure(answer: Answer, status: number, code: ErrorCode, names?: string): void {
  const where = `${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.status, where).toBe(status);
  expect(answer.body.success, where).toBe(false);
  expect(answer.body.errorCode, where).toBe(code);
  if (names !== undefined) expect(answer.body.errorMessage, where).toContain(names);
}

/** Headers with the default key (Bearer) and JSON content type. */
export function authHeaders(extra: Record<string, string> = {}, key = KEY): Record<string, string> {
  return { authorization: `Bearer ${key}`, "content-type": "application/json", ...extra };
}

/**
 * Gives a request its own client address unless it has one: failed authentications are rate
 * limited per address (tests of that limit set the header themselves).
 */
export function fromOwnAddress(init: RequestInit): RequestInit {
  const headers = new Headers(init.headers);
  if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", `198.51.100.${Math.floor(Math.random() * 254) + 1}`);
  return { ...init, headers };
}

/** Any request to the worker as deployed with vitest.config.ts's bindings; the envelope is checked. */
export async function call(path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await exports.default.fetch(`${BASE}${path}`, fromOwnAddress(init));
  return checkEnvelope(res);
}

/**
 * The raw response of the worker called with a modified env (other configurations, or keys of a
 * test's own so its rate-limit bucket is private); nothing is checked. Background work is awaited.
 */
export async function fetchWithEnv(overrides: Record<string, unknown>, path: string, init: RequestInit = {}): Promise<Response> {
  const modified: Record<string, unknown> = { ...env };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete modified[name];
    else modified[name] = value;
  }
  const ctx = createExecutionContext();
  const request = new Request(`${BASE}${path}`, fromOwnAddress(init)) as Parameters<typeof worker.fetch>[0];
  const res = await worker.fetch(request, modified as unknown as Env, ctx);
  const body = await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return new Response(res.status === 101 || res.status === 204 || res.status === 304 ? null : body, res);
}

/** The same worker called with a modified env (other configurations); the envelope is checked. */
export async function callWithEnv(overrides: Record<string, string | undefined>, path: string, init: RequestInit = {}): Promise<Answer> {
  return checkEnvelope(await fetchWithEnv(overrides, path, init));
}

/** Ids created by a test file; `cleanup()` cancels those still waiting so the one agent stays free. */
const created = new Set<string>();

export function track(id: string): string {
  created.add(id);
  return id;
}

export async function cleanup(): Promise<void> {
  const ids = [...created];
  created.clear();
  await Promise.all(
    ids.map(async (id) => {
      const res = await exports.default.fetch(`${BASE}/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${KEY}` } });
      await res.body?.cancel();
    }),
  );
}

export function sampleBody(customerId: string, shape: 1 | 2 | 3, identityNumber = "12345678901"): Record<string, unknown> {
  switch (shape) {
    case 1:
      return {
        customerId,
        attachedData: [{ TRX: "Diyalog" }, { PrimaryProjectManagerId: "123456" }, { SecondaryProjectManagerId: "654321" }],
      };
    case 2:
      return {
        customerId,
        attachedData: [{ TRX: "Diyalog" }, { PrimaryProjectManagerId: "123456" }, { SecondaryProjectManagerId: "654321" }],
        identityNumber,
      };
    case 3:
      return { customerId, attachedData: { TRX: "Diyalog", PrimaryProjectManagerId: "123456" } };
  }
}

/** POST a create body (any path, any headers); the envelope is checked. */
export function postCreate(body: unknown, path = "/CreateInteraction", headers: Record<string, string> = authHeaders()): Promise<Answer> {
  return call(path, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
}

/** Creates an interaction and expects the documented 200 answer; returns its id (tracked for cleanup). */
export async function createOk(body: unknown, path = "/CreateInteraction", headers: Record<string, string> = authHeaders()): Promise<string> {
  const answer = await postCreate(body, path, headers);
  expect(answer.status, answer.text).toBe(200);
  expect(answer.body).toEqual({ success: true, errorMessage: null, result: { interactionId: expect.any(String) } });
  const id = answer.body.result.interactionId as string;
  expect(id).toMatch(INTERACTION_ID);
  return track(id);
}

export function getInteraction(id: string, headers: Record<string, string> = { authorization: `Bearer ${KEY}` }): Promise<Answer> {
  return call(`/v1/interactions/${id}`, { headers });
}

/**
 * Reads an interaction with VISIBLE_ATTRIBUTES listing `keys`, so a test of how attributes are
 * normalised sees their values (reads show only the visible ones; the rest read "***").
 */
export function getShowing(id: string, keys: string[]): Promise<Answer> {
  return callWithEnv({ VISIBLE_ATTRIBUTES: keys.join(",") }, `/v1/interactions/${id}`, { headers: { authorization: `Bearer ${KEY}` } });
}

export function cancel(id: string, path: "/" | "/v1/interactions/" = "/", headers: Record<string, string> = { authorization: `Bearer ${KEY}` }): Promise<Answer> {
  return call(`${path}${id}`, { method: "DELETE", headers });
}

/** `*` for every character but the last two. */
export function masked(value: string): string {
  return "*".repeat(value.length - 2) + value.slice(-2);
}

export function randomDigits(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String(Math.floor(Math.random() * 10));
  return s;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
