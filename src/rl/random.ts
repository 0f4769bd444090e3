/**
 * Seeded sampling helpers on top of the coach core's uniform generator (`Rng.next()` in
 * [0, 1)). Everything random in training — initial weights, action sampling, minibatch order,
 * simulated behaviour — flows from such a generator, so a seed reproduces a run exactly.
 */
import type { Rng } from "../coach/rng.js";

/** Standard normal sample (Box–Muller; the second value is discarded for simplicity). */
export function normalSample(rng: Rng): number {
  let u = rng.next();
  while (u <= Number.MIN_VALUE) u = rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** In-place Fisher–Yates shuffle of `indices`. */
export function shuffleInPlace(indices: Int32Array | Uint32Array, rng: Rng): void {
  for (let i = indices.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = indices[i];
    indices[i] = indices[j];
    indices[j] = t;
  }
}

/** Derives an independent 32-bit seed from a base seed and a stream label (FNV-1a mix). */
export function deriveSeed(seed: number, stream: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < stream.length; i++) {
    h ^= stream.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}
