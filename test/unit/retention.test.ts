import { describe, expect, it } from "vitest";
import { InteractionCore } from "../../src/interactions/interaction-core";
import type { UpstreamAdapter } from "../../src/upstreams/adapter";
import { memoryHost } from "./memory-host";

/**
 * Retention in the interaction core (design §3 RETENTION_SECONDS): the alarm purges a terminal
 * interaction once `purgeAt` has passed. Virtual clock, in-memory storage.
 */

const RETENTION_MS = 60_000;

function world() {
  let now = 1_000_000;
  const adapter: UpstreamAdapter = {
    name: "memory",
    canVeto: true,
    dispatch: async (request) => ({ kind: "accepted", upstreamId: `up-${request.interactionId}` }),
    cancel: async () => ({ kind: "cancelled" }),
  };
  const { host, storage } = memoryHost({
    adapter,
    settings: { upstreamTimeoutMs: 1000, createDeadlineMs: 5000, queueTimeoutMs: 600_000, retentionMs: RETENTION_MS },
    now: () => now,
  });
  return {
    storage,
    /** A fresh core on the same storage: what a restarted Durable Object is. */
    restart: () => new InteractionCore(host),
    advanceTo: (t: number) => void (now = t),
    get now() {
      return now;
    },
  };
}

const input = { interactionId: "ix-r", customerId: "c-personal", attributes: { Note: "v" }, identityNumber: "12345678901", existing: false };

async function cancelled(w: ReturnType<typeof world>): Promise<InteractionCore> {
  const core = w.restart();
  expect(await core.create(input)).toMatchObject({ kind: "created", state: "queued" });
  expect(await core.cancel("ix-r")).toMatchObject({ kind: "done", state: "cancelled" });
  return core;
}

describe("purge after retention", () => {
  it("the terminal state arms the alarm at purgeAt; an alarm before it keeps everything", async () => {
    const w = world();
    const core = await cancelled(w);
    const purgeAt = w.now + RETENTION_MS;
    expect(w.storage.record?.purgeAt).toBe(purgeAt);
    expect(w.storage.alarmAt).toBe(purgeAt);
    w.advanceTo(purgeAt - 1);
    await core.alarm();
    expect(core.get("ix-r")?.state).toBe("cancelled");
    expect(w.storage.record?.state).toBe("cancelled");
  });

  it("at purgeAt the alarm deletes everything; the id is unknown", async () => {
    const w = world();
    const core = await cancelled(w);
    w.advanceTo(w.storage.record!.purgeAt!);
    await core.alarm();
    expect(w.storage).toEqual({});
    expect(core.get("ix-r")).toBeNull();
    expect(await core.cancel("ix-r")).toEqual({ kind: "not_found" });
    expect(core.claim("ix-r", "agent-1")).toEqual({ proceed: false, reason: "not_found" });
    // A restarted instance reads the same (empty) storage.
    expect(w.restart().get("ix-r")).toBeNull();
    // A second alarm (the runtime may deliver one twice) has nothing to do.
    await core.alarm();
    expect(w.storage).toEqual({});
  });

  it("a restart before purgeAt: the new instance purges from storage alone", async () => {
    const w = world();
    await cancelled(w);
    const fresh = w.restart();
    w.advanceTo(w.storage.alarmAt!);
    await fresh.alarm();
    expect(w.storage).toEqual({});
  });
});
