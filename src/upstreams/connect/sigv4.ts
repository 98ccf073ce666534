import { AwsV4Signer } from "aws4fetch";

/**
 * AWS Signature Version 4 for the Connect API, done by aws4fetch (small, no dependencies, Web
 * Crypto). Only its signer is used: its client retries on its own, and retries here belong to the
 * interaction's Durable Object.
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

/**
 * The request's headers with `X-Amz-Date` and `Authorization` added. `datetime`
 * (`YYYYMMDDTHHMMSSZ`) is only for checking against AWS's published test vectors.
 */
export async function signRequest(key: SigningKey, request: UnsignedRequest, datetime?: string): Promise<Headers> {
  const signer = new AwsV4Signer({
    ...key,
    method: request.method,
    url: request.url,
    headers: request.headers ?? {},
    body: request.body ?? null,
    ...(datetime === undefined ? {} : { datetime }),
  });
  return (await signer.sign()).headers;
}
