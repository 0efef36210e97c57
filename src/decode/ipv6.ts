/**
 * IPv6 header (RFC 8200, 40 bytes) and its extension-header chain.
 * Accessors take the offset of the fixed header; the caller checks bounds.
 */
import { put16, put32, u16, u32 } from './bytes.js';

/** Length of the fixed IPv6 header. */
export const IPV6_HEADER_LEN = 40;
/** Length of an IPv6 Fragment extension header. */
export const IPV6_FRAGMENT_HEADER_LEN = 8;

/** Field offsets within the fixed IPv6 header. */
export const enum Ipv6Field { VersionClassFlow = 0, PayloadLength = 4, NextHeader = 6, HopLimit = 7, Src = 8, Dst = 24, Length = 40 }
/** Field offsets within an extension header (Fragment: offset word and id). */
export const enum Ipv6ExtField { NextHeader = 0, Length = 1, FragOffset = 2, FragId = 4 }

/**
 * Next Header values of the extension headers (and the end of the chain);
 * also IP protocol numbers ({@link IpProto}).
 */
export const enum Ipv6Ext {
  HopByHop = 0, Routing = 43, Fragment = 44, ESP = 50, AH = 51, NoNext = 59, DestOpts = 60, Mobility = 135, HIP = 139, Shim6 = 140,
}
/**
 * Extension header lengths: the length byte counts 8-byte units beyond the
 * first ((len + 1) * 8); AH counts 4-byte units beyond the first two
 * ((len + 2) * 4); a Fragment header is always 8 bytes.
 */
export const enum Ipv6ExtLen { Unit = 8, UnitShift = 3, Bias = 1, AhUnit = 4, AhUnitShift = 2, AhBias = 2 }

/** First byte of every IPv6 multicast address (ff00::/8). */
export const IPV6_MULTICAST_FIRST_BYTE = 0xff;

/** IP version nibble (6). */
export function ipv6Version(d: Uint8Array, off: number): number {
  return d[off]! >> 4;
}
/** Traffic class (8 bits). */
export function ipv6TrafficClass(d: Uint8Array, off: number): number {
  return ((d[off]! & 0x0f) << 4) | (d[off + 1]! >> 4);
}
/** Flow label (20 bits). */
export function ipv6FlowLabel(d: Uint8Array, off: number): number {
  return ((d[off + 1]! & 0x0f) << 16) | u16(d, off + 2);
}
/** Payload length (bytes after the fixed header, extension headers included). */
export function ipv6PayloadLength(d: Uint8Array, off: number): number {
  return u16(d, off + 4);
}
/** Next Header of the fixed header. */
export function ipv6NextHeader(d: Uint8Array, off: number): number {
  return d[off + 6]!;
}
/** Hop limit. */
export function ipv6HopLimit(d: Uint8Array, off: number): number {
  return d[off + 7]!;
}
/** Offset of the source address (16 bytes). */
export function ipv6SrcOffset(off: number): number {
  return off + 8;
}
/** Offset of the destination address (16 bytes). */
export function ipv6DstOffset(off: number): number {
  return off + 24;
}

/**
 * True for the Next Header values netring walks as extension headers:
 * Hop-by-Hop (0), Routing (43), Fragment (44), Destination Options (60),
 * Authentication Header (51), Mobility (135), HIP (139), Shim6 (140).
 * ESP (50) is not walked: what follows it is encrypted.
 */
export function isIpv6ExtensionHeader(nh: number): boolean {
  return nh === Ipv6Ext.HopByHop || nh === Ipv6Ext.Routing || nh === Ipv6Ext.Fragment || nh === Ipv6Ext.DestOpts || nh === Ipv6Ext.AH ||
    nh === Ipv6Ext.Mobility || nh === Ipv6Ext.HIP || nh === Ipv6Ext.Shim6;
}

/**
 * Length in bytes of the extension header of type `nh` at `off` (its first
 * 2 bytes must be available): 8 for Fragment, (len + 2) * 4 for AH,
 * (len + 1) * 8 for the others.
 */
export function ipv6ExtHeaderLength(d: Uint8Array, nh: number, off: number): number {
  if (nh === Ipv6Ext.Fragment) return IPV6_FRAGMENT_HEADER_LEN;
  if (nh === Ipv6Ext.AH) return (d[off + Ipv6ExtField.Length]! + Ipv6ExtLen.AhBias) << Ipv6ExtLen.AhUnitShift;
  return (d[off + Ipv6ExtField.Length]! + Ipv6ExtLen.Bias) << Ipv6ExtLen.UnitShift;
}

/** Next Header field of any extension header at `off`. */
export function ipv6ExtNextHeader(d: Uint8Array, off: number): number {
  return d[off]!;
}

/** Fragment offset in bytes, from a Fragment header at `off`. */
export function ipv6FragOffset(d: Uint8Array, off: number): number {
  return u16(d, off + 2) & 0xfff8;
}
/** M (more fragments) flag of a Fragment header at `off`. */
export function ipv6FragMore(d: Uint8Array, off: number): boolean {
  return (d[off + 3]! & 1) === 1;
}
/** Identification of a Fragment header at `off`. */
export function ipv6FragId(d: Uint8Array, off: number): number {
  return u32(d, off + 4);
}
/** Routing type of a Routing header at `off`. */
export function ipv6RoutingType(d: Uint8Array, off: number): number {
  return d[off + 2]!;
}
/** Segments left of a Routing header at `off`. */
export function ipv6SegmentsLeft(d: Uint8Array, off: number): number {
  return d[off + 3]!;
}

/** Fields of a fixed IPv6 header to write (addresses as 16 bytes). */
export interface Ipv6Header {
  trafficClass?: number;
  flowLabel?: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit?: number;
  src: ArrayLike<number>;
  dst: ArrayLike<number>;
}

/** Write a fixed IPv6 header at `off`; returns the offset after it. */
export function writeIpv6(d: Uint8Array, off: number, h: Ipv6Header): number {
  const tc = h.trafficClass ?? 0;
  put32(d, off + Ipv6Field.VersionClassFlow, ((0x60000000 | (tc << 20) | ((h.flowLabel ?? 0) & 0xfffff)) >>> 0));
  put16(d, off + Ipv6Field.PayloadLength, h.payloadLength);
  d[off + Ipv6Field.NextHeader] = h.nextHeader;
  d[off + Ipv6Field.HopLimit] = h.hopLimit ?? 64;
  for (let i = 0; i < 16; i++) {
    d[off + Ipv6Field.Src + i] = h.src[i]!;
    d[off + Ipv6Field.Dst + i] = h.dst[i]!;
  }
  return off + IPV6_HEADER_LEN;
}

/** Hop-by-hop / destination options: Pad1 and PadN option types (RFC 8200). */
export const Ipv6Opt = { Pad1: 0, PadN: 1 } as const;

/**
 * Write a Hop-by-Hop Options extension header of `length` bytes (a multiple
 * of 8, default 8) at `off` holding only padding (one PadN option, or Pad1
 * for a single byte); returns the offset after it.
 */
export function writeIpv6HopByHop(d: Uint8Array, off: number, nextHeader: number, length = 8): number {
  d[off + Ipv6ExtField.NextHeader] = nextHeader;
  d[off + Ipv6ExtField.Length] = (length >> Ipv6ExtLen.UnitShift) - Ipv6ExtLen.Bias; // in 8-byte units, not counting the first 8
  const pad = length - 2;
  if (pad === 1) d[off + 2] = Ipv6Opt.Pad1;
  else {
    d[off + 2] = Ipv6Opt.PadN;
    d[off + 3] = pad - 2;
    d.fill(0, off + 4, off + length);
  }
  return off + length;
}

/** Write a Fragment extension header at `off` (offset in bytes, a multiple of 8); returns the offset after it. */
export function writeIpv6Fragment(d: Uint8Array, off: number, nextHeader: number, offset: number, more: boolean, id: number): number {
  d[off + Ipv6ExtField.NextHeader] = nextHeader;
  d[off + Ipv6ExtField.Length] = 0;
  put16(d, off + Ipv6ExtField.FragOffset, (offset & 0xfff8) | (more ? 1 : 0));
  put32(d, off + Ipv6ExtField.FragId, id);
  return off + IPV6_FRAGMENT_HEADER_LEN;
}
