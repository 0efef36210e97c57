/**
 * Packet builder: Ethernet (+ 802.1Q/802.1ad tags) / IPv4 or IPv6 /
 * UDP, TCP or ICMP(v6) frames from typed options, with correct checksums,
 * and the offsets of every field a stream may rewrite per packet.
 *
 *   const t = buildPacket({ src: '10.0.0.1', dst: '10.0.0.2', dport: 53, size: 128 });
 *   ring.write(t.bytes);
 *
 * Frame sizes are the bytes handed to the device (no FCS), 60..9000. With a
 * fill pattern the IP packet covers the whole frame; explicit payload bytes
 * shorter than the Ethernet minimum are followed by a zero trailer.
 */
import { NetringError } from '../errors.js';
import { ipFamily, parseIPv4, parseIPv6, parseMac } from './addr.js';
import { checksum, sum16 } from './checksum.js';
import { fillPayload, parsePayload, type PayloadPattern } from './payload.js';
import { put16, put32 } from '../decode/bytes.js';
import { EthField, EtherType, writeEthernet } from '../decode/ethernet.js';
import { IcmpField, writeIcmp } from '../decode/icmp.js';
import { Ipv4Field, Ipv4Frag, writeIpv4 } from '../decode/ipv4.js';
import { Ipv6Field, writeIpv6 } from '../decode/ipv6.js';
import { TcpField, writeTcp } from '../decode/tcp.js';
import { UdpField, writeUdp } from '../decode/udp.js';
import { VLAN_TAG_LEN, writeVlanTag } from '../decode/vlan.js';

/** Transport protocols the builder writes. */
export type L4Proto = 'udp' | 'tcp' | 'icmp';

/** One VLAN tag (outermost first in a list). */
export interface VlanTag {
  /** VLAN id 0..4095. */
  id: number;
  /** Priority code point 0..7 (default 0). */
  pcp?: number;
  /** Drop eligible indicator (default false). */
  dei?: boolean;
  /** TPID (default 0x8100; outer tags of a stack default to 0x88a8). */
  tpid?: number;
}

/** What to build. Every field has a default. */
export interface PacketSpec {
  /** Source MAC (default 02:00:00:00:00:01). */
  srcMac?: string | Uint8Array;
  /** Destination MAC (default 02:00:00:00:00:02). */
  dstMac?: string | Uint8Array;
  /** VLAN tags: an id, a tag, or a list (outermost first). */
  vlan?: number | VlanTag | Array<number | VlanTag>;
  /** Source IP (default 10.0.0.1, or fd00::1 when dst is IPv6). Sets the IP version. */
  src?: string;
  /** Destination IP (default 10.0.0.2 or fd00::2). */
  dst?: string;
  /** Transport (default udp). */
  proto?: L4Proto;
  /** Source port (UDP/TCP, default 10000). */
  sport?: number;
  /** Destination port (UDP/TCP, default 5001). */
  dport?: number;
  /** TTL / hop limit (default 64). */
  ttl?: number;
  /** TOS / traffic class (default 0). */
  tos?: number;
  /** IPv4 identification (default 0). */
  ipId?: number;
  /** IPv4 don't-fragment bit (default true). */
  df?: boolean;
  /** IPv6 flow label (default 0). */
  flowLabel?: number;
  /** TCP flags as letters (FSRPAUEC, e.g. "SA") or a number (default "S"). */
  tcpFlags?: string | number;
  /** TCP sequence number (default 1). */
  tcpSeq?: number;
  /** TCP acknowledgment number (default 0). */
  tcpAck?: number;
  /** TCP window (default 65535). */
  tcpWindow?: number;
  /** ICMP type (default echo request: 8, or 128 for ICMPv6). */
  icmpType?: number;
  /** ICMP code (default 0). */
  icmpCode?: number;
  /** ICMP echo identifier (default 1). */
  icmpId?: number;
  /** ICMP echo sequence (default 1). */
  icmpSeq?: number;
  /** Frame length in bytes, 60..9000 (default: the Ethernet minimum 60, or headers + payload bytes). */
  size?: number;
  /** Payload fill pattern (see payload.ts) or explicit bytes. Default zero. */
  payload?: string | number | PayloadPattern | Uint8Array;
  /** Seed of the random payload pattern (default 1). */
  seed?: number;
}

/** A built frame and where its fields are. Offsets are from the frame start; -1 = absent. */
export interface Template {
  /** The frame (length `length`). */
  bytes: Uint8Array;
  length: number;
  family: 4 | 6;
  /** IP protocol number (17 UDP, 6 TCP, 1 ICMP, 58 ICMPv6). */
  ipProto: number;
  /** Offsets of each tag's TCI (outermost first). */
  vlanTciOffs: number[];
  l3Off: number;
  l4Off: number;
  /** First payload byte = header length. */
  payloadOff: number;
  /** IP source / destination address (4 or 16 bytes). */
  srcOff: number;
  dstOff: number;
  addrLen: number;
  /** UDP/TCP ports (-1 for ICMP). */
  sportOff: number;
  dportOff: number;
  /** IPv4 header checksum (-1 for IPv6). */
  ipCsumOff: number;
  /** IPv4 total length or IPv6 payload length. */
  ipLenOff: number;
  /** UDP length (-1 otherwise). */
  l4LenOff: number;
  /** Transport checksum. */
  l4CsumOff: number;
  /** True when the IP packet ends before the frame (explicit short payload + trailer). */
  trailer: boolean;
  /** The payload pattern (null when explicit bytes were given). */
  pattern: PayloadPattern | null;
}

/** Smallest and largest frame the builder makes. */
export const MIN_FRAME = 60;
export const MAX_FRAME = 9000;

const DEFAULT_SRC_MAC = '02:00:00:00:00:01';
const DEFAULT_DST_MAC = '02:00:00:00:00:02';

function invalid(msg: string): NetringError {
  return new NetringError(msg, 'EINVAL');
}

function intIn(v: number | undefined, def: number, lo: number, hi: number, what: string): number {
  const x = v ?? def;
  if (!Number.isInteger(x) || x < lo || x > hi) throw invalid(`${what} must be an integer in ${lo}..${hi} (got ${String(v)})`);
  return x;
}

const TCP_FLAG_BITS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, E: 0x40, C: 0x80 };

/** TCP flags from letters ("SA", "PA") or a number. */
export function parseTcpFlags(f: string | number | undefined): number {
  if (f === undefined) return TCP_FLAG_BITS.S;
  if (typeof f === 'number') return intIn(f, 0, 0, 255, 'tcpFlags');
  let v = 0;
  for (const c of f.toUpperCase()) {
    const b = TCP_FLAG_BITS[c];
    if (b === undefined) throw invalid(`bad TCP flags "${f}": letters are F S R P A U E C`);
    v |= b;
  }
  return v;
}

function tags(v: PacketSpec['vlan']): VlanTag[] {
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((t, i) => {
    const tag = typeof t === 'number' ? { id: t } : t;
    intIn(tag.id, 0, 0, 4095, 'VLAN id');
    intIn(tag.pcp, 0, 0, 7, 'VLAN pcp');
    const tpid = tag.tpid ?? (i < list.length - 1 ? 0x88a8 : 0x8100);
    intIn(tpid, 0, 0, 0xffff, 'VLAN tpid');
    return { ...tag, tpid };
  });
}

function mac(v: string | Uint8Array | undefined, def: string): Uint8Array {
  if (v instanceof Uint8Array) {
    if (v.length !== 6) throw invalid('a MAC address is 6 bytes');
    return v;
  }
  return parseMac(v ?? def);
}

/** Bytes of headers (Ethernet + tags + IP + transport) for a spec, without building it. */
export function headerLength(spec: Pick<PacketSpec, 'vlan' | 'src' | 'dst' | 'proto'> = {}): number {
  const fam = familyOf(spec);
  return 14 + 4 * tags(spec.vlan).length + (fam === 4 ? 20 : 40) + l4Len(spec.proto ?? 'udp');
}

/** Header length breakdown for messages ("Ethernet 14 + IPv4 20 + UDP 8"). */
export function describeHeaders(spec: Pick<PacketSpec, 'vlan' | 'src' | 'dst' | 'proto'> = {}): string {
  const fam = familyOf(spec);
  const n = tags(spec.vlan).length;
  const proto = spec.proto ?? 'udp';
  const parts = ['Ethernet 14'];
  if (n > 0) parts.push(`VLAN ${4 * n}`);
  parts.push(fam === 4 ? 'IPv4 20' : 'IPv6 40');
  parts.push(`${proto === 'icmp' && fam === 6 ? 'ICMPV6' : proto.toUpperCase()} ${l4Len(proto)}`);
  return parts.join(' + ');
}

function l4Len(p: L4Proto): number {
  if (p === 'udp' || p === 'icmp') return 8;
  if (p === 'tcp') return 20;
  throw invalid(`unknown protocol "${String(p)}": expected udp, tcp or icmp`);
}

function familyOf(spec: Pick<PacketSpec, 'src' | 'dst'>): 4 | 6 {
  const fs = spec.src !== undefined ? ipFamily(spec.src) : 0;
  const fd = spec.dst !== undefined ? ipFamily(spec.dst) : 0;
  if (spec.src !== undefined && fs === 0) throw invalid(`bad source address "${spec.src}"`);
  if (spec.dst !== undefined && fd === 0) throw invalid(`bad destination address "${spec.dst}"`);
  if (fs !== 0 && fd !== 0 && fs !== fd) throw invalid(`source ${spec.src} and destination ${spec.dst} are different IP versions`);
  return (fs || fd || 4) as 4 | 6;
}

/** Build one frame. Throws NetringError (EINVAL) with a clear message for bad options. */
export function buildPacket(spec: PacketSpec = {}): Template {
  const family = familyOf(spec);
  const proto = spec.proto ?? 'udp';
  const vt = tags(spec.vlan);
  const l3Off = 14 + 4 * vt.length;
  const l3Len = family === 4 ? 20 : 40;
  const l4Off = l3Off + l3Len;
  const payloadOff = l4Off + l4Len(proto);
  const explicit = spec.payload instanceof Uint8Array ? spec.payload : null;
  let pattern: PayloadPattern | null = null;
  if (explicit === null) {
    const p = spec.payload;
    pattern = typeof p === 'object' && p !== null && 'kind' in p ? p : parsePayload(p as string | number | undefined, spec.seed ?? 1);
  }
  const natural = explicit !== null ? payloadOff + explicit.length : payloadOff;
  const size = spec.size ?? Math.max(MIN_FRAME, natural);
  if (!Number.isInteger(size)) throw invalid(`size must be an integer (got ${String(spec.size)})`);
  if (size < payloadOff)
    throw invalid(`size ${size} is smaller than the headers: ${describeHeaders(spec)} = ${payloadOff} bytes`);
  if (explicit !== null && size < natural) throw invalid(`size ${size} cannot hold the headers (${payloadOff}) and ${explicit.length} payload bytes`);
  if (size < MIN_FRAME || size > MAX_FRAME) throw invalid(`size ${size} outside ${MIN_FRAME}..${MAX_FRAME} bytes (frame without FCS)`);
  const ipEnd = explicit !== null ? natural : size;

  // Headers are laid out by the protocol modules of src/decode (one owner per layout).
  const b = new Uint8Array(size);
  const l3Type = family === 4 ? EtherType.IPv4 : EtherType.IPv6;
  writeEthernet(b, 0, mac(spec.dstMac, DEFAULT_DST_MAC), mac(spec.srcMac, DEFAULT_SRC_MAC), vt.length > 0 ? vt[0].tpid! : l3Type);
  const vlanTciOffs: number[] = [];
  let o = EthField.Type;
  for (const t of vt) {
    writeVlanTag(b, o, t.tpid!, ((t.pcp ?? 0) << 13) | (t.dei ? 0x1000 : 0) | t.id);
    vlanTciOffs.push(o + 2);
    o += VLAN_TAG_LEN;
  }
  put16(b, o, l3Type);

  const ttl = intIn(spec.ttl, 64, 0, 255, 'ttl');
  const tos = intIn(spec.tos, 0, 0, 255, 'tos');
  const ipProto = proto === 'udp' ? 17 : proto === 'tcp' ? 6 : family === 4 ? 1 : 58;
  let srcOff: number, dstOff: number, ipCsumOff = -1, ipLenOff: number;
  if (family === 4) {
    writeIpv4(b, l3Off, {
      tos, totalLength: ipEnd - l3Off, id: intIn(spec.ipId, 0, 0, 0xffff, 'ipId'), flagsFragment: spec.df ?? true ? Ipv4Frag.DF : 0,
      ttl, protocol: ipProto, src: parseIPv4(spec.src ?? '10.0.0.1'), dst: parseIPv4(spec.dst ?? '10.0.0.2'),
    });
    ipLenOff = l3Off + Ipv4Field.TotalLength;
    srcOff = l3Off + Ipv4Field.Src;
    dstOff = l3Off + Ipv4Field.Dst;
    ipCsumOff = l3Off + Ipv4Field.Checksum;
  } else {
    writeIpv6(b, l3Off, {
      trafficClass: tos, flowLabel: intIn(spec.flowLabel, 0, 0, 0xfffff, 'flowLabel'), payloadLength: ipEnd - l4Off,
      nextHeader: ipProto, hopLimit: ttl, src: parseIPv6(spec.src ?? 'fd00::1'), dst: parseIPv6(spec.dst ?? 'fd00::2'),
    });
    ipLenOff = l3Off + Ipv6Field.PayloadLength;
    srcOff = l3Off + Ipv6Field.Src;
    dstOff = l3Off + Ipv6Field.Dst;
  }

  let sportOff = -1, dportOff = -1, l4LenOff = -1, l4CsumOff: number;
  if (proto === 'udp' || proto === 'tcp') {
    sportOff = l4Off + UdpField.SrcPort;
    dportOff = l4Off + UdpField.DstPort;
  }
  const sport = (): number => intIn(spec.sport, 10000, 0, 0xffff, 'sport');
  const dport = (): number => intIn(spec.dport, 5001, 0, 0xffff, 'dport');
  if (proto === 'udp') {
    writeUdp(b, l4Off, sport(), dport(), ipEnd - l4Off);
    l4LenOff = l4Off + UdpField.Length;
    l4CsumOff = l4Off + UdpField.Checksum;
  } else if (proto === 'tcp') {
    writeTcp(b, l4Off, {
      sport: sport(), dport: dport(), seq: intIn(spec.tcpSeq, 1, 0, 0xffffffff, 'tcpSeq'), ack: intIn(spec.tcpAck, 0, 0, 0xffffffff, 'tcpAck'),
      flags: parseTcpFlags(spec.tcpFlags), window: intIn(spec.tcpWindow, 65535, 0, 0xffff, 'tcpWindow'),
    });
    l4CsumOff = l4Off + TcpField.Checksum;
  } else {
    writeIcmp(b, l4Off, intIn(spec.icmpType, family === 4 ? 8 : 128, 0, 255, 'icmpType'), intIn(spec.icmpCode, 0, 0, 255, 'icmpCode'),
      intIn(spec.icmpId, 1, 0, 0xffff, 'icmpId'), intIn(spec.icmpSeq, 1, 0, 0xffff, 'icmpSeq'));
    l4CsumOff = l4Off + IcmpField.Checksum;
  }

  if (explicit !== null) b.set(explicit, payloadOff);
  else fillPayload(b, payloadOff, size - payloadOff, pattern!);

  const t: Template = {
    bytes: b, length: size, family, ipProto, vlanTciOffs, l3Off, l4Off, payloadOff, srcOff, dstOff,
    addrLen: family === 4 ? 4 : 16, sportOff, dportOff, ipCsumOff, ipLenOff, l4LenOff, l4CsumOff,
    trailer: ipEnd < size, pattern,
  };
  writeChecksums(t, ipEnd);
  return t;
}

/** Shorthand: the bytes of buildPacket(spec). */
export function buildFrame(spec: PacketSpec = {}): Uint8Array {
  return buildPacket(spec).bytes;
}

/** Sum of the pseudo-header words (addresses, protocol, transport length); 0 for ICMPv4. */
export function pseudoHeaderSum(t: Template, l4Length: number): number {
  if (t.ipProto === 1) return 0;
  return sum16(t.bytes, t.srcOff, t.addrLen) + sum16(t.bytes, t.dstOff, t.addrLen) + t.ipProto + l4Length;
}

/** (Re)compute the IPv4 header and transport checksums of a template whose IP packet ends at ipEnd. */
export function writeChecksums(t: Template, ipEnd = t.length): void {
  const b = t.bytes;
  if (t.ipCsumOff >= 0) {
    put16(b, t.ipCsumOff, 0);
    put16(b, t.ipCsumOff, checksum(b, t.l3Off, 20));
  }
  const l4Length = ipEnd - t.l4Off;
  put16(b, t.l4CsumOff, 0);
  let c = checksum(b, t.l4Off, l4Length, pseudoHeaderSum(t, l4Length));
  if (c === 0 && t.ipProto === 17) c = 0xffff;
  put16(b, t.l4CsumOff, c);
}

/** @internal big-endian stores (the decoders' own) */
export { put16, put32 };
