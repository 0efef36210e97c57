/**
 * Big-endian integer reads and writes over a byte array. Callers check bounds
 * first: these helpers never do (they are the innermost hot path).
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

/** Store `v` as a big-endian 16-bit value at `o`. */
export function put16(d: Uint8Array, o: number, v: number): void {
  d[o] = v >> 8;
  d[o + 1] = v;
}

/** Store `v` as a big-endian 32-bit value at `o`. */
export function put32(d: Uint8Array, o: number, v: number): void {
  d[o] = v >>> 24;
  d[o + 1] = v >>> 16;
  d[o + 2] = v >>> 8;
  d[o + 3] = v;
}
