import { parseConfig, varText } from "../../src/config";

/**
 * `npm run check-config`: the worker's own parser (src/config.ts) over an environment's vars and its
 * secrets. Secret values are unknown before deploy (Cloudflare never returns them), so a secret known
 * only by name gets a placeholder of the right shape, and a problem about its value is not reported.
 * With values (`.dev.vars`), everything is checked exactly as the worker will.
 */

export interface Secrets {
  /** Secrets known by name only (`wrangler secret list`). */
  names?: readonly string[];
  /** Secrets with their values (`.dev.vars`). */
  values?: Readonly<Record<string, string>>;
}

export interface CheckResult {
  ok: boolean;
  problems: string[];
  /** Secrets listed by name whose values could not be checked. */
  unchecked: string[];
}

/** A value of the shape each kind of secret needs, for a secret known by name only. */
function placeholder(name: string): string {
  if (name.endsWith("SIGNING_SECRET")) return `whsec_${btoa("p".repeat(32))}`;
  if (name.endsWith("BASE_PATH")) return `/${"p".repeat(32)}`;
  // Standard base64 of 32 bytes, not the public development key (which the worker refuses).
  if (name === "PERSONAL_DATA_KEYS" || name === "CUSTOMER_REF_KEY") return btoa("p".repeat(32));
  return "p".repeat(48);
}

/** The variable a problem names (`NAME: rule`, `NAME[0]: rule`, `NAME.key: rule`). */
function variableOf(problem: string): string {
  return /^[A-Z0-9_]+/.exec(problem)?.[0] ?? "";
}

export function checkConfig(vars: Readonly<Record<string, unknown>>, secrets: Secrets): CheckResult {
  const names = secrets.names ?? [];
  const env: Record<string, unknown> = { ...vars, ...secrets.values };
  for (const name of names) env[name] = placeholder(name);
  const problems: string[] = [];
  for (const name of [...names, ...Object.keys(secrets.values ?? {})]) {
    if (name in vars) problems.push(`${name}: set both as a var in wrangler.toml and as a secret; keep it in one place`);
  }
  const hasKeys = (varText(env.DIYALOG_API_KEYS) ?? "").replace(/[\s,]/g, "") !== "";
  // The worker stops at the first variables it cannot use; each round sets those aside and parses
  // again, so every problem shows at once.
  const named = new Set<string>();
  for (let round = 0; round < 10; round++) {
    const result = parseConfig(env);
    const fresh = result.ok ? [] : result.problems.filter((p) => !named.has(variableOf(p)));
    if (fresh.length === 0) break;
    for (const p of fresh) {
      named.add(variableOf(p));
      delete env[variableOf(p)];
      if (!names.includes(variableOf(p))) problems.push(p);
    }
  }
  // Not a parse error (the worker then answers 503 auth_not_configured), but never deployable.
  if (!hasKeys && varText(env.ALLOW_UNAUTHENTICATED) !== "true") {
    problems.push("DIYALOG_API_KEYS: missing (wrangler secret put DIYALOG_API_KEYS): every Diyalog route would answer 503 auth_not_configured");
  }
  return { ok: problems.length === 0, problems, unchecked: [...names] };
}

/**
 * Secret names from `wrangler secret list` output (a JSON array of `{ "name": … }`), or one name a
 * line; anything else on a line (wrangler's banner) is ignored.
 */
export function parseSecretList(text: string): string[] {
  const start = text.indexOf("[");
  if (start >= 0) {
    try {
      const list = JSON.parse(text.slice(start, text.lastIndexOf("]") + 1)) as unknown;
      if (Array.isArray(list)) return list.map((entry) => (entry as { name?: unknown }).name).filter((n): n is string => typeof n === "string");
    } catch {
      // not JSON: one name a line
    }
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => /^[A-Z][A-Z0-9_]*$/.test(line));
}

/** `.dev.vars` (dotenv): NAME=value lines, optional quotes, # comments. */
export function parseDevVars(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!match || raw.trimStart().startsWith("#")) continue;
    const value = match[2]!;
    out[match[1]!] = /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
  }
  return out;
}
