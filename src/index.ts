import type { Hono } from "hono";
import type { AppEnv } from "./app-env";
import { createApp } from "./app";
import { getConfig } from "./config";
import { applySecurityHeaders, failure } from "./http/envelope";

export { CustomerInteractions } from "./interactions/customer-interactions";
export { SimulatorObject } from "./upstreams/simulator";

const apps = new Map<string, Hono<AppEnv>>();

/**
 * The app for this isolate's `DIYALOG_BASE_PATH` (an invalid config gets the root app, which answers
 * 503, unless only the upstream's variables are wrong: reads and cancels are then still served).
 */
function appFor(env: Env): Hono<AppEnv> {
  const result = getConfig(env);
  const config = result.ok ? result.config : result.withoutUpstream;
  const basePath = config?.basePath ?? "";
  let app = apps.get(basePath);
  if (!app) {
    app = createApp(basePath);
    apps.set(basePath, app);
  }
  return app;
}

export default {
  async fetch(request, env, ctx) {
    try {
      return await appFor(env).fetch(request, env, ctx);
    } catch {
      // Only a throw that is not an Error gets past the app's error handler; it too gets an envelope.
      const response = failure(500, "internal_error", "internal error");
      applySecurityHeaders(response.headers);
      response.headers.set("x-request-id", crypto.randomUUID());
      return response;
    }
  },
} satisfies ExportedHandler<Env>;
