import { basicAuthorization } from "../adapter";
import type { GenesysConfig } from "./config";
import { Trouble, troubleOf } from "./trouble";

/**
 * Authenticated calls to the Genesys Cloud Platform API. The OAuth client-credentials token is cached
 * at module level, so every interaction object in this isolate shares it until shortly before it
 * expires; a 401 drops it, logs in again and repeats the call once.
 *
 * Only the token string is shared, not a login in flight: a promise begun by one request's I/O and
 * awaited by another may never settle in Workers, so two cold callers may each log in once.
 */

interface CachedToken {
  token: string;
  /** When to log in again: shortly before Genesys expires the token. */
  refreshAt: number;
}

const tokens = new Map<string, CachedToken>();

export interface GenesysClient {
  /** One API call; a 401 refreshes the token once and repeats it. Throws `Trouble` only for login problems. */
  call(method: "GET" | "POST", path: string, body: unknown, signal: AbortSignal): Promise<Response>;
}

export function genesysClient(config: GenesysConfig, fetcher: () => typeof fetch): GenesysClient {
  const key = `${config.loginUrl}\n${config.clientId}`;

  async function login(signal: AbortSignal): Promise<string> {
    const response = await fetcher()(`${config.loginUrl}/oauth/token`, {
      method: "POST",
      headers: {
        authorization: basicAuthorization(config.clientId, config.clientSecret),
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
      },
      body: "grant_type=client_credentials",
      signal,
    });
    if (!response.ok) {
      const trouble = await troubleOf(response);
      if (!trouble.permanent) throw trouble;
      throw new Trouble(true, "Genesys login refused the OAuth client (check GENESYS_CLIENT_ID, GENESYS_CLIENT_SECRET and its client-credentials grant)", response.status);
    }
    const answer = (await response.json().catch(() => null)) as { access_token?: unknown; expires_in?: unknown } | null;
    const token = answer?.access_token;
    const lifetimeMs = typeof answer?.expires_in === "number" && answer.expires_in > 0 ? answer.expires_in * 1000 : 0;
    if (typeof token !== "string" || token === "") throw new Trouble(false, "Genesys login answered without a token");
    // Renew a minute early (half the lifetime for short-lived tokens), so no call leaves with a dying token.
    tokens.set(key, { token, refreshAt: Date.now() + lifetimeMs - Math.min(60_000, lifetimeMs / 2) });
    return token;
  }

  async function token(signal: AbortSignal): Promise<string> {
    const cached = tokens.get(key);
    return cached && Date.now() < cached.refreshAt ? cached.token : login(signal);
  }

  function send(token: string, method: string, path: string, body: unknown, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    return fetcher()(`${config.apiUrl}${path}`, { method, headers, signal, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  }

  return {
    async call(method, path, body, signal) {
      const first = await token(signal);
      const response = await send(first, method, path, body, signal);
      if (response.status !== 401) return response;
      await response.body?.cancel();
      // Expired or revoked before our estimate: drop it (unless another call already replaced it) and retry once.
      if (tokens.get(key)?.token === first) tokens.delete(key);
      return send(await token(signal), method, path, body, signal);
    },
  };
}
