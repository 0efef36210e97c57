/**
 * Small numeric codes used by {@link Layers}: which layer a packet
 * contained (bit `1 << Layer.X` of `present`), which layer could not be
 * decoded (`errorLayer`) and why (`error`), plus their names for printing.
 */

/** Layer identifiers. `Layers.present` has bit `1 << id` set for each layer decoded. */
export const Layer = {
  None: 0,
  Ethernet: 1,
  LinuxSLL: 2,
  LinuxSLL2: 3,
  VLAN: 4,
  ARP: 5,
  IPv4: 6,
  IPv6: 7,
  /** One or more IPv6 extension headers. */
  IPv6Ext: 8,
  TCP: 9,
  UDP: 10,
  ICMP: 11,
  ICMPv6: 12,
  GRE: 13,
  VXLAN: 14,
  /** The link layer as a whole (used for an unsupported link type or a bad offset/caplen). */
  Link: 15,
} as const;

/** Why decoding stopped. 0 means every layer present was decoded. */
export const DecodeError = {
  None: 0,
  /** A header runs past the captured bytes (caplen / snaplen cut it). */
  Truncated: 1,
  /** `linkType` is not one netring decodes. */
  UnsupportedLinkType: 2,
  /** IP version nibble does not match (e.g. EtherType IPv4 with version 6). */
  BadVersion: 3,
  /** A header length field is below its minimum (IPv4 IHL < 5, TCP data offset < 5). */
  BadHeaderLength: 4,
  /** A length field contradicts another (IPv4 total length < IHL, UDP length < 8 or past the datagram, an extension header past the IPv6 payload). */
  BadLength: 5,
  /** A valid but undecoded variant (GRE routing/version > 1). */
  Unsupported: 6,
  /** `offset`/`caplen` are not non-negative integers. */
  BadOffset: 7,
} as const;

/** Tunnel kinds reported in `Layers.tunnel`. */
export const Tunnel = { None: 0, GRE: 1, VXLAN: 2, IPIP: 3 } as const;

const LAYER_NAMES = [
  'none', 'ethernet', 'sll', 'sll2', 'vlan', 'arp', 'ipv4', 'ipv6', 'ipv6-ext',
  'tcp', 'udp', 'icmp', 'icmpv6', 'gre', 'vxlan', 'link',
];
const ERROR_NAMES = [
  'ok', 'truncated', 'unsupported link type', 'bad version', 'bad header length',
  'bad length', 'unsupported', 'bad offset or caplen',
];

/** Name of a {@link Layer} id ("ipv4"), or "layer-N" for an unknown id. */
export function layerName(id: number): string {
  return LAYER_NAMES[id] ?? `layer-${id}`;
}

/** Name of a {@link DecodeError} code ("truncated"), or "error-N". */
export function errorName(code: number): string {
  return ERROR_NAMES[code] ?? `error-${code}`;
}
