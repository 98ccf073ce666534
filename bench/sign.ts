/** Standard Webhooks signing for the bench's floor and passthrough (the proxy has its own, src/security). */
let key: Promise<CryptoKey> | undefined;

/** Sends a request signed with `secret` (`whsec_` + base64), its HMAC key imported once per isolate. */
export async function signedFetch(url: string, secret: string, method: string, body: string): Promise<Response> {
  key ??= crypto.subtle.importKey("raw", Uint8Array.from(atob(secret.slice(6)), (c) => c.charCodeAt(0)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const id = `msg_${crypto.randomUUID()}`;
  const ts = String(Math.floor(Date.now() / 1000));
  const mac = await crypto.subtle.sign("HMAC", await key, new TextEncoder().encode(`${id}.${ts}.${body}`));
  const signature = `v1,${btoa(String.fromCharCode(...new Uint8Array(mac)))}`;
  return fetch(url, { method, body, headers: { "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": signature, "content-type": "application/json" } });
}
