import { HEADER_SAFE_RULE, headerSafe, parseBaseUrl, parsePollSeconds, varText } from "../../config";

/**
 * The `genesys-engage` adapter's variables (design §3 "Adapter configuration"), parsed once per
 * isolate through the VENDOR_CONFIG registry. Every problem names its variable, never a value.
 */

export interface EngageConfig {
  /** `nexus`: Multicloud CX Nexus v3 open media; `gms`: Genesys Mobile Services 8.5 Open Media API. */
  api: "nexus" | "gms";
  /** Base URL without a trailing slash. */
  url: string;
  /** The open media service name (a path segment). */
  service: string;
  /** nexus: the `x-api-key`. */
  apiKey?: string;
  /** gms: optional basic authentication. */
  basic?: { username: string; password: string };
  pollSeconds: number;
}

type Parsed = { ok: true; value: EngageConfig } | { ok: false; problems: string[] };

/** Parses the ENGAGE_* variables; never throws. */
export function parseEngageConfig(env: Record<string, unknown>): Parsed {
  const problems: string[] = [];
  /** ENGAGE_<name> as text; a problem when it is absent and `required` says why it is needed. */
  const v = (name: string, required?: string): string | undefined => {
    const value = varText(env[`ENGAGE_${name}`]);
    if (value === undefined && required) problems.push(`ENGAGE_${name}: ${required}`);
    return value;
  };
  const api = v("API", "required when UPSTREAM=genesys-engage");
  if (api !== undefined && api !== "nexus" && api !== "gms") problems.push('ENGAGE_API: must be "nexus" or "gms"');
  const url = v("URL", "required when UPSTREAM=genesys-engage") && parseBaseUrl("ENGAGE_URL", env.ENGAGE_URL, problems);
  const service = v("SERVICE", "required when UPSTREAM=genesys-engage");
  if (service !== undefined && !/^[\w.-]{1,128}$/.test(service)) problems.push("ENGAGE_SERVICE: must be the open media service name (letters, digits, . _ -)");
  const apiKey = v("API_KEY", api === "nexus" ? "required when ENGAGE_API=nexus" : undefined);
  const username = v("USERNAME");
  const password = v("PASSWORD");
  // Basic credentials are user:password: both or neither, and no colon in the user name.
  if ((username === undefined) !== (password === undefined) || username?.includes(":")) {
    problems.push("ENGAGE_USERNAME: goes with ENGAGE_PASSWORD (basic authentication), without a colon");
  }
  for (const [name, value] of [["API_KEY", apiKey], ["USERNAME", username], ["PASSWORD", password]]) {
    if (value !== undefined && !headerSafe(value)) problems.push(`ENGAGE_${name}: ${HEADER_SAFE_RULE}`);
  }
  const pollSeconds = parsePollSeconds("ENGAGE_POLL_SECONDS", env.ENGAGE_POLL_SECONDS, problems);

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: { api: api as EngageConfig["api"], url: url!, service: service!, apiKey, basic: username === undefined ? undefined : { username, password: password! }, pollSeconds },
  };
}
