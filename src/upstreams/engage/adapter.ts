import type { Config } from "../../config";
import { basicAuthorization, parseRetryAfter, type CancelResult, type DispatchRequest, type DispatchResult, type PollResult, type UpstreamAdapter, type UpstreamRef } from "../adapter";
import { lookupThenCreate, retry, Trouble, unreachable } from "../genesys/trouble";
import { forwardedData } from "../genesys/workitem";
import type { EngageConfig } from "./config";

/**
 * The `genesys-engage` upstream (design §2, docs/upstreams/genesys-engage.md): each interaction is an
 * open media interaction in Genesys Engage's Interaction Server, created with the attributes as user
 * data and `externalId` = interactionId. Two dialects of one API: `nexus` (Multicloud CX Nexus v3,
 * JSON, `x-api-key`) and `gms` (GMS 8.5 Open Media API, form-encoded, optional basic auth).
 *
 * Engage never asks the proxy before routing gives an interaction to an agent: no veto. Assignment
 * is learned by reading the interaction (polling), and a cancel is confirmed as for genesys-cloud:
 * read (an agent has it → too late, nothing stopped), stop, read again; "cancelled" only once Engage
 * shows the interaction stopped or gone with no agent. Each method makes one attempt; retries,
 * backoff and deadlines belong to the interaction's Durable Object.
 */

/**
 * Assumed: an interaction the Interaction Server created is found by its external id within this
 * long (docs/upstreams/genesys-engage.md). A repeated create looks up only after it.
 */
export const ENGAGE_LOOKUP_LAG_MS = 2_000;

/** What the proxy reads from an interaction (Interaction Server properties, any of their spellings). */
interface Seen {
  id: string | undefined;
  /** An agent was offered or has it: too late to take it back. */
  agent: boolean;
  agentId: string | undefined;
  /** Out of routing for good (stopped, completed). */
  ended: boolean;
}

const ID = /^[A-Za-z0-9._~-]{1,128}$/;

/**
 * What Engage shows of an interaction. Interaction Server's `InteractionState` (eServices "System
 * Properties"): 0 queued, 1 cached, 2 being processed by URS, 3 being handled by an agent;
 * `DeliveredAt` is when it was first offered to an agent. Either one, or an agent named
 * (`AssignedTo`), means an agent has (or had) it.
 */
export function seenOf(raw: unknown): Seen {
  const outer = (raw ?? {}) as Record<string, unknown>;
  const o = (typeof outer.data === "object" && outer.data !== null ? outer.data : outer) as Record<string, any>;
  const id = o.interactionId ?? o.InteractionId ?? o.id;
  const state = String(o.InteractionState ?? o.state ?? "");
  const agentId = o.AssignedTo ?? o.agentId;
  return {
    id: typeof id === "string" && ID.test(id) ? id : undefined,
    agent: state === "3" || /handl|assigned/i.test(state) || agentId != null || o.DeliveredAt != null,
    agentId: typeof agentId === "string" ? agentId : undefined,
    ended: /stop|complet|done|terminat|clos/i.test(state),
  };
}

/** Classifies a non-2xx answer; the body is discarded unread (it may echo user data). */
async function troubleOf(response: Response): Promise<Trouble> {
  await response.body?.cancel();
  const { status } = response;
  const transient = status === 408 || status === 409 || status === 429 || status >= 500;
  return new Trouble(!transient && status < 500, `Engage answered HTTP ${status}`, status, parseRetryAfter(response.headers.get("retry-after")));
}

export function engageAdapter(config: Config, fetcher: typeof fetch = fetch): UpstreamAdapter {
  const ec = config.vendor as EngageConfig;
  const nexus = ec.api === "nexus";
  const base = `${ec.url}${nexus ? "/nexus/v3" : "/genesys/2"}/openmedia/${ec.service}${nexus ? "/interactions" : ""}`;
  const auth: Record<string, string> = nexus ? { "x-api-key": ec.apiKey! } : ec.basic ? { authorization: basicAuthorization(ec.basic.username, ec.basic.password) } : {};

  function call(method: string, path: string, signal: AbortSignal, body?: string): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json", ...auth };
    if (body !== undefined) headers["content-type"] = nexus ? "application/json" : "application/x-www-form-urlencoded";
    return fetcher(`${base}${path}`, { method, headers, signal, ...(body === undefined ? {} : { body }) });
  }

  async function seen(response: Response): Promise<Seen> {
    const raw = await response.json().catch(() => undefined);
    if (raw === undefined) throw new Trouble(false, "Engage answered an unreadable interaction");
    return seenOf(raw);
  }

  /** The interaction created for this interactionId (its external id), or null when Engage has none. */
  async function find(interactionId: string, signal: AbortSignal): Promise<Seen | null> {
    const response = await call("GET", `/ext_${encodeURIComponent(interactionId)}`, signal);
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) throw await troubleOf(response);
    const found = await seen(response);
    if (found.id === undefined) throw new Trouble(false, "Engage answered an unreadable interaction");
    return found;
  }

  /**
   * The interaction, or null when Engage does not know it (any more). A 404 by id is believed only
   * when the external id finds nothing either (a stopped interaction leaves the Interaction Server).
   * What the external id finds instead may be a twin a lost create answer left behind: the call is
   * not gone while Engage holds it, so it stands in for the copy (a cancel stops it too).
   */
  async function read(ref: UpstreamRef, signal: AbortSignal): Promise<Seen | null> {
    const response = await call("GET", `/${encodeURIComponent(ref.upstreamId)}`, signal);
    if (response.status === 404) {
      await response.body?.cancel();
      return await find(ref.interactionId, signal);
    }
    if (!response.ok) throw await troubleOf(response);
    return seen(response);
  }

  async function create(request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult> {
    const userData = forwardedData(request, config.identityNumberAttribute);
    let body: string;
    if (nexus) body = JSON.stringify({ externalId: request.interactionId, userData: { ...userData } });
    else {
      // GMS passes externalId to the Interaction Server as user data "ExternalId"; user data goes as userData[key].
      const form = new URLSearchParams({ externalId: request.interactionId });
      for (const [key, value] of Object.entries(userData)) form.append(`userData[${key}]`, value);
      body = form.toString();
    }
    const response = await call("POST", "", signal, body);
    if (response.status === 409) {
      // "Resource already exists": an earlier create with this external id landed. Learn it.
      await response.body?.cancel();
      const found = await find(request.interactionId, signal);
      return found ? { kind: "accepted", upstreamId: found.id! } : { kind: "retry", reason: "Engage knows the external id but does not show it yet", status: 409 };
    }
    if (!response.ok) throw await troubleOf(response);
    const id = (await seen(response)).id;
    // Created but unreadable: the next attempt (mayExist) finds it by its external id.
    return id === undefined ? { kind: "retry", reason: "Engage answered an unreadable interaction", status: response.status } : { kind: "accepted", upstreamId: id };
  }

  return {
    name: "genesys-engage",
    canVeto: false,
    lookupLagMs: ENGAGE_LOOKUP_LAG_MS,
    pollIntervalMs: ec.pollSeconds * 1000,

    dispatch(request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult> {
      // No idempotency key: an earlier attempt may have created it (found by its external id).
      return lookupThenCreate(
        request.mayExist,
        async () => {
          const found = await find(request.interactionId, signal);
          return found ? { kind: "accepted", upstreamId: found.id! } : undefined;
        },
        () => create(request, signal),
      );
    },

    /**
     * Reads first: one an agent has (or was offered) is "too late" and is left alone. Otherwise stops
     * it, and reports "cancelled" only once a re-read shows it stopped or gone with no agent. A stop
     * refused (400/409: most likely routing moved on, e.g. an agent's desktop locked it) or not found
     * is no answer by itself: the re-read decides.
     */
    async cancel(ref: UpstreamRef, signal: AbortSignal): Promise<CancelResult> {
      try {
        const before = await read(ref, signal);
        if (before?.ended && !before.agent) return { kind: "cancelled" };
        if (before?.agent) return { kind: "too_late", agentId: before.agentId };
        // An id learned from Engage's own answer that now reads as unknown is not proof it is gone
        // (a failover, a gateway, a GMS without the external-id route): the stop is sent anyway.
        // The copy itself, or (when it reads as unknown) the twin the external id found.
        const target = before?.id ?? ref.upstreamId;
        const response = await call("POST", `/${encodeURIComponent(target)}/stop`, signal, nexus ? "{}" : "");
        if (!response.ok && ![400, 404, 409].includes(response.status)) throw await troubleOf(response);
        await response.body?.cancel();
        // Unknown both to the reads and to the stop: gone.
        if (before === null && response.status === 404) return { kind: "cancelled" };
        const after = await read(ref, signal);
        if (after?.agent) return { kind: "too_late", agentId: after.agentId };
        // Gone after a stop Engage accepted (a stopped interaction leaves the Interaction Server), or
        // shown ended; a twin still found under the external id is stopped on the next attempt.
        if ((after?.ended && after.id === target) || (after === null && response.ok)) return { kind: "cancelled" };
        return { kind: "retry", reason: "Engage has not confirmed the stop yet" };
      } catch (err) {
        return retry(unreachable(err));
      }
    },

    /** While queued: has routing given the interaction to an agent, or has it left Engage? */
    async poll(ref: UpstreamRef, signal: AbortSignal): Promise<PollResult> {
      try {
        const now = await read(ref, signal);
        if (now?.agent) return { kind: "assigned", agentId: now.agentId };
        // Only an interaction Engage shows ended is gone; one that reads as unknown may be a passing
        // 404 (it is stopped, and confirmed, by the cleanup when the call expires or is cancelled).
        return now?.ended ? { kind: "gone" } : { kind: "waiting" };
      } catch (err) {
        return retry(unreachable(err));
      }
    },
  };
}
