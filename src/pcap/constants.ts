export { LinkType } from '../linktype.js';

/** Classic pcap magic, microsecond timestamps (as read in the writer's byte order). */
export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
/** Classic pcap magic, nanosecond timestamps. */
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
/** Kuznetzov's "modified" pcap (8 extra bytes per record header), read only. */
export const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;

/** pcapng block types. */
export const BlockType = {
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  /** Obsolete Packet Block (pcapng drafts before EPB). */
  PB: 0x00000002,
  SPB: 0x00000003,
  NRB: 0x00000004,
  ISB: 0x00000005,
  EPB: 0x00000006,
} as const;

/** pcapng Section Header byte-order magic. */
export const PCAPNG_BOM = 0x1a2b3c4d;

/** Largest packet netring writes or reads by default (libpcap's MAXIMUM_SNAPLEN). */
export const MAX_SNAPLEN = 262144;

/** Default size of the writers' and readers' reusable buffers. */
export const DEFAULT_BUFFER_SIZE = 1 << 20;

/**
 * pcapng epb_flags bits for the packet direction (bits 0-1) and reception
 * type (bits 2-4).
 */
export const EpbFlags = {
  INBOUND: 1,
  OUTBOUND: 2,
  UNICAST: 1 << 2,
  MULTICAST: 2 << 2,
  BROADCAST: 3 << 2,
  PROMISCUOUS: 4 << 2,
} as const;

/**
 * epb_flags for a Linux sll_pkttype (0 host, 1 broadcast, 2 multicast,
 * 3 otherhost, 4 outgoing); 0 (unknown) for anything else.
 */
export function epbFlagsFromPktType(pktType: number): number {
  switch (pktType) {
    case 0: return EpbFlags.INBOUND | EpbFlags.UNICAST;
    case 1: return EpbFlags.INBOUND | EpbFlags.BROADCAST;
    case 2: return EpbFlags.INBOUND | EpbFlags.MULTICAST;
    case 3: return EpbFlags.INBOUND | EpbFlags.PROMISCUOUS;
    case 4: return EpbFlags.OUTBOUND;
    default: return 0;
  }
}

/** The sll_pkttype implied by epb_flags (0 host when unknown). */
export function pktTypeFromEpbFlags(flags: number): number {
  if ((flags & 3) === EpbFlags.OUTBOUND) return 4;
  switch (flags & 0x1c) {
    case EpbFlags.BROADCAST: return 1;
    case EpbFlags.MULTICAST: return 2;
    case EpbFlags.PROMISCUOUS: return 3;
    default: return 0;
  }
}
