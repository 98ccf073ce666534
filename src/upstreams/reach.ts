import type { Config } from "../config";

/**
 * How the proxy reaches an upstream inside a bank's network (design §2, docs/deploying-on-premises.md):
 * every upstream call goes through the `UPSTREAM_MTLS` mtls_certificates binding when one is bound
 * (presenting its client certificate), and carries the Cloudflare Access service token
 * (`CF-Access-Client-Id` / `CF-Access-Client-Secret`) when one is configured. Without either, this
 * is the runtime's fetch.
 */
export function upstreamFetch(config: Pick<Config, "access">, env: object): typeof fetch {
  const mtls = (env as { UPSTREAM_MTLS?: Fetcher }).UPSTREAM_MTLS;
  const access = config.access;
  return (input, init) => {
    // Redirects are never followed: the runtime would re-send the headers set here (the Access
    // token, an API key) and, on a 307/308, the body with the customer's data to whatever host a
    // redirect names. A 3xx is answered to the adapter like any other unexpected status.
    const options: RequestInit = { ...init, redirect: "manual" };
    if (access) {
      const headers = new Headers(init?.headers);
      headers.set("cf-access-client-id", access.clientId);
      headers.set("cf-access-client-secret", access.clientSecret);
      options.headers = headers;
    }
    // The global is read per call, so a test's stub (or miniflare's outbound service) is honoured.
    return mtls ? mtls.fetch(input as RequestInfo, options as RequestInit<RequestInitCfProperties>) : fetch(input, options);
  };
}
