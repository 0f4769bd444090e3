/**
 * The only randomness the coach core uses: a small, fast, seeded generator passed in by the
 * caller, so every plan and every simulated episode can be replayed from its seed.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), 128-bit state, 32-bit output.
 * The state lives in an Int32Array: V8 then never boxes it, so next() allocates nothing.
 */
export class Sfc32 implements Rng {
  private readonly s: Int32Array;

  constructor(a: number, b: number, c: number, d: number) {
    this.s = Int32Array.of(a, b, c, d);
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
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
    return t >>> 0;
  }

  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** The generator's state, to save a stream and resume it exactly with restore(). */
  state(): [number, number, number, number] {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  restore(state: readonly [number, number, number, number]): void {
    this.s.set(state);
  }
}

/** splitmix32: spreads a seed into well-mixed 32-bit words. */
function splitmix32(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A seeded generator. Any finite number is a valid seed (it is reduced to 32 bits together with
 * its high part, so 1 and 2**32 + 1 give different streams). The first outputs are discarded to
 * leave the warm-up behind.
 */
export function createRng(seed: number): Sfc32 {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const hi = Math.floor(seed / 4294967296) | 0;
  const mix = splitmix32((seed | 0) ^ Math.imul(hi, 0x27d4eb2d));
  const rng = new Sfc32(mix(), mix(), mix(), mix());
  for (let i = 0; i < 12; i++) rng.nextUint32();
  return rng;
}

/** Uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng.next() * n);
}
