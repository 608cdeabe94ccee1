/**
 * Deterministic PRNG for the fuzzers: splitmix32 (a 32-bit variant of Steele, Lea and Flood's
 * SplitMix, written from its description). One seed gives one sequence on every machine, so a
 * failing run is reproduced by its seed and iteration number alone.
 */
export class Prng {
  private s: number;

  constructor(seed: number) { this.s = seed >>> 0; }

  /** Uniform u32. */
  next(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform integer in [0, n) (n >= 1; the modulo bias is irrelevant for fuzzing). */
  int(n: number): number { return n <= 1 ? 0 : this.next() % n; }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }

  byte(): number { return this.next() & 0xff; }

  /** True with probability p. */
  chance(p: number): boolean { return this.next() < p * 0x100000000; }

  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
}
