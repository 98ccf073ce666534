/**
 * The one place that shapes responses: every API answer is
 * `{"success": boolean, "errorMessage": string|null, "result": object|null}`,
 * with a stable `errorCode` on failures, and an HTTP status that agrees with `success`.
 */

/** The closed list of errorCodes (design §1); the type and the OpenAPI document both come from it. */
export const ERROR_CODES = [
  "not_found",
  "method_not_allowed",
  "payload_too_large",
  "unsupported_media_type",
  "invalid_json",
  "validation_failed",
  "unauthorized",
  "auth_not_configured",
  "config_invalid",
  "rate_limited",
  "already_assigned",
  "cancelled",
  "upstream_rejected",
  "upstream_unavailable",
  "cancel_unconfirmed",
  "internal_error",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export type Envelope =
  | { success: true; errorMessage: null; result: object | null }
  | { success: false; errorMessage: string; errorCode: ErrorCode; result: object | null };

/** Headers every API response carries. */
export const API_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

/**
 * The floor every response gets, whatever route made it: `nosniff`, and `no-store` unless the route
 * chose a caching policy (the static OpenAPI document and console). Nothing here sets `x-powered-by`.
 */
export function applySecurityHeaders(headers: Headers): void {
  headers.set("x-content-type-options", "nosniff");
  if (!headers.has("cache-control")) headers.set("cache-control", "no-store");
}

/** A failure that handlers throw; the app's error handler turns it into an envelope. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly result: object | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

function respond(status: number, body: Envelope, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...API_HEADERS, ...headers } });
}

/** A success envelope (2xx). */
export function success(result: object | null, status = 200, headers?: Record<string, string>): Response {
  return respond(status, { success: true, errorMessage: null, result }, headers);
}

/** A failure envelope (4xx/5xx). */
export function failure(
  status: number,
  code: ErrorCode,
  message: string,
  result: object | null = null,
  headers?: Record<string, string>,
): Response {
  return respond(status, { success: false, errorMessage: message, errorCode: code, result }, headers);
}

export function errorResponse(err: ApiError): Response {
  return failure(err.status, err.code, err.message, err.result, err.headers);
}

/** A handler for a known path reached with the wrong method: 405 with `Allow`. */
export function methodNotAllowed(allow: string) {
  return (): Response => {
    throw new ApiError(405, "method_not_allowed", `method not allowed; use ${allow}`, null, { allow });
  };
}
