/**
 * Latency stamp: 16 bytes at the start of the transport payload.
 *
 *   0  u16  magic 0x4e52 ("NR")
 *   2  u16  stream id (one per sending worker)
 *   4  u32  sequence number within the stream (from 0)
 *   8  u32  send time, seconds (CLOCK_REALTIME)
 *  12  u32  send time, nanoseconds
 *
 * Big-endian, like the headers around it.
 */

export const STAMP_MAGIC = 0x4e52;
export const STAMP_LEN = 16;

/** Write a stamp; returns the plain sum of its 16-bit words (for the checksum). */
export function writeStamp(b: Uint8Array, o: number, stream: number, seq: number, sec: number, nsec: number): number {
  b[o] = 0x4e; b[o + 1] = 0x52;
  b[o + 2] = stream >>> 8; b[o + 3] = stream & 255;
  b[o + 4] = seq >>> 24; b[o + 5] = (seq >>> 16) & 255; b[o + 6] = (seq >>> 8) & 255; b[o + 7] = seq & 255;
  b[o + 8] = sec >>> 24; b[o + 9] = (sec >>> 16) & 255; b[o + 10] = (sec >>> 8) & 255; b[o + 11] = sec & 255;
  b[o + 12] = nsec >>> 24; b[o + 13] = (nsec >>> 16) & 255; b[o + 14] = (nsec >>> 8) & 255; b[o + 15] = nsec & 255;
  return STAMP_MAGIC + stream + (seq >>> 16) + (seq & 0xffff) + (sec >>> 16) + (sec & 0xffff) + (nsec >>> 16) + (nsec & 0xffff);
}

/** True when b[o..o+16) starts with the stamp magic. */
export function isStamp(b: Uint8Array, o: number): boolean {
  return b[o] === 0x4e && b[o + 1] === 0x52;
}

/** Fields of a stamp (no validation beyond the caller's isStamp). */
export function stampStream(b: Uint8Array, o: number): number { return (b[o + 2] << 8) | b[o + 3]; }
export function stampSeq(b: Uint8Array, o: number): number { return ((b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]) >>> 0; }
export function stampSec(b: Uint8Array, o: number): number { return ((b[o + 8] << 24) | (b[o + 9] << 16) | (b[o + 10] << 8) | b[o + 11]) >>> 0; }
export function stampNsec(b: Uint8Array, o: number): number { return ((b[o + 12] << 24) | (b[o + 13] << 16) | (b[o + 14] << 8) | b[o + 15]) >>> 0; }
