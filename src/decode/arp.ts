/**
 * ARP (RFC 826). Fixed part is 8 bytes, followed by sender hardware address
 * (hlen), sender protocol address (plen), target hardware address and
 * target protocol address.
 */
import { put16, u16 } from './bytes.js';

/** Length of the fixed ARP header (before the addresses). */
export const ARP_FIXED_LEN = 8;

/** Field offsets within the fixed ARP header; the addresses follow at {@link ArpField.Addresses}. */
export const enum ArpField {
  Htype = 0, Ptype = 2, Hlen = 4, Plen = 5, Op = 6, Addresses = 8,
  /** Sender and target IPv4 addresses of an Ethernet/IPv4 ARP packet (6-byte hardware addresses). */
  EthIpv4SenderIp = 14, EthIpv4TargetIp = 24,
}

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

/** An Ethernet/IPv4 ARP message to write (MACs 6 bytes, IPv4 addresses 4 bytes). */
export interface ArpMessage {
  op: number;
  sha: ArrayLike<number>;
  spa: ArrayLike<number>;
  tha: ArrayLike<number>;
  tpa: ArrayLike<number>;
}

/** Write an Ethernet/IPv4 ARP message (28 bytes) at `off`; returns the offset after it. */
export function writeArp(d: Uint8Array, off: number, m: ArpMessage): number {
  put16(d, off + ArpField.Htype, 1);
  put16(d, off + ArpField.Ptype, 0x0800);
  d[off + ArpField.Hlen] = 6;
  d[off + ArpField.Plen] = 4;
  put16(d, off + ArpField.Op, m.op);
  const a = off + ArpField.Addresses;
  for (let i = 0; i < 6; i++) { d[a + i] = m.sha[i]!; d[a + 10 + i] = m.tha[i]!; }
  for (let i = 0; i < 4; i++) { d[a + 6 + i] = m.spa[i]!; d[a + 16 + i] = m.tpa[i]!; }
  return a + 20;
}
