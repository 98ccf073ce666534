import { afterAll, afterEach, beforeAll, beforeEach, vi, type MockInstance } from "vitest";

/**
 * Silences the console for each test (`"each"`) or for the whole file or describe block (`"all"`)
 * and keeps what was printed, so a test can check its log lines (and that no personal data is in
 * them). Restores only its own spies: other mocks of the file (a fetch recorder) stay.
 */
export function captureConsole(scope: "each" | "all" = "each"): () => string {
  let spies: MockInstance[] = [];
  const start = () => {
    spies = (["log", "info", "warn", "error", "debug"] as const).map((level) => vi.spyOn(console, level).mockImplementation(() => {}));
  };
  const stop = () => {
    for (const spy of spies) spy.mockRestore();
  };
  if (scope === "each") {
    beforeEach(start);
    afterEach(stop);
  } else {
    beforeAll(start);
    afterAll(stop);
  }
  return () => spies.flatMap((spy) => spy.mock.calls.map((args) => args.map(String).join(" "))).join("\n");
}
