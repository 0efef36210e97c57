/**
 * Reads the flow key of one packet straight from its bytes: every header
 * offset the flow meter uses is in this file (the IPv6 extension-header
 * values and lengths come from netring/decode's ipv6 module, as const enums:
 * literals in the compiled code). No allocation, no throw, never
 * reads outside `[offset, offset + caplen)`.
 *
 * The key is 10 unsigned 32-bit words, in the packet's own direction:
 *
 *   w0      vlan id (bits 0-11) | IP version (bits 12-15) | protocol (bits 16-23)
 *   w1..w4  source address (IPv4: w1 only, w2..w4 = 0)
 *   w5..w8  destination address
 *   w9      source port << 16 | destination port
 *           (ICMP/ICMPv6: source 0, destination type << 8 | code;
 *            other protocols and non-first fragments: 0)
 */

import { Ipv6Ext, Ipv6ExtField, Ipv6ExtLen } from '../decode/ipv6.js';

/** Words in a flow key (a const enum: a literal where the flow table's loops use it). */
export const enum Key { Words = 10 }
/** Words in a flow key. */
export const KEY_WORDS = Key.Words;

const ETH_HLEN = 14;
const SLL_HLEN = 16;
const IPV4_MIN = 20;
const IPV6_HLEN = 40;

/** What {@link parseFlowPacket} found besides the key. */
export class ParsedPacket {
  /** The key, in the packet's direction. */
  readonly key = new Uint32Array(KEY_WORDS);
  /** The same words as signed 32-bit integers (a view of `key`: V8 keeps these in registers). */
  readonly keyI = new Int32Array(this.key.buffer);
  /** Bytes counted for the flow: the IP total length (header + payload). */
  ipBytes = 0;
  /** TCP flags byte (0 for other protocols). */
  tcpFlags = 0;
}

function be16(d: Uint8Array, o: number): number { return (d[o] << 8) | d[o + 1]; }
function be32(d: Uint8Array, o: number): number { return ((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]) >>> 0; }

/**
 * Fill `out` from the packet at `data[offset .. offset + caplen)` of link
 * type `linkType` (1 Ethernet, 113 Linux SLL, 101/228/229 raw IP). `vlanTci`
 * is the tag from packet metadata (pass -1 when there is none). Returns the
 * IP version (4 or 6), or 0 when the packet is not IP or too short.
 */
export function parseFlowPacket(data: Uint8Array, offset: number, caplen: number, linkType: number, vlanTci: number,
  wireLen: number, out: ParsedPacket): number {
  const end = offset + caplen;
  let o = offset;
  let type = 0;
  let vlan = vlanTci >= 0 ? vlanTci & 0xfff : -1;
  if (linkType === 1) {
    if (caplen < ETH_HLEN) return 0;
    type = be16(data, o + 12);
    o += ETH_HLEN;
    for (let tags = 0; (type === 0x8100 || type === 0x88a8 || type === 0x9100) && tags < 4; tags++) {
      if (o + 4 > end) return 0;
      if (vlan < 0) vlan = be16(data, o) & 0xfff;
      type = be16(data, o + 2);
      o += 4;
    }
  } else if (linkType === 113) {
    if (caplen < SLL_HLEN) return 0;
    type = be16(data, o + 14);
    o += SLL_HLEN;
  } else if (linkType === 101 || linkType === 12 || linkType === 14) {
    if (caplen < 1) return 0;
    type = data[o] >> 4 === 6 ? 0x86dd : 0x0800;
  } else if (linkType === 228) {
    type = 0x0800;
  } else if (linkType === 229) {
    type = 0x86dd;
  } else {
    return 0;
  }
  const k = out.key;
  let version: number;
  let proto: number;
  let l4: number;
  let ports = true;
  if (type === 0x0800) {
    if (o + IPV4_MIN > end || data[o] >> 4 !== 4) return 0;
    const ihl = (data[o] & 0x0f) << 2;
    if (ihl < IPV4_MIN) return 0;
    version = 4;
    proto = data[o + 9];
    k[1] = be32(data, o + 12); k[2] = 0; k[3] = 0; k[4] = 0;
    k[5] = be32(data, o + 16); k[6] = 0; k[7] = 0; k[8] = 0;
    const total = be16(data, o + 2);
    out.ipBytes = total !== 0 ? total : wireLen - (o - offset);
    if ((be16(data, o + 6) & 0x1fff) !== 0) ports = false;
    l4 = o + ihl;
  } else if (type === 0x86dd) {
    if (o + IPV6_HLEN > end || data[o] >> 4 !== 6) return 0;
    version = 6;
    for (let i = 0; i < 4; i++) { k[1 + i] = be32(data, o + 8 + 4 * i); k[5 + i] = be32(data, o + 24 + 4 * i); }
    const plen = be16(data, o + 4);
    out.ipBytes = plen !== 0 ? plen + IPV6_HLEN : wireLen - (o - offset);
    proto = data[o + 6];
    l4 = o + IPV6_HLEN;
    for (let hops = 0; hops < 8; hops++) {
      if (proto === Ipv6Ext.HopByHop || proto === Ipv6Ext.Routing || proto === Ipv6Ext.DestOpts) {
        if (l4 + 8 > end) { ports = false; break; }
        proto = data[l4 + Ipv6ExtField.NextHeader];
        l4 += (data[l4 + Ipv6ExtField.Length] + Ipv6ExtLen.Bias) << Ipv6ExtLen.UnitShift;
      } else if (proto === Ipv6Ext.Fragment) {
        if (l4 + 8 > end) { ports = false; break; }
        if ((be16(data, l4 + Ipv6ExtField.FragOffset) & 0xfff8) !== 0) ports = false;
        proto = data[l4 + Ipv6ExtField.NextHeader];
        l4 += 8;
      } else if (proto === Ipv6Ext.AH) {
        if (l4 + 8 > end) { ports = false; break; }
        proto = data[l4 + Ipv6ExtField.NextHeader];
        l4 += (data[l4 + Ipv6ExtField.Length] + Ipv6ExtLen.AhBias) << Ipv6ExtLen.AhUnitShift;
      } else break;
    }
  } else {
    return 0;
  }
  let w9 = 0;
  out.tcpFlags = 0;
  if (ports) {
    if (proto === 6 || proto === 17 || proto === 132 || proto === 136) {
      if (l4 + 4 <= end) w9 = be32(data, l4);
      if (proto === 6 && l4 + 14 <= end) out.tcpFlags = data[l4 + 13];
    } else if (proto === 1 || proto === 58) {
      if (l4 + 2 <= end) w9 = be16(data, l4);
    }
  }
  k[0] = (vlan < 0 ? 0 : vlan) | (version << 12) | (proto << 16);
  k[9] = w9;
  return version;
}

/** The IP version of a key. */
export function keyVersion(k: Uint32Array, i = 0): number { return (k[i] >>> 12) & 0xf; }
/** The protocol of a key. */
export function keyProto(k: Uint32Array, i = 0): number { return (k[i] >>> 16) & 0xff; }
/** The VLAN id of a key (0 = untagged). */
export function keyVlan(k: Uint32Array, i = 0): number { return k[i] & 0xfff; }
