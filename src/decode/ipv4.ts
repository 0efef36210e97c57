/**
 * IPv4 header (RFC 791): 20 bytes plus up to 40 bytes of options.
 * Accessors take the offset of the header; the caller checks bounds.
 */
import { TlvOptionIterator } from './tlv.js';
import { put16, put32, u16, u32 } from './bytes.js';
import { Ipv6Ext } from './ipv6.js';

/** Minimum IPv4 header length (IHL = 5). */
export const IPV4_MIN_HEADER_LEN = 20;

/** Field offsets within the IPv4 header. */
export const enum Ipv4Field {
  VersionIhl = 0, Tos = 1, TotalLength = 2, Id = 4, FlagsFragment = 6, Ttl = 8, Protocol = 9, Checksum = 10,
  Src = 12, Dst = 16, Options = 20,
}
/** Bits of the 16-bit flags/fragment word. */
export const enum Ipv4Frag { Reserved = 0x8000, DF = 0x4000, MF = 0x2000, OffsetMask = 0x1fff, FlagsAndOffset = 0x3fff }

/**
 * The first byte of an IP header, version nibble only: what tells IPv4 from
 * IPv6 where no type field says (after an MPLS label stack).
 */
export const enum IpVersionByte { Mask = 0xf0, V4 = 0x40, V6 = 0x60 }

/** First byte of the lowest IPv4 multicast address (224.0.0.0/4 and above: class D and E). */
export const IPV4_MULTICAST_FIRST_BYTE = 224;

/** IP protocol numbers (also IPv6 Next Header values). */
export const IpProto = {
  HopByHop: Ipv6Ext.HopByHop,
  ICMP: 1,
  IGMP: 2,
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  IPv6: 41,
  Routing: Ipv6Ext.Routing,
  Fragment: Ipv6Ext.Fragment,
  GRE: 47,
  ESP: Ipv6Ext.ESP,
  AH: Ipv6Ext.AH,
  ICMPv6: 58,
  NoNext: Ipv6Ext.NoNext,
  DestOpts: Ipv6Ext.DestOpts,
  SCTP: 132,
} as const;

/** IP version nibble (4 for IPv4). */
export function ipv4Version(d: Uint8Array, off: number): number {
  return d[off]! >> 4;
}
/** Header length in bytes (IHL * 4). */
export function ipv4HeaderLength(d: Uint8Array, off: number): number {
  return (d[off]! & 0x0f) << 2;
}
/** DSCP (6 bits). */
export function ipv4Dscp(d: Uint8Array, off: number): number {
  return d[off + 1]! >> 2;
}
/** ECN (2 bits). */
export function ipv4Ecn(d: Uint8Array, off: number): number {
  return d[off + 1]! & 3;
}
/** Total length of the datagram (header + payload) as claimed by the header. */
export function ipv4TotalLength(d: Uint8Array, off: number): number {
  return u16(d, off + 2);
}
/** Identification (fragment reassembly id). */
export function ipv4Id(d: Uint8Array, off: number): number {
  return u16(d, off + 4);
}
/** Flags (3 bits: reserved, DF, MF). */
export function ipv4Flags(d: Uint8Array, off: number): number {
  return d[off + 6]! >> 5;
}
/** Don't Fragment flag. */
export function ipv4DontFragment(d: Uint8Array, off: number): boolean {
  return (d[off + 6]! & 0x40) !== 0;
}
/** More Fragments flag. */
export function ipv4MoreFragments(d: Uint8Array, off: number): boolean {
  return (d[off + 6]! & 0x20) !== 0;
}
/** Fragment offset in bytes (the header field times 8). */
export function ipv4FragmentOffset(d: Uint8Array, off: number): number {
  return (u16(d, off + 6) & 0x1fff) << 3;
}
/** Time to live. */
export function ipv4Ttl(d: Uint8Array, off: number): number {
  return d[off + 8]!;
}
/** Protocol of the payload. */
export function ipv4Protocol(d: Uint8Array, off: number): number {
  return d[off + 9]!;
}
/** Header checksum as stored. */
export function ipv4Checksum(d: Uint8Array, off: number): number {
  return u16(d, off + 10);
}
/** Source address as an unsigned 32-bit number. */
export function ipv4Src(d: Uint8Array, off: number): number {
  return u32(d, off + 12);
}
/** Destination address as an unsigned 32-bit number. */
export function ipv4Dst(d: Uint8Array, off: number): number {
  return u32(d, off + 16);
}
/** Offset of the source address (4 bytes). */
export function ipv4SrcOffset(off: number): number {
  return off + 12;
}
/** Offset of the destination address (4 bytes). */
export function ipv4DstOffset(off: number): number {
  return off + 16;
}

/**
 * True when the ones' complement sum over the header (`hlen` bytes, checksum
 * included) is 0xffff, i.e. the stored checksum is correct.
 */
export function ipv4ChecksumOk(d: Uint8Array, off: number, hlen: number): boolean {
  let sum = 0;
  for (let i = 0; i + 1 < hlen; i += 2) sum += (d[off + i]! << 8) | d[off + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

/** IPv4 option types seen in the wild. */
export const Ipv4Option = {
  End: 0,
  Nop: 1,
  Security: 130,
  LooseSourceRoute: 131,
  Timestamp: 68,
  RecordRoute: 7,
  StrictSourceRoute: 137,
  RouterAlert: 148,
} as const;

/**
 * Reusable, non-allocating iterator over IPv4 options (bytes 20..IHL*4).
 * After `next()` returns true, `type`, `length` (whole option, 1 for
 * End/Nop) and `valueOffset` (first byte after type/length) describe the
 * current option. `malformed` is set when a length byte is invalid.
 */
export class Ipv4OptionIterator extends TlvOptionIterator {
  /** Start iterating the options of the header at `off`; `end` bounds the reads (e.g. the captured end). */
  reset(d: Uint8Array, off: number, end: number): this {
    const hend = off + ((d[off]! & 0x0f) << 2);
    this.start(d, off + IPV4_MIN_HEADER_LEN, hend < end ? hend : end);
    return this;
  }
}


/** Fields of an IPv4 header to write (addresses as unsigned 32-bit numbers). */
export interface Ipv4Header {
  /** Header length in bytes (20 + options); the options are the caller's. Default 20. */
  headerLength?: number;
  tos?: number;
  totalLength: number;
  id?: number;
  /** Flags and fragment offset word (e.g. {@link Ipv4Frag.DF}). */
  flagsFragment?: number;
  ttl?: number;
  protocol: number;
  src: number;
  dst: number;
  /** Header checksum as given (0 = to be computed by the caller, e.g. netring/build's checksum()). */
  checksum?: number;
  /** Version nibble (4 unless a test wants a bad one). */
  version?: number;
}

/** Write the fixed 20 bytes of an IPv4 header at `off`; returns the offset after the whole header. */
export function writeIpv4(d: Uint8Array, off: number, h: Ipv4Header): number {
  const hl = h.headerLength ?? IPV4_MIN_HEADER_LEN;
  d[off + Ipv4Field.VersionIhl] = ((h.version ?? 4) << 4) | ((hl >> 2) & 0x0f);
  d[off + Ipv4Field.Tos] = h.tos ?? 0;
  put16(d, off + Ipv4Field.TotalLength, h.totalLength);
  put16(d, off + Ipv4Field.Id, h.id ?? 0);
  put16(d, off + Ipv4Field.FlagsFragment, h.flagsFragment ?? 0);
  d[off + Ipv4Field.Ttl] = h.ttl ?? 64;
  d[off + Ipv4Field.Protocol] = h.protocol;
  put16(d, off + Ipv4Field.Checksum, h.checksum ?? 0);
  put32(d, off + Ipv4Field.Src, h.src);
  put32(d, off + Ipv4Field.Dst, h.dst);
  return off + hl;
}

/**
 * Write the options of an IPv4 header whose fixed part starts at `hdr` and
 * whose options end at `end` (header length: a multiple of 4): `opts` as
 * given, then NOPs up to `end`. Returns `end`.
 */
export function writeIpv4Options(d: Uint8Array, hdr: number, end: number, opts: ArrayLike<number> = []): number {
  const at = hdr + Ipv4Field.Options;
  for (let i = 0; i < opts.length; i++) d[at + i] = opts[i]!;
  d.fill(Ipv4Option.Nop, at + opts.length, end);
  return end;
}
