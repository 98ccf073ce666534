import { Hono } from "hono/tiny";
import type { AppEnv } from "../app-env";
import { methodNotAllowed } from "./envelope";

/**
 * The static files of `public/` (Workers static assets): the console page, its script and style, and
 * the OpenAPI document. The worker runs first (`run_worker_first`) and fetches them through the
 * ASSETS binding, so a wrong method gets the envelope's 405 like every other fixed route (the app
 * adds those after the Diyalog routes, so `DELETE /console` is a cancel like `DELETE /healthz`).
 * A GET needs neither a key nor a valid configuration.
 */

/** The fixed paths of the static files. */
export const ASSET_PATHS = ["/openapi.json", "/console", "/console.js", "/console.css", "/console.svg"] as const;

/**
 * Their headers (the console's CSP `default-src 'self'`, CORS for the document) come from
 * public/_headers, which the assets service applies to these answers too. A fresh Response keeps
 * the headers mutable for the app's own (x-request-id, nosniff).
 */
export function assetRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  for (const path of ASSET_PATHS) {
    routes.get(path, async (c) => {
      const found = await c.env.ASSETS.fetch(c.req.raw);
      return new Response(found.body, found);
    });
  }
  return routes;
}

/** Any other method on them: 405 with Allow. */
export function assetMethodGuards(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  for (const path of ASSET_PATHS) routes.all(path, methodNotAllowed("GET, HEAD"));
  return routes;
}
