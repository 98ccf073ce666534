import type { UpstreamName } from "../config";

/**
 * Vendor adapters (Genesys Cloud, Twilio TaskRouter, Amazon Connect) each parse their own variables.
 * One entry per adapter; an `UPSTREAM` without an entry is not available in this build.
 * The parsed value reaches the adapter as `config.vendor`.
 */
export type VendorConfigParser = (env: Record<string, unknown>) => { ok: true; value: unknown } | { ok: false; problems: string[] };

export const VENDOR_CONFIG: Partial<Record<UpstreamName, VendorConfigParser>> = {};
