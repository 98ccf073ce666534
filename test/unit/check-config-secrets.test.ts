import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { checkConfig } from "../../scripts/lib/check-config";

/**
 * `npm run check-config` with secrets known by name only: a rule between two secrets (set both
 * `PERSONAL_DATA_KEYS` and `CUSTOMER_REF_KEY`, or neither) must still be checked, since the worker
 * will refuse the deployment for it whatever the values are.
 */

const LONG_KEY = "k".repeat(40);
const SECRET = `whsec_${btoa("s".repeat(32))}`;
const KEY32 = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
const VARS = { ENVIRONMENT: "production", UPSTREAM: "http", UPSTREAM_URL: "https://queue.bank.example/api" };

describe("check-config: the personal-data secrets go together", () => {
  it.each([
    ["PERSONAL_DATA_KEYS", "CUSTOMER_REF_KEY"],
    ["CUSTOMER_REF_KEY", "PERSONAL_DATA_KEYS"],
  ])("only %s listed: %s is reported missing, as the worker reports it", (present, missing) => {
    // What the worker answers with any real value of the listed secret: 503 config_invalid naming the other one.
    const worker = parseConfig({ ...VARS, DIYALOG_API_KEYS: LONG_KEY, UPSTREAM_SIGNING_SECRET: SECRET, [present]: KEY32 });
    expect(worker.ok).toBe(false);
    expect(worker.ok ? [] : worker.problems).toEqual([`${missing}: required when ${present} is set`]);

    const result = checkConfig(VARS, { names: ["DIYALOG_API_KEYS", "UPSTREAM_SIGNING_SECRET", present] });
    expect(result.ok).toBe(false);
    expect(result.problems).toContain(`${missing}: required when ${present} is set`);
  });
});
