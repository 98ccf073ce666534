import { parseRetryAfter, unanswered, type DispatchResult, type Retry } from "../adapter";

/**
 * A Genesys answer (or its absence) already classified: `permanent` refusals fail a create, the rest
 * is retried by the caller. Reasons are ours, never a Genesys response body, and never a secret.
 */
export class Trouble extends Error {
  constructor(
    readonly permanent: boolean,
    readonly reason: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(reason);
    this.name = "Trouble";
  }
}

/** Permission each call needs, so a 403 can say which one the OAuth client's role lacks. */
export type Permission = "workitems:workitem:add" | "workitems:workitem:view" | "workitems:workitem:cancelRouting" | "workitems:workitem:terminate" | "directory:user:view";

/** Classifies a non-2xx answer; the body is discarded unread. */
export async function troubleOf(response: Response, permission?: Permission): Promise<Trouble> {
  await response.body?.cancel();
  const { status } = response;
  if (status === 408 || status === 409 || status === 429 || status >= 500) {
    return new Trouble(false, `Genesys answered HTTP ${status}`, status, parseRetryAfter(response.headers.get("retry-after")));
  }
  const reason =
    status === 403
      ? `missing permission${permission ? ` (the OAuth client's role needs ${permission})` : ""}`
      : status === 401
        ? "Genesys refused the access token"
        : status === 404
          ? "not found in Genesys (check GENESYS_WORKTYPE_ID and the queue ids)"
          : status === 400 || status === 422
            ? "Genesys refused the request as invalid (check the worktype's custom fields, queue and preferred agents)"
            : `Genesys answered HTTP ${status}`;
  return new Trouble(status >= 400 && status < 500, reason, status);
}

/** A fetch that threw: timeout, abort or network. Always transient. */
export function unreachable(err: unknown): Trouble {
  if (err instanceof Trouble) return err;
  return new Trouble(false, unanswered(err) === "timed out" ? "Genesys timed out" : "Genesys unreachable");
}

/** A Trouble as the adapter interface's transient failure. */
export function retry({ reason, status, retryAfterMs }: Trouble, prefix = ""): Retry {
  return { kind: "retry", reason: prefix + reason, status, retryAfterMs };
}

/**
 * One dispatch to an upstream without an idempotency key (genesys-cloud, genesys-engage): when an
 * earlier attempt may have reached it, look that one up first; without an answer neither create
 * blindly nor call it refused (that would tell the proxy "nothing exists upstream"). Then create;
 * a permanent refusal fails the create, anything else is retried.
 */
export async function lookupThenCreate(
  mayExist: boolean,
  find: () => Promise<DispatchResult | undefined>,
  create: () => Promise<DispatchResult>,
): Promise<DispatchResult> {
  if (mayExist) {
    try {
      const found = await find();
      if (found) return found;
    } catch (err) {
      return retry(unreachable(err), "looking up an earlier create: ");
    }
  }
  try {
    return await create();
  } catch (err) {
    const trouble = unreachable(err);
    return trouble.permanent ? { kind: "rejected", reason: trouble.reason, status: trouble.status } : retry(trouble);
  }
}
