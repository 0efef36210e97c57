/**
 * LINKTYPE_* numbers (tcpdump.org/linktypes.html): the link type of pcap/pcapng
 * files and of `PacketLike.linkType`. One table for decoders and file formats.
 */
/** Link types netring reads and writes. */
export const LinkType = {
  /** BSD loopback: 4-byte address family in the writer's byte order (2 = IPv4; 10, 24, 28, 30 = IPv6). */
  Null: 0,
  Ethernet: 1,
  /** Raw IP, version from the first nibble. */
  Raw: 101,
  /** OpenBSD loopback: like Null with the family in network byte order. */
  Loop: 108,
  /** Linux cooked capture v1 (16-byte header). */
  LinuxSLL: 113,
  /** Raw IPv4. */
  IPv4: 228,
  /** Raw IPv6. */
  IPv6: 229,
  /** Linux cooked capture v2 (20-byte header). */
  LinuxSLL2: 276,
} as const;
