import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { FakeUpstream } from "./test/fakes/http-upstream.ts";

/** Signing secret shared by the proxy under test and the fake upstream (test-only). */
export const TEST_SIGNING_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

// The fake upstream runs here, in Node; the worker's outbound fetches reach it through miniflare's
// outboundService, and tests steer it through its /__control endpoints.
const upstream = new FakeUpstream(TEST_SIGNING_SECRET);

export default defineConfig({
  test: {
    testTimeout: 20_000,
    projects: [
      {
        // Tests run inside workerd with the real Durable Objects and alarms of wrangler.toml.
        // The simulator gets one agent that claims after 600 ms, so a test can both cancel a
        // queued call (immediately) and see one assigned (by waiting).
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
        test: { name: "simulator", include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"] },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                DIYALOG_API_KEYS: "test-key",
                UPSTREAM: "http",
                UPSTREAM_URL: "http://127.0.0.1:9",
                UPSTREAM_SIGNING_SECRET: TEST_SIGNING_SECRET,
                UPSTREAM_TIMEOUT_MS: "500",
                CREATE_DEADLINE_MS: "3000",
              },
              outboundService: (request: Request) => upstream.handle(request),
            },
          }),
        ],
        test: { name: "http", include: ["test/http/**/*.test.ts"] },
      },
    ],
  },
});
