/** UDP header (RFC 768), 8 bytes. Accessors take the header offset. */
import { u16 } from './bytes.js';

/** UDP header length. */
export const UDP_HEADER_LEN = 8;

/** Source port. */
export function udpSrcPort(d: Uint8Array, off: number): number {
  return u16(d, off);
}
/** Destination port. */
export function udpDstPort(d: Uint8Array, off: number): number {
  return u16(d, off + 2);
}
/** Length field (header + payload). */
export function udpLength(d: Uint8Array, off: number): number {
  return u16(d, off + 4);
}
/** Checksum as stored (0 = none, IPv4 only). */
export function udpChecksum(d: Uint8Array, off: number): number {
  return u16(d, off + 6);
}
