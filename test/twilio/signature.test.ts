/**
 * X-Twilio-Signature (src/upstreams/twilio/signature.ts) against Twilio's documented example
 * ("Webhooks security": auth token 12345, https://mycompany.com/myapp.php?foo=1&bar=2 and five POST
 * parameters), and the fake's own signer (test/fakes/twilio.ts) against the same vectors, so the two
 * independent implementations cannot agree on a mistake.
 */
import { describe, expect, it } from "vitest";
import { twilioSignature, twilioUrlForms, verifyTwilioSignature } from "../../src/upstreams/twilio/signature";
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

  it("accepts the URL forms twilio-node's validateRequest accepts: without and with the standard port, and the legacy query encoding", async () => {
    expect(twilioUrlForms("https://q.example.com/v1/upstream/twilio/assignment")).toEqual([
      "https://q.example.com/v1/upstream/twilio/assignment",
      "https://q.example.com:443/v1/upstream/twilio/assignment",
    ]);
    expect(twilioUrlForms("http://127.0.0.1/x")).toEqual(["http://127.0.0.1/x", "http://127.0.0.1:80/x"]);
    // Twilio signed the URL with :443 written out; the request's URL has none (and vice versa).
    const withPort = await twilioSignature(TOKEN, "https://mycompany.com:443/myapp.php?foo=1&bar=2", entries(PARAMS));
    expect(await verifyTwilioSignature(TOKEN, withPort, URL_, entries(PARAMS))).toBe(true);
    expect(await verifyTwilioSignature(TOKEN, DOCUMENTED, "https://mycompany.com:443/myapp.php?foo=1&bar=2", entries(PARAMS))).toBe(true);
    // Another port is another URL.
    const otherPort = await twilioSignature(TOKEN, "https://mycompany.com:8443/myapp.php?foo=1&bar=2", entries(PARAMS));
    expect(await verifyTwilioSignature(TOKEN, otherPort, URL_, entries(PARAMS))).toBe(false);
    // Twilio signed the query as written (an apostrophe); the WHATWG URL of the request has it as %27.
    const raw = "https://mycompany.com/myapp.php?name=O'Brien&x=a+b";
    const arrived = new URL(raw).toString();
    expect(arrived).toContain("O%27Brien");
    const legacy = await twilioSignature(TOKEN, raw.replace("a+b", "a%20b"), entries(PARAMS));
    expect(await verifyTwilioSignature(TOKEN, legacy, arrived, entries(PARAMS))).toBe(true);
    expect(await verifyTwilioSignature(TOKEN, await twilioSignature(TOKEN, raw, entries(PARAMS)), arrived, entries(PARAMS))).toBe(false);
  });
});
