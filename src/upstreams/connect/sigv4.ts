import { hex, sha256 } from "../../security/digest";

/**
 * AWS Signature Version 4 (AWS IAM user guide, "Create a signed AWS API request"), header form,
 * for the Connect API's requests: Web Crypto only, no signing library, to keep the worker inside
 * its size budget. Rules taken from that guide, for non-S3 services:
 *
 * - canonical URI: the path with repeated slashes folded, each segment URI-encoded once more (the
 *   URL already holds it percent-encoded, so `%` becomes `%25`);
 * - canonical query: names and values URI-encoded (RFC 3986 unreserved characters kept), sorted by
 *   name then value; the Connect calls have none, AWS's test vectors do;
 * - signed headers: `host`, `x-amz-date` and the caller's headers except `content-type`, which is
 *   sent but not signed (as before; AWS does not require it to be signed); values with whitespace
 *   runs folded to one space (`Headers` already trims them);
 * - payload hash: hex SHA-256 of the body (empty string without one).
 *
 * Checked against AWS's published SigV4 test suite in test/connect/connect.test.ts, and every
 * request the adapter sends is verified by the fake Connect's independent node:crypto verifier.
 */

export interface SigningKey {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The signing name: `connect` for Amazon Connect. */
  service: string;
}

export interface UnsignedRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

const encoder = new TextEncoder();

async function hmac(key: ArrayBuffer | Uint8Array, data: string): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", k, encoder.encode(data));
}

/** SigV4's UriEncode: `encodeURIComponent` plus the characters it leaves alone outside RFC 3986's unreserved set. */
const uriEncode = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The request's headers with `X-Amz-Date` and `Authorization` added. `datetime`
 * (`YYYYMMDDTHHMMSSZ`) is only for checking against AWS's published test vectors.
 */
export async function signRequest(key: SigningKey, request: UnsignedRequest, datetime = new Date().toISOString().replace(/[:-]|\.\d{3}/g, "")): Promise<Headers> {
  const url = new URL(request.url);
  const headers = new Headers(request.headers);
  headers.delete("host");
  headers.set("x-amz-date", datetime);
  const names = ["host", ...headers.keys()].filter((h) => h !== "content-type").sort();
  const signedHeaders = names.join(";");
  const query = [...url.searchParams]
    .filter(([name]) => name)
    .map((pair) => pair.map(uriEncode))
    .sort(([n1, v1], [n2, v2]) => (n1! < n2! ? -1 : n1! > n2! ? 1 : v1! < v2! ? -1 : v1! > v2! ? 1 : 0))
    .map((pair) => pair.join("="))
    .join("&");
  const canonical = [
    request.method.toUpperCase(),
    uriEncode(url.pathname.replace(/\/+/g, "/")).replace(/%2F/g, "/"),
    query,
    names.map((h) => `${h}:${h === "host" ? url.host : headers.get(h)!.replace(/\s+/g, " ")}\n`).join(""),
    signedHeaders,
    hex(await sha256(request.body ?? "")),
  ].join("\n");
  const parts = [datetime.slice(0, 8), key.region, key.service, "aws4_request"];
  const scope = parts.join("/");
  let signing: ArrayBuffer | Uint8Array = encoder.encode(`AWS4${key.secretAccessKey}`);
  for (const part of parts) signing = await hmac(signing, part);
  const signature = hex(await hmac(signing, `AWS4-HMAC-SHA256\n${datetime}\n${scope}\n${hex(await sha256(canonical))}`));
  headers.set("authorization", `AWS4-HMAC-SHA256 Credential=${key.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`);
  return headers;
}
