import { HEADER_SAFE_RULE, headerSafe, parseBaseUrl, varText } from "../../config";

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
  username?: string;
  password?: string;
  pollSeconds: number;
}

type Parsed = { ok: true; value: EngageConfig } | { ok: false; problems: string[] };

/** Parses the ENGAGE_* variables; never throws. */
export function parseEngageConfig(env: Record<string, unknown>): Parsed {
  const problems: string[] = [];
  const required = (name: string): string | undefined => {
    const v = varText(env[name]);
    if (v === undefined) problems.push(`${name}: required when UPSTREAM=genesys-engage`);
    return v;
  };
  const secret = (name: string, v: string | undefined) => {
    if (v !== undefined && !headerSafe(v)) problems.push(`${name}: ${HEADER_SAFE_RULE}`);
  };

  const api = required("ENGAGE_API");
  if (api !== undefined && api !== "nexus" && api !== "gms") problems.push('ENGAGE_API: must be "nexus" or "gms"');
  const url = varText(env.ENGAGE_URL) === undefined ? required("ENGAGE_URL") : parseBaseUrl("ENGAGE_URL", env.ENGAGE_URL, problems);
  const service = required("ENGAGE_SERVICE");
  if (service !== undefined && !/^[A-Za-z0-9._-]{1,128}$/.test(service)) {
    problems.push("ENGAGE_SERVICE: must be the open media service name (letters, digits, . _ -)");
  }

  const apiKey = varText(env.ENGAGE_API_KEY);
  if (api === "nexus" && apiKey === undefined) problems.push("ENGAGE_API_KEY: required when ENGAGE_API=nexus");
  secret("ENGAGE_API_KEY", apiKey);

  const username = varText(env.ENGAGE_USERNAME);
  const password = varText(env.ENGAGE_PASSWORD);
  if ((username === undefined) !== (password === undefined)) {
    problems.push(`${username === undefined ? "ENGAGE_USERNAME" : "ENGAGE_PASSWORD"}: ENGAGE_USERNAME and ENGAGE_PASSWORD go together (basic authentication)`);
  }
  // Basic credentials are user:password: a colon in the user name would split them elsewhere.
  if (username?.includes(":")) problems.push("ENGAGE_USERNAME: must not contain a colon");
  secret("ENGAGE_USERNAME", username);
  secret("ENGAGE_PASSWORD", password);

  const pollText = varText(env.ENGAGE_POLL_SECONDS);
  const pollSeconds = pollText === undefined ? 5 : Number(pollText);
  if (pollText !== undefined && (!/^\d+$/.test(pollText) || pollSeconds < 1 || pollSeconds > 300)) {
    problems.push("ENGAGE_POLL_SECONDS: must be an integer from 1 to 300");
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      api: api as EngageConfig["api"],
      url: url!,
      service: service!,
      ...(apiKey === undefined ? {} : { apiKey }),
      ...(username === undefined ? {} : { username, password: password! }),
      pollSeconds,
    },
  };
}
