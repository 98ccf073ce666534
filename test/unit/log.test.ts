import { afterEach, describe, expect, it, vi } from "vitest";
import { getConfig } from "../../src/config";
import { log } from "../../src/observability/log";

/** The lines each console method received while `run` ran. */
function capture(run: () => void): { info: string[]; warn: string[]; error: string[] } {
  const lines = { info: [] as string[], warn: [] as string[], error: [] as string[] };
  const spies = [
    vi.spyOn(console, "info").mockImplementation((line: string) => void lines.info.push(line)),
    vi.spyOn(console, "warn").mockImplementation((line: string) => void lines.warn.push(line)),
    vi.spyOn(console, "error").mockImplementation((line: string) => void lines.error.push(line)),
  ];
  try {
    run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines;
}

const everyLevel = () => {
  log("info", "request", { status: 200 });
  log("warn", "upstream dispatch", { status: 503 });
  log("error", "unhandled error", { error: "TypeError" });
};

describe("LOG_LEVEL", () => {
  // The level belongs to the isolate and is set when a configuration is first parsed; a fresh env
  // object is a fresh parse. Leave the default behind for the other tests in this isolate.
  afterEach(() => void getConfig({}));

  it("info (the default) writes every line, one JSON object per line, on the console method of its level", () => {
    getConfig({});
    const lines = capture(everyLevel);
    expect(lines.info.map((l) => JSON.parse(l))).toEqual([{ level: "info", msg: "request", status: 200 }]);
    expect(lines.warn.map((l) => JSON.parse(l))).toEqual([{ level: "warn", msg: "upstream dispatch", status: 503 }]);
    expect(lines.error.map((l) => JSON.parse(l))).toEqual([{ level: "error", msg: "unhandled error", error: "TypeError" }]);
  });

  it("warn drops the info lines (requests, transitions) and keeps problems", () => {
    getConfig({ LOG_LEVEL: "warn" });
    const lines = capture(everyLevel);
    expect(lines.info).toEqual([]);
    expect(lines.warn).toHaveLength(1);
    expect(lines.error).toHaveLength(1);
  });

  it("error keeps failures only", () => {
    getConfig({ LOG_LEVEL: "error" });
    const lines = capture(everyLevel);
    expect([lines.info, lines.warn]).toEqual([[], []]);
    expect(lines.error).toHaveLength(1);
  });

  it("an invalid configuration logs at info, so its 503s are still seen", () => {
    getConfig({ LOG_LEVEL: "error" });
    getConfig({ LOG_LEVEL: "verbose" });
    expect(capture(everyLevel).info).toHaveLength(1);
  });
});
