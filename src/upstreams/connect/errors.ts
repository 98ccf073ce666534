import { parseRetryAfter, unanswered } from "../adapter";

/**
 * AWS JSON (restJson1) errors: the type comes in `x-amzn-ErrorType` (`Type:namespace-url`) or in the
 * body's `__type` / `code` (`namespace#Type`). Only the type is kept; the message is the vendor's
 * text and never leaves this module.
 */

export interface Failure {
  ok: false;
  /** True when the same call may succeed later (throttling, 5xx, quota, network). */
  transient: boolean;
  /** Short, operator-facing, free of vendor bodies and secrets. */
  reason: string;
  status?: number;
  retryAfterMs?: number;
}

export type Operation = "StartTaskContact" | "DescribeContact" | "StopContact";

/** AWS's ways of refusing the credentials or the signature themselves (all HTTP 400/403). */
const CREDENTIALS = /^(UnrecognizedClient|InvalidSignature|IncompleteSignature|MissingAuthenticationToken)Exception$|^(InvalidClientTokenId|SignatureDoesNotMatch)$/;

/** `ns#Type:url` → `Type`; anything that does not look like a type name → "". */
function typeName(raw: string | null | undefined): string {
  if (!raw) return "";
  const name = raw.split(":")[0]!.split("#").pop()!.trim();
  return /^[A-Za-z][A-Za-z0-9]{0,99}$/.test(name) ? name : "";
}

async function errorType(response: Response): Promise<string> {
  const fromHeader = typeName(response.headers.get("x-amzn-errortype"));
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (fromHeader) return fromHeader;
  if (body && typeof body === "object") {
    const b = body as { __type?: unknown; code?: unknown };
    return typeName(typeof b.__type === "string" ? b.__type : typeof b.code === "string" ? b.code : undefined);
  }
  return "";
}

function explain(operation: Operation, type: string, status: number): string {
  if (type === "AccessDeniedException" || (type === "" && status === 403)) return `missing permission connect:${operation}`;
  if (CREDENTIALS.test(type)) return `AWS credentials refused (${type}): check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION`;
  if (type === "ResourceNotFoundException") {
    return operation === "StartTaskContact"
      ? "Connect instance or flow not found: check CONNECT_INSTANCE_ID and CONNECT_CONTACT_FLOW_ID"
      : "contact not found";
  }
  return `${operation} failed: ${type || `HTTP ${status}`}`;
}

/** Classifies a non-2xx answer (and consumes its body). */
export async function awsFailure(operation: Operation, response: Response): Promise<Failure> {
  const type = await errorType(response);
  const status = response.status;
  // Connect sends Throttling as 429 and InternalService as 500; the type is checked too in case a
  // front end answers 400. ServiceQuotaExceeded (402) is the active-tasks quota: it frees up as tasks close.
  const transient = status >= 500 || status === 429 || status === 408 || /^(Throttling|TooManyRequests|ServiceQuotaExceeded)Exception$/.test(type);
  const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
  return {
    ok: false,
    transient,
    reason: explain(operation, type, status),
    status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

/** A call that never got an answer: always worth another try. */
export function unreachable(operation: Operation, err: unknown): Failure {
  return { ok: false, transient: true, reason: `${operation} ${unanswered(err)}` };
}
