// Used only inside the parser, after config.ts (which imports this module) has finished loading.
import { HEADER_SAFE_RULE, headerSafe, parseBaseUrl, varText } from "../../config";
import type { VendorConfigParser } from "../vendor-config";

/**
 * The `twilio-taskrouter` adapter's own variables (design §3 "Adapter configuration"). Problems name
 * the variable, never its value: some of them are secrets.
 */
export interface TwilioConfig {
  accountSid: string;
  /** Signs the assignment callbacks (Twilio always uses the account's auth token for those). */
  authToken: string;
  /** Basic-auth pair for REST calls: the API key when one is set, else AccountSid:AuthToken. */
  restUser: string;
  restPassword: string;
  workspaceSid: string;
  workflowSid: string;
  /** TaskRouter's base URL; `TWILIO_API_URL` points tests and staging at a fake. */
  apiUrl: string;
}

const DEFAULT_API_URL = "https://taskrouter.twilio.com";

/** TaskRouter's base URL, held to the same rules as every base URL (https, or http on this machine only). */
function apiUrl(value: unknown, problems: string[]): string {
  return parseBaseUrl("TWILIO_API_URL", value, problems) ?? DEFAULT_API_URL;
}

/** A function declaration, so the import cycle with config.ts can never see it uninitialised. */
export function parseTwilioConfig(env: Record<string, unknown>): ReturnType<VendorConfigParser> {
  const problems: string[] = [];
  /** A SID is a two-letter prefix and 32 hex digits; a typo caught here beats a 404 at the first call. */
  const sid = (name: string, prefix: string): string => {
    const v = varText(env[name]);
    if (v === undefined) problems.push(`${name}: required when UPSTREAM=twilio-taskrouter`);
    else if (!new RegExp(`^${prefix}[0-9a-fA-F]{32}$`).test(v)) problems.push(`${name}: must be ${prefix} followed by 32 hex digits`);
    return v ?? "";
  };
  const accountSid = sid("TWILIO_ACCOUNT_SID", "AC");
  /** A secret sent in a header (REST Basic auth) or used as the callback signature's key. */
  const secret = (name: string): string | undefined => {
    const v = varText(env[name]);
    if (v !== undefined && !headerSafe(v)) problems.push(`${name}: ${HEADER_SAFE_RULE}`);
    return v;
  };
  const authToken = secret("TWILIO_AUTH_TOKEN");
  if (authToken === undefined) problems.push("TWILIO_AUTH_TOKEN: required (it verifies the assignment callbacks)");
  const workspaceSid = sid("TWILIO_WORKSPACE_SID", "WS");
  const workflowSid = sid("TWILIO_WORKFLOW_SID", "WW");
  let restUser = accountSid;
  let restPassword = authToken ?? "";
  const hasKey = varText(env["TWILIO_API_KEY_SID"]) !== undefined;
  const keySecret = secret("TWILIO_API_KEY_SECRET");
  if (hasKey) {
    restUser = sid("TWILIO_API_KEY_SID", "SK");
    if (keySecret === undefined) problems.push("TWILIO_API_KEY_SECRET: required when TWILIO_API_KEY_SID is set");
    restPassword = keySecret ?? "";
  } else if (keySecret !== undefined) {
    problems.push("TWILIO_API_KEY_SID: required when TWILIO_API_KEY_SECRET is set");
  }
  const url = apiUrl(env.TWILIO_API_URL, problems);
  if (problems.length > 0) return { ok: false, problems };
  const value: TwilioConfig = { accountSid, authToken: authToken!, restUser, restPassword, workspaceSid, workflowSid, apiUrl: url };
  return { ok: true, value };
}
