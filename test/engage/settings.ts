/**
 * Bindings of the "engage-nexus" and "engage-gms" vitest projects and the fakes they point at
 * (test/fakes/engage.ts). Both run the same tests (test/engage/*.test.ts), one per dialect, with a
 * Cloudflare Access service token configured: the fake refuses (403) any call without it, so every
 * test also proves the headers are on every upstream call.
 */
import type { EngageSettings } from "../fakes/engage.ts";

export const ENGAGE_HOST = "127.0.0.1:9";
export const ENGAGE_SERVICE = "diyalog-video";
export const ACCESS = { clientId: "0123abcd.access", clientSecret: "engage-access-secret-0123456789" };

const common = {
  DIYALOG_API_KEYS: "engage-key-0123456789abcdefghijklmnopqrstuv",
  UPSTREAM: "genesys-engage",
  ENGAGE_URL: `http://${ENGAGE_HOST}`,
  ENGAGE_SERVICE,
  ENGAGE_POLL_SECONDS: "1",
  UPSTREAM_ACCESS_CLIENT_ID: ACCESS.clientId,
  UPSTREAM_ACCESS_CLIENT_SECRET: ACCESS.clientSecret,
  UPSTREAM_TIMEOUT_MS: "1000",
  // Longer than UPSTREAM_TIMEOUT_MS + the adapter's lookup lag (2 s): a lost create answer is resolved in time.
  CREATE_DEADLINE_MS: "8000",
};

export const NEXUS_BINDINGS = { ...common, ENGAGE_API: "nexus", ENGAGE_API_KEY: "nexus-api-key" };
export const GMS_BINDINGS = { ...common, ENGAGE_API: "gms", ENGAGE_USERNAME: "gms-user", ENGAGE_PASSWORD: "gms-password" };

export const NEXUS_FAKE: EngageSettings = { service: ENGAGE_SERVICE, apiKey: "nexus-api-key", access: ACCESS };
export const GMS_FAKE: EngageSettings = { service: ENGAGE_SERVICE, basic: { username: "gms-user", password: "gms-password" }, access: ACCESS };
