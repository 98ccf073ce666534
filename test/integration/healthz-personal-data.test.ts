import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { customerStub } from "../../src/interactions/stubs";
import { authHeaders, checkEnvelope, fetchWithEnv, sampleBody } from "./helpers";

/**
 * README "Going live": an operator checks that `/healthz` answers `"personalData": "encrypted"`
 * before Diyalog sends the first call. That answer must be true of what is stored: with it, the
 * customer's record does not hold the customerId or the identity number in plain text.
 */

const key32 = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

describe("/healthz personalData tells the truth about storage", () => {
  it('"encrypted" only when the stored record does not hold the personal data in plain text', async () => {
    const keys = { PERSONAL_DATA_KEYS: key32(), CUSTOMER_REF_KEY: key32() };
    const health = await checkEnvelope(await fetchWithEnv(keys, "/healthz"));
    expect(health.status).toBe(200);
    expect(health.body.result.personalData).toBe("encrypted");

    const customerId = `plain-${crypto.randomUUID()}`;
    const created = await checkEnvelope(await fetchWithEnv(keys, "/CreateInteraction", { method: "POST", headers: authHeaders(), body: JSON.stringify(sampleBody(customerId, 2, "98765432109")) }));
    expect(created.status, created.text).toBe(200);
    const id = created.body.result.interactionId as string;
    try {
      const stub = await customerStub({ ...env, ...keys } as unknown as Env, customerId);
      const raw = await runInDurableObject(stub, (_instance, state) => JSON.stringify([...state.storage.kv.list()]));
      expect(raw).toContain(id.slice(64)); // the record read is the call's own
      if (health.body.result.personalData === "encrypted") {
        expect(raw, "healthz says encrypted, the record holds the customerId in plain text").not.toContain(customerId);
        expect(raw, "healthz says encrypted, the record holds the identity number in plain text").not.toContain("98765432109");
      }
    } finally {
      await fetchWithEnv(keys, `/${id}`, { method: "DELETE", headers: authHeaders() });
    }
  });
});
