import { afterEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../src/config";
import { createAdapter } from "../../src/upstreams";
import type { UpstreamAdapter } from "../../src/upstreams/adapter";

/**
 * An upstream inside the bank's network that answers with a redirect to another host (a
 * misconfigured gateway, a compromised or spoofed internal host) must not receive the bank's
 * credentials there, nor the customer's data. The runtime's fetch follows redirects by default and
 * re-sends every header the caller set explicitly; across origins it drops only `Authorization`
 * (Fetch standard §4.4 "HTTP-redirect fetch"; cloudflare/workerd#4775; the Workers `Request` docs:
 * "Headers explicitly added to fetch(url) will always be sent, even in the case that a redirect is
 * followed"). A 307/308 re-sends the body too. The stub below follows redirects that way.
 */

const ACCESS = { UPSTREAM_ACCESS_CLIENT_ID: "4f2c.access", UPSTREAM_ACCESS_CLIENT_SECRET: "access-secret-123" };
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ENGAGE = { UPSTREAM: "genesys-engage", ENGAGE_API: "nexus", ENGAGE_URL: "https://engage.bank.internal", ENGAGE_SERVICE: "diyalog", ENGAGE_API_KEY: "nexus-key" };
const HTTP = { UPSTREAM: "http", UPSTREAM_URL: "https://queue.bank.internal", UPSTREAM_SIGNING_SECRET: SECRET };
const ELSEWHERE = "https://elsewhere.example";

interface Hop {
  host: string;
  headers: Record<string, string>;
  body: string;
}

/** A runtime fetch (follows redirects as workerd does) in front of an upstream whose every answer is a 307 to another host. */
function redirectingRuntime(hops: Hop[]) {
  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    let request = new Request(input, init);
    for (let i = 0; i < 5; i++) {
      const body = request.body ? await request.clone().text() : "";
      const url = new URL(request.url);
      hops.push({ host: url.host, headers: Object.fromEntries(request.headers), body });
      if (url.origin === ELSEWHERE) return Response.json({ id: "0001AB" });
      const answer = new Response(null, { status: 307, headers: { location: `${ELSEWHERE}${url.pathname}` } });
      if (request.redirect === "manual") return answer;
      if (request.redirect === "error") throw new TypeError("redirect");
      const headers = new Headers(request.headers);
      headers.delete("authorization"); // the only header dropped across origins
      request = new Request(`${ELSEWHERE}${url.pathname}`, { method: request.method, headers, ...(body === "" ? {} : { body }) });
    }
    throw new Error("too many redirects");
  };
}

function adapterFor(vars: Record<string, unknown>): UpstreamAdapter {
  const result = parseConfig(vars);
  if (!result.ok) throw new Error(result.problems.join("; "));
  return createAdapter(result.config, vars as unknown as Env);
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("a redirect from an on-premises upstream never carries credentials or personal data to another host", () => {
  it.each([
    ["genesys-engage", ENGAGE, ["x-api-key"]],
    ["http", HTTP, []],
  ])("%s: no request reaches the redirect's host with the Access token, the API key or the customer's data", async (_name, vars, keys) => {
    const hops: Hop[] = [];
    vi.stubGlobal("fetch", redirectingRuntime(hops));
    const adapter = adapterFor({ ...vars, ...ACCESS });
    const customerId = "customer-7f3a";
    const signal = new AbortController().signal;
    await adapter.dispatch({ interactionId: "ix-1", customerId, identityNumber: "12345678901", attributes: { TRX: "Diyalog" }, mayExist: false }, signal).catch(() => undefined);
    await adapter.cancel({ interactionId: "ix-1", upstreamId: "0001AB" }, signal).catch(() => undefined);
    expect(hops.length).toBeGreaterThan(0);
    const leaked = hops.filter((h) => h.host === new URL(ELSEWHERE).host);
    for (const hop of leaked) {
      expect(hop.headers["cf-access-client-secret"], "Access secret sent to the redirect's host").toBeUndefined();
      for (const key of keys) expect(hop.headers[key], `${key} sent to the redirect's host`).toBeUndefined();
      expect(hop.body, "customer data sent to the redirect's host").not.toContain(customerId);
    }
    expect(leaked).toEqual([]);
  });
});
