/** Pieces every fake upstream and fault script shares. */

/** Thrown by a fake's `handle` when it decided to lose the answer; the transport drops it. */
export class DroppedResponse extends Error {
  constructor() {
    super("response dropped by fault injection");
    this.name = "DroppedResponse";
  }
}

/** Standard base64 of raw bytes (signatures the fakes compute with their own code). */
export function base64(bytes: ArrayBuffer): string {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s);
}

/** A small seeded PRNG (mulberry32), so a failing random run can be repeated from its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
