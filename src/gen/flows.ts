/**
 * Flow sets: N distinct combinations of (source address, destination
 * address, source port, destination port, VLAN id), each field a range (see
 * ranges.ts). Flows are taken in order (source port varies fastest, then
 * source address, destination port, destination address, VLAN) or, with
 * `random`, as N distinct combinations drawn with a seed. Deterministic: the
 * same options give the same flows in every worker and every run.
 *
 * When more flows are asked for than the ranges hold and the source port (then
 * the source address) was given as a single value, that field is widened
 * upwards from the value given, as trafgen-style flow files do.
 */
import { NetringError } from '../errors.js';
import { formatIPv4, formatIPv6 } from '../build/index.js';
import { parseAddrRange, parseIntRange, type AddrRange, type ValueRange } from './ranges.js';
import { Rng } from '../util/random.js';

/** Field ranges, as text (see ranges.ts) or numbers. */
export interface FlowFields {
  src?: string;
  dst?: string;
  sport?: string | number;
  dport?: string | number;
  vlan?: string | number;
}

/** Options of {@link makeFlows}. */
export interface FlowOptions {
  /** Number of flows (default: every combination of the ranges). */
  flows?: number;
  /** Draw the flows at random (seeded) instead of in order. */
  random?: boolean;
  /** Seed (default 1). */
  seed?: number;
  /** False for ICMP: ports are not part of a flow. Default true. */
  ports?: boolean;
}

/** Most flows a set holds. */
export const MAX_FLOWS = 1 << 22;

/** One flow as text and numbers (for summaries and tests). */
export interface FlowTuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** -1 when no VLAN. */
  vlan: number;
}

/** N flows as parallel arrays: value of each field per flow. */
export class FlowSet {
  readonly count: number;
  readonly family: 4 | 6;
  /** Source / destination address (IPv4) or its last 32 bits (IPv6). */
  readonly src: Uint32Array;
  readonly dst: Uint32Array;
  readonly sport: Uint16Array;
  readonly dport: Uint16Array;
  /** VLAN id per flow (-1: none). */
  readonly vlan: Int32Array;
  /** Which fields differ between flows. */
  readonly varies: { src: boolean; dst: boolean; sport: boolean; dport: boolean; vlan: boolean };
  /** The ranges the flows were drawn from. */
  readonly ranges: { src: AddrRange; dst: AddrRange; sport: ValueRange; dport: ValueRange; vlan: ValueRange | null };

  /** @internal use makeFlows() */
  constructor(count: number, ranges: FlowSet['ranges'], family: 4 | 6) {
    this.count = count;
    this.family = family;
    this.ranges = ranges;
    this.src = new Uint32Array(count);
    this.dst = new Uint32Array(count);
    this.sport = new Uint16Array(count);
    this.dport = new Uint16Array(count);
    this.vlan = new Int32Array(count).fill(-1);
    this.varies = { src: false, dst: false, sport: false, dport: false, vlan: false };
  }

  /** Flow i as text (allocates; for summaries and tests). */
  tuple(i: number): FlowTuple {
    const r = this.ranges;
    return {
      src: addrText(this.family, r.src.high, this.src[i]), dst: addrText(this.family, r.dst.high, this.dst[i]),
      sport: this.sport[i], dport: this.dport[i], vlan: this.vlan[i],
    };
  }
}

/** Text of an address from its low 32 bits (and the IPv6 high 96 bits). */
export function addrText(family: 4 | 6, high: Uint8Array | null, v: number): string {
  if (family === 4) return formatIPv4(v);
  const b = new Uint8Array(16);
  b.set(high!);
  b[12] = v >>> 24; b[13] = (v >>> 16) & 255; b[14] = (v >>> 8) & 255; b[15] = v & 255;
  return formatIPv6(b);
}

function widen(r: ValueRange, need: number, max: number): ValueRange {
  const lo = r.at(0);
  const count = Math.min(max - lo + 1, need);
  return { count, at: (k) => lo + k, text: `${lo}-${lo + count - 1}` };
}

function widenAddr(r: AddrRange, need: number): AddrRange {
  const lo = r.at(0);
  const count = Math.min(0x1_0000_0000 - lo, need);
  const at = (k: number): number => (lo + k) >>> 0;
  return { ...r, count, at, text: `${r.format(0)}+${count}`, format: (k) => addrText(r.family, r.high, at(k)) };
}

/**
 * Build a flow set. Throws NetringError (EINVAL) when the ranges are bad,
 * mix IP versions, or cannot hold the number of flows asked for.
 */
export function makeFlows(fields: FlowFields = {}, opts: FlowOptions = {}): FlowSet {
  const ports = opts.ports ?? true;
  let src = parseAddrRange(fields.src ?? (fields.dst !== undefined && fields.dst.includes(':') ? 'fd00::1' : '10.0.0.1'), 'source address');
  const dst = parseAddrRange(fields.dst ?? (src.family === 6 ? 'fd00::2' : '10.0.0.2'), 'destination address');
  if (src.family !== dst.family) throw new NetringError(`source ${src.text} and destination ${dst.text} are different IP versions`, 'EINVAL');
  let sport = parseIntRange(fields.sport ?? 10000, 0, 65535, 'source port');
  const dport = parseIntRange(fields.dport ?? 5001, 0, 65535, 'destination port');
  const vlan = fields.vlan === undefined ? null : parseIntRange(fields.vlan, 0, 4095, 'VLAN id');
  if (!ports && (sport.count > 1 || dport.count > 1)) throw new NetringError('ICMP has no ports: port ranges cannot make ICMP flows (vary the addresses)', 'EINVAL');
  const product = (): number => src.count * dst.count * (ports ? sport.count * dport.count : 1) * (vlan?.count ?? 1);
  const want = opts.flows;
  if (want !== undefined && (!Number.isInteger(want) || want < 1 || want > MAX_FLOWS))
    throw new NetringError(`flows must be an integer in 1..${MAX_FLOWS} (got ${String(want)})`, 'EINVAL');
  if (want !== undefined && want > product()) {
    if (ports && sport.count === 1) sport = widen(sport, Math.ceil(want / product()), 65535);
    if (want > product() && src.count === 1) src = widenAddr(src, Math.ceil(want / product()));
  }
  const total = product();
  if (want !== undefined && want > total)
    throw new NetringError(`only ${total} distinct flows fit the given ranges (src ${src.count} x dst ${dst.count}${ports ? ` x sport ${sport.count} x dport ${dport.count}` : ''}${vlan ? ` x vlan ${vlan.count}` : ''}), ${want} asked for: widen a range`, 'EINVAL');
  const n = want ?? total;
  if (n > MAX_FLOWS) throw new NetringError(`the ranges make ${total} combinations, more than ${MAX_FLOWS}: give the number of flows`, 'EINVAL');
  if (total > Number.MAX_SAFE_INTEGER) throw new NetringError('the ranges make too many combinations to draw from', 'EINVAL');

  const set = new FlowSet(n, { src, dst, sport, dport, vlan }, src.family);
  const pick = opts.random ? drawDistinct(n, total, opts.seed ?? 1) : null;
  const rs = ports ? sport.count : 1;
  const rd = ports ? dport.count : 1;
  for (let i = 0; i < n; i++) {
    let c = pick === null ? i : pick[i];
    const ks = c % rs; c = Math.floor(c / rs);
    const ka = c % src.count; c = Math.floor(c / src.count);
    const kd = c % rd; c = Math.floor(c / rd);
    const kb = c % dst.count; c = Math.floor(c / dst.count);
    set.sport[i] = sport.at(ks);
    set.src[i] = src.at(ka);
    set.dport[i] = dport.at(kd);
    set.dst[i] = dst.at(kb);
    if (vlan) set.vlan[i] = vlan.at(c);
  }
  const v = set.varies;
  for (let i = 1; i < n; i++) {
    if (set.src[i] !== set.src[0]) v.src = true;
    if (set.dst[i] !== set.dst[0]) v.dst = true;
    if (set.sport[i] !== set.sport[0]) v.sport = true;
    if (set.dport[i] !== set.dport[0]) v.dport = true;
    if (set.vlan[i] !== set.vlan[0]) v.vlan = true;
  }
  return set;
}

/** n distinct integers from [0, total), seeded (Floyd's algorithm, then a shuffle). */
function drawDistinct(n: number, total: number, seed: number): Float64Array {
  const r = new Rng(seed);
  const below = (m: number): number => {
    if (m <= 0x1_0000_0000) return r.below(m);
    const x = (r.u32() * 0x200000 + (r.u32() >>> 11)) / 2 ** 53;
    return Math.floor(x * m);
  };
  const out = new Float64Array(n);
  if (n === total) {
    for (let i = 0; i < n; i++) out[i] = i;
  } else {
    const seen = new Set<number>();
    let k = 0;
    for (let j = total - n; j < total; j++) {
      const t = below(j + 1);
      const v = seen.has(t) ? j : t;
      seen.add(v);
      out[k++] = v;
    }
  }
  for (let i = n - 1; i > 0; i--) {
    const j = below(i + 1);
    const t = out[i]; out[i] = out[j]; out[j] = t;
  }
  return out;
}
