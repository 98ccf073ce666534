import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Tests run inside workerd with the real Durable Objects and alarms of wrangler.toml.
// The simulator gets one agent that claims after 600 ms, so a test can both cancel a queued
// call (immediately) and see one assigned (by waiting).
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          DIYALOG_API_KEYS: "test-key,second-key",
          SIM_AGENTS: "1",
          SIM_ASSIGN_DELAY_MS: "600",
          SIM_HANDLE_MS: "60000",
          UPSTREAM_TIMEOUT_MS: "1000",
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
  },
});
