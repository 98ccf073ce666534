import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";

/**
 * Design §6: "Keyed, not plain, digests … a plain SHA-256 of a customer number is reversed by
 * enumerating customer numbers." Without CUSTOMER_REF_KEY the customerRef on every log line and metric
 * is an HMAC under a key published in the source (DEVELOPMENT_CUSTOMER_REF_KEY), which is reversed the
 * same way; without PERSONAL_DATA_KEYS the stored ciphertext is readable by anyone with the source.
 */
const SECRET = `whsec_${btoa("s".repeat(32))}`;
const PRODUCTION = {
  ENVIRONMENT: "production",
  UPSTREAM: "http",
  UPSTREAM_URL: "https://queue.bank.example/api",
  UPSTREAM_SIGNING_SECRET: SECRET,
  DIYALOG_API_KEYS: "k".repeat(40),
};

describe("review: ENVIRONMENT=production and the personal-data keys", () => {
  // Defect (hardening; README documents it: "without them the worker runs on public development keys"):
  // parseConfig refuses a production deployment without UPSTREAM, with the simulator, or with
  // ALLOW_UNAUTHENTICATED=true and no base path, but accepts one without PERSONAL_DATA_KEYS and
  // CUSTOMER_REF_KEY (personalDataKeyProblems only checks that both or neither are set). The only guard
  // is an operator reading /healthz's "development-keys" before the first call.
  it.fails("a production deployment without PERSONAL_DATA_KEYS and CUSTOMER_REF_KEY is refused, naming them", () => {
    const result = parseConfig(PRODUCTION);
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.problems.join("; ")).toMatch(/PERSONAL_DATA_KEYS|CUSTOMER_REF_KEY/);
  });
});
