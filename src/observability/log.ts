/**
 * Structured logs: one JSON object per line, which Workers Logs indexes field by field.
 * Callers pass only operational fields (ids, routes, states, statuses, durations): never
 * customerId, identityNumber, attribute values, API keys or upstream bodies.
 */

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export function log(level: "info" | "warn" | "error", msg: string, fields: LogFields = {}): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
