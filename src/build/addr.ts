/** Parse link-layer and IP addresses from text, with messages that say what was wrong. */
import { NetringError } from '../errors.js';

function bad(what: string, s: string, why: string): NetringError {
  return new NetringError(`bad ${what} "${s}": ${why}`, 'EINVAL');
}

/** "02:00:00:00:0a:01" (or with '-') -> 6 bytes. */
export function parseMac(s: string): Uint8Array {
  const parts = String(s).trim().split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw bad('MAC address', s, 'expected six hex bytes like 02:00:00:00:0a:01');
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/** Dotted quad -> unsigned 32-bit number. */
export function parseIPv4(s: string): number {
  const parts = String(s).trim().split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw bad('IPv4 address', s, 'expected a.b.c.d with each part 0..255');
  return ((Number(parts[0]) << 24) | (Number(parts[1]) << 16) | (Number(parts[2]) << 8) | Number(parts[3])) >>> 0;
}

/** Text IPv6 address (with '::' and an optional trailing dotted quad) -> 16 bytes. */
export function parseIPv6(s: string): Uint8Array {
  const str = String(s).trim().replace(/^\[|\]$/g, '');
  if (!/^[0-9a-fA-F:.]+$/.test(str)) throw bad('IPv6 address', s, 'unexpected characters');
  let text = str;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    tail.push(v4 >>> 16, v4 & 0xffff);
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const dbl = text.split('::');
  if (dbl.length > 2) throw bad('IPv6 address', s, "'::' may appear only once");
  const words = (t: string): number[] => (t === '' ? [] : t.split(':').map((w) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) throw bad('IPv6 address', s, `bad group "${w}"`);
    return parseInt(w, 16);
  }));
  const head = words(dbl[0]);
  const rest = dbl.length === 2 ? words(dbl[1]) : [];
  const total = head.length + rest.length + tail.length;
  let all: number[];
  if (dbl.length === 2) {
    if (total > 7) throw bad('IPv6 address', s, 'too many groups');
    all = [...head, ...new Array<number>(8 - total).fill(0), ...rest, ...tail];
  } else {
    if (total !== 8) throw bad('IPv6 address', s, 'expected 8 groups');
    all = [...head, ...tail];
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) { out[2 * i] = all[i] >>> 8; out[2 * i + 1] = all[i] & 0xff; }
  return out;
}

/** 4 or 6 for an address string, 0 when it is neither. */
export function ipFamily(s: string): 0 | 4 | 6 {
  const t = String(s).trim();
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(t)) return 4;
  if (t.includes(':')) return 6;
  return 0;
}

/** 32-bit value -> dotted quad. */
export function formatIPv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** 16 bytes -> compressed IPv6 text (RFC 5952 style). */
export function formatIPv6(b: Uint8Array, off = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  let bestAt = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(w);
  return `${hex(w.slice(0, bestAt))}::${hex(w.slice(bestAt + bestLen))}`;
}
