import { varText, type Config, type UpstreamName } from "../config";
import { log } from "../observability/log";
import type { Retry, UpstreamAdapter } from "./adapter";
import { connectAdapter } from "./connect/adapter";
import { engageAdapter } from "./engage/adapter";
import { genesysAdapter } from "./genesys/adapter";
import { httpAdapter } from "./http";
import { upstreamFetch } from "./reach";
import { simulatorAdapter } from "./simulator";
import { twilioAdapter } from "./twilio/adapter";

/**
 * The adapter named by `UPSTREAM`. The upstreams an operator points at their own host (`http`,
 * `genesys-engage`) are called through `upstreamFetch`: the mTLS binding and the Access service
 * token when configured (src/upstreams/reach.ts). The cloud vendors' fixed public APIs are not: the
 * Access token and the client certificate are the bank's, and never go to Twilio, AWS or Genesys Cloud.
 */
export function createAdapter(config: Config, env: Env): UpstreamAdapter {
  const direct: typeof fetch = (input, init) => fetch(input, init);
  switch (config.upstream) {
    case "simulator":
      return simulatorAdapter(env);
    case "http":
      return httpAdapter(config, upstreamFetch(config, env));
    case "twilio-taskrouter":
      return twilioAdapter(config, direct);
    case "amazon-connect":
      return connectAdapter(config, direct);
    case "genesys-cloud":
      return genesysAdapter(config, () => direct);
    case "genesys-engage":
      return engageAdapter(config, upstreamFetch(config, env));
  }
}

/**
 * Whether each upstream asks the proxy before an agent gets a call: the `canVeto` of its adapter,
 * known here without building the adapter (test/unit/config.test.ts holds the two together).
 */
export const CAN_VETO: Readonly<Record<UpstreamName, boolean>> = {
  simulator: true,
  http: true,
  "twilio-taskrouter": true,
  "genesys-cloud": false,
  "amazon-connect": false,
  "genesys-engage": false,
};

/**
 * Stands in for the adapter while its configuration is invalid: every dispatch and cancel is a
 * transient failure, so the interaction's object keeps a recorded cancel (and retries it once the
 * configuration is fixed and the object restarts) instead of failing to start. `canVeto` is the
 * configured upstream's, so a cancel is answered as that upstream's cancels are (202 or 503); an
 * unknown `upstream` cannot veto.
 */
export function unavailableAdapter(upstream: string): UpstreamAdapter {
  const retry: Retry = { kind: "retry", reason: "the upstream's configuration is invalid" };
  return {
    name: upstream,
    canVeto: Object.hasOwn(CAN_VETO, upstream) ? CAN_VETO[upstream as UpstreamName] : false,
    dispatch: () => Promise.resolve(retry),
    cancel: () => Promise.resolve(retry),
  };
}

/**
 * The adapter an interaction's Durable Object runs with: the configured one when its configuration
 * is valid, else `unavailableAdapter`. Never throws, so the object always starts (reads, recorded
 * cancels and purges need no upstream).
 */
export function objectAdapter(config: Config, usable: boolean, env: Env): UpstreamAdapter {
  if (usable) {
    try {
      return createAdapter(config, env);
    } catch (err) {
      // The error's name only: a message could carry a secret.
      log("error", "upstream adapter unavailable", { upstream: config.upstream, error: err instanceof Error ? err.name : "error" });
      return unavailableAdapter(config.upstream);
    }
  }
  // The variable as written: when UPSTREAM itself is invalid, the adapter cannot veto.
  return unavailableAdapter(varText((env as unknown as Record<string, unknown>).UPSTREAM) ?? config.upstream);
}
