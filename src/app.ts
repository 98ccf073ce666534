import { Hono } from "hono/tiny";
import type { AppEnv } from "./app-env";
import { getConfig, varText, type ConfigResult } from "./config";
import { version } from "../package.json";
import { diyalogRoutes, diyalogStoredRoutes } from "./diyalog/routes";
import { upstreamRoutes } from "./upstreams/routes";
import { twilioRoutes } from "./upstreams/twilio/routes";
import { discardBody } from "./http/body";
import { assetMethodGuards, assetRoutes } from "./http/assets";
import { ApiError, applySecurityHeaders, errorResponse, failure, methodNotAllowed, success } from "./http/envelope";
import { log } from "./observability/log";
import { metricSink } from "./observability/metrics";

/** A caller's request id is kept when it is short and plain; anything else gets a fresh one. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The worker's HTTP surface: one place for configuration, the error envelope and the routes.
 * Built once per isolate for the configured `DIYALOG_BASE_PATH`.
 */

/**
 * `GET /healthz`: 200 only when the Diyalog routes can serve; else 503 naming why (an invalid
 * configuration, or no API key and no `ALLOW_UNAUTHENTICATED=true`). Always the version
 * (package.json) and the build's commit (`BUILD_COMMIT`, set by `npm run deploy`; "unknown" without it).
 */
function health(result: ConfigResult, commit: unknown): Response {
  const build = { version, commit: varText(commit) ?? "unknown" };
  if (!result.ok) {
    return failure(503, "config_invalid", `invalid configuration: ${result.problems.join("; ")}`, {
      status: "config_invalid",
      problems: result.problems,
      ...build,
    });
  }
  const { config } = result;
  if (config.apiKeys.length === 0 && !config.allowUnauthenticated) {
    return failure(503, "auth_not_configured", "DIYALOG_API_KEYS is not set; the API is closed until it is", {
      status: "auth_not_configured",
      ...build,
    });
  }
  return success({
    status: "ok",
    upstream: config.upstream,
    auth: config.apiKeys.length > 0 ? "api_keys" : "unauthenticated",
    // Records are encrypted either way; without PERSONAL_DATA_KEYS under the public development keys.
    personalData: config.personalDataKeys.length > 0 ? "encrypted" : "development-keys",
    jurisdiction: config.jurisdiction ?? null,
    ...build,
  });
}

function configInvalid(problems: string[]): ApiError {
  return new ApiError(503, "config_invalid", `invalid configuration: ${problems.join("; ")}`, { problems });
}

/** A route pattern as logged: the `DIYALOG_BASE_PATH` prefix, a secret, becomes `{basePath}`. */
export function loggedRoute(route: string, basePath: string): string {
  return basePath !== "" && (route === basePath || route.startsWith(`${basePath}/`)) ? `{basePath}${route.slice(basePath.length)}` : route;
}

export function createApp(basePath = ""): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.onError((err, c) => {
    if (err instanceof ApiError) return errorResponse(err);
    // The error's name only: messages can carry request data.
    log("error", "unhandled error", { requestId: c.get("requestId"), error: err.name, route: loggedRoute(c.req.routePath, basePath) });
    return failure(500, "internal_error", "internal error");
  });

  // One log line per request; on every answer the security headers and an x-request-id (the caller's,
  // when it sent a sane one).
  app.use(async (c, next) => {
    const started = Date.now();
    const offered = c.req.header("x-request-id");
    const requestId = offered && REQUEST_ID.test(offered) ? offered : crypto.randomUUID();
    c.set("requestId", requestId);
    await next();
    // The rest of an oversized body is dropped while the answer goes out; a small unread one is left alone.
    c.res = await discardBody(c.req.raw, c.res);
    applySecurityHeaders(c.res.headers);
    c.res.headers.set("x-request-id", requestId);
    // A refused key, a failed signature and throttling are problems an operator sees at LOG_LEVEL=warn.
    // The secret base path is a credential: the route is logged with a placeholder for it.
    const route = loggedRoute(c.req.routePath, basePath);
    const { status } = c.res;
    const refused = status === 401 || status === 429;
    if (refused) metricSink(c.env.METRICS)("rejected", { status, outcome: route });
    log(status >= 500 ? "error" : refused ? "warn" : "info", "request", {
      requestId,
      method: c.req.method,
      route,
      status,
      durationMs: Date.now() - started,
      interactionId: c.get("interactionId"),
      ...c.get("told"),
    });
  });

  app.notFound(() => {
    return failure(404, "not_found", "no such route");
  });

  // Routes are exact: `hono/tiny`'s pattern router would also match them with a trailing slash.
  app.use(async (c, next) => {
    if (c.req.path.length > 1 && c.req.path.endsWith("/")) return failure(404, "not_found", "no such route");
    await next();
  });

  app.get("/healthz", (c) => health(getConfig(c.env), (c.env as { BUILD_COMMIT?: unknown }).BUILD_COMMIT));
  app.route("/", assetRoutes()); // the console and /openapi.json need neither a key nor a valid configuration

  // Everything else needs a valid configuration; a bad one is named on every answer. Reads and
  // cancels of stored interactions are the exception while only the upstream's variables are wrong:
  // an operator's typo there must not stop a cancel from being recorded (the objects run with an
  // adapter that cannot reach the upstream, and answer cancels as the cancel table says).
  app.use(async (c, next) => {
    const result = getConfig(c.env);
    if (!result.ok && !result.withoutUpstream) throw configInvalid(result.problems);
    c.set("config", result.ok ? result.config : result.withoutUpstream!);
    await next();
  });
  app.route(basePath, diyalogStoredRoutes());

  // Routes registered after this point run only with the whole configuration valid.
  app.use(async (c, next) => {
    const result = getConfig(c.env);
    if (!result.ok) throw configInvalid(result.problems);
    await next();
  });
  app.route("/", twilioRoutes()); // before upstreamRoutes, whose /v1/upstream/* guard answers 404 for non-http upstreams
  app.route("/", upstreamRoutes());
  app.route(basePath, diyalogRoutes());
  app.all("/healthz", methodNotAllowed("GET, HEAD"));
  app.route("/", assetMethodGuards());
  return app;
}
