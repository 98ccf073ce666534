import type { Config } from "../../config";
import { log } from "../../observability/log";
import type { CancelResult, DispatchRequest, DispatchResult, PollResult, UpstreamAdapter, UpstreamRef } from "../adapter";
import { employeeLookup, preferredAgents } from "./agents";
import { genesysClient } from "./client";
import type { GenesysConfig } from "./config";
import { lookupThenCreate, retry, Trouble, troubleOf, unreachable } from "./trouble";
import { assigneeOf, assignmentOf, hasAssignee, workitemCreate, type Workitem } from "./workitem";

/**
 * The `genesys-cloud` upstream (design §2): each interaction is a Task Management workitem routed by
 * ACD to a queue. Genesys never asks before it offers a workitem to an agent, so this upstream
 * cannot veto: the proxy learns assignment by polling the workitem, and a cancel succeeds only once
 * Genesys confirmed it took the workitem out of routing before any agent had it.
 *
 * Each method makes one attempt (a 401 aside, which refreshes the token and repeats once); retries,
 * backoff and deadlines belong to the interaction's Durable Object.
 */

const WORKITEMS = "/api/v2/taskmanagement/workitems";

/**
 * Assumed: a workitem Genesys created shows in the workitems query by externalTag within this long
 * (docs/upstreams/genesys-cloud.md). A repeated create looks up only after it.
 */
export const GENESYS_LOOKUP_LAG_MS = 5_000;

async function body<T>(response: Response): Promise<T | null> {
  return (await response.json().catch(() => null)) as T | null;
}

function workitemId(value: unknown): string | undefined {
  return typeof value === "string" && /^[A-Za-z0-9-]{1,128}$/.test(value) ? value : undefined;
}

export function genesysAdapter(config: Config, fetcher: () => typeof fetch = () => fetch): UpstreamAdapter {
  const gc = config.vendor as GenesysConfig;
  const client = genesysClient(gc, fetcher);
  const lookup = employeeLookup(gc, client);

  /**
   * The workitem, or null when Genesys does not know it (any more). A 404 alone is no proof (a
   * transient or misrouted answer would turn into a "cancelled" the customer's call does not have):
   * absence is believed only when the externalTag query does not show the workitem either. If the
   * query shows it, its entity is the answer. Assumption: the query reflects a workitem within the
   * time between its create and this read (the first poll runs GENESYS_POLL_SECONDS after the create).
   */
  async function read(id: string, interactionId: string, signal: AbortSignal): Promise<Workitem | null> {
    const response = await client.call("GET", `${WORKITEMS}/${encodeURIComponent(id)}`, undefined, signal);
    if (response.status === 404) {
      await response.body?.cancel();
      return (await find(interactionId, signal)).find((w) => w.id === id) ?? null;
    }
    if (!response.ok) throw await troubleOf(response, "workitems:workitem:view");
    const workitem = await body<Workitem>(response);
    if (workitem === null) throw new Trouble(false, "Genesys answered an unreadable workitem");
    return workitem;
  }

  /** Every workitem an earlier attempt created: same worktype, externalTag = interactionId. */
  async function find(interactionId: string, signal: AbortSignal): Promise<Workitem[]> {
    const response = await client.call(
      "POST",
      `${WORKITEMS}/query`,
      {
        filters: [
          { name: "typeId", type: "String", operator: "EQ", values: [gc.worktypeId] },
          { name: "externalTag", type: "String", operator: "EQ", values: [interactionId] },
        ],
        pageSize: 25,
      },
      signal,
    );
    if (!response.ok) throw await troubleOf(response, "workitems:workitem:view");
    const answer = await body<{ entities?: Workitem[] }>(response);
    if (answer === null) throw new Trouble(false, "Genesys answered an unreadable query result");
    return (answer.entities ?? []).filter((w) => workitemId(w.id) !== undefined && (w.externalTag === undefined || w.externalTag === interactionId));
  }

  async function create(request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult> {
    const agents = await preferredAgents(request.attributes, gc, lookup, signal);
    if (agents.skipped.length > 0) {
      // attachedData keys only, never their values.
      log("warn", "preferred agent not resolvable, skipped", {
        upstream: "genesys-cloud",
        interactionId: request.interactionId,
        requestId: request.requestId,
        keys: agents.skipped.join(","),
      });
    }
    const payload = workitemCreate(request, gc, config.identityNumberAttribute, agents.ids);
    const response = await client.call("POST", WORKITEMS, payload, signal);
    if (!response.ok) throw await troubleOf(response, "workitems:workitem:add");
    const id = workitemId((await body<Workitem>(response))?.id);
    // Created but unreadable: the next attempt (mayExist) finds it by its externalTag.
    if (id === undefined) return { kind: "retry", reason: "Genesys created a workitem without a readable id", status: response.status };
    return { kind: "accepted", upstreamId: id };
  }

  return {
    name: "genesys-cloud",
    canVeto: false,
    lookupLagMs: GENESYS_LOOKUP_LAG_MS,
    pollIntervalMs: gc.pollSeconds * 1000,

    dispatch(request: DispatchRequest, signal: AbortSignal): Promise<DispatchResult> {
      // Genesys has no idempotency key: an earlier attempt may have created the workitem already.
      return lookupThenCreate(
        request.mayExist,
        async () => {
          // Every copy found is learned: more than one means an earlier create landed twice.
          const [first, ...others] = (await find(request.interactionId, signal)).map((w) => workitemId(w.id)!);
          if (first === undefined) return undefined;
          return others.length > 0 ? { kind: "accepted", upstreamId: first, others } : { kind: "accepted", upstreamId: first };
        },
        () => create(request, signal),
      );
    },

    /**
     * Reads the workitem first: one an agent already has is "too late" and is left alone. Otherwise
     * takes it out of routing (the ACD cancel while routing; terminate while still Idle, because
     * Idle is the state *before* routing starts and an ACD cancel does not apply to it), and reports
     * "cancelled" only once Genesys shows it in a state that is never routed again (AcdCancelled,
     * Terminated, AcdExpired, closed, or gone) with no assignee. An answer or a re-read that names
     * an assignee is "too late": the cancel may have withdrawn an offer already alerting an agent,
     * and the reference does not say Genesys refuses an ACD cancel while Alerting.
     */
    async cancel(ref: UpstreamRef, signal: AbortSignal): Promise<CancelResult> {
      const id = ref.upstreamId;
      const path = `${WORKITEMS}/${encodeURIComponent(id)}`;
      try {
        const before = await read(id, ref.interactionId, signal);
        if (before === null) return { kind: "cancelled" };
        const seen = assignmentOf(before);
        if (seen.kind === "with_agent") return { kind: "too_late", agentId: seen.agentId };
        if (seen.kind === "ended") return hasAssignee(before) ? { kind: "too_late", agentId: assigneeOf(before) } : { kind: "cancelled" };

        const [action, permission] =
          seen.kind === "not_routed" ? (["terminate", "workitems:workitem:terminate"] as const) : (["acd/cancel", "workitems:workitem:cancelRouting"] as const);
        const response = await client.call("POST", `${path}/${action}`, undefined, signal);
        let after: Workitem | null = null;
        if (response.status === 404) {
          // Not a confirmation by itself: the re-read below (with its query) decides.
          await response.body?.cancel();
        } else if (response.ok) {
          after = await body<Workitem>(response);
          // Genesys answered the cancel with an agent named: the offer was (or is) with someone.
          if (hasAssignee(after)) return { kind: "too_late", agentId: assigneeOf(after) };
        } else if (response.status === 400 || response.status === 409) {
          // Refused as not applicable: most likely routing moved on meanwhile. Look again.
          await response.body?.cancel();
        } else {
          throw await troubleOf(response, permission);
        }
        if (after === null || assignmentOf(after).kind !== "ended") after = await read(id, ref.interactionId, signal);
        if (after === null) return { kind: "cancelled" };
        const now = assignmentOf(after);
        if (now.kind === "with_agent" || hasAssignee(after)) return { kind: "too_late", agentId: assigneeOf(after) };
        if (now.kind === "ended") return { kind: "cancelled" };
        return { kind: "retry", reason: now.kind === "not_routed" ? "Genesys still shows the workitem Idle (not ended)" : "Genesys has not confirmed the cancel yet" };
      } catch (err) {
        return retry(unreachable(err));
      }
    },

    /** While queued: has ACD given the workitem to an agent, or has it left routing? */
    async poll(ref: UpstreamRef, signal: AbortSignal): Promise<PollResult> {
      try {
        const workitem = await read(ref.upstreamId, ref.interactionId, signal);
        if (workitem === null) return { kind: "gone" };
        const seen = assignmentOf(workitem);
        if (seen.kind === "with_agent") return { kind: "assigned", agentId: seen.agentId };
        // Ended with an assignee: an agent took it and finished between two polls.
        if (seen.kind === "ended" && hasAssignee(workitem)) return { kind: "assigned", agentId: assigneeOf(workitem) };
        return seen.kind === "ended" ? { kind: "gone" } : { kind: "waiting" };
      } catch (err) {
        return retry(unreachable(err));
      }
    },
  };
}
