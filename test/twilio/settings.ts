/**
 * The "twilio" test project's configuration, shared by vitest.config.ts (the worker's bindings and
 * the fake's accounts) and the tests. Every value is made up for the tests.
 */
import type { TwilioFakeOptions } from "../fakes/twilio";

/** The proxy's public origin, as Twilio would call it (and sign it) behind another proxy. */
export const PUBLIC_BASE_URL = "https://queue-proxy.example.com";

export const TWILIO_OPTIONS: TwilioFakeOptions = {
  accountSid: `AC${"a1".repeat(16)}`,
  authToken: "0f3c9d6e2b8a47159e6d3c2b1a0f9e8d",
  apiKeySid: `SK${"b2".repeat(16)}`,
  apiKeySecret: "test-api-key-secret-7Hk2pQ9xZr4m",
  workspaceSid: `WS${"c3".repeat(16)}`,
  workflowSid: `WW${"d4".repeat(16)}`,
  assignmentCallbackUrl: `${PUBLIC_BASE_URL}/v1/upstream/twilio/assignment`,
};

/** Where the adapter sends its REST calls; miniflare's outboundService hands them to the fake. */
export const FAKE_TWILIO_URL = "http://127.0.0.1:9";

export const TWILIO_BINDINGS: Record<string, string> = {
  DIYALOG_API_KEYS: "test-key-0123456789abcdefghijklmnopqrstuv",
  UPSTREAM: "twilio-taskrouter",
  TWILIO_ACCOUNT_SID: TWILIO_OPTIONS.accountSid,
  TWILIO_AUTH_TOKEN: TWILIO_OPTIONS.authToken,
  // REST calls use the API key pair; the callback signatures still use the auth token.
  TWILIO_API_KEY_SID: TWILIO_OPTIONS.apiKeySid,
  TWILIO_API_KEY_SECRET: TWILIO_OPTIONS.apiKeySecret,
  TWILIO_WORKSPACE_SID: TWILIO_OPTIONS.workspaceSid,
  TWILIO_WORKFLOW_SID: TWILIO_OPTIONS.workflowSid,
  TWILIO_API_URL: FAKE_TWILIO_URL,
  PUBLIC_BASE_URL,
  UPSTREAM_TIMEOUT_MS: "500",
  CREATE_DEADLINE_MS: "3000",
};
