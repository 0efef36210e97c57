/**
 * 802.1Q / 802.1ad VLAN tags. A tag is 4 bytes that sit where the EtherType
 * would be: TPID (0x8100, 0x88a8 or legacy 0x9100), then the TCI (PCP 3 bits,
 * DEI 1 bit, VID 12 bits). The accessors here take the offset of the TCI,
 * i.e. the 2 bytes that follow the TPID, followed by the inner EtherType.
 */
import { put16, u16 } from './bytes.js';

/** Bytes added by one VLAN tag. */
export const VLAN_TAG_LEN = 4;

/** Bits of the TCI: VLAN id (12 bits), drop eligible indicator, priority (top 3 bits). */
export const enum VlanTci { VidMask = 0x0fff, Dei = 0x1000, PcpShift = 13 }

/** Offsets within a tag, counted from its TCI (the TPID sits in the 2 bytes before). */
export const enum VlanField { Tci = 0, InnerType = 2, Length = 4 }

/** True for the TPIDs netring treats as VLAN tags (0x8100, 0x88a8, 0x9100). */
export function isVlanTpid(t: number): boolean {
  return t === 0x8100 || t === 0x88a8 || t === 0x9100;
}

/** The 16-bit TCI at `tciOff`. */
export function vlanTciAt(d: Uint8Array, tciOff: number): number {
  return u16(d, tciOff);
}

/** EtherType following the tag whose TCI is at `tciOff`. */
export function vlanInnerType(d: Uint8Array, tciOff: number): number {
  return u16(d, tciOff + 2);
}

/** VLAN ID (0..4095) of a TCI value. */
export function tciVid(tci: number): number {
  return tci & VlanTci.VidMask;
}

/** Priority code point (0..7) of a TCI value. */
export function tciPcp(tci: number): number {
  return (tci >> VlanTci.PcpShift) & 7;
}

/** Drop eligible indicator (0/1) of a TCI value. */
export function tciDei(tci: number): number {
  return (tci & VlanTci.Dei) === 0 ? 0 : 1;
}

/** Write a tag (TPID then TCI) where an EtherType would be, at `off`; returns the offset after it. */
export function writeVlanTag(d: Uint8Array, off: number, tpid: number, tci: number): number {
  put16(d, off, tpid);
  put16(d, off + 2, tci);
  return off + VLAN_TAG_LEN;
}
