/** ICMP for IPv4 (RFC 792). Header: type, code, checksum, 4 bytes rest-of-header. */
import { u16, u32 } from './bytes.js';

/** Bytes of ICMP header netring requires (type, code, checksum, rest). */
export const ICMP_HEADER_LEN = 8;

/** Common ICMP types. */
export const IcmpType = {
  EchoReply: 0,
  DestUnreachable: 3,
  SourceQuench: 4,
  Redirect: 5,
  EchoRequest: 8,
  RouterAdvertisement: 9,
  RouterSolicitation: 10,
  TimeExceeded: 11,
  ParameterProblem: 12,
  Timestamp: 13,
  TimestampReply: 14,
} as const;

/** Type. */
export function icmpType(d: Uint8Array, off: number): number {
  return d[off]!;
}
/** Code. */
export function icmpCode(d: Uint8Array, off: number): number {
  return d[off + 1]!;
}
/** Checksum as stored. */
export function icmpChecksum(d: Uint8Array, off: number): number {
  return u16(d, off + 2);
}
/** Echo identifier (echo request/reply). */
export function icmpId(d: Uint8Array, off: number): number {
  return u16(d, off + 4);
}
/** Echo sequence number (echo request/reply). */
export function icmpSeq(d: Uint8Array, off: number): number {
  return u16(d, off + 6);
}
/** Rest-of-header as a 32-bit value (gateway for redirects, MTU for frag-needed...). */
export function icmpRest(d: Uint8Array, off: number): number {
  return u32(d, off + 4);
}
/** True for error messages, which carry the offending IP header after 8 bytes. */
export function icmpIsError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}
