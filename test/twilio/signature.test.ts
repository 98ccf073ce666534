/**
 * X-Twilio-Signature (src/upstreams/twilio/signature.ts) against Twilio's documented example
 * ("Webhooks security": auth token 12345, https://mycompany.com/myapp.php?foo=1&bar=2 and five POST
 * parameters), and the fake's own signer (test/fakes/twilio.ts) against the same vectors, so the two
 * independent implementations cannot agree on a mistake.
 */
import { describe, expect, it } from "vitest";
import { twilioSignature, verifyTwilioSignature } from "../../src/upstreams/twilio/signature";
import { signTwilio } from "../fakes/twilio";

const TOKEN = "12345";
const URL_ = "https://mycompany.com/myapp.php?foo=1&bar=2";
const PARAMS = { CallSid: "CA1234567890ABCDE", Caller: "+14158675310", Digits: "1234", From: "+14158675310", To: "+18005551212" };
/** The signature printed in Twilio's Webhooks security page for exactly these inputs. */
const DOCUMENTED = "GvWf1cFY/Q7PnoempGyD5oXAezc=";
/** The older edition of the same example (caller +14158675309), printed in earlier docs and SDK snippets. */
const OLDER_PARAMS = { ...PARAMS, Caller: "+14158675309", From: "+14158675309" };
const OLDER = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

const entries = (p: Record<string, string>) => Object.entries(p);

describe("X-Twilio-Signature", () => {
  it("computes Twilio's documented example signatures", async () => {
    expect(await twilioSignature(TOKEN, URL_, entries(PARAMS))).toBe(DOCUMENTED);
    expect(await twilioSignature(TOKEN, URL_, entries(OLDER_PARAMS))).toBe(OLDER);
  });

  it("the fake's independent signer agrees on the same vectors", async () => {
    expect(await signTwilio(TOKEN, URL_, PARAMS)).toBe(DOCUMENTED);
    expect(await signTwilio(TOKEN, URL_, OLDER_PARAMS)).toBe(OLDER);
  });

  it("does not depend on the order the parameters arrive in (sorted by name)", async () => {
    const reversed = entries(PARAMS).reverse();
    expect(await twilioSignature(TOKEN, URL_, reversed)).toBe(DOCUMENTED);
    expect(await twilioSignature(TOKEN, URL_, new URLSearchParams(reversed))).toBe(DOCUMENTED);
  });

  it("verifies the documented signature and refuses every change to token, URL, parameters or header", async () => {
    expect(await verifyTwilioSignature(TOKEN, DOCUMENTED, URL_, entries(PARAMS))).toBe(true);
    expect(await verifyTwilioSignature("12346", DOCUMENTED, URL_, entries(PARAMS))).toBe(false);
    expect(await verifyTwilioSignature(TOKEN, DOCUMENTED, URL_.replace("https:", "http:"), entries(PARAMS))).toBe(false);
    expect(await verifyTwilioSignature(TOKEN, DOCUMENTED, "https://mycompany.com/myapp.php?bar=2&foo=1", entries(PARAMS))).toBe(false);
    expect(await verifyTwilioSignature(TOKEN, DOCUMENTED, URL_, entries({ ...PARAMS, Digits: "9999" }))).toBe(false);
    expect(await verifyTwilioSignature(TOKEN, DOCUMENTED, URL_, entries({ ...PARAMS, Extra: "" }))).toBe(false);
    expect(await verifyTwilioSignature(TOKEN, DOCUMENTED.toLowerCase(), URL_, entries(PARAMS))).toBe(false);
    expect(await verifyTwilioSignature(TOKEN, `${DOCUMENTED} `, URL_, entries(PARAMS))).toBe(false);
    expect(await verifyTwilioSignature(TOKEN, DOCUMENTED.slice(0, -1), URL_, entries(PARAMS))).toBe(false);
    expect(await verifyTwilioSignature(TOKEN, "", URL_, entries(PARAMS))).toBe(false);
    expect(await verifyTwilioSignature(TOKEN, null, URL_, entries(PARAMS))).toBe(false);
    expect(await verifyTwilioSignature(TOKEN, undefined, URL_, entries(PARAMS))).toBe(false);
  });

  it("has no separators, as Twilio specifies: Ab=c and A=bc sign alike (a property of Twilio's format)", async () => {
    const a = await twilioSignature(TOKEN, URL_, [["Ab", "c"]]);
    const b = await twilioSignature(TOKEN, URL_, [["A", "bc"]]);
    expect(a).toBe(b);
  });
});
