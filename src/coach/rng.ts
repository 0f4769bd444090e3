/**
 * The only randomness the coach core uses: a small, fast, seeded generator passed in by the
 * caller, so every plan and every simulated episode can be replayed from its seed.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
}

/** 2^−32: turns a 32-bit unsigned integer into a uniform number in [0, 1) (exactly). */
export const TWO_TO_MINUS_32 = 1 / 4294967296;

/**
 * One step of sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state, 32-bit
 * output) on a state array of four words: advances `s` and returns the next unsigned 32-bit
 * output. The only implementation of the generator; hot loops (the habit environment) call it
 * directly on their state.
 */
export function sfc32Step(s: Int32Array): number {
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

/**
 * sfc32 as an `Rng`. The state lives in an Int32Array: V8 then never boxes it, so next()
 * allocates nothing.
 */
export class Sfc32 implements Rng {
  private readonly s: Int32Array;

  /**
   * Draws from `state` (four words) in place, not from a copy: its owner may also advance it
   * with `sfc32Step` (one stream, two ways in).
   */
  constructor(state: Int32Array) {
    if (state.length !== 4) throw new RangeError(`sfc32 state has 4 words, got ${state.length}`);
    this.s = state;
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    return sfc32Step(this.s);
  }

  next(): number {
    return sfc32Step(this.s) * TWO_TO_MINUS_32;
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
  const rng = new Sfc32(Int32Array.of(mix(), mix(), mix(), mix()));
  for (let i = 0; i < 12; i++) rng.nextUint32();
  return rng;
}
