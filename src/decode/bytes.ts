/**
 * Big-endian integer reads over a byte array. Callers check bounds first:
 * these helpers never do (they are the innermost hot path).
 */

/** Unsigned 16-bit big-endian value at `o`. */
export function u16(d: Uint8Array, o: number): number {
  return (d[o]! << 8) | d[o + 1]!;
}

/** Unsigned 32-bit big-endian value at `o` (0 .. 2^32-1). */
export function u32(d: Uint8Array, o: number): number {
  return ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
}

/** Unsigned 24-bit big-endian value at `o`. */
export function u24(d: Uint8Array, o: number): number {
  return (d[o]! << 16) | (d[o + 1]! << 8) | d[o + 2]!;
}
