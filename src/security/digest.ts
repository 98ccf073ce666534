/** SHA-256 of a string's UTF-8 bytes (Web Crypto). */

const encoder = new TextEncoder();

export function sha256(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

/** Lower-case hex of the first `bytes` bytes of `buffer` (all of it by default). */
export function hex(buffer: ArrayBuffer, bytes = buffer.byteLength): string {
  return [...new Uint8Array(buffer, 0, bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
