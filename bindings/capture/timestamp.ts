// Timestamp conversion between file units and the engine's µs clock.
//
// pcapng stores a 64-bit count of 10^-N or 2^-N second units (if_tsresol) split into two
// 32-bit words, plus an optional if_tsoffset in seconds. The engine wants an integer µs
// number. Doubles are exact up to 2^53, but ns since the epoch is ~2^61, so the common
// resolutions use split 32-bit arithmetic; only exotic resolutions go through BigInt.

const TWO32 = 4294967296;

/** Human form of an if_tsresol byte. */
export function describeTsresol(tsresol: number): string {
  if (tsresol & 0x80) return `2^-${tsresol & 0x7f}`;
  if (tsresol === 6) return 'us';
  if (tsresol === 9) return 'ns';
  return `10^-${tsresol}`;
}

/** Converts one interface's 64-bit timestamps to µs and back. */
export class TsClock {
  private readonly offsetUs: number;
  /** 10^(N-6) when 6 < N <= 12 (divide on read); 0 otherwise. */
  private readonly div: number;
  /** 2^32 = q*div + r, precomputed for toUs. */
  private readonly q: number;
  private readonly r: number;
  /** 10^(6-N) when N <= 6 (multiply on read); 0 otherwise. */
  private readonly mul: number;
  /** Units per second for the BigInt path (exotic resolutions). */
  private readonly unitsBig: bigint;
  private readonly finer: boolean;
  /** Words of the last `fromUs`. */
  hi = 0;
  lo = 0;

  constructor(tsresol: number, tsoffsetSec: number) {
    this.offsetUs = tsoffsetSec * 1e6;
    const pow2 = (tsresol & 0x80) !== 0;
    const n = tsresol & 0x7f;
    this.unitsBig = pow2 ? 1n << BigInt(n) : 10n ** BigInt(n);
    this.finer = this.unitsBig >= 1000000n;
    this.div = !pow2 && n > 6 && n <= 12 ? 10 ** (n - 6) : 0;
    this.mul = !pow2 && n <= 6 ? 10 ** (6 - n) : 0;
    this.q = this.div ? Math.floor(TWO32 / this.div) : 0;
    this.r = this.div ? TWO32 - this.q * this.div : 0;
  }

  /** µs (floored) of the timestamp hi:lo. */
  toUs(hi: number, lo: number): number {
    const mul = this.mul;
    if (mul === 1) return hi * TWO32 + lo + this.offsetUs;
    const div = this.div;
    if (div !== 0) {
      // floor((hi*2^32 + lo) / div) = hi*q + floor((hi*r + lo) / div), with 2^32 = q*div + r.
      // hi*r + lo < 2^32 * 10^6 < 2^53, so this is exact.
      return hi * this.q + Math.floor((hi * this.r + lo) / div) + this.offsetUs;
    }
    if (mul !== 0) return (hi * TWO32 + lo) * mul + this.offsetUs;
    const us = (((BigInt(hi) << 32n) | BigInt(lo)) * 1000000n) / this.unitsBig;
    return Number(us) + this.offsetUs;
  }

  /**
   * Sets `hi`/`lo` to the timestamp that reads back as `timeUs` (exact when the resolution
   * is µs or finer; floored otherwise). Throws RangeError when it does not fit in 64 bits.
   */
  fromUs(timeUs: number): void {
    const t = Math.floor(timeUs) - this.offsetUs;
    if (!(t >= 0) || t > Number.MAX_SAFE_INTEGER) throw new RangeError(`time ${timeUs} µs is outside the interface's timestamp range`);
    const mul = this.mul;
    const div = this.div;
    if (mul === 1 || (div !== 0 && div <= 1e6)) {
      const m = div || 1;
      const tHi = Math.floor(t / TWO32);
      const low = (t - tHi * TWO32) * m; // < 2^32 * 10^6 < 2^53
      const carry = Math.floor(low / TWO32);
      this.set(tHi * m + carry, low - carry * TWO32);
    } else if (mul !== 0) {
      const ts = Math.floor(t / mul);
      const hi = Math.floor(ts / TWO32);
      this.set(hi, ts - hi * TWO32);
    } else {
      // Finer than µs: ceil, so that the reader's floor gives t back. Coarser: floor.
      const num = BigInt(t) * this.unitsBig;
      let ts = num / 1000000n;
      if (this.finer && ts * 1000000n !== num) ts += 1n;
      this.set(Number(ts >> 32n), Number(ts & 0xffffffffn));
    }
  }

  private set(hi: number, lo: number): void {
    if (hi >= TWO32) throw new RangeError('timestamp does not fit in 64 bits');
    this.hi = hi;
    this.lo = lo;
  }
}
