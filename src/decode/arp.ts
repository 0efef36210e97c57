/**
 * ARP (RFC 826). Fixed part is 8 bytes, followed by sender hardware address
 * (hlen), sender protocol address (plen), target hardware address and
 * target protocol address.
 */
import { u16 } from './bytes.js';

/** Length of the fixed ARP header (before the addresses). */
export const ARP_FIXED_LEN = 8;

/** ARP operation codes. */
export const ArpOp = { Request: 1, Reply: 2, RarpRequest: 3, RarpReply: 4 } as const;

/** Hardware type (1 = Ethernet). */
export function arpHtype(d: Uint8Array, off: number): number {
  return u16(d, off);
}
/** Protocol type (an EtherType, 0x0800 for IPv4). */
export function arpPtype(d: Uint8Array, off: number): number {
  return u16(d, off + 2);
}
/** Hardware address length (6 for Ethernet). */
export function arpHlen(d: Uint8Array, off: number): number {
  return d[off + 4]!;
}
/** Protocol address length (4 for IPv4). */
export function arpPlen(d: Uint8Array, off: number): number {
  return d[off + 5]!;
}
/** Operation (1 request, 2 reply). */
export function arpOp(d: Uint8Array, off: number): number {
  return u16(d, off + 6);
}
/** Total ARP length implied by hlen and plen. */
export function arpLength(d: Uint8Array, off: number): number {
  return ARP_FIXED_LEN + 2 * (d[off + 4]! + d[off + 5]!);
}
/** Offset of the sender hardware address. */
export function arpShaOffset(_d: Uint8Array, off: number): number {
  return off + ARP_FIXED_LEN;
}
/** Offset of the sender protocol address. */
export function arpSpaOffset(d: Uint8Array, off: number): number {
  return off + ARP_FIXED_LEN + d[off + 4]!;
}
/** Offset of the target hardware address. */
export function arpThaOffset(d: Uint8Array, off: number): number {
  return off + ARP_FIXED_LEN + d[off + 4]! + d[off + 5]!;
}
/** Offset of the target protocol address. */
export function arpTpaOffset(d: Uint8Array, off: number): number {
  return off + ARP_FIXED_LEN + 2 * d[off + 4]! + d[off + 5]!;
}
