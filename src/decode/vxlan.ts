/**
 * VXLAN (RFC 7348): an 8-byte header after UDP (port 4789), then an inner
 * Ethernet frame. Byte 0 flags (0x08 = VNI valid), bytes 4..6 VNI.
 */
import { u24 } from './bytes.js';

/** VXLAN header length. */
export const VXLAN_HEADER_LEN = 8;
/** IANA UDP port for VXLAN. */
export const VXLAN_PORT = 4789;

/** Flags byte. */
export function vxlanFlags(d: Uint8Array, off: number): number {
  return d[off]!;
}
/** True when the I flag (VNI valid) is set. */
export function vxlanVniValid(d: Uint8Array, off: number): boolean {
  return (d[off]! & 0x08) !== 0;
}
/** VXLAN network identifier (24 bits). */
export function vxlanVni(d: Uint8Array, off: number): number {
  return u24(d, off + 4);
}
