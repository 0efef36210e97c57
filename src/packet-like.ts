/**
 * The shape every packet source in netring presents: a ring slot (live
 * capture) and a file record (pcap/pcapng reader) alike. Consumers such as
 * decoders, filters compiled to JS and file writers take a `PacketLike` and
 * read the bytes in place: `data[offset] .. data[offset + caplen - 1]`.
 *
 * Zero-copy rule: `data` is the backing store of the whole ring or read
 * buffer, valid only until the batch (or read) that produced the packet is
 * released. Call `copy()` on the concrete view to keep the bytes.
 */
export interface PacketLike {
  /** Backing store (the whole ring or file buffer): never copied. */
  readonly data: Uint8Array;
  /** Offset of the first captured byte (the link-layer header) in `data`. */
  readonly offset: number;
  /** Bytes captured (available at `offset`). */
  readonly caplen: number;
  /** Length of the packet on the wire (>= caplen for live packets; a file record keeps what its file says, which may be less, even 0). */
  readonly wireLen: number;
  /** Timestamp, seconds part. */
  readonly sec: number;
  /** Timestamp, nanoseconds part (0..999999999). */
  readonly nsec: number;
  /** True when the device moved an 802.1Q/802.1ad tag into metadata. */
  readonly vlanValid: boolean;
  /** VLAN TCI from metadata (PCP, DEI, VID) when `vlanValid`. */
  readonly vlanTci: number;
  /** VLAN TPID from metadata (0x8100 or 0x88a8) when `vlanValid`; 0 when unknown. */
  readonly vlanTpid: number;
  /** Interface index the packet was seen on (0 when unknown, e.g. a file). */
  readonly ifindex: number;
  /** sll_pkttype: 0 host, 1 broadcast, 2 multicast, 3 otherhost, 4 outgoing (0 for files). */
  readonly pktType: number;
  /** Link type of the bytes (LINKTYPE_*: 1 = Ethernet). */
  readonly linkType: number;
}
