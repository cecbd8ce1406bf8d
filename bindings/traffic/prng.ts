// Small seeded PRNG for the traffic generator and tests: sfc32 (Chris Doty-Humphrey's Small Fast
// Counting generator, 32-bit variant), seeded through splitmix32 so that nearby seeds (1, 2, 3 …)
// give unrelated streams. Never Math.random: the same seed always gives the same sequence.

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` is any finite number; its integer part modulo 2^53 is used (both 32-bit halves). */
  constructor(seed: number = 1) {
    if (!Number.isFinite(seed)) throw new RangeError(`Prng: seed must be finite, got ${seed}`);
    const s = Math.trunc(seed);
    let state = (s >>> 0) ^ Math.imul(Math.floor(s / 4294967296) >>> 0, 0x9e3779b1);
    const splitmix32 = (): number => {
      state = (state + 0x9e3779b9) | 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 0;
    };
    this.a = splitmix32();
    this.b = splitmix32();
    this.c = splitmix32();
    this.d = splitmix32();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Next unsigned 32-bit integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Uniform integer in [lo, hi] (both inclusive; hi − lo < 2^32). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** True with probability p. Draws nothing when p <= 0, so unused features do not perturb the stream. */
  chance(p: number): boolean {
    if (p <= 0) return false;
    return this.float() < p;
  }
}
