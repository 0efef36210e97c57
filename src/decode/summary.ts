/**
 * One-line, tcpdump-like text for a decoded packet, e.g.
 * `IP 10.0.0.1.1234 > 10.0.0.2.80: Flags [S], seq 1000, win 64240, options [mss 1460], length 0`.
 * Approximate by design (for `netring capture` printing); allocates strings.
 */
import { u16, u32 } from './bytes.js';
import { DecodeError, Layer, Tunnel, layerName } from './codes.js';
import { addrToString, ipv4ToString, ipv6ToString, macToString } from './format.js';
import { Layers } from './layers.js';
import { TcpOptionIterator } from './tcp.js';
import { httpText, udpAppText } from './app-summary.js';
import type { TcpSeqTracker } from './tcp-seq.js';

/** How {@link summary} words its line. The default is netring's compact form. */
export interface SummaryOptions {
  /**
   * tcpdump's default line exactly: no VLAN prefix and no fragment notes
   * (tcpdump shows them only with -e / -v), ICMP texts as tcpdump words them,
   * and application summaries (DNS, DHCP, NTP, HTTP request/status lines).
   */
  tcpdump?: boolean;
  /** tcpdump -e: the line starts with the link-level header (MACs, ethertypes, VLAN tags, frame length). Implies `tcpdump`. */
  link?: boolean;
  /** Frame length on the wire, printed by `link` (defaults to the decoded length). */
  wireLen?: number;
  /** Print TCP sequence numbers relative to each conversation, as tcpdump does unless -S. */
  tcpSeq?: TcpSeqTracker;
}

const NO_OPTIONS: SummaryOptions = {};
let O: SummaryOptions = NO_OPTIONS;
let tp = false;

const MAX_DEPTH = 4;
const inner: Layers[] = [];
const opts = new TcpOptionIterator();

const ICMP_NAMES: Record<number, string> = {
  0: 'echo reply', 3: 'unreachable', 4: 'source quench', 5: 'redirect', 8: 'echo request',
  9: 'router advertisement', 10: 'router solicitation', 11: 'time exceeded',
  12: 'parameter problem', 13: 'time stamp request', 14: 'time stamp reply',
};
const ICMP6_NAMES: Record<number, string> = {
  1: 'destination unreachable', 2: 'packet too big', 3: 'time exceeded', 4: 'parameter problem',
  128: 'echo request', 129: 'echo reply', 130: 'multicast listener query',
  131: 'multicast listener report', 132: 'multicast listener done', 133: 'router solicitation',
  134: 'router advertisement', 135: 'neighbor solicitation', 136: 'neighbor advertisement',
  137: 'redirect', 143: 'multicast listener report v2',
};
const ETHER_NAMES: Record<number, string> = {
  0x88cc: 'LLDP', 0x8035: 'RARP', 0x8847: 'MPLS', 0x8863: 'PPPoE-D', 0x8864: 'PPPoE-S', 0x888e: 'EAPOL',
};

/**
 * tcpdump-style one-line summary of the packet last decoded into `l`.
 * `data` defaults to `l.data` (the buffer it was decoded from).
 */
export function summary(l: Layers, data: Uint8Array = l.data, opts: SummaryOptions = NO_OPTIONS): string {
  O = opts;
  tp = opts.tcpdump === true || opts.link === true;
  try {
    return describe(l, data, 0);
  } finally {
    O = NO_OPTIONS;
    tp = false;
  }
}

const ETHERTYPES: Record<number, string> = {
  0x0800: 'IPv4', 0x86dd: 'IPv6', 0x0806: 'ARP', 0x8035: 'Reverse ARP', 0x8100: '802.1Q', 0x88a8: '802.1Q-QinQ',
  0x9100: '802.1Q-9100', 0x88cc: 'LLDP', 0x8847: 'MPLS unicast', 0x8848: 'MPLS multicast', 0x8863: 'PPPoE D', 0x8864: 'PPPoE S',
  0x888e: 'EAPOL', 0x88f7: 'PTP', 0x6558: 'TEB',
};

/** tcpdump -e's link-level text of an Ethernet frame: `src > dst, ethertype X (0x....), length N: [vlan V, p P, ethertype Y (0x....), ]`. */
function linkText(l: Layers, d: Uint8Array, depth: number): string {
  const o = l.start;
  if (depth === 0 && (l.linkType === 101 || l.linkType === 228 || l.linkType === 229)) return 'ip: ';
  if (l.linkType !== 1 || l.end - o < 14) return '';
  let t = `${macToString(d, o + 6)} > ${macToString(d, o)}, `;
  const len = depth === 0 ? O.wireLen ?? l.end - o : l.end - o;
  let type = u16(d, o + 12);
  if (type < 0x0600) return `${t}802.3, length ${len}: `;
  const et = (x: number): string => `ethertype ${ETHERTYPES[x] ?? 'Unknown'} (0x${hex4(x)})`;
  t += `${et(type)}, length ${len}: `;
  let p = o + 14;
  for (let k = 0; k < l.vlanCount && (type === 0x8100 || type === 0x88a8 || type === 0x9100) && p + 4 <= l.end; k++) {
    const tci = u16(d, p);
    type = u16(d, p + 2);
    t += `vlan ${tci & 0xfff}, p ${tci >> 13}${tci & 0x1000 ? ', DEI' : ''}, ${et(type)}, `;
    p += 4;
  }
  return t;
}

function describe(l: Layers, d: Uint8Array, depth: number): string {
  let s = '';
  const link = O.link === true; // tcpdump -e: every Ethernet header (inner ones too) is printed, no 'IP ' words
  if (link) s = linkText(l, d, depth);
  if (l.vlanCount > 0 && !tp) {
    s += `vlan ${l.vlan0Tci & 0xfff}, `;
    if (l.vlanCount > 1) s += `vlan ${l.vlan1Tci & 0xfff}, `;
    if (l.vlanCount > 2) s += `(+${l.vlanCount - 2} tags), `;
  }
  if ((l.error !== 0 && l.errorLayer <= Layer.VLAN) || l.errorLayer === Layer.Link) {
    return s + tail(l, `${linkName(l)}, length ${l.end - l.start}`);
  }
  if (l.ipVersion === 0) {
    if (l.etherType === 0x0806 || l.etherType === 0x8035) {
      const a = arpText(l, d);
      return s + tail(l, link && s !== '' ? a.replace(/^R?ARP, /, '') : a);
    }
    if (l.error !== 0) return s + tail(l, `${ethertypeName(l.etherType)}, length ${l.payloadLength}`);
    const name = ETHER_NAMES[l.etherType];
    if (l.etherType < 0x0600) return `${s}802.3, length ${l.etherType}`;
    return `${s}${name ?? `ethertype 0x${hex4(l.etherType)}`}, length ${l.payloadLength}`;
  }
  const v6 = l.ipVersion === 6;
  const src = v6 ? ipv6ToString(d, l.srcAddrOffset) : ipv4ToString(d, l.srcAddrOffset);
  const dst = v6 ? ipv6ToString(d, l.dstAddrOffset) : ipv4ToString(d, l.dstAddrOffset);
  if (!link) s += v6 ? 'IP6 ' : 'IP ';
  const ports = l.has(Layer.TCP) || l.has(Layer.UDP);
  s += ports ? `${src}.${l.srcPort} > ${dst}.${l.dstPort}: ` : `${src} > ${dst}: `;
  if (l.isFragment === 1 && l.fragOffset !== 0) {
    if (tp) return s + tail(l, `ip-proto-${l.ipProto}`);
    return s + tail(l, `ip-proto-${l.ipProto} (frag ${l.fragId}:${l.payloadLength}@${l.fragOffset}${l.fragMore ? '+' : ''})`);
  }
  const frag = l.isFragment === 1 && !tp ? ` (frag ${l.fragId}:${l.payloadLength}@0+)` : '';
  if (l.error !== 0 && (l.errorLayer === Layer.IPv4 || l.errorLayer === Layer.IPv6 || l.errorLayer === Layer.IPv6Ext)) {
    return s + tail(l, `ip-proto-${l.ipProto}`);
  }
  if (l.has(Layer.TCP)) return s + tail(l, tcpText(l, d)) + frag;
  if (l.has(Layer.UDP)) {
    let t = `UDP, length ${udpLength(l, d)}`;
    if (tp && l.tunnel !== Tunnel.VXLAN && l.isFragment === 0 && l.payloadOffset >= 0) {
      t = udpAppText(d, l.srcPort, l.dstPort, l.payloadOffset, l.end, udpLength(l, d)) ?? t;
    }
    if (l.tunnel === Tunnel.VXLAN) t = `VXLAN, flags [I] (0x08), vni ${l.tunnelKey}: ${innerText(l, d, depth)}`;
    return s + tail(l, t) + frag;
  }
  if (l.has(Layer.ICMP)) return s + tail(l, icmpText(l, d)) + frag;
  if (l.has(Layer.ICMPv6)) return s + tail(l, icmp6Text(l, d)) + frag;
  if (l.has(Layer.GRE)) {
    let t = greText(l, d);
    if (l.innerLinkType !== 0) t += `: ${innerText(l, d, depth)}`;
    return s + tail(l, t) + frag;
  }
  if (l.tunnel === Tunnel.IPIP) return s + innerText(l, d, depth);
  return s + tail(l, l.error === 0 ? `ip-proto-${l.ipProto} ${l.payloadLength}` : `ip-proto-${l.ipProto}`) + frag;
}

function greText(l: Layers, d: Uint8Array): string {
  const q = l.l4Offset;
  const f = u16(d, q);
  let t = `GREv${f & 7}`;
  if (f & 0x8000) t += `, off 0x0`;
  if (l.tunnelKey >= 0) t += `, key=0x${l.tunnelKey.toString(16)}`;
  if (f & 0x1000) t += `, seq ${u32(d, q + l.l4Length - ((f & 7) === 1 && (f & 0x0080) !== 0 ? 8 : 4))}`;
  if (l.innerLinkType === 0) t += `, proto 0x${hex4(l.tunnelProto)}`;
  else if (O.link === true) t += `, proto ${ETHERTYPES[l.tunnelProto] ?? 'Unknown'} (0x${hex4(l.tunnelProto)})`;
  return `${t}, length ${l.payloadLength + l.l4Length}`;
}

function tail(l: Layers, text: string): string {
  if (l.error === 0) return text;
  if (l.error === DecodeError.Truncated) return `${text} [|${layerName(l.errorLayer)}]`;
  return `${text} [${l.errorText()}]`;
}

function linkName(l: Layers): string {
  if (l.errorLayer === Layer.Link) return `link type ${l.linkType}`;
  return layerName(l.errorLayer === 0 ? Layer.Ethernet : l.errorLayer);
}

function ethertypeName(t: number): string {
  if (t === 0x0800) return 'IP';
  if (t === 0x86dd) return 'IP6';
  if (t === 0x0806) return 'ARP';
  return ETHER_NAMES[t] ?? `ethertype 0x${hex4(t)}`;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

function innerText(l: Layers, d: Uint8Array, depth: number): string {
  if (depth + 1 >= MAX_DEPTH) return '...';
  let il = inner[depth];
  if (il === undefined) {
    il = new Layers();
    inner[depth] = il;
  }
  if (!l.decodeInner(il)) return `unknown inner, length ${l.end - l.innerOffset}`;
  return describe(il, d, depth + 1);
}

function arpText(l: Layers, d: Uint8Array): string {
  if (!l.has(Layer.ARP)) return 'ARP';
  const p = l.l3Offset;
  const len = l.payloadOffset - p;
  const hlen = d[p + 4]!;
  const plen = l.addrLength;
  const spa = addrToString(d, l.srcAddrOffset, plen);
  const tpa = addrToString(d, l.dstAddrOffset, plen);
  const sha = hlen === 6 ? macToString(d, p + 8) : addrToString(d, p + 8, hlen);
  const name = l.etherType === 0x8035 ? 'RARP' : 'ARP';
  switch (l.arpOp) {
    case 1:
      return `${name}, Request who-has ${tpa} tell ${spa}, length ${len}`;
    case 2:
      return `${name}, Reply ${spa} is-at ${sha}, length ${len}`;
    default:
      return `${name}, op ${l.arpOp}, ${spa} > ${tpa}, length ${len}`;
  }
}

function tcpFlagsText(f: number): string {
  let s = '';
  if (f & 0x01) s += 'F';
  if (f & 0x02) s += 'S';
  if (f & 0x04) s += 'R';
  if (f & 0x08) s += 'P';
  if (f & 0x20) s += 'U';
  if (f & 0x40) s += 'E';
  if (f & 0x80) s += 'W';
  if (f & 0x10) s += '.';
  return s === '' ? 'none' : s;
}

function tcpText(l: Layers, d: Uint8Array): string {
  const q = l.l4Offset;
  let seq = u32(d, q + 4);
  let ack = u32(d, q + 8);
  if (O.tcpSeq !== undefined) {
    [seq, ack] = O.tcpSeq.relative(d, l.srcAddrOffset, d, l.dstAddrOffset, l.ipVersion === 6 ? 16 : 4,
      l.srcPort, l.dstPort, l.tcpFlags, seq, ack);
  }
  const n = tcpClaimedLength(l, d);
  let t = `Flags [${tcpFlagsText(l.tcpFlags)}]`;
  // tcpdump prints seq only when there is data or SYN/FIN/RST (netring's own form always does)
  if (!tp || n > 0 || (l.tcpFlags & 0x07) !== 0) t += `, seq ${seq}`;
  if (n > 0) t += `:${(seq + n) >>> 0}`;
  if (l.tcpFlags & 0x10) t += `, ack ${ack}`;
  t += `, win ${u16(d, q + 14)}`;
  const o = tcpOptionsText(l, d);
  if (o !== '') t += `, options [${o}]`;
  t += `, length ${n}`;
  if (tp && n > 0 && l.payloadOffset >= 0 && (l.srcPort === 80 || l.dstPort === 80 || l.srcPort === 8080 || l.dstPort === 8080)) {
    t += httpText(d, l.payloadOffset, l.end);
  }
  return t;
}

function tcpOptionsText(l: Layers, d: Uint8Array): string {
  if (l.error !== 0 && l.errorLayer === Layer.TCP) return '';
  const parts: string[] = [];
  for (opts.reset(d, l.l4Offset, l.end); opts.next(); ) {
    const v = opts.valueOffset;
    switch (opts.kind) {
      case 1: parts.push('nop'); break;
      case 2: parts.push(opts.length === 4 ? `mss ${u16(d, v)}` : 'mss ?'); break;
      case 3: parts.push(opts.length === 3 ? `wscale ${d[v]}` : 'wscale ?'); break;
      case 4: parts.push('sackOK'); break;
      case 5: parts.push(`sack ${(opts.length - 2) >> 3}`); break;
      case 8: parts.push(opts.length === 10 ? `TS val ${u32(d, v)} ecr ${u32(d, v + 4)}` : 'TS ?'); break;
      default: parts.push(`opt-${opts.kind}:${opts.length}`);
    }
  }
  if (opts.malformed) parts.push('bad opts');
  return parts.join(',');
}

/** Payload length as the IP header claims it (tcpdump prints that even when truncated). */
function tcpClaimedLength(l: Layers, d: Uint8Array): number {
  const ipLen = claimedIpPayload(l, d);
  if (ipLen < 0) return l.payloadLength;
  const hl = (d[l.l4Offset + 12]! >> 4) << 2;
  const n = ipLen - hl;
  return n >= 0 ? n : l.payloadLength;
}

/** Bytes after the IP headers (options/extension headers included) per the IP length field, -1 if unknown. */
function claimedIpPayload(l: Layers, d: Uint8Array): number {
  const p = l.l3Offset;
  if (l.ipVersion === 4) {
    const total = u16(d, p + 2);
    return total === 0 ? -1 : total - l.l3Length;
  }
  const plen = u16(d, p + 4);
  return plen === 0 ? -1 : plen + 40 - l.l3Length;
}

function udpLength(l: Layers, d: Uint8Array): number {
  const ulen = u16(d, l.l4Offset + 4);
  return ulen >= 8 ? ulen - 8 : l.payloadLength;
}

function icmpText(l: Layers, d: Uint8Array): string {
  const q = l.l4Offset;
  const name = ICMP_NAMES[l.icmpType] ?? `type-#${l.icmpType}`;
  let t = `ICMP ${name}`;
  const quoted = tp ? icmpQuotedText(l, d) : null;
  if (quoted !== null) t = `ICMP ${quoted}`;
  else if (l.icmpType === 0 || l.icmpType === 8) t += `, id ${u16(d, q + 4)}, seq ${u16(d, q + 6)}`;
  else if (l.icmpCode !== 0) t += ` code ${l.icmpCode}`;
  const n = claimedIpPayload(l, d);
  return `${t}, length ${n >= 0 ? n : l.payloadLength + 8}`;
}

/** tcpdump's words for ICMP errors that quote a packet: unreachable (net/host/protocol/port) and time exceeded. */
function icmpQuotedText(l: Layers, d: Uint8Array): string | null {
  const q = l.l4Offset;
  const ip = q + 8;
  if (l.icmpType === 11) return l.icmpCode === 0 ? 'time exceeded in-transit' : l.icmpCode === 1 ? 'ip reassembly time exceeded' : null;
  if (l.icmpType !== 3 || ip + 20 > l.end || d[ip]! >> 4 !== 4) return null;
  const dst = ipv4ToString(d, ip + 16);
  const proto = d[ip + 9]!;
  switch (l.icmpCode) {
    case 0: return `net ${dst} unreachable`;
    case 1: return `host ${dst} unreachable`;
    case 2: return `${dst} protocol ${proto} unreachable`;
    case 3: {
      const hl = (d[ip]! & 15) * 4;
      if (ip + hl + 4 > l.end || (proto !== 6 && proto !== 17)) return null;
      return `${dst} ${proto === 6 ? 'tcp' : 'udp'} port ${u16(d, ip + hl + 2)} unreachable`;
    }
    default: return null;
  }
}

function icmp6Text(l: Layers, d: Uint8Array): string {
  const q = l.l4Offset;
  const name = ICMP6_NAMES[l.icmpType] ?? `type-#${l.icmpType}`;
  let t = `ICMP6, ${name}`;
  if (l.icmpType === 128 || l.icmpType === 129) t += `, id ${u16(d, q + 4)}, seq ${u16(d, q + 6)}`;
  else if ((l.icmpType === 135 || l.icmpType === 136) && l.payloadLength >= 16) {
    t += l.icmpType === 135 ? `, who has ${ipv6ToString(d, q + 8)}` : `, tgt is ${ipv6ToString(d, q + 8)}`;
  }
  const n = claimedIpPayload(l, d);
  return `${t}, length ${n >= 0 ? n : l.payloadLength + 8}`;
}
