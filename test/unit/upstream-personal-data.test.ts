import { describe, expect, it } from "vitest";
import { parseConfig, type Config } from "../../src/config";
import { httpAdapter } from "../../src/upstreams/http";

/**
 * What the generic http upstream receives of a customer's personal data (design §3
 * IDENTITY_NUMBER_ATTRIBUTE): identityNumber is forwarded by default and not at all when the
 * variable is empty; the upstream keeps its copy under its own retention.
 */

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

function config(extra: Record<string, string> = {}): Config {
  const result = parseConfig({ UPSTREAM: "http", UPSTREAM_URL: "https://queue.example", UPSTREAM_SIGNING_SECRET: SECRET, ...extra });
  if (!result.ok) throw new Error(result.problems.join("; "));
  return result.config;
}

async function sentBody(extra: Record<string, string> = {}): Promise<Record<string, unknown>> {
  let body = "";
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    body = await new Request(input, init).text();
    return Response.json({ id: "up-1" }, { status: 201 });
  }) as typeof fetch;
  const request = { interactionId: "ix-1", customerId: "c-1", attributes: { TRX: "Diyalog" }, identityNumber: "12345678901", mayExist: false };
  await httpAdapter(config(extra), fetcher).dispatch(request, AbortSignal.timeout(1000));
  return JSON.parse(body) as Record<string, unknown>;
}

describe("identityNumber towards the http upstream", () => {
  it("is forwarded by default", async () => {
    expect((await sentBody()).identityNumber).toBe("12345678901");
  });

  it("is not sent at all when IDENTITY_NUMBER_ATTRIBUTE is empty", async () => {
    const body = await sentBody({ IDENTITY_NUMBER_ATTRIBUTE: "" });
    expect(body).not.toHaveProperty("identityNumber");
    expect(JSON.stringify(body)).not.toContain("12345678901");
  });
});
