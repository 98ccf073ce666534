import { VENDOR_CONFIG } from "./upstreams/vendor-config";
import { LOG_LEVELS, setLogLevel, type LogLevel } from "./observability/log";
import { decodeBase64 } from "./security/webhook-signature";
import { DEVELOPMENT_PERSONAL_DATA_KEYS } from "./security/personal-data";

/**
 * The worker's configuration, parsed once per isolate from `env` (wrangler vars and secrets).
 * Every value arrives as a string from `--var` or `wrangler secret`; the schema turns them into
 * typed values and names the variable when one is wrong.
 */

const UPSTREAMS = ["simulator", "http", "genesys-cloud", "twilio-taskrouter", "amazon-connect", "genesys-engage"] as const;
export type UpstreamName = (typeof UPSTREAMS)[number];

/** A var as text: absent, null or blank is `undefined`; surrounding whitespace is dropped. */
export function varText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const s = String(value).trim();
  return s === "" ? undefined : s;
}

/**
 * A variable's rule: its parsed value, or a throw of the problem (a string, never the value).
 * Every rule starts from `text`, so a value that is not text, a number or a boolean is "Invalid
 * input" (the message of the zod schema these rules replace).
 */
type Rule<T> = (value: unknown) => T;

/** A string var: absent or blank is `undefined`; surrounding whitespace is dropped. */
function text(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" && typeof v !== "boolean" && !(typeof v === "number" && Number.isFinite(v))) throw "Invalid input";
  return varText(v);
}

/** An integer var within bounds, with a default. */
function integer(defaultValue: number, min: number, max: number): Rule<number> {
  return (value) => {
    const v = text(value);
    if (v === undefined) return defaultValue;
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) throw `must be an integer from ${min} to ${max}`;
    return n;
  };
}

function flag(value: unknown): boolean {
  const v = text(value);
  if (v === undefined || v === "false") return false;
  if (v === "true") return true;
  throw 'must be "true" or "false"';
}

function list(value: unknown): string[] {
  const v = text(value);
  return v === undefined ? [] : v.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/**
 * What a secret that travels in an HTTP header (Basic or Bearer credentials, an API key) or is
 * signed as text can hold: printable ASCII, no spaces. A zero-width space or a line break pasted
 * into a secret would otherwise pass here and fail every request later (`btoa` throws on it).
 */
export function headerSafe(value: string): boolean {
  return /^[\x21-\x7e]+$/.test(value);
}

/** The rule a secret broke, for a problem that names the variable and never its value. */
export const HEADER_SAFE_RULE = "must be printable ASCII without spaces (check for a pasted invisible character)";

/** The shortest API key accepted: a key is the only credential of the Diyalog routes. */
export const MIN_API_KEY_LENGTH = 32;

/** DIYALOG_API_KEYS: presented in a header, so each key is printable ASCII without spaces, and long. */
function apiKeys(value: unknown): string[] {
  const keys = list(value);
  const rule = !keys.every(headerSafe) ? HEADER_SAFE_RULE : keys.some((k) => k.length < MIN_API_KEY_LENGTH) ? `must be at least ${MIN_API_KEY_LENGTH} characters long` : "";
  if (rule === "") return keys;
  throw `each key ${rule}`;
}

/** One of `values`, `fallback` when unset (no fallback: undefined). */
function oneOf<T extends string, F extends T | undefined = T>(values: readonly T[], fallback: F): Rule<T | F> {
  return (raw) => {
    const value = text(raw) ?? fallback;
    if (value === undefined || (values as readonly string[]).includes(value)) return value as T | F;
    throw `must be one of ${values.join(", ")}`;
  };
}

/** Which log lines are written: `info` all (default), `warn` only problems, `error` only failures. */
const logLevel = oneOf<LogLevel>(LOG_LEVELS, "info");

/** An http(s) base URL; plain http only for this machine (local fakes and tests). */
function baseUrl(value: unknown): string | undefined {
  const v = text(value);
  if (v === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw "must be an absolute URL";
  }
  const local = url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) throw "must use https (plain http only for localhost/127.0.0.1)";
  if (url.search || url.hash || url.username || url.password) throw "must not carry credentials, a query or a fragment";
  return url.origin + url.pathname.replace(/\/+$/, "");
}

/** A secret path prefix such as `/d/6f1c…`: leading slash, no trailing slash, URL-safe segments. */
function basePath(value: unknown): string | undefined {
  const v = text(value);
  if (v === undefined) return undefined;
  const p = v.replace(/\/+$/, "");
  // `.` and `..` segments are removed by URL parsing before routing: no request could match them.
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(p) || p.split("/").some((segment) => segment === "." || segment === "..")) {
    throw "must look like /segment[/segment…] with URL-safe characters, no . or .. segments";
  }
  return p;
}

/**
 * Standard Webhooks secrets are random, "between 24 bytes (192 bits) and 64 bytes (512 bits)"
 * (standardwebhooks.com, spec/standard-webhooks.md); shorter keys are refused here rather than at
 * the first signature.
 */
export const MIN_SIGNING_SECRET_BYTES = 24;

/** Each secret is `whsec_` and standard base64 that decodes (as signing will) to at least 24 bytes. */
function signingSecrets(value: unknown): string[] {
  const secrets = list(value);
  for (const s of secrets) {
    const key = s.startsWith("whsec_") ? decodeBase64(s.slice("whsec_".length)) : undefined;
    if (!key || key.length < MIN_SIGNING_SECRET_BYTES) throw `each secret must be whsec_ followed by the standard base64 of at least ${MIN_SIGNING_SECRET_BYTES} bytes`;
  }
  return secrets;
}

/**
 * PERSONAL_DATA_KEYS (a list: the first encrypts, all decrypt) and CUSTOMER_REF_KEY (one): standard
 * base64 of 32 bytes each. A problem says which key and what is wrong, never the value.
 */
function base64Keys(single: boolean): Rule<string[]> {
  return (value) => {
    const keys = list(value);
    for (const [index, key] of keys.entries()) {
      const bytes = decodeBase64(key);
      const problem = !headerSafe(key)
        ? HEADER_SAFE_RULE
        : bytes === undefined
          ? "is not standard base64"
          : bytes.length !== 32
            ? `must be the base64 of 32 bytes, not ${bytes.length}`
            : DEVELOPMENT_PERSONAL_DATA_KEYS.includes(key) && "is the public development key";
      if (problem) throw `${single ? "the key" : `key ${index + 1} of ${keys.length}`} ${problem}`;
    }
    if (single && keys.length > 1) throw "takes one key";
    return keys;
  };
}

const JURISDICTIONS = ["eu", "fedramp"] as const;
export type DataJurisdiction = (typeof JURISDICTIONS)[number];

export const DEFAULT_VISIBLE_ATTRIBUTES = ["TRX", "PrimaryProjectManagerId", "SecondaryProjectManagerId"];

/** VISIBLE_ATTRIBUTES: attachedData keys whose values reads show; blank = the default. Keys as attachedData allows them. */
function visibleAttributes(value: unknown): string[] {
  const keys = list(value);
  if (keys.length === 0) return [...DEFAULT_VISIBLE_ATTRIBUTES];
  if (keys.every((k) => k.length <= 64 && !/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/.test(k))) return keys;
  throw "each key must be 64 characters at most, no control characters";
}

/** Every variable the worker reads, with its rule; parsed in this order, so problems come in it. */
const RULES = {
  UPSTREAM: oneOf<UpstreamName>(UPSTREAMS, "simulator"),
  UPSTREAM_URL: baseUrl,
  UPSTREAM_SIGNING_SECRET: signingSecrets,
  UPSTREAM_TIMEOUT_MS: integer(5000, 100, 60_000),
  CREATE_DEADLINE_MS: integer(8000, 100, 120_000),
  DIYALOG_API_KEYS: apiKeys,
  ALLOW_UNAUTHENTICATED: flag,
  QUEUE_TIMEOUT_SECONDS: integer(1800, 1, 7 * 86_400),
  RETENTION_SECONDS: integer(86_400, 0, 365 * 86_400),
  IDENTITY_NUMBER_ATTRIBUTE: (value: unknown) => (value === undefined ? "identityNumber" : (text(value) ?? "")),
  DIYALOG_BASE_PATH: basePath,
  PUBLIC_BASE_URL: baseUrl,
  UPSTREAM_ACCESS_CLIENT_ID: text,
  UPSTREAM_ACCESS_CLIENT_SECRET: text,
  SIM_AGENTS: integer(2, 0, 100),
  SIM_ASSIGN_DELAY_MS: integer(3000, 0, 3_600_000),
  SIM_HANDLE_MS: integer(30_000, 0, 86_400_000),
  LOG_LEVEL: logLevel,
  PERSONAL_DATA_KEYS: base64Keys(false),
  CUSTOMER_REF_KEY: base64Keys(true),
  /** DATA_JURISDICTION: where personal-data Durable Objects are created; unset = anywhere. */
  DATA_JURISDICTION: oneOf<DataJurisdiction, DataJurisdiction | undefined>(JURISDICTIONS, undefined),
  VISIBLE_ATTRIBUTES: visibleAttributes,
  /** `production` refuses the simulator (explicit or by default), ALLOW_UNAUTHENTICATED=true without DIYALOG_BASE_PATH, and running without PERSONAL_DATA_KEYS and CUSTOMER_REF_KEY. */
  ENVIRONMENT: oneOf(["development", "staging", "production"], "development"),
};

type Parsed = { [K in keyof typeof RULES]: ReturnType<(typeof RULES)[K]> };

export interface Config {
  upstream: UpstreamName;
  upstreamUrl?: string;
  signingSecrets: string[];
  upstreamTimeoutMs: number;
  createDeadlineMs: number;
  apiKeys: string[];
  allowUnauthenticated: boolean;
  queueTimeoutSeconds: number;
  retentionSeconds: number;
  identityNumberAttribute: string;
  basePath?: string;
  publicBaseUrl?: string;
  simulator: { agents: number; assignDelayMs: number; handleMs: number };
  logLevel: LogLevel;
  /** AES-256-GCM keys for personal data at rest, the first encrypts; empty = development keys (src/security/personal-data.ts). */
  personalDataKeys: string[];
  /** HMAC key of customer references and index keys; undefined = the development key. */
  customerRefKey?: string;
  /** Where personal-data Durable Objects are created; undefined = no jurisdiction. */
  jurisdiction?: DataJurisdiction;
  /** attachedData keys whose values reads show; the rest read "***". */
  visibleAttributes: string[];
  /** Cloudflare Access service token sent on every upstream call (design §2, docs/deploying-on-premises.md). */
  access?: { clientId: string; clientSecret: string };
  /** The selected vendor adapter's own settings (see src/upstreams/vendor-config.ts). */
  vendor?: unknown;
}

/**
 * `withoutUpstream` is set when only the upstream adapter's variables are wrong (see
 * `UPSTREAM_VARIABLES`): everything else, authentication included, is valid. The worker then still
 * serves reads and cancels of stored interactions (an operator's typo must not stop a cancel from
 * being recorded), and the Durable Objects run with an adapter that cannot reach the upstream.
 */
export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[]; withoutUpstream?: Config };

/**
 * Variables that only concern the upstream adapter; the vendor adapters' own variables (see
 * vendor-config.ts) count as such too. `UPSTREAM` itself does not: without it nothing is known.
 */
const UPSTREAM_VARIABLES: ReadonlySet<string> = new Set([
  "UPSTREAM_URL",
  "UPSTREAM_SIGNING_SECRET",
  "PUBLIC_BASE_URL",
  "UPSTREAM_ACCESS_CLIENT_ID",
  "UPSTREAM_ACCESS_CLIENT_SECRET",
]);

function toConfig(p: Parsed): Config {
  return {
    upstream: p.UPSTREAM,
    upstreamUrl: p.UPSTREAM_URL,
    signingSecrets: p.UPSTREAM_SIGNING_SECRET,
    upstreamTimeoutMs: p.UPSTREAM_TIMEOUT_MS,
    createDeadlineMs: p.CREATE_DEADLINE_MS,
    apiKeys: p.DIYALOG_API_KEYS,
    allowUnauthenticated: p.ALLOW_UNAUTHENTICATED,
    queueTimeoutSeconds: p.QUEUE_TIMEOUT_SECONDS,
    retentionSeconds: p.RETENTION_SECONDS,
    identityNumberAttribute: p.IDENTITY_NUMBER_ATTRIBUTE,
    basePath: p.DIYALOG_BASE_PATH,
    publicBaseUrl: p.PUBLIC_BASE_URL,
    simulator: { agents: p.SIM_AGENTS, assignDelayMs: p.SIM_ASSIGN_DELAY_MS, handleMs: p.SIM_HANDLE_MS },
    logLevel: p.LOG_LEVEL,
    personalDataKeys: p.PERSONAL_DATA_KEYS,
    customerRefKey: p.CUSTOMER_REF_KEY[0],
    jurisdiction: p.DATA_JURISDICTION,
    visibleAttributes: p.VISIBLE_ATTRIBUTES,
    ...(p.UPSTREAM_ACCESS_CLIENT_ID && p.UPSTREAM_ACCESS_CLIENT_SECRET
      ? { access: { clientId: p.UPSTREAM_ACCESS_CLIENT_ID, clientSecret: p.UPSTREAM_ACCESS_CLIENT_SECRET } }
      : {}),
  };
}

/** Rules that span several variables, and the selected vendor adapter's own variables. */
function crossCheck(c: Config, env: Record<string, unknown>): string[] {
  const problems: string[] = [];
  // The Access service token travels in two headers: both or neither, header-safe.
  for (const [name, other] of [
    ["UPSTREAM_ACCESS_CLIENT_ID", "UPSTREAM_ACCESS_CLIENT_SECRET"],
    ["UPSTREAM_ACCESS_CLIENT_SECRET", "UPSTREAM_ACCESS_CLIENT_ID"],
  ] as const) {
    const value = varText(env[name]);
    if (value === undefined) {
      if (varText(env[other]) !== undefined) problems.push(`${name}: required when ${other} is set`);
    } else if (!headerSafe(value)) problems.push(`${name}: ${HEADER_SAFE_RULE}`);
  }
  if (problems.length > 0) delete c.access;
  if (c.upstream === "http") {
    if (!c.upstreamUrl) problems.push("UPSTREAM_URL: required when UPSTREAM=http");
    if (c.signingSecrets.length === 0) problems.push("UPSTREAM_SIGNING_SECRET: required when UPSTREAM=http");
  } else if (c.upstream !== "simulator") {
    const vendor = VENDOR_CONFIG[c.upstream](env);
    if (vendor.ok) c.vendor = vendor.value;
    else problems.push(...vendor.problems);
  }
  return problems;
}

/**
 * Going live takes both personal-data secrets: one alone would leave the other on its public
 * development key (customer references reversible, or storage readable by anyone with the source).
 */
function personalDataKeyProblems(c: Config): string[] {
  const names = ["PERSONAL_DATA_KEYS", "CUSTOMER_REF_KEY"];
  if ((c.personalDataKeys.length > 0) === (c.customerRefKey !== undefined)) return [];
  if (c.customerRefKey !== undefined) names.reverse();
  return [`${names[1]}: required when ${names[0]} is set`];
}

/** The variable a problem names (`NAME: rule`). */
function variableOf(problem: string): string {
  return problem.slice(0, problem.indexOf(":"));
}

/** A variable by its rule; one that breaks it is named in `problems` and reads as unset. */
function parseVariable<T>(rule: Rule<T>, name: string, value: unknown, problems: string[]): T {
  try {
    return rule(value);
  } catch (problem) {
    if (typeof problem !== "string") throw problem;
    problems.push(`${name}: ${problem}`);
    return rule(undefined);
  }
}

/** Every variable of RULES, in its order; one that breaks its rule is named in `problems` and reads as unset. */
function parseVariables(env: Record<string, unknown>, problems: string[]): Parsed {
  const parsed: Record<string, unknown> = {};
  for (const [name, rule] of Object.entries(RULES)) parsed[name] = parseVariable<unknown>(rule, name, env[name], problems);
  return parsed as Parsed;
}

/** Parses `env` into a Config, or lists every problem with the variable it concerns. Never throws. */
export function parseConfig(env: Record<string, unknown>): ConfigResult {
  const problems: string[] = [];
  // When only upstream variables are wrong, the rest stands, with those left unset.
  const data = parseVariables(env, problems);
  if (!problems.every((p) => UPSTREAM_VARIABLES.has(variableOf(p)))) return { ok: false, problems };
  // A production deployment must name its queue and keep its keys: either mistake stops everything.
  if (data.ENVIRONMENT === "production") {
    if (varText(env.UPSTREAM) === undefined || data.UPSTREAM === "simulator") problems.push("UPSTREAM: required when ENVIRONMENT=production (not simulator)");
    // The header-less mode (README "Deploying for Diyalog") is the one exception: the path is the credential.
    if (data.ALLOW_UNAUTHENTICATED && !data.DIYALOG_BASE_PATH) {
      problems.push("ALLOW_UNAUTHENTICATED: true only with DIYALOG_BASE_PATH when ENVIRONMENT=production");
    } else if (data.ALLOW_UNAUTHENTICATED && data.DIYALOG_API_KEYS.length === 0) {
      // Then the path is the only credential: as hard to guess as a key must be.
      if (data.DIYALOG_BASE_PATH!.replace(/\//g, "").length < MIN_API_KEY_LENGTH) {
        problems.push(`DIYALOG_BASE_PATH: as the only credential, at least ${MIN_API_KEY_LENGTH} characters besides its slashes`);
      }
    }
    // Without them, records would be sealed, and customers named, under the public development keys.
    if (data.PERSONAL_DATA_KEYS.length === 0 && data.CUSTOMER_REF_KEY.length === 0) {
      problems.push("PERSONAL_DATA_KEYS: required when ENVIRONMENT=production (with CUSTOMER_REF_KEY)");
    }
    if (problems.length > 0) return { ok: false, problems };
  }
  const config = toConfig(data);
  const keyProblems = personalDataKeyProblems(config);
  if (keyProblems.length > 0) return { ok: false, problems: [...problems, ...keyProblems] };
  // A variable already named (e.g. a malformed UPSTREAM_URL) is not named again as missing.
  const named = new Set(problems.map(variableOf));
  problems.push(...crossCheck(config, env).filter((p) => !named.has(variableOf(p))));
  // Every problem left concerns the upstream adapter only.
  return problems.length > 0 ? { ok: false, problems, withoutUpstream: config } : { ok: true, config };
}

/**
 * The configuration a Durable Object runs with, whatever `env` holds, so that it never fails to
 * start: reads, recorded cancels and purges must go on under an invalid configuration. The valid
 * configuration when there is one; else the valid part (upstream variables aside); else every
 * variable that parses, and the unset value of each one that does not. `upstream` is whether the
 * upstream adapter can be built from it.
 */
export function objectConfig(env: object): { config: Config; upstream: boolean } {
  const result = getConfig(env);
  if (result.ok) return { config: result.config, upstream: true };
  if (result.withoutUpstream) return { config: result.withoutUpstream, upstream: false };
  return { config: toConfig(parseVariables(env as Record<string, unknown>, [])), upstream: false };
}

const cache = new WeakMap<object, ConfigResult>();

/** The configuration for this `env`, parsed on first use and then reused for the isolate's life. */
export function getConfig(env: object): ConfigResult {
  let result = cache.get(env);
  if (!result) {
    result = parseConfig(env as Record<string, unknown>);
    cache.set(env, result);
    // Every entry point (the worker and each Durable Object class) reads its configuration here
    // first, so this sets the isolate's log level before it logs anything.
    setLogLevel(result.ok ? result.config.logLevel : "info");
  }
  return result;
}

/**
 * Parses an optional base-URL var (vendor API overrides) by the rule of UPSTREAM_URL: https, plain
 * http only for this machine, no credentials, query or fragment. A problem names the variable.
 */
export function parseBaseUrl(name: string, value: unknown, problems: string[]): string | undefined {
  return parseVariable(baseUrl, name, value, problems);
}

/** A vendor adapter's poll interval (GENESYS_POLL_SECONDS, …): whole seconds from 1 to 300, 5 when unset. */
export function parsePollSeconds(name: string, value: unknown, problems: string[]): number {
  // As text first, so that any value that is not one reads "must be an integer from 1 to 300".
  return parseVariable(integer(5, 1, 300), name, varText(value), problems);
}
