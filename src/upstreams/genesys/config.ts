import { HEADER_SAFE_RULE, headerSafe, parseBaseUrl, parsePollSeconds, varText } from "../../config";

/**
 * The `genesys-cloud` adapter's own variables (design §3 "Adapter configuration"), parsed once per
 * isolate through the VENDOR_CONFIG registry. Every problem names its variable.
 */

export interface QueueRoute {
  key: string;
  value: string;
  queueId: string;
}

export interface GenesysConfig {
  loginUrl: string;
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  worktypeId: string;
  queueId: string;
  /** First match wins; none matching → `queueId`. */
  queueRoutes: QueueRoute[];
  /** attachedData keys whose values are preferred agents, most preferred first. */
  preferredAgentKeys: string[];
  /** `uuid`: values are Genesys user ids; `employeeId`: resolved by a users search. */
  agentIdLookup: "uuid" | "employeeId";
  /** attribute → customFields name; `null` drops the attribute. Null-prototype object. */
  fieldMap: Record<string, string | null>;
  pollSeconds: number;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** What a worktype schema accepts as a custom field name: letters, digits, underscores. */
export const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,199}$/;
const DEFAULT_AGENT_KEYS = ["PrimaryProjectManagerId", "SecondaryProjectManagerId"];

type Parsed = { ok: true; value: GenesysConfig } | { ok: false; problems: string[] };

/** A var as trimmed text; absent or blank is `undefined`. */
function json(name: string, v: unknown, problems: string[]): unknown {
  const s = varText(v);
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    problems.push(`${name}: must be valid JSON`);
    return undefined;
  }
}

function queueRoutes(v: unknown, problems: string[]): QueueRoute[] {
  const parsed = json("GENESYS_QUEUE_ROUTES", v, problems);
  if (parsed === undefined) return [];
  const shape = 'must be a JSON array of {"key","value","queueId"} with a queue UUID';
  if (!Array.isArray(parsed) || parsed.length > 100) {
    problems.push(`GENESYS_QUEUE_ROUTES: ${shape} (at most 100)`);
    return [];
  }
  const routes: QueueRoute[] = [];
  for (const [i, r] of parsed.entries()) {
    const { key, value, queueId } = (r ?? {}) as Record<string, unknown>;
    if (typeof key !== "string" || key === "" || typeof value !== "string" || typeof queueId !== "string" || !UUID.test(queueId)) {
      problems.push(`GENESYS_QUEUE_ROUTES[${i}]: ${shape}`);
      continue;
    }
    routes.push({ key, value, queueId });
  }
  return routes;
}

function fieldMap(v: unknown, problems: string[]): Record<string, string | null> {
  const map: Record<string, string | null> = Object.create(null);
  const parsed = json("GENESYS_FIELD_MAP", v, problems);
  if (parsed === undefined) return map;
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    problems.push("GENESYS_FIELD_MAP: must be a JSON object mapping attribute → customFields name (or null to drop it)");
    return map;
  }
  for (const [attribute, field] of Object.entries(parsed)) {
    if (field === null || field === "") map[attribute] = null;
    else if (typeof field === "string" && FIELD_NAME.test(field)) map[attribute] = field;
    else problems.push(`GENESYS_FIELD_MAP.${attribute}: must be a custom field name (letters, digits, _; e.g. "segment_text") or null`);
  }
  return map;
}

/** Parses the GENESYS_* variables (and PREFERRED_AGENT_KEYS); never throws. */
export function parseGenesysConfig(env: Record<string, unknown>): Parsed {
  const problems: string[] = [];
  const required = (name: string): string => {
    const v = varText(env[name]);
    if (v === undefined) problems.push(`${name}: required when UPSTREAM=genesys-cloud`);
    return v ?? "";
  };

  const clientId = required("GENESYS_CLIENT_ID");
  const clientSecret = required("GENESYS_CLIENT_SECRET");
  // Both go in the login's Basic authorization header.
  for (const [name, value] of [["GENESYS_CLIENT_ID", clientId], ["GENESYS_CLIENT_SECRET", clientSecret]] as const) {
    if (value !== "" && !headerSafe(value)) problems.push(`${name}: ${HEADER_SAFE_RULE}`);
  }
  const worktypeId = required("GENESYS_WORKTYPE_ID");
  if (worktypeId !== "" && !/^[A-Za-z0-9-]{1,64}$/.test(worktypeId)) problems.push("GENESYS_WORKTYPE_ID: must be a worktype id (UUID)");
  const queueId = required("GENESYS_QUEUE_ID");
  if (queueId !== "" && !UUID.test(queueId)) problems.push("GENESYS_QUEUE_ID: must be a queue UUID");

  const region = varText(env.GENESYS_REGION)?.toLowerCase();
  if (region !== undefined && !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(region)) {
    problems.push("GENESYS_REGION: must be a Genesys Cloud domain such as mypurecloud.de");
  }
  const loginOverride = parseBaseUrl("GENESYS_LOGIN_URL", env.GENESYS_LOGIN_URL, problems);
  const apiOverride = parseBaseUrl("GENESYS_API_URL", env.GENESYS_API_URL, problems);
  const loginUrl = loginOverride ?? (region ? `https://login.${region}` : undefined);
  const apiUrl = apiOverride ?? (region ? `https://api.${region}` : undefined);
  // An override that failed validation has already reported its own problem.
  const badOverride = (varText(env.GENESYS_LOGIN_URL) !== undefined && !loginOverride) || (varText(env.GENESYS_API_URL) !== undefined && !apiOverride);
  if ((!loginUrl || !apiUrl) && !badOverride) {
    problems.push("GENESYS_REGION: required (e.g. mypurecloud.de) unless GENESYS_API_URL and GENESYS_LOGIN_URL are both set");
  }

  const keysRaw = env.PREFERRED_AGENT_KEYS;
  // Absent → the seed's two keys; set but empty → no preferred agents.
  const preferredAgentKeys =
    keysRaw === undefined || keysRaw === null
      ? DEFAULT_AGENT_KEYS
      : String(keysRaw).split(",").map((s) => s.trim()).filter((s) => s !== "");

  const lookup = varText(env.GENESYS_AGENT_ID_LOOKUP) ?? "uuid";
  if (lookup !== "uuid" && lookup !== "employeeId") problems.push('GENESYS_AGENT_ID_LOOKUP: must be "uuid" or "employeeId"');

  const pollSeconds = parsePollSeconds("GENESYS_POLL_SECONDS", env.GENESYS_POLL_SECONDS, problems);

  const routes = queueRoutes(env.GENESYS_QUEUE_ROUTES, problems);
  const map = fieldMap(env.GENESYS_FIELD_MAP, problems);
  if (problems.length > 0) return { ok: false, problems: [...new Set(problems)] };
  return {
    ok: true,
    value: {
      loginUrl: loginUrl!,
      apiUrl: apiUrl!,
      clientId,
      clientSecret,
      worktypeId,
      queueId,
      queueRoutes: routes,
      preferredAgentKeys,
      agentIdLookup: lookup as GenesysConfig["agentIdLookup"],
      fieldMap: map,
      pollSeconds,
    },
  };
}
