/**
 * Address formatting for printing and logs (allocates strings: keep off the
 * per-packet hot path). Each function reads only `[off, off + size)` and
 * returns "?" when that range is not inside `d`.
 */

const HEX = '0123456789abcdef';

function inRange(d: Uint8Array, off: number, n: number): boolean {
  return off >= 0 && off + n <= d.length;
}

/** "02:00:5e:10:00:01" from the 6 bytes at `off`. */
export function macToString(d: Uint8Array, off: number): string {
  if (!inRange(d, off, 6)) return '?';
  let s = '';
  for (let i = 0; i < 6; i++) {
    const b = d[off + i]!;
    if (i > 0) s += ':';
    s += HEX[b >> 4]! + HEX[b & 15]!;
  }
  return s;
}

/** "10.0.0.1" from the 4 bytes at `off`. */
export function ipv4ToString(d: Uint8Array, off: number): string {
  if (!inRange(d, off, 4)) return '?';
  return `${d[off]}.${d[off + 1]}.${d[off + 2]}.${d[off + 3]}`;
}

/** "10.0.0.1" from an unsigned 32-bit address. */
export function ipv4NumberToString(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * RFC 5952 text of the 16-byte IPv6 address at `off`: lower-case hex, the
 * longest run (>= 2) of zero groups as "::", IPv4-mapped as "::ffff:1.2.3.4".
 */
export function ipv6ToString(d: Uint8Array, off: number): string {
  if (!inRange(d, off, 16)) return '?';
  let mapped = true;
  for (let i = 0; i < 10; i++) if (d[off + i] !== 0) mapped = false;
  if (mapped && d[off + 10] === 0xff && d[off + 11] === 0xff) return `::ffff:${ipv4ToString(d, off + 12)}`;
  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let g = 0; g <= 8; g++) {
    const zero = g < 8 && d[off + 2 * g] === 0 && d[off + 2 * g + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = g;
    } else if (runStart >= 0) {
      const len = g - runStart;
      if (len > bestLen) {
        bestLen = len;
        bestStart = runStart;
      }
      runStart = -1;
    }
  }
  if (bestLen < 2) bestStart = -1;
  let s = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      s += '::';
      g += bestLen - 1;
      continue;
    }
    if (s.length > 0 && !s.endsWith(':')) s += ':';
    s += (((d[off + 2 * g]! << 8) | d[off + 2 * g + 1]!)).toString(16);
  }
  return s;
}

/** Address of `len` bytes at `off`: IPv4 (4), IPv6 (16), MAC (6), else hex with colons. */
export function addrToString(d: Uint8Array, off: number, len: number): string {
  if (len === 4) return ipv4ToString(d, off);
  if (len === 16) return ipv6ToString(d, off);
  if (len === 6) return macToString(d, off);
  if (!inRange(d, off, len)) return '?';
  let s = '';
  for (let i = 0; i < len; i++) {
    const b = d[off + i]!;
    if (i > 0) s += ':';
    s += HEX[b >> 4]! + HEX[b & 15]!;
  }
  return s;
}
