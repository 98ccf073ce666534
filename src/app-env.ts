import type { Config } from "./config";

/** Hono's typing for this worker: bindings from `wrangler types`, the parsed config per request. */
export type AppEnv = {
  Bindings: Env;
  Variables: { config: Config; requestId: string; interactionId?: string };
};
