/**
 * DECnet Phase IV routing header (EtherType 0x6003), as libpcap's
 * `decnet host` reads it: a 2-byte little-endian length, optionally one
 * padding byte (high bit set, low bits the pad count), then a flags byte
 * whose low 3 bits say short (0x02) or long (0x06) data packet. The short
 * header has the 2-byte destination node address right after the flags,
 * the source after it; the long header has 6-byte Ethernet-style addresses
 * whose last 2 bytes (after the HIORD prefix) are the node address.
 * Addresses are area (6 bits) and node (10 bits), little-endian in the packet.
 * Layout only: the filter compiler reads these headers, the decoder does not.
 */

/** Field offsets of the routing header without padding. */
export const enum DecnetField { Length = 0, Flags = 2 }
/** Bits of the flags byte (and of the padding byte before it). */
export const enum DecnetFlags {
  /** The routing-flags bits that tell the message type. */
  TypeMask = 0x07,
  ShortData = 0x02,
  LongData = 0x06,
  /** In the first byte after the length: this byte is padding (low 7 bits: pad count). */
  Pad = 0x80,
}
/**
 * Offsets of the node addresses, counted from the flags byte (libpcap
 * gen_dnhostop: short header dst after the flags, src after dst; long
 * header: flags, area, subarea, HIORD, then the node).
 */
export const enum DecnetAddr { ShortDst = 1, ShortSrc = 3, LongDst = 7, LongSrc = 15 }

/** The 16-bit address of `area.node` (area 1..63, node 1..1023), as libpcap's __pcap_atodn builds it. */
export function decnetAddress(area: number, node: number): number {
  return ((area << 10) & 0xfc00) | (node & 0x3ff);
}

/** An address as its two bytes appear in the packet, read as a big-endian halfword (the bytes swapped). */
export function decnetWireHalfword(addr: number): number {
  return ((addr & 0xff) << 8) | ((addr >> 8) & 0xff);
}
