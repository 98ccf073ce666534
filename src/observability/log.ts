/**
 * Structured logs: one JSON object per line, which Workers Logs indexes field by field.
 * Callers pass only operational fields (ids, routes, states, statuses, durations): never
 * customerId, identityNumber, attribute values, API keys or upstream bodies.
 */

export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** `LOG_LEVEL`: `info` writes every line (default), `warn` only problems, `error` only failures. */
export const LOG_LEVELS = ["info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The isolate's threshold, set from the configuration when it is first parsed (src/config.ts). */
let threshold = 0;

export function setLogLevel(level: LogLevel): void {
  threshold = LOG_LEVELS.indexOf(level);
}

export function log(level: LogLevel, msg: string, fields: LogFields = {}): void {
  if (LOG_LEVELS.indexOf(level) < threshold) return;
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
