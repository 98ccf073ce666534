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

/**
 * Writes one line on the console method of its level (`console.info`, `warn`, `error`), so the
 * runtime's own level of the line is the line's level. (`console.log` would also do for `info`, but
 * `wrangler dev` passes every `console.log` line through its stack-trace source mapping, a cost on
 * each request's line that `console.info` does not have.)
 */
export function log(level: LogLevel, msg: string, fields: LogFields = {}): void {
  if (LOG_LEVELS.indexOf(level) < threshold) return;
  console[level](JSON.stringify({ level, msg, ...fields }));
}
