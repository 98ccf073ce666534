import type { UpstreamName } from "../config";
import { parseConnectConfig } from "./connect/config";
import { parseEngageConfig } from "./engage/config";
import { parseGenesysConfig } from "./genesys/config";
import { parseTwilioConfig } from "./twilio/config";

/**
 * Vendor adapters (Genesys Cloud, Genesys Engage, Twilio TaskRouter, Amazon Connect) each parse their own variables.
 * One entry per adapter; the parsed value reaches the adapter as `config.vendor`.
 */
export type VendorConfigParser = (env: Record<string, unknown>) => { ok: true; value: unknown } | { ok: false; problems: string[] };

export const VENDOR_CONFIG: Record<Exclude<UpstreamName, "simulator" | "http">, VendorConfigParser> = {
  "amazon-connect": parseConnectConfig,
  "genesys-cloud": parseGenesysConfig,
  "genesys-engage": parseEngageConfig,
  "twilio-taskrouter": parseTwilioConfig,
};
