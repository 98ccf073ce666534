import { basicAuthorization, parseRetryAfter, type CancelResult, type DispatchResult, type Retry } from "../adapter";
import type { TwilioConfig } from "./config";

/**
 * TaskRouter's Task resource (`/v1/Workspaces/{WorkspaceSid}/Tasks`): form-encoded requests, JSON
 * answers, Basic auth, errors as `{code, message, more_info, status}`. One attempt per call; the
 * interaction's Durable Object retries. Only Twilio's numeric error code is ever kept, never its text.
 */

export const TASK_SID = /^WT[0-9a-fA-F]{32}$/;
export const RESERVATION_SID = /^WR[0-9a-fA-F]{32}$/;

/** A Reservation's `reservation_status`, as Twilio's TaskRouter reference lists them (Task Reservation resource). */
const RESERVATION_STATUSES = ["pending", "accepted", "rejected", "timeout", "canceled", "rescinded", "wrapping", "completed"] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/** How often a cancel re-reads a Task whose ETag moved under it (412) before leaving it to a retry. */
const CANCEL_ROUNDS = 3;

/** A Task in these states is, or was, with a worker: TaskRouter never cancels it any more. */
const WITH_AGENT = new Set(["assigned", "wrapping", "completed"]);

type Refusal = { kind: "rejected"; reason: string; status: number } | Retry;

/** Reads the JSON answer, or undefined when it is not JSON (never throws). */
async function json(response: Response): Promise<Record<string, unknown> | undefined> {
  try {
    const body: unknown = await response.json();
    return body !== null && typeof body === "object" ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Classifies a non-2xx answer: throttling, 408 and 5xx are transient; other 4xx are permanent. */
async function refusal(response: Response): Promise<Refusal> {
  const { status } = response;
  const code = (await json(response))?.code;
  const twilioCode = typeof code === "number" && Number.isInteger(code) ? code : undefined;
  const suffix = twilioCode === undefined ? "" : `, Twilio error ${twilioCode}`;
  if (status === 429 || twilioCode === 20429 || status === 408 || status >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
    const reason = status === 429 || twilioCode === 20429 ? `throttled (HTTP ${status}${suffix})` : `HTTP ${status}${suffix}`;
    return retryAfterMs === undefined ? { kind: "retry", reason, status } : { kind: "retry", reason, status, retryAfterMs };
  }
  const why =
    status === 401 ? "authentication failed" : status === 403 ? "missing permission" : status === 404 ? "workspace or task not found" : "refused";
  return { kind: "rejected", reason: `${why} (HTTP ${status}${suffix})`, status };
}

/** A cancel cannot be refused for good: whatever went wrong, the Durable Object tries again later. */
function retryOf(r: Refusal): Retry {
  return r.kind === "retry" ? r : { kind: "retry", reason: r.reason, status: r.status };
}

export function taskClient(config: TwilioConfig, fetcher: typeof fetch = fetch) {
  const tasks = `${config.apiUrl}/v1/Workspaces/${config.workspaceSid}/Tasks`;
  const auth = basicAuthorization(config.restUser, config.restPassword);

  function call(method: "GET" | "POST", url: string, signal: AbortSignal, form?: Record<string, string>, ifMatch?: string) {
    const headers: Record<string, string> = { authorization: auth, accept: "application/json" };
    if (form) headers["content-type"] = "application/x-www-form-urlencoded";
    if (ifMatch) headers["if-match"] = ifMatch;
    return fetcher(url, { method, headers, signal, ...(form ? { body: new URLSearchParams(form).toString() } : {}) });
  }

  /** The sid in a Task answer, when it is one. */
  async function sidOf(response: Response): Promise<string | undefined> {
    const sid = (await json(response))?.sid;
    return typeof sid === "string" && TASK_SID.test(sid) ? sid : undefined;
  }

  return {
    /**
     * The Task already made for this interaction, if any: TaskRouter has no idempotency key, so a
     * possibly lost create is resolved by asking for Tasks whose attributes carry the interactionId.
     * Tasks in every state count (a cancelled copy must be recognised, not created again).
     */
    async find(interactionId: string, signal: AbortSignal): Promise<DispatchResult | undefined> {
      // interactionIds are UUIDs, so the quoted literal needs no escaping.
      const query = new URLSearchParams({ EvaluateTaskAttributes: `interactionId == "${interactionId}"`, PageSize: "20" });
      const response = await call("GET", `${tasks}?${query}`, signal);
      // A lookup that failed says nothing about what exists: never "nothing", never a refusal of
      // the create (that would tell the proxy the upstream holds nothing). Tried again later.
      if (!response.ok) return retryOf(await refusal(response));
      const list = (await json(response))?.tasks;
      if (!Array.isArray(list)) return { kind: "retry", reason: "an unreadable Task list", status: response.status };
      // Every Task found: more than one means an earlier create landed twice; the others are cancelled.
      const sids = list.flatMap((t) => (typeof t?.sid === "string" && TASK_SID.test(t.sid) ? [t.sid as string] : []));
      const [first, ...others] = sids;
      if (first === undefined) return undefined;
      return others.length > 0 ? { kind: "accepted", upstreamId: first, others } : { kind: "accepted", upstreamId: first };
    },

    /** Creates the Task in the configured Workflow. */
    async create(attributes: Record<string, string>, timeoutSeconds: number, signal: AbortSignal): Promise<DispatchResult> {
      const form = { WorkflowSid: config.workflowSid, Attributes: JSON.stringify(attributes), Timeout: String(timeoutSeconds) };
      const response = await call("POST", tasks, signal, form);
      if (!response.ok) return refusal(response);
      const sid = await sidOf(response);
      // Created but unreadable: the next attempt looks it up rather than creating a second one.
      return sid ? { kind: "accepted", upstreamId: sid } : { kind: "retry", reason: "2xx without a Task sid", status: response.status };
    },

    /**
     * A Reservation's `reservation_status` (`GET …/Tasks/{WT}/Reservations/{WR}`): `pending` while
     * TaskRouter still waits for an answer, then accepted, rejected, timeout, canceled, rescinded,
     * wrapping or completed. `gone` when TaskRouter does not know it under that Task (404); a retry
     * when it cannot be read now.
     */
    async reservationStatus(taskSid: string, reservationSid: string, signal: AbortSignal): Promise<{ kind: "status"; status: ReservationStatus } | { kind: "gone" } | Retry> {
      if (!TASK_SID.test(taskSid) || !RESERVATION_SID.test(reservationSid)) return { kind: "gone" };
      const response = await call("GET", `${tasks}/${taskSid}/Reservations/${reservationSid}`, signal);
      if (response.status === 404) {
        await response.body?.cancel();
        return { kind: "gone" };
      }
      if (!response.ok) return retryOf(await refusal(response));
      const status = (await json(response))?.reservation_status;
      // Only a documented status goes on (it is logged): other text from the vendor stays out of the logs.
      return (RESERVATION_STATUSES as readonly unknown[]).includes(status) ? { kind: "status", status: status as ReservationStatus } : { kind: "retry", reason: "a Reservation without a known status", status: response.status };
    },

    /**
     * Cancels a Task unless a worker has it: read it (status and ETag), then update it to
     * `canceled` with `If-Match`, so a Task that changed in between (reserved, accepted) is re-read
     * instead of overwritten. Already cancelled or deleted (TaskRouter deletes cancelled Tasks after
     * five minutes) counts as cancelled.
     */
    async cancel(taskSid: string, signal: AbortSignal): Promise<CancelResult> {
      if (!TASK_SID.test(taskSid)) return { kind: "retry", reason: "not a Task sid" };
      const url = `${tasks}/${taskSid}`;
      for (let round = 0; round < CANCEL_ROUNDS; round++) {
        const read = await call("GET", url, signal);
        if (read.status === 404) {
          await read.body?.cancel();
          return { kind: "cancelled" };
        }
        if (!read.ok) return retryOf(await refusal(read));
        const status = (await json(read))?.assignment_status;
        if (status === "canceled") return { kind: "cancelled" };
        if (typeof status === "string" && WITH_AGENT.has(status)) return { kind: "too_late" };
        if (status !== "pending" && status !== "reserved") return { kind: "retry", reason: "unexpected Task status", status: read.status };
        const etag = read.headers.get("etag") ?? undefined;
        const update = await call("POST", url, signal, { AssignmentStatus: "canceled", Reason: "cancelled by Diyalog" }, etag);
        if (update.ok) {
          if ((await json(update))?.assignment_status === "canceled") return { kind: "cancelled" };
          continue;
        }
        if (update.status === 404) {
          await update.body?.cancel();
          return { kind: "cancelled" };
        }
        // 412: the ETag moved (reserved, accepted, attributes touched); 400: the status no longer
        // allows a cancel. Either way the next read tells what the Task is now.
        if (update.status === 412 || update.status === 400) {
          await update.body?.cancel();
          continue;
        }
        return retryOf(await refusal(update));
      }
      return { kind: "retry", reason: "the Task kept changing (HTTP 412)", status: 412 };
    },
  };
}

export type TaskClient = ReturnType<typeof taskClient>;
