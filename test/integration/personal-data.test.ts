import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { captureConsole } from "../console-capture";
import { callWithEnv, cancel, cleanup, createOk, getInteraction, KEY, masked, sampleBody } from "./helpers";
import { simulatorStub } from "../../src/interactions/stubs";

/**
 * Personal data with the embedded simulator (issue 7): the simulator's queue stores ids, never
 * customerId, identityNumber or attribute values, and nothing printed along the way carries them.
 * The http upstream, upstream errors and the purge are covered in test/privacy/personal-data.test.ts.
 */

const printed = captureConsole();
afterEach(cleanup);

/** Everything the simulator's Durable Object has stored, as one JSON text. */
function simulatorStorage(): Promise<string> {
  const stub = simulatorStub(env);
  return runInDurableObject(stub, (_instance, state) => JSON.stringify([...state.storage.kv.list()]));
}

describe("the simulator upstream", () => {
  it("queues the interaction by id only; GET masks; no log line carries the personal data", async () => {
    const customerId = `sim-customer-${crypto.randomUUID()}`;
    const identityNumber = `8${String(Math.floor(Math.random() * 1e10)).padStart(10, "0")}`;
    const attribute = `sim-attribute-${crypto.randomUUID()}`;
    const body = { ...sampleBody(customerId, 2, identityNumber), attachedData: { TRX: "Diyalog", Note: attribute } };
    const id = await createOk(body);

    const queued = await simulatorStorage();
    expect(queued).toContain(id);
    for (const secret of [customerId, identityNumber, attribute]) expect(queued).not.toContain(secret);

    const read = await getInteraction(id);
    expect(read.body.result.customerId).toBe(masked(customerId));
    expect(read.body.result.identityNumber).toBe(masked(identityNumber));
    expect((await cancel(id)).body.result.state).toBe("cancelled");

    for (const secret of [customerId, identityNumber, attribute]) expect(await simulatorStorage()).not.toContain(secret);
    const text = printed();
    expect(text).toContain(id); // the capture saw this interaction's lines
    for (const secret of [customerId, identityNumber, attribute]) expect(text).not.toContain(secret);
  });
});

describe("reads are minimised (design §6)", () => {
  it("GET masks customerId and identityNumber and shows only VISIBLE_ATTRIBUTES' values (default: TRX and the routing keys)", async () => {
    const customerId = `min-${crypto.randomUUID()}`;
    const note = `Ayşe Yılmaz, TCKN 12345678901 ${crypto.randomUUID()}`;
    const attachedData = { TRX: "Diyalog", PrimaryProjectManagerId: "123456", SecondaryProjectManagerId: "654321", Note: note, Segment: "gold" };
    const id = await createOk({ customerId, attachedData, identityNumber: "12345678901" });
    const read = await getInteraction(id);
    expect(read.body.result.customerId).toBe(masked(customerId));
    expect(read.body.result.identityNumber).toBe("*********01");
    expect(read.body.result.attributes).toEqual({
      TRX: "Diyalog",
      PrimaryProjectManagerId: "123456",
      SecondaryProjectManagerId: "654321",
      Note: "***",
      Segment: "***",
    });
    expect(read.text).not.toContain(note);
    expect(read.text).not.toContain("gold");
    expect(read.text).not.toContain(customerId);
    expect(read.text).not.toContain("12345678901");
  });

  it("VISIBLE_ATTRIBUTES decides which values a read shows", async () => {
    const id = await createOk({ customerId: `min-${crypto.randomUUID()}`, attachedData: { TRX: "Diyalog", Segment: "gold" } });
    const read = await callWithEnv({ VISIBLE_ATTRIBUTES: "Segment" }, `/v1/interactions/${id}`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(read.body.result.attributes).toEqual({ TRX: "***", Segment: "gold" });
  });
});

describe("/healthz reports how personal data is kept", () => {
  it("without keys: development keys, no jurisdiction", async () => {
    const answer = await callWithEnv({}, "/healthz");
    expect(answer.status).toBe(200);
    expect(answer.body.result).toMatchObject({ personalData: "development-keys", jurisdiction: null });
  });

  it("with both keys: encrypted, and the jurisdiction; no key in the answer", async () => {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    const ref = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    const answer = await callWithEnv({ PERSONAL_DATA_KEYS: key, CUSTOMER_REF_KEY: ref, DATA_JURISDICTION: "eu" }, "/healthz");
    expect(answer.status).toBe(200);
    expect(answer.body.result).toMatchObject({ personalData: "encrypted", jurisdiction: "eu" });
    expect(answer.text).not.toContain(key);
    expect(answer.text).not.toContain(ref);
  });
});
