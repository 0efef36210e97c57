/** ICMP for IPv4 (RFC 792). Header: type, code, checksum, 4 bytes rest-of-header. */
import { put16, u16, u32 } from './bytes.js';

/** Bytes of ICMP header netring requires (type, code, checksum, rest). */
export const ICMP_HEADER_LEN = 8;

/** Field offsets within the ICMP header (also ICMPv6's: same layout). */
export const enum IcmpField { Type = 0, Code = 1, Checksum = 2, Id = 4, Seq = 6, Rest = 4, Length = 8 }

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

/**
 * Write an ICMP (or ICMPv6: same layout) header at `off`: type, code,
 * checksum as given (0 = to be filled), identifier and sequence (the
 * rest-of-header for echo). Returns the offset of the body.
 */
export function writeIcmp(d: Uint8Array, off: number, type: number, code: number, id = 0, seq = 0, checksum = 0): number {
  d[off + IcmpField.Type] = type;
  d[off + IcmpField.Code] = code;
  put16(d, off + IcmpField.Checksum, checksum);
  put16(d, off + IcmpField.Id, id);
  put16(d, off + IcmpField.Seq, seq);
  return off + ICMP_HEADER_LEN;
}
