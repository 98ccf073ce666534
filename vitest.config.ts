import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { FakeUpstream } from "./test/fakes/http-upstream.ts";
import { FakeTwilio } from "./test/fakes/twilio.ts";
import { TWILIO_BINDINGS, TWILIO_OPTIONS } from "./test/twilio/settings.ts";
import { CONNECT_TEST, FakeConnect } from "./test/fakes/connect.ts";
import { FakeGenesys } from "./test/fakes/genesys.ts";
import { GENESYS_API_HOST, GENESYS_BINDINGS, GENESYS_LOGIN_HOST } from "./test/genesys/settings.ts";
import { FakeEngage } from "./test/fakes/engage.ts";
import { GMS_BINDINGS, GMS_FAKE, NEXUS_BINDINGS, NEXUS_FAKE } from "./test/engage/settings.ts";

/** Signing secret shared by the proxy under test and the fake upstream (test-only). */
export const TEST_SIGNING_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

// The fake upstream runs here, in Node; the worker's outbound fetches reach it through miniflare's
// outboundService, and tests steer it through its /__control endpoints.
const upstream = new FakeUpstream(TEST_SIGNING_SECRET);
const securityUpstream = new FakeUpstream(TEST_SIGNING_SECRET);
const twilio = new FakeTwilio(TWILIO_OPTIONS);
const connect = new FakeConnect(CONNECT_TEST);
const genesys = new FakeGenesys(GENESYS_LOGIN_HOST, GENESYS_API_HOST);
const nexus = new FakeEngage("nexus", NEXUS_FAKE);
const gms = new FakeEngage("gms", GMS_FAKE);

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
                DIYALOG_API_KEYS: "test-key-0123456789abcdefghijklmnopqrstuv,second-key-0123456789abcdefghijklmnopqrstuv",
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
                DIYALOG_API_KEYS: "test-key-0123456789abcdefghijklmnopqrstuv",
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
      {
        // Security (issue 7): the http upstream against a fake of its own (its faults never reach the
        // "http" project) and RETENTION_SECONDS=2, so terminal interactions are purged during a test.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                DIYALOG_API_KEYS: "security-key-0123456789abcdefghijklmnopqrstuv",
                UPSTREAM: "http",
                UPSTREAM_URL: "http://127.0.0.1:9",
                UPSTREAM_SIGNING_SECRET: TEST_SIGNING_SECRET,
                UPSTREAM_TIMEOUT_MS: "300",
                CREATE_DEADLINE_MS: "1500",
                RETENTION_SECONDS: "2",
              },
              outboundService: (request: Request) => securityUpstream.handle(request),
            },
          }),
        ],
        test: { name: "security", include: ["test/security/**/*.test.ts"], testTimeout: 60_000 },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: { bindings: TWILIO_BINDINGS, outboundService: (request: Request) => twilio.handle(request) },
          }),
        ],
        test: { name: "twilio", include: ["test/twilio/**/*.test.ts"] },
      },
      {
        // Amazon Connect against test/fakes/connect.ts; polls every second so assignment shows quickly.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                DIYALOG_API_KEYS: "connect-test-key-0123456789abcdefghijklmnopqrstuv",
                UPSTREAM: "amazon-connect",
                AWS_REGION: CONNECT_TEST.region,
                AWS_ACCESS_KEY_ID: CONNECT_TEST.accessKeyId,
                AWS_SECRET_ACCESS_KEY: CONNECT_TEST.secretAccessKey,
                CONNECT_INSTANCE_ID: CONNECT_TEST.instanceId,
                CONNECT_CONTACT_FLOW_ID: CONNECT_TEST.contactFlowId,
                CONNECT_ENDPOINT: "http://127.0.0.1:9",
                CONNECT_POLL_SECONDS: "1",
                UPSTREAM_TIMEOUT_MS: "1000",
                CREATE_DEADLINE_MS: "3000",
              },
              outboundService: (request: Request) => connect.handle(request),
            },
          }),
        ],
        test: { name: "connect", include: ["test/connect/**/*.test.ts"] },
      },
      {
        // Genesys Cloud against test/fakes/genesys.ts; polls every second so assignment shows quickly.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: { bindings: GENESYS_BINDINGS, outboundService: (request: Request) => genesys.handle(request) },
          }),
        ],
        test: { name: "genesys", include: ["test/genesys/**/*.test.ts"] },
      },
      // Genesys Engage, one project per dialect, the same tests against test/fakes/engage.ts.
      ...(
        [
          ["engage-nexus", NEXUS_BINDINGS, nexus],
          ["engage-gms", GMS_BINDINGS, gms],
        ] as const
      ).map(([name, bindings, fake]) => ({
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: { bindings, outboundService: (request: Request) => fake.handle(request) },
          }),
        ],
        test: { name, include: ["test/engage/**/*.test.ts"] },
      })),
    ],
  },
});
