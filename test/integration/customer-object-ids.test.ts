import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { objectOf } from "../objects";
import { call, cleanup, createOk, expectFailure, KEY, sampleBody } from "./helpers";

/**
 * Ids that name a customer's object (or another namespace's) without naming one of its interactions:
 * every answer is 404, nothing of the real call changes, and the object keeps nothing for them.
 */

afterEach(cleanup);

const auth = { authorization: `Bearer ${KEY}` };

/** 22 random base64url characters: a well-formed random part. */
function randomPart(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

describe("ids of another Durable Object namespace", () => {
  it("an object id of the simulator (SIMULATOR) with a random part → 404", async () => {
    const objectId = env.SIMULATOR.idFromName("simulator").toString();
    expect(objectId).toMatch(/^[0-9a-f]{64}$/);
    const id = objectId + randomPart();
    expectFailure(await call(`/v1/interactions/${id}`, { headers: auth }), 404, "not_found");
    expectFailure(await call(`/${id}`, { method: "DELETE", headers: auth }), 404, "not_found");
  });
});

describe("ids naming a customer's object but none of its interactions", () => {
  it("reads and cancels of ids the object does not hold leave nothing behind in it (no core per unknown id)", async () => {
    const id = await createOk(sampleBody(crypto.randomUUID(), 1));
    const coresOf = () => runInDurableObject(objectOf(id), (instance) => (instance as unknown as { cores: Map<string, unknown> }).cores.size);
    const before = await coresOf();
    const probes = 50;
    for (let i = 0; i < probes; i++) {
      const forged = id.slice(0, 64) + randomPart();
      expectFailure(await call(`/v1/interactions/${forged}`, { headers: auth }), 404, "not_found");
      expectFailure(await call(`/${forged}`, { method: "DELETE", headers: auth }), 404, "not_found");
    }
    // The real call is untouched, and the object holds no more than it did for its own interaction.
    // (the simulator's agent may have taken it meanwhile: queued or assigned, never cancelled)
    expect(["queued", "assigned"]).toContain((await call(`/v1/interactions/${id}`, { headers: auth })).body.result.state);
    expect(await coresOf()).toBeLessThanOrEqual(before);
  });
});
