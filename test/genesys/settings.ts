/**
 * Bindings of the "genesys" vitest project and the fake they point at (test/fakes/genesys.ts).
 * Login and API are different hosts, as in Genesys Cloud (login.{region} / api.{region}), so the
 * fake can check that each call goes to the right one.
 */
import { FAKE_QUEUE, FAKE_VIP_QUEUE, FAKE_WORKTYPE } from "../fakes/genesys.ts";

export const GENESYS_LOGIN_HOST = "localhost:9";
export const GENESYS_API_HOST = "127.0.0.1:9";

export const GENESYS_BINDINGS = {
  DIYALOG_API_KEYS: "genesys-key-0123456789abcdefghijklmnopqrstuv",
  UPSTREAM: "genesys-cloud",
  GENESYS_CLIENT_ID: "genesys-client",
  GENESYS_CLIENT_SECRET: "genesys-secret",
  GENESYS_LOGIN_URL: `http://${GENESYS_LOGIN_HOST}`,
  GENESYS_API_URL: `http://${GENESYS_API_HOST}`,
  GENESYS_WORKTYPE_ID: FAKE_WORKTYPE,
  GENESYS_QUEUE_ID: FAKE_QUEUE,
  GENESYS_QUEUE_ROUTES: JSON.stringify([{ key: "Segment", value: "VIP", queueId: FAKE_VIP_QUEUE }]),
  GENESYS_AGENT_ID_LOOKUP: "employeeId",
  GENESYS_FIELD_MAP: JSON.stringify({ TRX: "channel_text", identityNumber: "national_id_text", Segment: null }),
  GENESYS_POLL_SECONDS: "1",
  UPSTREAM_TIMEOUT_MS: "1000",
  // Longer than UPSTREAM_TIMEOUT_MS + the adapter's lookup lag (5 s): a lost create answer is resolved in time.
  CREATE_DEADLINE_MS: "8000",
};
