/**
 * Internet checksum (RFC 1071) over 16-bit big-endian words, kept as plain
 * integer sums until the end so partial sums can be added and subtracted
 * exactly (a frame's checksum = fold(base + the words that vary)), and the
 * RFC 1624 incremental update for a field rewritten in place.
 */

/** Plain (unfolded) sum of the big-endian 16-bit words of b[off, off+len); an odd last byte is padded with zero. */
export function sum16(b: Uint8Array, off: number, len: number, init = 0): number {
  let s = init;
  const end = off + (len & ~1);
  for (let i = off; i < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (len & 1) s += b[off + len - 1] << 8;
  return s;
}

/** Fold a non-negative plain sum to 16 bits with end-around carry. */
export function fold(s: number): number {
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/** Checksum value to store: ones' complement of the folded sum. */
export function finish(s: number): number {
  return ~fold(s) & 0xffff;
}

/** Checksum of b[off, off+len) plus `init` (e.g. a pseudo-header sum). */
export function checksum(b: Uint8Array, off: number, len: number, init = 0): number {
  return finish(sum16(b, off, len, init));
}

/** Sum of a 32-bit value as two 16-bit words. */
export function sum32(v: number): number {
  return (v >>> 16) + (v & 0xffff);
}

/**
 * RFC 1624 eqn. 3: the checksum after one 16-bit word changed from `oldWord`
 * to `newWord`, without touching the rest of the data: HC' = ~(~HC + ~m + m').
 */
export function updateChecksum16(hc: number, oldWord: number, newWord: number): number {
  return ~fold((~hc & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
}

/** RFC 1624 update for a 32-bit field (an IPv4 address, a sequence number). */
export function updateChecksum32(hc: number, oldValue: number, newValue: number): number {
  const s = (~hc & 0xffff) + (~(oldValue >>> 16) & 0xffff) + (~oldValue & 0xffff) + (newValue >>> 16) + (newValue & 0xffff);
  return ~fold(s) & 0xffff;
}

/** True when the data (checksum field included) sums to 0xffff, i.e. the stored checksum is right. */
export function checksumValid(b: Uint8Array, off: number, len: number, init = 0): boolean {
  return fold(sum16(b, off, len, init)) === 0xffff;
}
