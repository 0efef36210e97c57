/** ICMPv6 (RFC 4443) and neighbour discovery types (RFC 4861). */
import { u16 } from './bytes.js';

/** Bytes of ICMPv6 header netring requires (type, code, checksum, 4 bytes). */
export const ICMPV6_HEADER_LEN = 8;

/** Common ICMPv6 types. */
export const Icmpv6Type = {
  DestUnreachable: 1,
  PacketTooBig: 2,
  TimeExceeded: 3,
  ParameterProblem: 4,
  EchoRequest: 128,
  EchoReply: 129,
  MldQuery: 130,
  MldReport: 131,
  MldDone: 132,
  RouterSolicitation: 133,
  RouterAdvertisement: 134,
  NeighborSolicitation: 135,
  NeighborAdvertisement: 136,
  Redirect: 137,
  MldV2Report: 143,
} as const;

/** Type. */
export function icmpv6Type(d: Uint8Array, off: number): number {
  return d[off]!;
}
/** Code. */
export function icmpv6Code(d: Uint8Array, off: number): number {
  return d[off + 1]!;
}
/** Checksum as stored. */
export function icmpv6Checksum(d: Uint8Array, off: number): number {
  return u16(d, off + 2);
}
/** Echo identifier (types 128/129). */
export function icmpv6Id(d: Uint8Array, off: number): number {
  return u16(d, off + 4);
}
/** Echo sequence number (types 128/129). */
export function icmpv6Seq(d: Uint8Array, off: number): number {
  return u16(d, off + 6);
}
/** Offset of the target address of a neighbor solicitation/advertisement (needs 24 bytes). */
export function icmpv6NdTargetOffset(off: number): number {
  return off + 8;
}
