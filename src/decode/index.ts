/**
 * netring/decode: zero-copy, lazy, layered packet header decoders.
 *
 * Two levels, both allocation-free on the hot path:
 *
 * 1. Per-protocol accessor functions over `(data, headerOffset)` returning
 *    plain numbers (`ipv4TotalLength`, `tcpFlags`, `ipv6FragOffset`, ...).
 *    They do no bounds checks: use them on headers a {@link Layers} decode
 *    reported present, or check lengths yourself.
 * 2. {@link Layers}: one reusable object per consumer. `decode(data,
 *    offset, caplen, linkType)` (or `decodePacket(p)` for a `PacketLike`)
 *    fills number fields in place (offsets of each layer, EtherType after
 *    VLAN tags, IP version and upper-layer protocol after IPv6 extension
 *    headers, ports, TCP flags, fragment and tunnel info), never throws and
 *    never reads outside `[offset, offset + caplen)`. What could not be
 *    decoded is in `errorLayer` / `error` ({@link Layer}, {@link DecodeError};
 *    `errorText()` for humans).
 *
 * Views vs copies: `Layers.payload()` returns a view into the capture
 * buffer (valid only while the batch/read buffer is); `copyPayload()`
 * copies. Formatting ({@link summary}, {@link ipv6ToString}, ...) allocates
 * strings and is meant for printing, not per-packet processing.
 *
 * Link types: Ethernet (1), Linux SLL (113), SLL2 (276), raw IP (101),
 * raw IPv4 (228), raw IPv6 (229), BSD loopback Null (0) and Loop (108).
 * VLAN: 802.1Q, 802.1ad and 0x9100 stacks of any depth (first two tags
 * recorded), plus a tag from packet metadata.
 * Tunnels: GRE (v0/v1), VXLAN (UDP 4789, configurable), IP-in-IP; decode
 * the inner packet with `Layers.decodeInner()`.
 *
 * @module
 */
export { Layers } from './layers.js';
export { Layer, DecodeError, Tunnel, layerName, errorName } from './codes.js';
export { flowHash, flowHashSymmetric, flowHashIpv4 } from './flow.js';
export { summary } from './summary.js';
export { macToString, ipv4ToString, ipv4NumberToString, ipv6ToString, addrToString } from './format.js';
export { u16, u32, u24 } from './bytes.js';
export * from './linktype.js';
export * from './ethernet.js';
export * from './vlan.js';
export * from './arp.js';
export * from './ipv4.js';
export * from './ipv6.js';
export * from './tcp.js';
export * from './udp.js';
export * from './icmp.js';
export * from './icmpv6.js';
export * from './gre.js';
export * from './vxlan.js';
export * from './geneve.js';
export * from './llc.js';
export * from './mpls.js';
export * from './pppoe.js';
export * from './decnet.js';
export * from './isis.js';
