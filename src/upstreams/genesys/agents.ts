import type { GenesysClient } from "./client";
import { UUID, type GenesysConfig } from "./config";

/**
 * `preferredAgentIds` must be Genesys user UUIDs. The attachedData keys of PREFERRED_AGENT_KEYS
 * carry either those UUIDs or the bank's own employee ids, which a users search on
 * `employerInfo.employeeId` resolves (cached per isolate). A value that cannot be resolved is
 * skipped: a preferred agent is a wish, never a reason to fail the call.
 */

export interface PreferredAgents {
  ids: string[];
  /** attachedData keys whose value could not be turned into a Genesys user id. */
  skipped: string[];
}

/** Resolves one employee id to a user UUID, or `undefined` when Genesys has no single active match. */
export type EmployeeLookup = (employeeId: string, signal: AbortSignal) => Promise<string | undefined>;

/** Reads the preferred agents in PREFERRED_AGENT_KEYS order, without duplicates. */
export async function preferredAgents(
  attributes: Record<string, string>,
  config: Pick<GenesysConfig, "preferredAgentKeys" | "agentIdLookup">,
  lookup: EmployeeLookup,
  signal: AbortSignal,
): Promise<PreferredAgents> {
  const wanted = config.preferredAgentKeys
    .filter((key) => Object.hasOwn(attributes, key) && attributes[key]!.trim() !== "")
    .map((key) => ({ key, value: attributes[key]!.trim() }));
  const resolved = await Promise.all(
    wanted.map(({ value }) =>
      config.agentIdLookup === "uuid" ? Promise.resolve(UUID.test(value) ? value.toLowerCase() : undefined) : lookup(value, signal).catch(() => undefined),
    ),
  );
  const ids: string[] = [];
  const skipped: string[] = [];
  resolved.forEach((id, i) => {
    if (id === undefined) skipped.push(wanted[i]!.key);
    else if (!ids.includes(id)) ids.push(id);
  });
  return { ids, skipped };
}

interface CachedUser {
  id: string | null;
  until: number;
}

const HIT_TTL_MS = 10 * 60_000;
/** A miss is remembered briefly: a new employee's user may be created any minute. */
const MISS_TTL_MS = 60_000;
const MAX_CACHED = 1000;
const users = new Map<string, CachedUser>();

interface SearchAnswer {
  results?: { id?: unknown; state?: unknown; employerInfo?: { employeeId?: unknown } }[];
}

/**
 * `POST /api/v2/users/search`, EXACT on `employerInfo.employeeId`, with `expand: ["employerInfo"]`
 * (UserSearchRequest's `expand`), answers cached per isolate.
 */
export function employeeLookup(config: Pick<GenesysConfig, "apiUrl">, client: GenesysClient): EmployeeLookup {
  return async (employeeId, signal) => {
    const key = `${config.apiUrl}\n${employeeId}`;
    const cached = users.get(key);
    if (cached && cached.until > Date.now()) return cached.id ?? undefined;
    const response = await client.call(
      "POST",
      "/api/v2/users/search",
      // employerInfo is an expansion: without asking for it, results need not carry the employee id matched on.
      { pageSize: 25, pageNumber: 1, expand: ["employerInfo"], query: [{ type: "EXACT", fields: ["employerInfo.employeeId"], value: employeeId }] },
      signal,
    );
    if (!response.ok) {
      // Not cached: a 429 or an outage says nothing about the employee.
      await response.body?.cancel();
      return undefined;
    }
    const answer = (await response.json().catch(() => null)) as SearchAnswer | null;
    const matches = new Set(
      (answer?.results ?? [])
        .filter((u) => u.employerInfo?.employeeId === employeeId && (u.state === undefined || u.state === "active"))
        .map((u) => u.id)
        .filter((id): id is string => typeof id === "string" && UUID.test(id)),
    );
    // Two users with one employee id is a directory problem; guessing would route to the wrong person.
    const id = matches.size === 1 ? [...matches][0]!.toLowerCase() : null;
    if (users.size >= MAX_CACHED) users.delete(users.keys().next().value!);
    users.set(key, { id, until: Date.now() + (id ? HIT_TTL_MS : MISS_TTL_MS) });
    return id ?? undefined;
  };
}
