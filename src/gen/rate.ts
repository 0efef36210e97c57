/**
 * Rates and the token bucket that enforces them.
 *
 * Rate syntax: a number with a unit. Packet rates: pps, kpps, Mpps, Gpps (a
 * bare number is packets/s). Bit rates: bps, kbps, Mbps, Gbps (also bit/s,
 * kbit/s ...; bits of the frame as handed to the device, no preamble/FCS).
 * "max", or zero in any unit (0, 0pps, 0Mbps), means as fast as possible.
 */
import { NetringError } from '../errors.js';

/** A parsed rate. `null` from parseRate means unlimited. */
export interface Rate {
  /** Packets per second or bits per second. */
  value: number;
  unit: 'pps' | 'bps';
}

const MULT: Record<string, number> = { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6, g: 1e9, G: 1e9 };

/** Parse "1Mpps", "500Mbps", "20000", "1.5Gbit/s", "max". Throws NetringError EINVAL with what is wrong. */
export function parseRate(s: string | number | undefined): Rate | null {
  if (s === undefined) return null;
  if (typeof s === 'number') {
    if (!Number.isFinite(s) || s < 0) throw new NetringError(`bad rate ${s}: expected a positive number`, 'EINVAL');
    return s === 0 ? null : { value: s, unit: 'pps' };
  }
  const t = s.trim();
  if (t === 'max' || t === 'unlimited' || t === '0') return null;
  const m = /^(\d+(?:\.\d+)?|\.\d+)(?:e(\d+))?\s*([kKmMgG]?)(pps|bps|bit\/s|b\/s|p\/s)?$/.exec(t);
  if (!m) throw new NetringError(`bad rate "${s}": expected e.g. 20000, 50kpps, 1Mpps, 500Mbps, 1.5Gbps or max`, 'EINVAL');
  const unitText = m[4] ?? 'pps';
  if (m[3] !== '' && m[4] === undefined) throw new NetringError(`bad rate "${s}": say pps or bps after the ${m[3]} (e.g. ${m[1]}${m[3]}pps)`, 'EINVAL');
  const value = Number(m[1]) * (m[2] ? 10 ** Number(m[2]) : 1) * MULT[m[3]];
  if (value === 0) return null; // 0pps like 0: unlimited
  if (!(value > 0) || !Number.isFinite(value)) throw new NetringError(`bad rate "${s}": must be above zero`, 'EINVAL');
  return { value, unit: unitText.startsWith('p') ? 'pps' : 'bps' };
}

/** "1.00 Mpps", "500.0 Mbps". */
export function formatRate(value: number, unit: 'pps' | 'bps'): string {
  const [d, p] = value >= 1e9 ? [1e9, 'G'] : value >= 1e6 ? [1e6, 'M'] : value >= 1e3 ? [1e3, 'k'] : [1, ''];
  return `${(value / d).toFixed(value / d >= 100 ? 1 : 2)} ${p}${unit}`;
}

/**
 * Token bucket on a caller-supplied monotonic clock (ns as a Number). Tokens
 * accrue at `rate` per second up to `burst`; a packet costs 1 token (pps) or
 * its bits (bps). Exact over a run: tokens are never lost as long as the
 * caller comes back before the bucket is full (`wakeLevel` leaves head room).
 */
export class TokenBucket {
  /** Tokens per nanosecond. */
  readonly perNs: number;
  /** Most tokens held. */
  readonly burst: number;
  /** Level at which a sleeping sender should wake (<= burst). */
  readonly wakeLevel: number;
  /** Current tokens (may go below 0 by one packet's cost in bps mode). */
  tokens: number;
  private last: number;

  /**
   * @param ratePerSec tokens per second (packets or bits)
   * @param burst bucket size (default: 20 ms of tokens, at least 2 packets' worth of `unitCost`: a sender descheduled for less than that catches up)
   * @param nowNs the clock reading at start
   * @param unitCost cost of the largest packet (1 for pps, frame bits for bps)
   */
  constructor(ratePerSec: number, burst: number | undefined, nowNs: number, unitCost = 1) {
    if (!(ratePerSec > 0)) throw new NetringError(`rate must be above zero (got ${ratePerSec})`, 'EINVAL');
    this.perNs = ratePerSec / 1e9;
    const b = burst ?? Math.max(2 * unitCost, ratePerSec * 0.02);
    if (!(b >= unitCost)) throw new NetringError(`burst ${b} is smaller than one packet (${unitCost})`, 'EINVAL');
    this.burst = b;
    this.wakeLevel = Math.min(b, Math.max(unitCost, Math.min(ratePerSec * 0.001, b / 2)));
    this.tokens = Math.min(b, unitCost);
    this.last = nowNs;
  }

  /** Add the tokens earned since the last call; returns the level. */
  refill(nowNs: number): number {
    const dt = nowNs - this.last;
    if (dt > 0) {
      this.last = nowNs;
      const t = this.tokens + dt * this.perNs;
      this.tokens = t > this.burst ? this.burst : t;
    }
    return this.tokens;
  }

  /** Nanoseconds until the level reaches `level` (0 when it already has). */
  nsUntil(level: number): number {
    const missing = level - this.tokens;
    return missing <= 0 ? 0 : Math.ceil(missing / this.perNs);
  }
}
