import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { customerStub, legacyIndexStub } from "../../src/interactions/stubs";
import { apply, createInteraction } from "../../src/interactions/machine";
import { hex, sha256 } from "../../src/security/digest";
import { objectOf } from "../objects";
import { authHeaders, call, cleanup, postCreate, sampleBody, track } from "./helpers";

/**
 * Across the upgrade to one object per customer: a customer whose call was created before it (a
 * UUID id in `InteractionObject`, its entry in the legacy `CustomerObject` index) and is still
 * waiting has an active call. One active interaction per customer (README): a create for that
 * customer returns that same interactionId and dispatches nothing.
 */

afterEach(cleanup);

describe("one active call per customer across the change of layout", () => {
  it("a create for a customer whose legacy (UUID) call is still queued answers that call, not a new one", async () => {
    const customerId = `legacy-active-${crypto.randomUUID()}`;
    const legacyId = crypto.randomUUID();
    const ctx = { now: Date.now(), canVeto: true, queueTimeoutMs: 1_800_000, retentionMs: 86_400_000 };
    let ix = createInteraction({ interactionId: legacyId, customerId, attributes: { TRX: "Diyalog" } }, "simulator", ctx.now, 8000);
    ix = apply(ix, { type: "dispatch_started" }, ctx).interaction;
    ix = apply(ix, { type: "dispatch_accepted", upstreamId: `legacy-${legacyId}` }, ctx).interaction;
    // What the earlier layout left behind: the interaction's own object and the index entry.
    await runInDurableObject(objectOf(legacyId), (_instance, state) => state.storage.kv.put("interaction", ix));
    const entry = `customer:${hex(await sha256(customerId))}`;
    await runInDurableObject(legacyIndexStub(env, customerId), (_instance, state) => state.storage.kv.put(entry, legacyId));
    try {
      expect((await call(`/v1/interactions/${legacyId}`, { headers: authHeaders() })).body.result.state).toBe("queued");

      const created = await postCreate(sampleBody(customerId, 1));
      const answered = created.body.result?.interactionId;
      if (typeof answered === "string" && answered !== legacyId) track(answered); // cancelled after the test
      const newIds = await runInDurableObject(await customerStub(env, customerId), (_instance, state) => [...state.storage.kv.list({ prefix: "ix:" })].map(([key]) => key));
      expect(newIds, "a second call was dispatched for a customer whose call is still queued").toEqual([]);
      expect(created.body.result?.interactionId).toBe(legacyId);
    } finally {
      await runInDurableObject(objectOf(legacyId), (_instance, state) => state.storage.deleteAll());
      await runInDurableObject(legacyIndexStub(env, customerId), (_instance, state) => void state.storage.kv.delete(entry));
    }
  });
});
