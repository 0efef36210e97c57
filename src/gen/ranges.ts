/**
 * Value ranges for the fields a flow set varies: addresses and integers,
 * written as a single value, a range "a-b", a CIDR prefix "a/n" or a list
 * "a,b,c". IPv6 ranges vary the low 32 bits of the address only (prefix
 * length >= 96, or both ends sharing the first 96 bits).
 */
import { NetringError } from '../errors.js';
import { formatIPv4, formatIPv6, ipFamily, parseIPv4, parseIPv6 } from '../build/index.js';

/** A finite ordered set of unsigned 32-bit values. */
export interface ValueRange {
  /** Number of values. */
  readonly count: number;
  /** Value number k (0 <= k < count). */
  at(k: number): number;
  /** The text it came from. */
  readonly text: string;
}

/** An address range: the varying low 32 bits plus, for IPv6, the fixed high 96 bits. */
export interface AddrRange extends ValueRange {
  readonly family: 4 | 6;
  /** IPv6: the first 12 bytes every address shares; null for IPv4. */
  readonly high: Uint8Array | null;
  /** Text form of address k. */
  format(k: number): string;
}

function bad(what: string, s: string, why: string): NetringError {
  return new NetringError(`bad ${what} "${s}": ${why}`, 'EINVAL');
}

function span(lo: number, count: number): (k: number) => number {
  return (k) => (lo + k) >>> 0;
}

function listOf(vals: number[]): (k: number) => number {
  return (k) => vals[k];
}

/** Parse an integer field range within [min, max]: "80", "1000-2000", "80,443,8080". */
export function parseIntRange(spec: string | number, min: number, max: number, what: string): ValueRange {
  const text = String(spec).trim();
  const one = (x: string): number => {
    if (!/^\d+$/.test(x.trim())) throw bad(what, text, `"${x}" is not a whole number`);
    const v = Number(x.trim());
    if (v < min || v > max) throw bad(what, text, `${v} is outside ${min}..${max}`);
    return v;
  };
  if (text.includes(',')) {
    const vals = text.split(',').map(one);
    return { count: vals.length, at: listOf(vals), text };
  }
  const m = /^(\d+)\s*-\s*(\d+)$/.exec(text);
  if (m) {
    const lo = one(m[1]), hi = one(m[2]);
    if (lo > hi) throw bad(what, text, `empty range (${lo} > ${hi})`);
    return { count: hi - lo + 1, at: span(lo, hi - lo + 1), text };
  }
  const v = one(text);
  return { count: 1, at: () => v, text };
}

/** Parse an address range of one family: "10.0.0.1", "10.0.0.1-10.0.0.9", "10.0.0.0/24", "fd00::/112", lists. */
export function parseAddrRange(spec: string, what: string): AddrRange {
  const text = String(spec).trim();
  const parts = text.includes(',') ? text.split(',').map((x) => x.trim()) : null;
  const family = ipFamily((parts ? parts[0] : text).split(/\s*-\s*|\//)[0]);
  if (family === 0) throw bad(what, text, 'not an IPv4 or IPv6 address');
  if (family === 4) {
    const fmt = (v: number): string => formatIPv4(v);
    if (parts) {
      const vals = parts.map((p) => { if (ipFamily(p) !== 4) throw bad(what, text, `"${p}" is not an IPv4 address`); return parseIPv4(p); });
      return { family, high: null, count: vals.length, at: listOf(vals), text, format: (k) => fmt(vals[k]) };
    }
    let m = /^([\d.]+)\/(\d+)$/.exec(text);
    if (m) {
      const n = Number(m[2]);
      if (n > 32) throw bad(what, text, 'prefix length above 32');
      const count = 2 ** (32 - n);
      const lo = n === 0 ? 0 : (parseIPv4(m[1]) & ~(count - 1)) >>> 0;
      const at = span(lo, count);
      return { family, high: null, count, at, text, format: (k) => fmt(at(k)) };
    }
    m = /^([\d.]+)\s*-\s*([\d.]+)$/.exec(text);
    if (m) {
      const lo = parseIPv4(m[1]), hi = parseIPv4(m[2]);
      if (lo > hi) throw bad(what, text, 'empty range (first address above the last)');
      const at = span(lo, hi - lo + 1);
      return { family, high: null, count: hi - lo + 1, at, text, format: (k) => fmt(at(k)) };
    }
    const v = parseIPv4(text);
    return { family, high: null, count: 1, at: () => v, text, format: () => fmt(v) };
  }
  // IPv6: fixed high 96 bits, varying low 32
  const split = (a: string): [Uint8Array, number] => {
    const b = parseIPv6(a);
    return [b.subarray(0, 12), ((b[12] << 24) | (b[13] << 16) | (b[14] << 8) | b[15]) >>> 0];
  };
  const sameHigh = (x: Uint8Array, y: Uint8Array): boolean => x.every((v, i) => v === y[i]);
  const mk = (high: Uint8Array, count: number, at: (k: number) => number): AddrRange => ({
    family, high: Uint8Array.from(high), count, at, text,
    format: (k) => {
      const b = new Uint8Array(16);
      b.set(high);
      const v = at(k);
      b[12] = v >>> 24; b[13] = (v >>> 16) & 255; b[14] = (v >>> 8) & 255; b[15] = v & 255;
      return formatIPv6(b);
    },
  });
  if (parts) {
    const sp = parts.map(split);
    if (!sp.every(([h]) => sameHigh(h, sp[0][0]))) throw bad(what, text, 'IPv6 addresses of a list must differ only in their last 32 bits');
    const vals = sp.map(([, v]) => v);
    return mk(sp[0][0], vals.length, listOf(vals));
  }
  let m = /^([0-9a-fA-F:.]+)\/(\d+)$/.exec(text);
  if (m) {
    const n = Number(m[2]);
    if (n > 128) throw bad(what, text, 'prefix length above 128');
    if (n < 96) throw bad(what, text, 'netring varies the last 32 bits of an IPv6 address: use a prefix of /96 or longer');
    const [h, v] = split(m[1]);
    const count = 2 ** (128 - n);
    const lo = count === 2 ** 32 ? 0 : (v & ~(count - 1)) >>> 0;
    return mk(h, count, span(lo, count));
  }
  m = /^([0-9a-fA-F:.]+)\s*-\s*([0-9a-fA-F:.]+)$/.exec(text);
  if (m) {
    const [h1, lo] = split(m[1]);
    const [h2, hi] = split(m[2]);
    if (!sameHigh(h1, h2)) throw bad(what, text, 'both ends of an IPv6 range must share their first 96 bits');
    if (lo > hi) throw bad(what, text, 'empty range (first address above the last)');
    return mk(h1, hi - lo + 1, span(lo, hi - lo + 1));
  }
  const [h, v] = split(text);
  return mk(h, 1, () => v);
}
