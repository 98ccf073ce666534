import { parseBaseUrl, parsePollSeconds, varText } from "../../config";
/**
 * The `amazon-connect` adapter's own variables (design §3 "Adapter configuration"). Parsed once per
 * isolate through the VENDOR_CONFIG registry; every problem names its variable and never echoes a
 * secret.
 */

export interface ConnectConfig {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  instanceId: string;
  contactFlowId: string;
  pollSeconds: number;
  /** Base URL of the Connect API, without a trailing slash. */
  endpoint: string;
}

type Parsed = { ok: true; value: ConnectConfig } | { ok: false; problems: string[] };

export function parseConnectConfig(env: Record<string, unknown>): Parsed {
  const problems: string[] = [];
  const read = (name: string, pattern: RegExp, rule: string): string => {
    const value = varText(env[name]);
    if (value === undefined) problems.push(`${name}: required when UPSTREAM=amazon-connect`);
    else if (!pattern.test(value)) problems.push(`${name}: ${rule}`);
    return value ?? "";
  };

  const region = read("AWS_REGION", /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, "must be an AWS region such as eu-central-1");
  const accessKeyId = read("AWS_ACCESS_KEY_ID", /^[A-Z0-9]{16,128}$/, "must be an access key id (16–128 upper-case letters and digits)");
  // The SigV4 signing key: printable ASCII only, so a pasted invisible character is caught here.
  const secretAccessKey = read(
    "AWS_SECRET_ACCESS_KEY",
    /^[\x21-\x7e]{16,256}$/,
    "must be the secret access key (16–256 printable ASCII characters, no spaces; check for a pasted invisible character)",
  );
  const instanceId = read("CONNECT_INSTANCE_ID", /^[A-Za-z0-9-]{1,100}$/, "must be the instance ID (the last part of the instance ARN)");
  const contactFlowId = read("CONNECT_CONTACT_FLOW_ID", /^[A-Za-z0-9-]{1,500}$/, "must be the flow ID (the last part of the flow ARN)");

  const pollSeconds = parsePollSeconds("CONNECT_POLL_SECONDS", env.CONNECT_POLL_SECONDS, problems);

  const endpoint = parseBaseUrl("CONNECT_ENDPOINT", varText(env.CONNECT_ENDPOINT) ?? `https://connect.${region}.amazonaws.com`, problems) ?? "";

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: { region, accessKeyId, secretAccessKey, instanceId, contactFlowId, pollSeconds, endpoint } };
}
