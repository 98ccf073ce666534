import type { Config } from "../config";
import type { UpstreamAdapter } from "./adapter";
import { httpAdapter } from "./http";
import { simulatorAdapter } from "./simulator";

/** The adapter named by `UPSTREAM`. */
export function createAdapter(config: Config, env: Env): UpstreamAdapter {
  switch (config.upstream) {
    case "simulator":
      return simulatorAdapter(env);
    case "http":
      return httpAdapter(config);
    default:
      // parseConfig refuses adapters this build does not have, so this is unreachable.
      throw new Error(`upstream ${config.upstream} is not available`);
  }
}
