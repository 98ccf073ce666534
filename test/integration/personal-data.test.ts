import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { cancel, cleanup, createOk, getInteraction, masked, sampleBody } from "./helpers";
import { simulatorStub } from "../../src/interactions/stubs";

/**
 * Personal data with the embedded simulator (issue 7): the simulator's queue stores ids, never
 * customerId, identityNumber or attribute values, and nothing printed along the way carries them.
 * The http upstream, upstream errors and the purge are covered in test/privacy/personal-data.test.ts.
 */

let spies: MockInstance[] = [];
beforeEach(() => {
  spies = (["log", "info", "warn", "error", "debug"] as const).map((level) => vi.spyOn(console, level).mockImplementation(() => {}));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await cleanup();
});

const printed = () => spies.flatMap((spy) => spy.mock.calls.map((args) => args.map(String).join(" "))).join("\n");

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
