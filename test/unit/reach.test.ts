import { afterEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../src/config";
import { createAdapter } from "../../src/upstreams";
import type { UpstreamAdapter } from "../../src/upstreams/adapter";

/**
 * Reaching an upstream inside a bank's network (design §2): the Cloudflare Access service token is
 * on every upstream call of every kind (create, lookup, read/poll, cancel), and a bound
 * `UPSTREAM_MTLS` mtls_certificates binding is the fetch every call goes through (the runtime's own
 * fetch is never used then). The adapters are built as the worker builds them (`createAdapter`).
 */

const ACCESS = { UPSTREAM_ACCESS_CLIENT_ID: "4f2c.access", UPSTREAM_ACCESS_CLIENT_SECRET: "access-secret-123" };
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const signal = () => new AbortController().signal;

interface Seen {
  method: string;
  url: string;
  id: string | null;
  secret: string | null;
}

/** An upstream that answers by path: enough for each call kind of the http and engage adapters. */
function upstream(seen: Seen[]) {
  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    seen.push({ method: request.method, url: request.url, id: request.headers.get("cf-access-client-id"), secret: request.headers.get("cf-access-client-secret") });
    const path = new URL(request.url).pathname;
    if (path.includes("/ext_")) return new Response(JSON.stringify({ message: "Resource is not found" }), { status: 404 });
    if (request.method === "POST" && path.endsWith("/stop")) return Response.json({});
    if (request.method === "GET") return Response.json({ id: "0001AB", InteractionState: 2 });
    if (request.method === "DELETE") return new Response(null, { status: 204 });
    return Response.json({ id: "0001AB" });
  };
}

function adapterFor(vars: Record<string, unknown>, env: Record<string, unknown> = vars): UpstreamAdapter {
  const result = parseConfig(vars);
  if (!result.ok) throw new Error(result.problems.join("; "));
  return createAdapter(result.config, env as unknown as Env);
}

const ENGAGE = {
  UPSTREAM: "genesys-engage",
  ENGAGE_API: "nexus",
  ENGAGE_URL: "https://engage.bank.internal",
  ENGAGE_SERVICE: "diyalog",
  ENGAGE_API_KEY: "nexus-key",
};
const HTTP = { UPSTREAM: "http", UPSTREAM_URL: "https://queue.bank.internal", UPSTREAM_SIGNING_SECRET: SECRET };

async function everyKind(adapter: UpstreamAdapter): Promise<void> {
  const dispatched = await adapter.dispatch({ interactionId: "ix-1", customerId: "c-1", attributes: { TRX: "Diyalog" }, mayExist: true }, signal());
  expect(dispatched).toMatchObject({ kind: "accepted" });
  const ref = { interactionId: "ix-1", upstreamId: "0001AB" };
  if (adapter.poll) expect(await adapter.poll(ref, signal())).toMatchObject({ kind: "waiting" });
  await adapter.cancel(ref, signal());
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("Cloudflare Access service token on every upstream call", () => {
  it("genesys-engage: lookup, create, read (poll) and cancel (read, stop) all carry CF-Access-Client-Id/Secret", async () => {
    const seen: Seen[] = [];
    vi.stubGlobal("fetch", upstream(seen));
    await everyKind(adapterFor({ ...ENGAGE, ...ACCESS }));
    const kinds = seen.map((s) => `${s.method} ${new URL(s.url).pathname.split("/").slice(6).join("/")}`);
    expect(kinds).toEqual(["GET ext_ix-1", "POST ", "GET 0001AB", "GET 0001AB", "POST 0001AB/stop", "GET 0001AB"]);
    for (const s of seen) expect(s).toMatchObject({ id: "4f2c.access", secret: "access-secret-123" });
  });

  it("http: create and cancel carry them too", async () => {
    const seen: Seen[] = [];
    vi.stubGlobal("fetch", upstream(seen));
    await everyKind(adapterFor({ ...HTTP, ...ACCESS }));
    expect(seen.map((s) => s.method)).toEqual(["POST", "DELETE"]);
    for (const s of seen) expect(s).toMatchObject({ id: "4f2c.access", secret: "access-secret-123" });
  });

  it("without a token configured, no Access header is sent", async () => {
    const seen: Seen[] = [];
    vi.stubGlobal("fetch", upstream(seen));
    await everyKind(adapterFor(ENGAGE));
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) expect(s).toMatchObject({ id: null, secret: null });
  });
});

describe("UPSTREAM_MTLS: a bound mtls_certificates binding is the fetch of every upstream call", () => {
  it.each([
    ["genesys-engage", ENGAGE],
    ["http", HTTP],
  ])("%s: every call goes through the binding's fetch, none through the runtime's", async (_name, vars) => {
    const seen: Seen[] = [];
    const direct = vi.fn(async () => new Response("direct fetch used", { status: 599 }));
    vi.stubGlobal("fetch", direct);
    const binding = { fetch: vi.fn(upstream(seen)) };
    await everyKind(adapterFor({ ...vars, ...ACCESS }, { ...vars, ...ACCESS, UPSTREAM_MTLS: binding }));
    expect(direct).not.toHaveBeenCalled();
    expect(binding.fetch.mock.calls.length).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    // Both ways at once: the certificate and the Access token.
    for (const s of seen) expect(s).toMatchObject({ id: "4f2c.access", secret: "access-secret-123" });
  });
});

describe("the cloud vendors' public APIs never get the bank's Access token or client certificate", () => {
  const hex = "0123456789abcdef0123456789abcdef";
  const TWILIO = { UPSTREAM: "twilio-taskrouter", TWILIO_ACCOUNT_SID: `AC${hex}`, TWILIO_AUTH_TOKEN: "token-secret-value", TWILIO_WORKSPACE_SID: `WS${hex}`, TWILIO_WORKFLOW_SID: `WW${hex}` };

  it("twilio-taskrouter: calls go through the runtime's fetch, without CF-Access headers, even with both configured", async () => {
    const seen: Seen[] = [];
    vi.stubGlobal("fetch", upstream(seen));
    const binding = { fetch: vi.fn(async () => new Response("binding used", { status: 599 })) };
    const adapter = adapterFor({ ...TWILIO, ...ACCESS }, { ...TWILIO, ...ACCESS, UPSTREAM_MTLS: binding });
    await adapter.dispatch({ interactionId: "ix-1", customerId: "c-1", attributes: { TRX: "Diyalog" }, mayExist: false }, signal());
    expect(seen.length).toBeGreaterThan(0);
    expect(binding.fetch).not.toHaveBeenCalled();
    for (const s of seen) expect(s).toMatchObject({ id: null, secret: null });
  });
});
