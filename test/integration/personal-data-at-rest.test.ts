import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { captureConsole } from "../console-capture";
import { customerStub, simulatorStub } from "../../src/interactions/stubs";
import { DEVELOPMENT_CUSTOMER_REF_KEY } from "../../src/security/customer-ref";
import { authHeaders, call, cancel, cleanup, createOk, expectFailure, getInteraction, KEY, masked, randomDigits, track } from "./helpers";
import { expectedRef, expectNoneOf, jsonLines, plainDigests, storageOf } from "./personal-data-storage";

/**
 * Design §6 against the real Durable Objects (simulator project): what the customer's object stores
 * holds no customerId, identityNumber or attribute value in clear, nor an unkeyed digest of the
 * customerId; identityNumber leaves storage once the call is queued; lookup and erasure over HTTP;
 * every request line about an interaction carries the customer's keyed reference.
 * (Key rotation, upstream free text, claims, events and erasure while dispatching or assigned:
 * test/http/upstream-http.test.ts, "personal data (design §6)".)
 */

const printed = captureConsole();
afterEach(cleanup);

/** A customer whose every personal value is distinctive, some of it non-ASCII. */
function person() {
  const tag = crypto.randomUUID();
  const customerId = `cust-${tag}`;
  const identityNumber = `9${randomDigits(10)}`;
  const attachedData = {
    TRX: `trx-${tag.slice(0, 8)}`,
    PrimaryProjectManagerId: `pm-${tag.slice(9, 13)}`,
    Name: `Ayşe Yılmaz ${tag.slice(0, 6)}`,
    Note: `müşteri notu ğüşıöç ${tag.slice(-6)}`,
  };
  return { customerId, identityNumber, attachedData, values: Object.values(attachedData) };
}

const lookup = (customerId: unknown, headers = authHeaders()) => call("/v1/customers/lookup", { method: "POST", headers, body: JSON.stringify({ customerId }) });
const erase = (customerId: unknown, headers = authHeaders()) => call("/v1/customers/erase", { method: "POST", headers, body: JSON.stringify({ customerId }) });

describe("storage holds only ciphertext (design §6)", () => {
  it("the customer's object stores no customerId, identityNumber, attribute value (UTF-8 included) or plain SHA-256 of the customerId", async () => {
    const p = person();
    const id = await createOk({ customerId: p.customerId, identityNumber: p.identityNumber, attachedData: p.attachedData });
    const stub = await customerStub(env, p.customerId);
    const secrets = [p.customerId, p.identityNumber, ...p.values, ...(await plainDigests(p.customerId))];

    const stored = await storageOf(stub);
    expect(stored).toContain(id.slice(64)); // the dump is this call's record
    expect(stored).toMatch(/"sealed":"[A-Za-z0-9+/]{8}\.[A-Za-z0-9+/=]+"/); // the personal fields are there, as <key id>.<ciphertext>
    expectNoneOf(stored, secrets, "customer object after create");
    expectNoneOf(stored, p.values.map((v) => JSON.stringify(v).slice(1, -1)), "customer object (JSON-escaped attribute values)");
    expectNoneOf(await storageOf(simulatorStub(env)), secrets, "simulator object");

    // A read still shows what it should (masked; visible attributes only), from the ciphertext.
    const read = await getInteraction(id);
    expect(read.body.result.customerId).toBe(masked(p.customerId));
    expect(read.body.result.attributes).toEqual({ TRX: p.attachedData.TRX, PrimaryProjectManagerId: p.attachedData.PrimaryProjectManagerId, Name: "***", Note: "***" });

    expect((await cancel(id)).body.result.state).toBe("cancelled");
    expectNoneOf(await storageOf(stub), secrets, "customer object after cancel");
  });

  it("identityNumber leaves storage once the call is queued (no sealedIdentity); reads keep its masked form", async () => {
    const p = person();
    const id = await createOk({ customerId: p.customerId, identityNumber: p.identityNumber, attachedData: p.attachedData });
    const stub = await customerStub(env, p.customerId);
    const stored = await storageOf(stub);
    const record = (JSON.parse(stored).kv as [string, Record<string, unknown>][]).find(([key]) => key === `ix:${id}`)?.[1];
    expect(record?.state).toBe("queued");
    expect(record).not.toHaveProperty("sealedIdentity");
    expect(record).not.toHaveProperty("identityNumber");
    expect(record?.identityMask).toBe(masked(p.identityNumber));
    expect((await getInteraction(id)).body.result.identityNumber).toBe(masked(p.identityNumber));
    expect((await lookup(p.customerId)).body.result.interactions[0].identityNumber).toBe(masked(p.identityNumber));
  });
});

describe("POST /v1/customers/lookup over HTTP", () => {
  it("answers the customer's interactions newest first, as reads show them, with the customerRef", async () => {
    const p = person();
    const first = await createOk({ customerId: p.customerId, attachedData: p.attachedData });
    expect((await cancel(first)).status).toBe(200);
    const second = await createOk({ customerId: p.customerId, identityNumber: p.identityNumber, attachedData: p.attachedData });
    const answer = await lookup(p.customerId);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.result.customerRef).toBe(await expectedRef(DEVELOPMENT_CUSTOMER_REF_KEY, p.customerId));
    const found = answer.body.result.interactions as { interactionId: string; state: string; customerId: string; attributes: Record<string, string> }[];
    expect(found.map((ix) => ix.interactionId)).toEqual([second, first]);
    expect(found[1]!.state).toBe("cancelled");
    expect(found[0]).toEqual((await getInteraction(second)).body.result);
    expect(found[0]!.customerId).toBe(masked(p.customerId));
    expectNoneOf(answer.text, [p.customerId, p.identityNumber, p.attachedData.Name, p.attachedData.Note], "lookup answer");
  });

  it("normalises the customerId as a create does: a JSON number finds the customer created with it, and surrounding spaces are ignored", async () => {
    const number = Number(`7${randomDigits(12)}`);
    const id = await createOk({ customerId: number, attachedData: { TRX: "Diyalog" } });
    for (const form of [number, String(number), ` ${number} `]) {
      expect((await lookup(form)).body.result.interactions.map((ix: { interactionId: string }) => ix.interactionId), String(form)).toEqual([id]);
    }
    expectNoneOf(await storageOf(await customerStub(env, String(number))), [String(number)], "customer object of a numeric customerId");
  });

  it("an unknown customer: an empty list, and nothing is created for it", async () => {
    const customerId = `nobody-${crypto.randomUUID()}`;
    const answer = await lookup(customerId);
    expect(answer.status).toBe(200);
    expect(answer.body.result).toEqual({ customerRef: await expectedRef(DEVELOPMENT_CUSTOMER_REF_KEY, customerId), interactions: [] });
    expect(JSON.parse(await storageOf(await customerStub(env, customerId))).kv).toEqual([]);
  });

  it("bad bodies are 400 (415 without JSON), GET is 405, no key is 401: for lookup and erase alike", async () => {
    for (const path of ["/v1/customers/lookup", "/v1/customers/erase"]) {
      for (const body of ["{}", '{"customerId":-5}', '{"customerId":1.5}', '{"customerId":true}', '{"customerId":null}', '{"customerId":""}', "[]", '"x"', `{"customerId":"${"x".repeat(5000)}"}`]) {
        expectFailure(await call(path, { method: "POST", headers: authHeaders(), body }), 400, "validation_failed");
      }
      expectFailure(await call(path, { method: "POST", headers: authHeaders(), body: "{not json" }), 400, "invalid_json");
      expectFailure(await call(path, { method: "POST", headers: authHeaders({ "content-type": "text/plain" }), body: '{"customerId":"a"}' }), 415, "unsupported_media_type");
      const get = await call(path, { headers: authHeaders() });
      expectFailure(get, 405, "method_not_allowed");
      expect(get.res.headers.get("allow")).toBe("POST");
      expectFailure(await call(path, { method: "POST", headers: { "content-type": "application/json" }, body: '{"customerId":"a"}' }), 401, "unauthorized");
    }
  });
});

describe("POST /v1/customers/erase over HTTP", () => {
  it("while queued: cancels the call (the simulator's queue drops it), deletes the personal fields; lookup and GET show none; a new create works", async () => {
    const p = person();
    const old = await createOk({ customerId: p.customerId, attachedData: p.attachedData });
    expect((await cancel(old)).status).toBe(200);
    const id = await createOk({ customerId: p.customerId, identityNumber: p.identityNumber, attachedData: p.attachedData });

    const answer = await erase(p.customerId);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.result).toEqual({ customerRef: await expectedRef(DEVELOPMENT_CUSTOMER_REF_KEY, p.customerId), erased: 2, cancelled: [id], cancelUnconfirmed: [] });
    expect(JSON.stringify(await simulatorStub(env).snapshot())).not.toContain(id);

    const read = await getInteraction(id);
    expect(read.body.result).toMatchObject({ state: "cancelled", customerId: null, identityNumber: null, attributes: {} });
    const after = await lookup(p.customerId);
    expect(after.body.result.interactions.map((ix: { interactionId: string }) => ix.interactionId)).toEqual([id, old]);
    for (const ix of after.body.result.interactions) expect(ix).toMatchObject({ customerId: null, identityNumber: null, attributes: {} });
    expectNoneOf(after.text + read.text, [p.customerId, masked(p.customerId), p.identityNumber, masked(p.identityNumber), ...p.values], "reads after erasure");

    const stored = await storageOf(await customerStub(env, p.customerId));
    expect(stored).not.toContain('"sealed"');
    expect(stored).not.toContain('"sealedIdentity"');
    expect(stored).not.toContain('"identityMask"');

    // Erasing again finds the same (already erased) interactions and cancels nothing.
    expect((await erase(p.customerId)).body.result).toMatchObject({ erased: 2, cancelled: [], cancelUnconfirmed: [] });

    // The customer may call again, and the new call carries its data as any other.
    const next = await createOk({ customerId: p.customerId, identityNumber: p.identityNumber, attachedData: p.attachedData });
    expect(next).not.toBe(id);
    const nextRead = await getInteraction(next);
    expect(nextRead.body.result).toMatchObject({ state: "queued", customerId: masked(p.customerId), identityNumber: masked(p.identityNumber) });
    expect((await lookup(p.customerId)).body.result.interactions[0].interactionId).toBe(next);
    expect((await cancel(next)).status).toBe(200);
  });

  it("a customer with nothing stored: erased 0", async () => {
    const answer = await erase(`nobody-${crypto.randomUUID()}`);
    expect(answer.status).toBe(200);
    expect(answer.body.result).toMatchObject({ erased: 0, cancelled: [], cancelUnconfirmed: [] });
  });
});

describe("customerRef on every request line about an interaction, never the customerId", () => {
  it("create, GET, cancel, lookup and erase lines carry the HMAC reference", async () => {
    const p = person();
    const ref = await expectedRef(DEVELOPMENT_CUSTOMER_REF_KEY, p.customerId);
    expect(ref).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const id = await createOk({ customerId: p.customerId, identityNumber: p.identityNumber, attachedData: p.attachedData });
    await getInteraction(id);
    await cancel(id);
    await lookup(p.customerId);
    await erase(p.customerId);
    const lines = jsonLines(printed()).filter((l) => l.msg === "request");
    const routes = ["/CreateInteraction", "/v1/interactions/:id", "/:id", "/v1/customers/lookup", "/v1/customers/erase"];
    for (const route of routes) {
      const line = lines.find((l) => l.route === route && (route.startsWith("/v1/customers") || l.interactionId === id));
      expect(line, `request line of ${route}`).toBeDefined();
      expect(line!.customerRef, `customerRef on ${route}`).toBe(ref);
    }
    expectNoneOf(printed(), [p.customerId, p.identityNumber, ...p.values], "log lines");
  });
});
