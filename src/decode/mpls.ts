/**
 * MPLS label stack entries (RFC 3032): 4 bytes each, after EtherType 0x8847
 * (unicast) or 0x8848 (multicast), or PPP protocol 0x0281. The 32-bit entry
 * is label (20 bits), traffic class (3), bottom of stack (1) and TTL (8).
 * After the bottom entry the payload carries no type: its first nibble (the
 * IP version) tells IPv4 from IPv6.
 */
import { put32, u32 } from './bytes.js';

/** Length of one label stack entry. */
export const MPLS_LABEL_LEN = 4;

/** Bits of the 32-bit label stack entry. */
export const enum MplsEntry { LabelMask = 0xfffff000, LabelShift = 12, TcShift = 9, TcMask = 0x0e00, Bos = 0x0100, TtlMask = 0xff }
/** The byte of an entry that holds the bottom-of-stack bit, and the bit in it. */
export const enum MplsByte { Bos = 2, BosBit = 0x01 }
/** Largest label value (20 bits). */
export const MPLS_MAX_LABEL = 0xfffff;

/** Label (20 bits) of the entry at `off`. */
export function mplsLabel(d: Uint8Array, off: number): number {
  return u32(d, off) >>> MplsEntry.LabelShift;
}
/** True when the entry at `off` is the bottom of the stack. */
export function mplsBottom(d: Uint8Array, off: number): boolean {
  return (d[off + MplsByte.Bos]! & MplsByte.BosBit) !== 0;
}
/** TTL of the entry at `off`. */
export function mplsTtl(d: Uint8Array, off: number): number {
  return d[off + 3]!;
}

/** Write a label stack entry at `off`; returns the offset after it. */
export function writeMplsLabel(d: Uint8Array, off: number, label: number, bottom: boolean, ttl = 64, tc = 0): number {
  put32(d, off, ((label << MplsEntry.LabelShift) | ((tc & 7) << MplsEntry.TcShift) | (bottom ? MplsEntry.Bos : 0) | (ttl & MplsEntry.TtlMask)) >>> 0);
  return off + MPLS_LABEL_LEN;
}
