import { describe, expect, it, vi } from "vitest";
import { InteractionCore } from "../../src/interactions/interaction-core";
import type { UpstreamAdapter } from "../../src/upstreams/adapter";
import { memoryHost } from "./memory-host";

/**
 * Retention in the interaction core (design §3 RETENTION_SECONDS): the alarm purges a terminal
 * interaction once `purgeAt` has passed, customer-index entry first, and keeps trying, on an alarm
 * of its own, when the index cannot be reached. Virtual clock, in-memory storage.
 */

const RETENTION_MS = 60_000;

function world(options: { releaseFails?: number } = {}) {
  let now = 1_000_000;
  let failuresLeft = options.releaseFails ?? 0;
  const released: string[] = [];
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
    releaseCustomer: async (ix) => {
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        throw new Error("customer index unreachable");
      }
      released.push(ix.interactionId);
    },
  });
  return {
    storage,
    released,
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
    expect(w.released).toEqual([]);
  });

  it("at purgeAt the alarm releases the customer index, then deletes everything; the id is unknown", async () => {
    const w = world();
    const core = await cancelled(w);
    w.advanceTo(w.storage.record!.purgeAt!);
    await core.alarm();
    expect(w.released).toEqual(["ix-r"]);
    expect(w.storage).toEqual({});
    expect(core.get("ix-r")).toBeNull();
    expect(await core.cancel("ix-r")).toEqual({ kind: "not_found" });
    expect(core.claim("ix-r", "agent-1")).toEqual({ proceed: false, reason: "not_found" });
    // A restarted instance reads the same (empty) storage.
    expect(w.restart().get("ix-r")).toBeNull();
    // A second alarm (the runtime may deliver one twice) has nothing to do.
    await core.alarm();
    expect(w.released).toEqual(["ix-r"]);
  });

  it("a restart before purgeAt: the new instance purges from storage alone", async () => {
    const w = world();
    await cancelled(w);
    const fresh = w.restart();
    w.advanceTo(w.storage.alarmAt!);
    await fresh.alarm();
    expect(w.storage).toEqual({});
    expect(w.released).toEqual(["ix-r"]);
  });

  it("an unreachable customer index defers the purge to an alarm of its own, for as long as it takes", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const w = world({ releaseFails: 8 });
      const core = await cancelled(w);
      w.advanceTo(w.storage.record!.purgeAt!);
      for (let attempt = 1; attempt <= 8; attempt++) {
        await core.alarm(); // never throws: the runtime's own alarm retries would give up
        expect(w.storage.record?.state, `attempt ${attempt}`).toBe("cancelled");
        expect(w.storage.alarmAt).toBeGreaterThan(w.now);
        w.advanceTo(w.storage.alarmAt!);
      }
      await core.alarm();
      expect(w.storage).toEqual({});
      expect(w.released).toEqual(["ix-r"]);
      const logged = warn.mock.calls.map((c) => String(c[0]));
      expect(logged.filter((l) => l.includes('"purge deferred"'))).toHaveLength(8);
      expect(logged.join("\n")).not.toContain("c-personal");
      expect(logged.join("\n")).not.toContain("12345678901");
    } finally {
      warn.mockRestore();
    }
  });
});
