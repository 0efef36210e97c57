/**
 * Packet builder: Ethernet (+ 802.1Q/802.1ad tags) / IPv4 (with options,
 * fragment fields) or IPv6 (with hop-by-hop and fragment extension headers)
 * / UDP, TCP or ICMP(v6) frames, or Ethernet ARP frames, from typed options,
 * with correct checksums, and the offsets of every field a stream may
 * rewrite per packet.
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
import { ARP_FIXED_LEN, ArpField, ArpOp, writeArp } from '../decode/arp.js';
import { ETH_HEADER_LEN, EthField, EtherType, writeEthernet } from '../decode/ethernet.js';
import { IcmpField, writeIcmp } from '../decode/icmp.js';
import { IPV4_MIN_HEADER_LEN, Ipv4Field, Ipv4Frag, writeIpv4, writeIpv4Options } from '../decode/ipv4.js';
import { Ipv6Ext, Ipv6Field, IPV6_FRAGMENT_HEADER_LEN, IPV6_HEADER_LEN, writeIpv6, writeIpv6Fragment, writeIpv6HopByHop } from '../decode/ipv6.js';
import { TcpField, writeTcp } from '../decode/tcp.js';
import { UdpField, writeUdp } from '../decode/udp.js';
import { VLAN_TAG_LEN, VlanTci, writeVlanTag } from '../decode/vlan.js';

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

/**
 * An IPv6 extension header to put between the fixed header and the
 * transport header (in list order; each one's Next Header names the next).
 */
export type Ipv6ExtHeader =
  | {
      /** Hop-by-Hop Options (Next Header 0), holding only padding (one PadN option). It must come first. */
      type: 'hop-by-hop';
      /** Header length in bytes: a multiple of 8, 8..256 (default 8). */
      length?: number;
    }
  | {
      /** Fragment header (Next Header 44, 8 bytes). */
      type: 'fragment';
      /** Fragment offset in bytes: a multiple of 8, 0..65528 (default 0). */
      offset?: number;
      /** M flag: more fragments follow (default false). */
      more?: boolean;
      /** Identification (default 0). */
      id?: number;
    };

/**
 * An Ethernet/IPv4 ARP message (RFC 826, 28 bytes). Sender and target
 * protocol addresses are the spec's `src` and `dst` (IPv4); the rest of the
 * frame, up to `size`, is zero padding.
 */
export interface ArpSpec {
  /** 'request' (default), 'reply', or an operation code 1..65535 (3, 4: RARP). */
  op?: 'request' | 'reply' | number;
  /** Sender hardware address (default: the frame's source MAC). */
  senderMac?: string | Uint8Array;
  /** Target hardware address (default 00:00:00:00:00:00 for a request, the frame's destination MAC otherwise). */
  targetMac?: string | Uint8Array;
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
  /** IPv4 don't-fragment bit (default true, false when `mf` or `fragOffset` is set). */
  df?: boolean;
  /** IPv4 more-fragments bit (default false). */
  mf?: boolean;
  /** IPv4 fragment offset in bytes: a multiple of 8, 0..65528 (default 0). */
  fragOffset?: number;
  /**
   * IPv4 options as bytes (type, length, value; e.g. [148, 4, 0, 0], router
   * alert), padded with NOPs (type 1) to a multiple of 4; at most 40 bytes.
   * The header length (IHL) counts them. IPv4 only.
   */
  ipOptions?: ArrayLike<number>;
  /** IPv6 extension headers between the fixed header and the transport header. IPv6 only. */
  ipv6Ext?: Ipv6ExtHeader[];
  /**
   * Build an ARP frame instead of an IP packet (EtherType 0x0806; `src` and
   * `dst` are the sender and target IPv4 addresses; the destination MAC
   * defaults to broadcast for a request). Transport, payload and IP header
   * options do not apply.
   */
  arp?: ArpSpec;
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
  /** IP protocol number (17 UDP, 6 TCP, 1 ICMP, 58 ICMPv6; -1 for ARP). */
  ipProto: number;
  /** True for an ARP frame: its message is at l3Off; srcOff/dstOff are the sender and target IPv4 addresses; no transport. */
  arp: boolean;
  /** Offsets of each tag's TCI (outermost first). */
  vlanTciOffs: number[];
  l3Off: number;
  /** Transport header (after IPv4 options or IPv6 extension headers). */
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
const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

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

function tagsOf(v: PacketSpec['vlan']): VlanTag[] {
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

/** The spec fields that decide the header layout. */
type LayoutSpec = Pick<PacketSpec, 'vlan' | 'src' | 'dst' | 'proto' | 'ipOptions' | 'ipv6Ext' | 'arp'>;

interface Layout {
  family: 4 | 6;
  arp: boolean;
  tags: VlanTag[];
  /** IPv4 option bytes with their NOP padding (0 without options). */
  optLen: number;
  /** Bytes of the IPv6 extension headers. */
  extLen: number;
  /** IP header (fixed + options or extension headers), or the ARP message. */
  l3Len: number;
  /** Transport header (0 for ARP). */
  l4Len: number;
}

const ARP_ETH_IPV4_LEN = ARP_FIXED_LEN + 2 * 6 + 2 * 4;
const HBH_MAX_LEN = 256;

function layoutOf(spec: LayoutSpec): Layout {
  const family = familyOf(spec);
  const tags = tagsOf(spec.vlan);
  if (spec.arp !== undefined) {
    if (family !== 4) throw invalid('ARP carries IPv4 addresses: src and dst must be IPv4');
    for (const k of ['proto', 'ipOptions', 'ipv6Ext'] as const) if (spec[k] !== undefined) throw invalid(`${k} does not apply to an ARP frame`);
    return { family, arp: true, tags, optLen: 0, extLen: 0, l3Len: ARP_ETH_IPV4_LEN, l4Len: 0 };
  }
  let optLen = 0;
  if (spec.ipOptions !== undefined) {
    if (family !== 4) throw invalid('ipOptions are IPv4 header options (use ipv6Ext for IPv6)');
    const o = spec.ipOptions;
    for (let i = 0; i < o.length; i++) if (!Number.isInteger(o[i]) || o[i]! < 0 || o[i]! > 255) throw invalid(`ipOptions[${i}] is not a byte (got ${String(o[i])})`);
    optLen = (o.length + 3) & ~3;
    if (optLen > 40) throw invalid(`ipOptions: ${o.length} bytes, at most 40 fit an IPv4 header`);
  }
  let extLen = 0;
  if (spec.ipv6Ext !== undefined) {
    if (family !== 6) throw invalid('ipv6Ext are IPv6 extension headers: src and dst must be IPv6');
    spec.ipv6Ext.forEach((e, i) => {
      if (e.type === 'hop-by-hop') {
        if (i !== 0) throw invalid('ipv6Ext: a hop-by-hop header must come first (RFC 8200)');
        const n = e.length ?? 8;
        if (!Number.isInteger(n) || n < 8 || n > HBH_MAX_LEN || n % 8 !== 0) throw invalid(`ipv6Ext hop-by-hop length must be a multiple of 8 in 8..${HBH_MAX_LEN} (got ${String(e.length)})`);
        extLen += n;
      } else if (e.type === 'fragment') {
        fragOffsetOf(e.offset, 'ipv6Ext fragment offset');
        intIn(e.id, 0, 0, 0xffffffff, 'ipv6Ext fragment id');
        extLen += IPV6_FRAGMENT_HEADER_LEN;
      } else {
        throw invalid(`ipv6Ext: unknown header type "${String((e as { type: unknown }).type)}": expected hop-by-hop or fragment`);
      }
    });
  }
  const l3Len = family === 4 ? IPV4_MIN_HEADER_LEN + optLen : IPV6_HEADER_LEN + extLen;
  return { family, arp: false, tags, optLen, extLen, l3Len, l4Len: l4Len(spec.proto ?? 'udp') };
}

function fragOffsetOf(v: number | undefined, what: string): number {
  const x = intIn(v, 0, 0, 65528, what);
  if (x % 8 !== 0) throw invalid(`${what} must be a multiple of 8 (got ${x})`);
  return x;
}

/** Bytes of headers (Ethernet + tags + IP with options or extension headers + transport, or the ARP message) for a spec, without building it. */
export function headerLength(spec: LayoutSpec = {}): number {
  const l = layoutOf(spec);
  return ETH_HEADER_LEN + VLAN_TAG_LEN * l.tags.length + l.l3Len + l.l4Len;
}

/** Header length breakdown for messages ("Ethernet 14 + IPv4 20 + UDP 8"). */
export function describeHeaders(spec: LayoutSpec = {}): string {
  const l = layoutOf(spec);
  const proto = spec.proto ?? 'udp';
  const parts = [`Ethernet ${ETH_HEADER_LEN}`];
  if (l.tags.length > 0) parts.push(`VLAN ${VLAN_TAG_LEN * l.tags.length}`);
  if (l.arp) {
    parts.push(`ARP ${l.l3Len}`);
    return parts.join(' + ');
  }
  parts.push(l.family === 4 ? `IPv4 ${IPV4_MIN_HEADER_LEN}` : `IPv6 ${IPV6_HEADER_LEN}`);
  if (l.optLen > 0) parts.push(`IPv4 options ${l.optLen}`);
  if (l.extLen > 0) parts.push(`IPv6 extension headers ${l.extLen}`);
  parts.push(`${proto === 'icmp' && l.family === 6 ? 'ICMPV6' : proto.toUpperCase()} ${l.l4Len}`);
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
  const lay = layoutOf(spec);
  const { family, tags: vt } = lay;
  const proto = spec.proto ?? 'udp';
  const l3Off = ETH_HEADER_LEN + VLAN_TAG_LEN * vt.length;
  const l4Off = l3Off + lay.l3Len;
  const payloadOff = l4Off + lay.l4Len;
  if (lay.arp) {
    for (const k of ['sport', 'dport', 'payload', 'fragOffset', 'mf'] as const) if (spec[k] !== undefined) throw invalid(`${k} does not apply to an ARP frame`);
  }
  const explicit = spec.payload instanceof Uint8Array ? spec.payload : null;
  let pattern: PayloadPattern | null = null;
  if (explicit === null && !lay.arp) {
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
  const ipEnd = explicit !== null || lay.arp ? natural : size;

  // Headers are laid out by the protocol modules of src/decode (one owner per layout).
  const b = new Uint8Array(size);
  const l3Type = lay.arp ? EtherType.ARP : family === 4 ? EtherType.IPv4 : EtherType.IPv6;
  const srcMac = mac(spec.srcMac, DEFAULT_SRC_MAC);
  const arpOp = lay.arp ? arpOpOf(spec.arp!.op) : 0;
  const dstMac = mac(spec.dstMac, arpOp === ArpOp.Request ? BROADCAST_MAC : DEFAULT_DST_MAC);
  writeEthernet(b, 0, dstMac, srcMac, vt.length > 0 ? vt[0].tpid! : l3Type);
  const vlanTciOffs: number[] = [];
  let o = EthField.Type;
  for (const t of vt) {
    writeVlanTag(b, o, t.tpid!, ((t.pcp ?? 0) << VlanTci.PcpShift) | (t.dei ? VlanTci.Dei : 0) | t.id);
    vlanTciOffs.push(o + 2);
    o += VLAN_TAG_LEN;
  }
  put16(b, o, l3Type);

  if (lay.arp) {
    const a = spec.arp!;
    const ip4 = (addr: string): Uint8Array => { const x = new Uint8Array(4); put32(x, 0, parseIPv4(addr)); return x; };
    writeArp(b, l3Off, {
      op: arpOp, sha: a.senderMac !== undefined ? mac(a.senderMac, '') : srcMac, spa: ip4(spec.src ?? '10.0.0.1'),
      tha: a.targetMac !== undefined ? mac(a.targetMac, '') : arpOp === ArpOp.Request ? new Uint8Array(6) : dstMac, tpa: ip4(spec.dst ?? '10.0.0.2'),
    });
    return {
      bytes: b, length: size, family: 4, ipProto: -1, arp: true, vlanTciOffs, l3Off, l4Off: -1, payloadOff, srcOff: l3Off + ArpField.EthIpv4SenderIp,
      dstOff: l3Off + ArpField.EthIpv4TargetIp, addrLen: 4, sportOff: -1, dportOff: -1, ipCsumOff: -1, ipLenOff: -1, l4LenOff: -1, l4CsumOff: -1,
      trailer: ipEnd < size, pattern: null,
    };
  }

  const ttl = intIn(spec.ttl, 64, 0, 255, 'ttl');
  const tos = intIn(spec.tos, 0, 0, 255, 'tos');
  const ipProto = proto === 'udp' ? 17 : proto === 'tcp' ? 6 : family === 4 ? 1 : 58;
  let srcOff: number, dstOff: number, ipCsumOff = -1, ipLenOff: number;
  if (family === 4) {
    const fragOffset = fragOffsetOf(spec.fragOffset, 'fragOffset');
    const fragmented = fragOffset !== 0 || spec.mf === true;
    const flags = (spec.df ?? !fragmented ? Ipv4Frag.DF : 0) | (spec.mf === true ? Ipv4Frag.MF : 0);
    const end = writeIpv4(b, l3Off, {
      headerLength: lay.l3Len, tos, totalLength: ipEnd - l3Off, id: intIn(spec.ipId, 0, 0, 0xffff, 'ipId'), flagsFragment: flags | (fragOffset >> 3),
      ttl, protocol: ipProto, src: parseIPv4(spec.src ?? '10.0.0.1'), dst: parseIPv4(spec.dst ?? '10.0.0.2'),
    });
    if (lay.optLen > 0) writeIpv4Options(b, l3Off, end, spec.ipOptions);
    ipLenOff = l3Off + Ipv4Field.TotalLength;
    srcOff = l3Off + Ipv4Field.Src;
    dstOff = l3Off + Ipv4Field.Dst;
    ipCsumOff = l3Off + Ipv4Field.Checksum;
  } else {
    if (spec.fragOffset !== undefined || spec.mf !== undefined) throw invalid('fragOffset and mf are IPv4 fields: IPv6 fragments take an ipv6Ext fragment header');
    const ext = spec.ipv6Ext ?? [];
    const nhOf = (i: number): number => (i >= ext.length ? ipProto : ext[i].type === 'hop-by-hop' ? Ipv6Ext.HopByHop : Ipv6Ext.Fragment);
    let q = writeIpv6(b, l3Off, {
      trafficClass: tos, flowLabel: intIn(spec.flowLabel, 0, 0, 0xfffff, 'flowLabel'), payloadLength: ipEnd - l3Off - IPV6_HEADER_LEN,
      nextHeader: nhOf(0), hopLimit: ttl, src: parseIPv6(spec.src ?? 'fd00::1'), dst: parseIPv6(spec.dst ?? 'fd00::2'),
    });
    ext.forEach((e, i) => {
      q = e.type === 'hop-by-hop'
        ? writeIpv6HopByHop(b, q, nhOf(i + 1), e.length ?? 8)
        : writeIpv6Fragment(b, q, nhOf(i + 1), e.offset ?? 0, e.more === true, e.id ?? 0);
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
    bytes: b, length: size, family, ipProto, arp: false, vlanTciOffs, l3Off, l4Off, payloadOff, srcOff, dstOff,
    addrLen: family === 4 ? 4 : 16, sportOff, dportOff, ipCsumOff, ipLenOff, l4LenOff, l4CsumOff,
    trailer: ipEnd < size, pattern,
  };
  writeChecksums(t, ipEnd);
  return t;
}

function arpOpOf(op: ArpSpec['op']): number {
  if (op === undefined || op === 'request') return ArpOp.Request;
  if (op === 'reply') return ArpOp.Reply;
  if (typeof op !== 'number') throw invalid(`arp op must be request, reply or a number (got "${String(op)}")`);
  return intIn(op, 0, 1, 0xffff, 'arp op');
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

/** (Re)compute the IPv4 header and transport checksums of a template whose IP packet ends at ipEnd (nothing for ARP). */
export function writeChecksums(t: Template, ipEnd = t.length): void {
  const b = t.bytes;
  if (t.arp) return;
  if (t.ipCsumOff >= 0) {
    put16(b, t.ipCsumOff, 0);
    put16(b, t.ipCsumOff, checksum(b, t.l3Off, t.l4Off - t.l3Off)); // the options too
  }
  const l4Length = ipEnd - t.l4Off;
  put16(b, t.l4CsumOff, 0);
  let c = checksum(b, t.l4Off, l4Length, pseudoHeaderSum(t, l4Length));
  if (c === 0 && t.ipProto === 17) c = 0xffff;
  put16(b, t.l4CsumOff, c);
}

/** @internal big-endian stores (the decoders' own) */
export { put16, put32 };
