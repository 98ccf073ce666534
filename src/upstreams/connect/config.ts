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

function text(env: Record<string, unknown>, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === null) return undefined;
  const s = String(raw).trim();
  return s === "" ? undefined : s;
}

/** https, or plain http to this machine only (local fakes), as for UPSTREAM_URL. */
function endpointProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an absolute URL";
  }
  const local = url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) return "must use https (plain http only for localhost/127.0.0.1)";
  if (url.search || url.hash || url.username || url.password) return "must not carry credentials, a query or a fragment";
  return undefined;
}

export function parseConnectConfig(env: Record<string, unknown>): Parsed {
  const problems: string[] = [];
  const read = (name: string, pattern: RegExp, rule: string): string => {
    const value = text(env, name);
    if (value === undefined) problems.push(`${name}: required when UPSTREAM=amazon-connect`);
    else if (!pattern.test(value)) problems.push(`${name}: ${rule}`);
    return value ?? "";
  };

  const region = read("AWS_REGION", /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, "must be an AWS region such as eu-central-1");
  const accessKeyId = read("AWS_ACCESS_KEY_ID", /^[A-Z0-9]{16,128}$/, "must be an access key id (16–128 upper-case letters and digits)");
  const secretAccessKey = read("AWS_SECRET_ACCESS_KEY", /^\S{16,256}$/, "must be the secret access key (at least 16 characters, no spaces)");
  const instanceId = read("CONNECT_INSTANCE_ID", /^[A-Za-z0-9-]{1,100}$/, "must be the instance ID (the last part of the instance ARN)");
  const contactFlowId = read("CONNECT_CONTACT_FLOW_ID", /^[A-Za-z0-9-]{1,500}$/, "must be the flow ID (the last part of the flow ARN)");

  let pollSeconds = 5;
  const poll = text(env, "CONNECT_POLL_SECONDS");
  if (poll !== undefined) {
    pollSeconds = Number(poll);
    if (!/^\d+$/.test(poll) || pollSeconds < 1 || pollSeconds > 300) problems.push("CONNECT_POLL_SECONDS: must be an integer from 1 to 300");
  }

  let endpoint = text(env, "CONNECT_ENDPOINT") ?? `https://connect.${region}.amazonaws.com`;
  const problem = endpointProblem(endpoint);
  if (problem) problems.push(`CONNECT_ENDPOINT: ${problem}`);
  endpoint = endpoint.replace(/\/+$/, "");

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: { region, accessKeyId, secretAccessKey, instanceId, contactFlowId, pollSeconds, endpoint } };
}
