/**
 * Deterministic pseudo-random numbers: a seeded sequential generator and a
 * counter-based one (value i computed directly from (seed, i)) so several
 * workers can each produce their share of one sequence.
 */

/** 32-bit mix of (seed, i) (a murmur3-style finaliser): uniform, random access. */
export function hash32(seed: number, i: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 0x632be5ab, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Sequential seeded generator (mulberry32). */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  /** Next unsigned 32-bit value. */
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform float in [0, 1). */
  float(): number {
    return this.u32() / 0x1_0000_0000;
  }
  /** Integer in [0, n) (n <= 2^32). */
  below(n: number): number {
    return n <= 0x1_0000_0000 ? Math.floor((this.u32() / 0x1_0000_0000) * n) : Math.floor(Math.random() * n);
  }
}

/** A seeded stream of floats in [0, 1) (the {@link Rng} sequence as a function). */
export function prng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.float();
}
