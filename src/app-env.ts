import type { Config } from "./config";
import type { LogFields } from "./observability/log";

/** Hono's typing for this worker: bindings from `wrangler types`, the parsed config per request. */
export type AppEnv = {
  Bindings: Env;
  /** `told`: what the request caused in its interaction (the states it moved through), logged on its line. */
  Variables: { config: Config; requestId: string; interactionId?: string; told?: LogFields };
};
