/**
 * netring/build: one packet's bytes.
 *
 * - {@link buildPacket}: Ethernet/VLAN/IPv4/IPv6/UDP/TCP/ICMP frames (IPv4
 *   options and fragment fields, IPv6 hop-by-hop and fragment headers) and
 *   ARP frames, with correct checksums, as a {@link Template} whose field
 *   offsets are known;
 * - Internet checksums (full and incremental), address text parsers and
 *   printers, payload patterns.
 *
 * @module
 */
export {
  buildPacket, buildFrame, headerLength, describeHeaders, writeChecksums, parseTcpFlags, pseudoHeaderSum, put16, put32,
  MIN_FRAME, MAX_FRAME, type PacketSpec, type Template, type VlanTag, type L4Proto, type ArpSpec, type Ipv6ExtHeader,
} from './builder.js';
export { checksum, sum16, sum32, fold, finish, updateChecksum16, updateChecksum32, checksumValid } from './checksum.js';
export { parseMac, parseIPv4, parseIPv6, ipFamily, formatIPv4, formatIPv6 } from './addr.js';
export { parsePayload, fillPayload, type PayloadPattern } from './payload.js';
