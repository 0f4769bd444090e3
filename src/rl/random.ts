/**
 * Seeded sampling helpers on top of the coach core's uniform generator (`Rng.next()` in
 * [0, 1)). Everything random in training — initial weights, action sampling, minibatch order,
 * simulated behaviour — flows from such a generator, so a seed reproduces a run exactly.
 */

/** Structural twin of the coach core's `Rng`: uniform numbers in [0, 1). */
export interface UniformSource {
  next(): number;
}

/** Standard normal sample (Box–Muller; the second value is discarded for simplicity). */
export function normalSample(rng: UniformSource): number {
  let u = rng.next();
  while (u <= Number.MIN_VALUE) u = rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** In-place Fisher–Yates shuffle of `indices`. */
export function shuffleInPlace(indices: Int32Array | Uint32Array, rng: UniformSource): void {
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

/** 2^−32: turns a 32-bit unsigned integer into a uniform number in [0, 1) (exact). */
export const TWO_TO_MINUS_32 = 1 / 4294967296;

/**
 * The coach core's sfc32 generator over a state array that its owner may also read and advance
 * itself (the habit environment keeps the state in locals in its hot loop and hands it back
 * before calling coach-core functions that draw). Same stream as `Sfc32` from the same state
 * (tested).
 */
export class Sfc32View {
  readonly s: Int32Array;

  constructor(state: Int32Array) {
    this.s = state;
  }

  next(): number {
    const s = this.s;
    const a = s[0];
    const b = s[1];
    const c = s[2];
    const d = s[3];
    const t = (((a + b) | 0) + d) | 0;
    s[3] = (d + 1) | 0;
    s[0] = b ^ (b >>> 9);
    s[1] = (c + (c << 3)) | 0;
    s[2] = (((c << 21) | (c >>> 11)) + t) | 0;
    return (t >>> 0) * TWO_TO_MINUS_32;
  }
}
