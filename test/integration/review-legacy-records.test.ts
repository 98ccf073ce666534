import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { customerStub, newInteractionId } from "../../src/interactions/stubs";
import { forgetMemory } from "../objects";
import { authHeaders, call } from "./helpers";
import { expectNoneOf, storageOf } from "./personal-data-storage";

/**
 * Records stored before encryption (the per-customer layout of commit 197517a, before design §6) are
 * "sealed when first loaded" (CustomerInteractions.unseal). Such a record may also carry an upstream's
 * free text in clear: before encryption, an `http` event's `reason` was written into the timeline
 * entry's `detail` ("upstream reported abandoned: <reason>"), not into an encrypted `text`.
 */

const REASON = "customer Ayşe Yılmaz (TCKN 12345678901) hung up";

async function legacyCustomer() {
  const customerId = `legacy-${crypto.randomUUID()}`;
  const stub = await customerStub(env, customerId);
  const id = newInteractionId(stub.id.toString());
  const name = `Name-${crypto.randomUUID()}`;
  const now = Date.now();
  // A record as the layout before encryption stored it: personal fields in clear, the event's reason in `detail`.
  const record = {
    interactionId: id,
    customerId,
    attributes: { TRX: "Diyalog", Name: name },
    state: "failed",
    version: 4,
    createdAt: now - 10_000,
    dispatchDeadline: now - 5_000,
    purgeAt: now + 3_600_000,
    upstream: { adapter: "simulator", copies: [{ id: "up-1", cleanup: "done" }], sent: true, cleanup: "done" },
    timeline: [
      { at: new Date(now - 10_000).toISOString(), state: "received", detail: "create accepted from Diyalog" },
      { at: new Date(now - 10_000).toISOString(), state: "dispatching", detail: "sending to upstream" },
      { at: new Date(now - 9_000).toISOString(), state: "queued", detail: "accepted by upstream" },
      { at: new Date(now - 8_000).toISOString(), state: "failed", detail: `upstream reported abandoned: ${REASON}` },
    ],
  };
  await runInDurableObject(stub, (instance, state) => {
    state.storage.kv.put(`ix:${id}`, record);
    forgetMemory(instance); // as after the upgrade: the next request reads the stored records
  });
  return { customerId, stub, id, name };
}

const post = (path: string, customerId: string) =>
  call(path, { method: "POST", headers: authHeaders({ "content-type": "application/json" }), body: JSON.stringify({ customerId }) });

describe("review: records stored before encryption", () => {
  it("the customerId and attribute values of a legacy record are sealed on load (holds)", async () => {
    const { customerId, stub, name } = await legacyCustomer();
    expect((await post("/v1/customers/lookup", customerId)).body.result.interactions).toHaveLength(1);
    expectNoneOf(await storageOf(stub), [customerId, name], "after sealing on load");
  });
});
