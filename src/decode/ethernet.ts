/**
 * Ethernet II header (14 bytes): destination MAC, source MAC, EtherType.
 * Accessors take the offset of the header; the caller checks that
 * `ETH_HEADER_LEN` bytes are available.
 */
import { put16, u16 } from './bytes.js';

/** Length of an Ethernet II header without VLAN tags. */
export const ETH_HEADER_LEN = 14;

/** Field offsets within the Ethernet II header. */
export const enum EthField { Dst = 0, Src = 6, Type = 12, Length = 14 }

/** Well-known EtherType values. */
export const EtherType = {
  IPv4: 0x0800,
  ARP: 0x0806,
  /** Transparent Ethernet bridging (Ethernet inside GRE/NVGRE). */
  TEB: 0x6558,
  RARP: 0x8035,
  /** 802.1Q customer tag. */
  VLAN: 0x8100,
  IPv6: 0x86dd,
  /** 802.1ad service tag (QinQ outer tag). */
  QinQ: 0x88a8,
  /** Legacy pre-standard QinQ tag. */
  QinQ9100: 0x9100,
  /** XNS (Xerox NS): the lowest EtherType value ({@link ETH_MIN_ETHERTYPE}). */
  XNS: 0x0600,
  DECnet: 0x6003,
  AppleTalk: 0x809b,
  AARP: 0x80f3,
  IPX: 0x8137,
  /** MPLS unicast label stack ({@link MPLS_LABEL_LEN} bytes per entry, netring/decode mpls). */
  MPLS: 0x8847,
  MPLSMulticast: 0x8848,
  PPPoEDiscovery: 0x8863,
  PPPoESession: 0x8864,
  LLDP: 0x88cc,
} as const;

/** Bits of the first address byte: group (multicast) and locally administered. */
export const enum EthAddrBit { Group = 0x01, Local = 0x02 }
/** The broadcast address. */
export const ETH_BROADCAST: Readonly<Uint8Array> = new Uint8Array([255, 255, 255, 255, 255, 255]);

/** Values below this in the EtherType position are 802.3 length fields (LLC follows). */
export const ETH_MIN_ETHERTYPE = 0x0600;

/** Offset of the destination MAC (6 bytes). */
export function ethDstOffset(off: number): number {
  return off;
}

/** Offset of the source MAC (6 bytes). */
export function ethSrcOffset(off: number): number {
  return off + 6;
}

/** EtherType (or 802.3 length when < 0x0600) of an untagged frame. */
export function ethType(d: Uint8Array, off: number): number {
  return u16(d, off + 12);
}

/** True when the destination MAC is a group (multicast/broadcast) address. */
export function ethIsMulticast(d: Uint8Array, off: number): boolean {
  return (d[off]! & EthAddrBit.Group) === 1;
}

/** True when the destination MAC is ff:ff:ff:ff:ff:ff. */
export function ethIsBroadcast(d: Uint8Array, off: number): boolean {
  return (d[off]! & d[off + 1]! & d[off + 2]! & d[off + 3]! & d[off + 4]! & d[off + 5]!) === 0xff;
}

/** Write an Ethernet II header at `off` (MACs as 6 bytes each); returns the offset after it. */
export function writeEthernet(d: Uint8Array, off: number, dst: ArrayLike<number>, src: ArrayLike<number>, type: number): number {
  for (let i = 0; i < 6; i++) {
    d[off + EthField.Dst + i] = dst[i]!;
    d[off + EthField.Src + i] = src[i]!;
  }
  put16(d, off + EthField.Type, type);
  return off + EthField.Length;
}
