import { describe, expect, it } from "vitest";
import { parseConfig, type Config } from "../../src/config";
import { DEVELOPMENT_PERSONAL_DATA_KEYS } from "../../src/security/personal-data";

/**
 * The personal-data variables (design §6): PERSONAL_DATA_KEYS and CUSTOMER_REF_KEY (32-byte
 * standard base64, both or neither), DATA_JURISDICTION, VISIBLE_ATTRIBUTES. A bad value is named,
 * never echoed.
 */

const KEY_A = btoa("a".repeat(32));
const KEY_B = btoa("b".repeat(32));
const REF = btoa("r".repeat(32));

function ok(env: Record<string, unknown>): Config {
  const result = parseConfig(env);
  if (!result.ok) throw new Error(result.problems.join("; "));
  return result.config;
}

/** The one problem of `env`: it names `name` and does not hold `secret`. */
function problem(env: Record<string, unknown>, name: string, secret?: string): string {
  const result = parseConfig(env);
  if (result.ok) throw new Error("expected a problem");
  expect(result.withoutUpstream).toBeUndefined();
  expect(result.problems).toHaveLength(1);
  const [text] = result.problems as [string];
  expect(text.startsWith(`${name}: `), text).toBe(true);
  if (secret) expect(text).not.toContain(secret);
  return text;
}

describe("PERSONAL_DATA_KEYS and CUSTOMER_REF_KEY", () => {
  it("unset: development keys (empty list, no ref key)", () => {
    const config = ok({});
    expect(config.personalDataKeys).toEqual([]);
    expect(config.customerRefKey).toBeUndefined();
  });

  it("a comma-separated list in order (the first encrypts), blanks and spaces around commas dropped", () => {
    const config = ok({ PERSONAL_DATA_KEYS: ` ${KEY_A} , ${KEY_B},`, CUSTOMER_REF_KEY: ` ${REF} ` });
    expect(config.personalDataKeys).toEqual([KEY_A, KEY_B]);
    expect(config.customerRefKey).toBe(REF);
  });

  it("base64 without padding is accepted", () => {
    const unpadded = btoa("c".repeat(32)).replace(/=+$/, "");
    expect(ok({ PERSONAL_DATA_KEYS: unpadded, CUSTOMER_REF_KEY: REF }).personalDataKeys).toEqual([unpadded]);
  });

  const bad: [string, string, RegExp][] = [
    ["a zero-width space inside", `${KEY_A.slice(0, 10)}\u200b${KEY_A.slice(10)}`, /key 1 of 1 must be printable ASCII without spaces \(check for a pasted invisible character\)/],
    ["a space inside", `${KEY_A.slice(0, 10)} ${KEY_A.slice(10)}`, /invisible/],
    ["a zero-width space at the end", `${KEY_A}\u200b`, /invisible/],
    ["16 bytes", btoa("x".repeat(16)), /key 1 of 1 must be the base64 of 32 bytes, not 16/],
    ["33 bytes", btoa("x".repeat(33)), /must be the base64 of 32 bytes, not 33/],
    ["not base64", "this-is-not-base64!!", /key 1 of 1 is not standard base64/],
    ["base64url", KEY_A.replace(/=/g, "").replace(/[A-Z]/, "-"), /key 1 of 1 is not standard base64/],
    ["a hex key", "ab".repeat(32), /must be the base64 of 32 bytes, not 48/],
  ];

  it.each(bad)("PERSONAL_DATA_KEYS with %s: named, value not echoed", (_, key, message) => {
    expect(problem({ PERSONAL_DATA_KEYS: key, CUSTOMER_REF_KEY: REF }, "PERSONAL_DATA_KEYS", key)).toMatch(message);
  });

  it("the public development key is refused as a configured key", () => {
    const text = problem({ PERSONAL_DATA_KEYS: `${KEY_A},${DEVELOPMENT_PERSONAL_DATA_KEYS[0]}`, CUSTOMER_REF_KEY: REF }, "PERSONAL_DATA_KEYS");
    expect(text).toBe("PERSONAL_DATA_KEYS: key 2 of 2 is the public development key");
  });

  it("names which key of the list is wrong", () => {
    expect(problem({ PERSONAL_DATA_KEYS: `${KEY_A},${btoa("short")}`, CUSTOMER_REF_KEY: REF }, "PERSONAL_DATA_KEYS")).toMatch(/key 2 of 2/);
  });

  it.each(bad)("CUSTOMER_REF_KEY with %s: named, value not echoed", (_, key, message) => {
    const text = problem({ PERSONAL_DATA_KEYS: KEY_A, CUSTOMER_REF_KEY: key }, "CUSTOMER_REF_KEY", key);
    expect(text).toMatch(new RegExp(message.source.replace("key 1 of 1", "the key")));
  });

  it("CUSTOMER_REF_KEY takes one key", () => {
    expect(problem({ PERSONAL_DATA_KEYS: KEY_A, CUSTOMER_REF_KEY: `${REF},${KEY_B}` }, "CUSTOMER_REF_KEY")).toBe("CUSTOMER_REF_KEY: takes one key");
  });

  it("one without the other is refused, naming the missing one (a half-live deployment would use a public key)", () => {
    expect(problem({ PERSONAL_DATA_KEYS: KEY_A }, "CUSTOMER_REF_KEY")).toBe("CUSTOMER_REF_KEY: required when PERSONAL_DATA_KEYS is set");
    expect(problem({ CUSTOMER_REF_KEY: REF }, "PERSONAL_DATA_KEYS")).toBe("PERSONAL_DATA_KEYS: required when CUSTOMER_REF_KEY is set");
  });
});

describe("DATA_JURISDICTION", () => {
  it("eu, fedramp or unset", () => {
    expect(ok({}).jurisdiction).toBeUndefined();
    expect(ok({ DATA_JURISDICTION: " " }).jurisdiction).toBeUndefined();
    expect(ok({ DATA_JURISDICTION: "eu" }).jurisdiction).toBe("eu");
    expect(ok({ DATA_JURISDICTION: "fedramp" }).jurisdiction).toBe("fedramp");
  });

  it.each(["EU", "us", "tr", "eu,fedramp"])("%s is refused, naming the variable", (value) => {
    expect(problem({ DATA_JURISDICTION: value }, "DATA_JURISDICTION")).toBe("DATA_JURISDICTION: must be one of eu, fedramp");
  });
});

describe("VISIBLE_ATTRIBUTES", () => {
  it("defaults to the routing keys and TRX; blank is the default", () => {
    const defaults = ["TRX", "PrimaryProjectManagerId", "SecondaryProjectManagerId"];
    expect(ok({}).visibleAttributes).toEqual(defaults);
    expect(ok({ VISIBLE_ATTRIBUTES: " , " }).visibleAttributes).toEqual(defaults);
  });

  it("a comma-separated list of attachedData keys", () => {
    expect(ok({ VISIBLE_ATTRIBUTES: "TRX, Region ,Segment" }).visibleAttributes).toEqual(["TRX", "Region", "Segment"]);
  });

  it.each([
    ["a 65-character key", "k".repeat(65)],
    ["a control character", "TRX,Re\u0001gion"],
  ])("%s is refused, naming the variable", (_, value) => {
    expect(problem({ VISIBLE_ATTRIBUTES: value }, "VISIBLE_ATTRIBUTES")).toMatch(/64 characters at most, no control characters/);
  });
});
