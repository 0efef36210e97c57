/**
 * Link types (the LINKTYPE_* numbers of pcap files and netring's
 * `PacketLike.linkType`) and the Linux "cooked" headers SLL and SLL2.
 */
import { u16, u32 } from './bytes.js';

export { LinkType } from '../linktype.js';

/** Length of a Null/Loop header. */
export const NULL_HEADER_LEN = 4;

/**
 * Address family of a Null/Loop header, byte order detected (families are
 * small numbers, so one end of the 4 bytes is zero).
 */
export function nullFamily(d: Uint8Array, off: number): number {
  return d[off]! !== 0 ? d[off]! : d[off + 3]!;
}

/** Length of an SLL (v1) header. */
export const SLL_HEADER_LEN = 16;
/** Length of an SLL2 header. */
export const SLL2_HEADER_LEN = 20;

/** SLL packet type (0 host, 1 broadcast, 2 multicast, 3 otherhost, 4 outgoing). */
export function sllPacketType(d: Uint8Array, off: number): number {
  return u16(d, off);
}
/** SLL ARPHRD_ type. */
export function sllHatype(d: Uint8Array, off: number): number {
  return u16(d, off + 2);
}
/** SLL link-layer address length. */
export function sllHalen(d: Uint8Array, off: number): number {
  return u16(d, off + 4);
}
/** SLL protocol (an EtherType for Ethernet-like devices). */
export function sllProtocol(d: Uint8Array, off: number): number {
  return u16(d, off + 14);
}

/** SLL2 protocol (an EtherType). */
export function sll2Protocol(d: Uint8Array, off: number): number {
  return u16(d, off);
}
/** SLL2 interface index. */
export function sll2Ifindex(d: Uint8Array, off: number): number {
  return u32(d, off + 4);
}
/** SLL2 ARPHRD_ type. */
export function sll2Hatype(d: Uint8Array, off: number): number {
  return u16(d, off + 8);
}
/** SLL2 packet type. */
export function sll2PacketType(d: Uint8Array, off: number): number {
  return d[off + 10]!;
}
/** SLL2 link-layer address length. */
export function sll2Halen(d: Uint8Array, off: number): number {
  return d[off + 11]!;
}
