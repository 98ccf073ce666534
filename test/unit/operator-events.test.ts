import { afterEach, describe, expect, it, vi } from "vitest";
import { getConfig } from "../../src/config";
import { InteractionCore } from "../../src/interactions/interaction-core";
import { UNCONFIRMED_CANCEL_WARN_MS } from "../../src/observability/events";
import type { MetricEvent, MetricLabels } from "../../src/observability/metrics";
import type { CancelResult, PollResult, UpstreamAdapter } from "../../src/upstreams/adapter";
import { memoryHost } from "./memory-host";

/**
 * Issue 17: what the interaction core reports at LOG_LEVEL=warn, with a metric each: an expiry, an
 * upstream cancel still unconfirmed after a few minutes, a failed poll. Virtual clock, in-memory
 * storage, the metric sink a recording fake; no line carries the customer's data.
 */

const QUEUE_TIMEOUT_MS = 600_000;
const input = { interactionId: "ix-ops", customerId: "c-personal-42", attributes: { Note: "private note" }, identityNumber: "12345678901", existing: false };

function world(adapter: Partial<UpstreamAdapter> = {}) {
  let now = 1_000_000;
  const metrics: { event: MetricEvent; labels: MetricLabels; value: number | undefined }[] = [];
  const { host, storage } = memoryHost({
    adapter: {
      name: "memory",
      canVeto: true,
      dispatch: async (request) => ({ kind: "accepted", upstreamId: `up-${request.interactionId}` }),
      cancel: async () => ({ kind: "cancelled" }),
      ...adapter,
    },
    settings: { upstreamTimeoutMs: 1000, createDeadlineMs: 5000, queueTimeoutMs: QUEUE_TIMEOUT_MS, retentionMs: 60_000 },
    now: () => now,
    metric: (event, labels, value) => void metrics.push({ event, labels, value }),
  });
  return { core: new InteractionCore(host), storage, metrics, advance: (ms: number) => void (now += ms) };
}

/** The warn lines written while `run` ran, parsed; info lines are not written at LOG_LEVEL=warn. */
async function warnLines(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  getConfig({ LOG_LEVEL: "warn" });
  const lines: string[] = [];
  const warn = vi.spyOn(console, "warn").mockImplementation((line: string) => void lines.push(line));
  const info = vi.spyOn(console, "info").mockImplementation(() => {});
  try {
    await run();
  } finally {
    warn.mockRestore();
    info.mockRestore();
  }
  for (const line of lines) {
    expect(line).not.toContain("c-personal-42");
    expect(line).not.toContain("12345678901");
    expect(line).not.toContain("private note");
  }
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

afterEach(() => void getConfig({}));

describe("interaction core: operator events at LOG_LEVEL=warn", () => {
  it("an expiry is logged at warn with the interactionId and counted with the time waited", async () => {
    const w = world();
    expect(await w.core.create(input)).toMatchObject({ kind: "created", state: "queued" });
    w.advance(QUEUE_TIMEOUT_MS);
    const lines = await warnLines(() => w.core.alarm());
    expect(w.storage.record?.state).toBe("expired");
    expect(lines.filter((l) => l.msg === "expired")).toEqual([{ level: "warn", msg: "expired", interactionId: "ix-ops", upstream: "memory", waitedMs: QUEUE_TIMEOUT_MS }]);
    expect(w.metrics.filter((m) => m.event === "expired")).toEqual([{ event: "expired", labels: { upstream: "memory" }, value: QUEUE_TIMEOUT_MS }]);
  });

  it("a cancel the upstream still has not confirmed after a few minutes is logged at warn and counted, not before", async () => {
    let answer: CancelResult = { kind: "retry", reason: "unavailable", status: 503 };
    const w = world({ cancel: async () => answer });
    await w.core.create(input);
    // The cancel's answer waits for the upstream (a timer this world never fires); its first try runs now.
    const early = await warnLines(async () => {
      void w.core.cancel("ix-ops");
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    expect(early.filter((l) => l.msg === "upstream cancel")).toHaveLength(1);
    expect(early.some((l) => l.msg === "cancel unconfirmed")).toBe(false);
    expect(w.metrics.some((m) => m.event === "cancel_unconfirmed")).toBe(false);
    w.advance(UNCONFIRMED_CANCEL_WARN_MS);
    const late = await warnLines(() => w.core.alarm());
    expect(late.filter((l) => l.msg === "cancel unconfirmed")).toEqual([
      { level: "warn", msg: "cancel unconfirmed", interactionId: "ix-ops", upstream: "memory", sinceMs: UNCONFIRMED_CANCEL_WARN_MS, upstreamStatus: 503 },
    ]);
    expect(w.metrics.filter((m) => m.event === "cancel_unconfirmed")).toEqual([
      { event: "cancel_unconfirmed", labels: { upstream: "memory", status: 503, id: "ix-ops" }, value: UNCONFIRMED_CANCEL_WARN_MS },
    ]);
    // Once confirmed, nothing more.
    answer = { kind: "cancelled" };
    w.advance(60_000);
    const after = await warnLines(() => w.core.alarm());
    expect(after.some((l) => l.msg === "cancel unconfirmed")).toBe(false);
    expect(w.storage.record?.state).toBe("cancelled");
  });

  it("a failed poll of an upstream without callbacks is logged at warn and counted as an upstream error", async () => {
    const poll = async (): Promise<PollResult> => ({ kind: "retry", reason: "unavailable", status: 502 });
    const w = world({ canVeto: false, poll, pollIntervalMs: 1000 });
    await w.core.create(input);
    w.advance(1000);
    const lines = await warnLines(() => w.core.alarm());
    expect(lines.filter((l) => l.msg === "upstream poll")).toEqual([
      { level: "warn", msg: "upstream poll", interactionId: "ix-ops", upstream: "memory", upstreamStatus: 502 },
    ]);
    expect(w.metrics.filter((m) => m.event === "upstream_error")).toEqual([{ event: "upstream_error", labels: { outcome: "poll", upstream: "memory", status: 502 }, value: undefined }]);
  });
});
