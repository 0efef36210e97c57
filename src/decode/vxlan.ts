/**
 * VXLAN (RFC 7348): an 8-byte header after UDP (port 4789), then an inner
 * Ethernet frame. Byte 0 flags (0x08 = VNI valid), bytes 4..6 VNI.
 */
import { u24 } from './bytes.js';

/** VXLAN header length. */
export const VXLAN_HEADER_LEN = 8;
/** IANA UDP port for VXLAN. */
export const VXLAN_PORT = 4789;

/** Field offsets within the VXLAN header. */
export const enum VxlanField { Flags = 0, Vni = 4, Length = 8 }
/** The I flag: VNI valid. */
export const VXLAN_FLAG_VNI = 0x08;

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

/** Write a VXLAN header at `off` (flags default: VNI valid); returns the offset of the inner frame. */
export function writeVxlan(d: Uint8Array, off: number, vni: number, flags = VXLAN_FLAG_VNI): number {
  d[off + VxlanField.Flags] = flags;
  d[off + 1] = 0; d[off + 2] = 0; d[off + 3] = 0;
  d[off + VxlanField.Vni] = vni >> 16;
  d[off + VxlanField.Vni + 1] = vni >> 8;
  d[off + VxlanField.Vni + 2] = vni;
  d[off + VxlanField.Vni + 3] = 0;
  return off + VxlanField.Length;
}
