/** UDP header (RFC 768), 8 bytes. Accessors take the header offset. */
import { put16, u16 } from './bytes.js';

/** UDP header length. */
export const UDP_HEADER_LEN = 8;

/** Field offsets within the UDP header. */
export const enum UdpField { SrcPort = 0, DstPort = 2, Length = 4, Checksum = 6 }

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

/** Write a UDP header at `off` (checksum as given, 0 = none); returns the offset of the payload. */
export function writeUdp(d: Uint8Array, off: number, sport: number, dport: number, length: number, checksum = 0): number {
  put16(d, off + UdpField.SrcPort, sport);
  put16(d, off + UdpField.DstPort, dport);
  put16(d, off + UdpField.Length, length);
  put16(d, off + UdpField.Checksum, checksum);
  return off + UDP_HEADER_LEN;
}
