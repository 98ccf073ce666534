import type { Config } from "../config";
import type { UpstreamAdapter } from "./adapter";
import { connectAdapter } from "./connect/adapter";
import { genesysAdapter } from "./genesys/adapter";
import { httpAdapter } from "./http";
import { simulatorAdapter } from "./simulator";
import { twilioAdapter } from "./twilio/adapter";

/** The adapter named by `UPSTREAM`. */
export function createAdapter(config: Config, env: Env): UpstreamAdapter {
  switch (config.upstream) {
    case "simulator":
      return simulatorAdapter(env);
    case "http":
      return httpAdapter(config);
    case "twilio-taskrouter":
      return twilioAdapter(config);
    case "amazon-connect":
      return connectAdapter(config);
    case "genesys-cloud":
      return genesysAdapter(config);
  }
}
