/**
 * Exact 64-bit timestamp arithmetic for pcapng without BigInt on the fast
 * path (no allocation per packet). pcapng timestamps are 64-bit tick counts
 * stored as two 32-bit words; a nanosecond count since 1970 (~2^61) does not
 * fit a double, so it is split and divided in 16-bit steps.
 */

/** Reusable output of {@link ticksFromTime}. */
export interface TicksOut { hi: number; lo: number }
/** Reusable output of {@link timeFromTicks}; `rem` is the sub-second part in ticks (exact kinds only). */
export interface TimeOut { sec: number; nsec: number; rem?: number }

const TWO32 = 4294967296;
const INV16 = 1 / 65536;
const INV32 = 1 / 4294967296;

/**
 * hi/lo words of `sec * scale + sub` (scale <= 1e9, sub < scale,
 * 0 <= sec < 2^36), written into `out`.
 */
export function ticksFromTime(sec: number, sub: number, scale: number, out: TicksOut): void {
  // Multiplying by 2^-16 / 2^-32 is exact and much cheaper than dividing.
  const secHi = Math.floor(sec * INV16);
  const secLo = sec - secHi * 65536;
  const a = secHi * scale;
  const aHi = Math.floor(a * INV16);
  const aLo = a - aHi * 65536;
  const l = aLo * 65536 + secLo * scale + sub;
  const carry = Math.floor(l * INV32);
  out.hi = aHi + carry;
  out.lo = l - carry * TWO32;
}

/** How to turn ticks of one pcapng interface into seconds and nanoseconds. */
export class TsResolution {
  /** Ticks per second. */
  readonly perSec: number;
  /** Ticks per second as a BigInt (slow path). */
  readonly perSecBig: bigint;
  /** 0 decimal <= ns (multiply), 1 decimal finer than ns (divide), 2 binary <= 2^-32, 3 BigInt path. */
  readonly kind: 0 | 1 | 2 | 3;
  /** Multiplier (kind 0), divisor (kind 1), or 2^(k-9) divisor / 2^(9-k) multiplier (kind 2). */
  readonly factor: number;
  /** if_tsresol byte this was made from. */
  readonly raw: number;
  /** Whole units of 10^-n (decimal) or 2^-n (binary). */
  readonly exponent: number;
  readonly binary: boolean;

  constructor(tsresol: number) {
    this.raw = tsresol & 0xff;
    this.binary = (tsresol & 0x80) !== 0;
    const e = tsresol & 0x7f;
    this.exponent = e;
    this.perSecBig = this.binary ? 1n << BigInt(e) : 10n ** BigInt(e);
    this.perSec = Number(this.perSecBig);
    if (!this.binary && e <= 9) { this.kind = 0; this.factor = 10 ** (9 - e); }
    else if (!this.binary && e <= 11) { this.kind = 1; this.factor = 10 ** (e - 9); }
    else if (this.binary && e <= 32) { this.kind = 2; this.factor = 2 ** (e - 9); }
    else { this.kind = 3; this.factor = 0; }
  }

  /** Human description: "ns", "us", "ms", "s", "10^-N s" or "2^-N s". */
  toString(): string {
    if (this.binary) return `2^-${this.exponent} s`;
    switch (this.exponent) {
      case 0: return 's';
      case 3: return 'ms';
      case 6: return 'us';
      case 9: return 'ns';
      default: return `10^-${this.exponent} s`;
    }
  }
}

/** Divides (x, remainder in `r`) exactly; returns the quotient. */
function divStep(x: number, d: number): number {
  let q = Math.floor(x / d);
  const r = x - q * d;
  if (r < 0) q--; else if (r >= d) q++;
  return q;
}

/**
 * Converts a pcapng timestamp (hi, lo words in `res` units) into `out.sec`
 * and `out.nsec` (nanoseconds truncated). Exact; allocation-free except for
 * exotic resolutions (finer than 10^-11 s or 2^-32 s).
 */
export function timeFromTicks(hi: number, lo: number, res: TsResolution, out: TimeOut): void {
  if (res.kind === 3) { slowTimeFromTicks(hi, lo, res, out); return; }
  const d = res.perSec;
  const q1 = divStep(hi, d);
  let r = hi - q1 * d;
  let x = r * 65536 + (lo >>> 16);
  const q2 = divStep(x, d);
  r = x - q2 * d;
  x = r * 65536 + (lo & 0xffff);
  const q3 = divStep(x, d);
  r = x - q3 * d;
  out.sec = q1 * TWO32 + q2 * 65536 + q3;
  out.rem = r;
  out.nsec = nsecOfRem(r, res);
}

/** Nanoseconds in `r` ticks of `res` (r < ticks per second; not for kind 3). */
export function nsecOfRem(r: number, res: TsResolution): number {
  switch (res.kind) {
    case 0: return r * res.factor;
    case 1: return (r - (r % res.factor)) / res.factor;
    default: {
      // r < 2^k <= 2^32, r * 1e9 / 2^k = r * 5^9 * 2^9 / 2^k; r * 5^9 < 2^53.
      const t = r * 1953125;
      return res.factor >= 1 ? Math.floor(t / res.factor) : t / res.factor;
    }
  }
}

function slowTimeFromTicks(hi: number, lo: number, res: TsResolution, out: TimeOut): void {
  const ticks = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  const d = res.perSecBig;
  out.sec = Number(ticks / d);
  out.nsec = Number(((ticks % d) * 1000000000n) / d);
}
