import { describe, expect, it } from "vitest";
import { parseConfig, type Config } from "../../src/config";
import { httpAdapter } from "../../src/upstreams/http";

/**
 * Unsafe consumption of the upstream (OWASP API10): what the generic http adapter accepts from an
 * upstream's answers, and how an upstream id is used in the next URL.
 */

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

function config(): Config {
  const result = parseConfig({ UPSTREAM: "http", UPSTREAM_URL: "https://queue.example/base", UPSTREAM_SIGNING_SECRET: SECRET });
  if (!result.ok) throw new Error(result.problems.join("; "));
  return result.config;
}

/** An adapter whose upstream always gives `answer`; records the URLs it was sent to. */
function adapterAnswering(answer: () => Response) {
  const urls: string[] = [];
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    urls.push(new Request(input, init).url);
    return answer();
  }) as typeof fetch;
  return { adapter: httpAdapter(config(), fetcher), urls };
}

const request = { interactionId: "ix-1", customerId: "c-1", attributes: {}, mayExist: false };

describe("a 2xx create answer must carry a usable id", () => {
  it.each([
    ["no body", () => new Response(null, { status: 200 })],
    ["not JSON", () => new Response("<html>ok</html>", { status: 200 })],
    ["JSON null", () => Response.json(null)],
    ["no id", () => Response.json({ ok: true })],
    ["an empty id", () => Response.json({ id: "" })],
    ["a numeric id", () => Response.json({ id: 42 })],
    ["an object id", () => Response.json({ id: { $ne: 1 } })],
    ["a 257-character id", () => Response.json({ id: "x".repeat(257) })],
  ])("%s → retried with the same key, not accepted", async (_, answer) => {
    const { adapter } = adapterAnswering(answer);
    const result = await adapter.dispatch(request, AbortSignal.timeout(1000));
    expect(result.kind).toBe("retry");
  });

  it("a 256-character id is accepted as it is", async () => {
    const id = "y".repeat(256);
    const { adapter } = adapterAnswering(() => Response.json({ id }, { status: 201 }));
    expect(await adapter.dispatch(request, AbortSignal.timeout(1000))).toEqual({ kind: "accepted", upstreamId: id });
  });
});

describe("refusals are classified by status; the body is never kept", () => {
  it("a 422 with a detailed body becomes `HTTP 422`", async () => {
    const { adapter } = adapterAnswering(() => Response.json({ error: "upstream-internal-detail", customer: "c-1" }, { status: 422 }));
    const result = await adapter.dispatch(request, AbortSignal.timeout(1000));
    expect(result).toEqual({ kind: "rejected", reason: "HTTP 422", status: 422 });
  });
});

describe("an upstream id is path-encoded in the cancel URL", () => {
  it.each(["../../admin", "a/b?c=d#e", "%2e%2e", "x y"])("%j stays inside /interactions/", async (upstreamId) => {
    const { adapter, urls } = adapterAnswering(() => new Response(null, { status: 204 }));
    await adapter.cancel({ interactionId: "ix-1", upstreamId }, AbortSignal.timeout(1000));
    const url = new URL(urls[0]!);
    expect(url.origin).toBe("https://queue.example");
    expect(url.pathname).toBe(`/base/interactions/${encodeURIComponent(upstreamId)}`);
    expect(url.search).toBe("");
  });
});
