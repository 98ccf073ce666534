/** SHA-256 of a string's UTF-8 bytes (Web Crypto). */

const encoder = new TextEncoder();

export function sha256(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

/**
 * Whether a presented signature is the expected one, in time that does not depend on where they
 * differ. The length of a fixed-size MAC in base64 is public, so checking it first leaks nothing,
 * and timingSafeEqual needs equal lengths.
 */
export function sameSignature(given: string, expected: string): boolean {
  const a = encoder.encode(given);
  const b = encoder.encode(expected);
  return a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b);
}

/** Lower-case hex of the first `bytes` bytes of `buffer` (all of it by default). */
export function hex(buffer: ArrayBuffer, bytes = buffer.byteLength): string {
  return [...new Uint8Array(buffer, 0, bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
