/**
 * Packet crafting helpers for the decoder tests: each builder returns the
 * bytes of one header (plus what it wraps) as a plain number array.
 * Addresses and checksums come from the TX builder's modules (src/build).
 */
import { checksum as inetChecksum, parseIPv6, parseMac } from '../../src/build/index.js';

export type Bytes = number[];

export function be16(n: number): Bytes {
  return [(n >> 8) & 255, n & 255];
}
export function be32(n: number): Bytes {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}
export function ip4(s: string): Bytes {
  return s.split('.').map(Number);
}
export function mac(s: string): Bytes {
  return [...parseMac(s)];
}
/** Parses IPv6 text (full or "::"-compressed). */
export function ip6(s: string): Bytes {
  return [...parseIPv6(s)];
}

export function checksum(b: Bytes): number {
  return inetChecksum(Uint8Array.from(b), 0, b.length);
}

export function eth(type: number, payload: Bytes, dst = '02:00:00:00:00:02', src = '02:00:00:00:00:01'): Bytes {
  return [...mac(dst), ...mac(src), ...be16(type), ...payload];
}

/** Ethernet with VLAN tags: `tags` outermost first, as [tpid, tci]. */
export function ethVlan(tags: [number, number][], type: number, payload: Bytes): Bytes {
  const t = tags.flatMap(([tpid, tci]) => [...be16(tpid), ...be16(tci)]);
  const e = eth(0, payload);
  return [...e.slice(0, 12), ...t, ...be16(type), ...payload];
}

export interface Ip4Opts {
  src?: string;
  dst?: string;
  proto: number;
  ttl?: number;
  id?: number;
  df?: boolean;
  mf?: boolean;
  fragOffset?: number; // bytes, multiple of 8
  options?: Bytes; // padded to 4 by the caller
  ihl?: number; // override
  totalLength?: number; // override
  version?: number;
}

export function ipv4(o: Ip4Opts, payload: Bytes): Bytes {
  const opts = o.options ?? [];
  const ihl = o.ihl ?? 5 + opts.length / 4;
  const total = o.totalLength ?? 20 + opts.length + payload.length;
  const fw = (o.df ? 0x4000 : 0) | (o.mf ? 0x2000 : 0) | ((o.fragOffset ?? 0) >> 3);
  const h = [
    ((o.version ?? 4) << 4) | (ihl & 15), 0, ...be16(total), ...be16(o.id ?? 0x1234), ...be16(fw),
    o.ttl ?? 64, o.proto, 0, 0, ...ip4(o.src ?? '10.0.0.1'), ...ip4(o.dst ?? '10.0.0.2'), ...opts,
  ];
  const c = checksum(h);
  h[10] = c >> 8;
  h[11] = c & 255;
  return [...h, ...payload];
}

export interface Ip6Opts {
  src?: string;
  dst?: string;
  nh: number;
  hop?: number;
  payloadLength?: number;
  flow?: number;
  tc?: number;
}

export function ipv6(o: Ip6Opts, payload: Bytes): Bytes {
  const tc = o.tc ?? 0;
  const fl = o.flow ?? 0;
  return [
    0x60 | (tc >> 4), ((tc & 15) << 4) | ((fl >> 16) & 15), ...be16(fl & 0xffff),
    ...be16(o.payloadLength ?? payload.length), o.nh, o.hop ?? 64,
    ...ip6(o.src ?? '2001:db8::1'), ...ip6(o.dst ?? '2001:db8::2'), ...payload,
  ];
}

/** Generic extension header (HBH 0, routing 43, dest opts 60): body padded to a multiple of 8. */
export function ext(nh: number, bodyLen8: number, payload: Bytes, fill = 0): Bytes {
  const total = 8 * (bodyLen8 + 1);
  return [nh, bodyLen8, ...Array(total - 2).fill(fill), ...payload];
}
export function routing(nh: number, segments: number, payload: Bytes): Bytes {
  const h = [nh, 2 * segments, 4, segments, 0, 0, 0, 0];
  for (let i = 0; i < segments; i++) h.push(...ip6(`2001:db8::${i + 10}`));
  return [...h, ...payload];
}
export function frag6(nh: number, offset: number, more: boolean, id: number, payload: Bytes): Bytes {
  return [nh, 0, ...be16((offset & 0xfff8) | (more ? 1 : 0)), ...be32(id), ...payload];
}
/** Authentication header with `icvWords` 32-bit words of ICV (length = (3 + icv) - 2). */
export function ah(nh: number, icvWords: number, payload: Bytes): Bytes {
  return [nh, 1 + icvWords, 0, 0, ...be32(0x100), ...be32(1), ...Array(4 * icvWords).fill(0xaa), ...payload];
}

export interface TcpOpts {
  sp: number;
  dp: number;
  seq?: number;
  ack?: number;
  flags: number;
  win?: number;
  options?: Bytes; // padded to 4 by the caller
  dataOffset?: number; // override, words
}

export function tcp(o: TcpOpts, payload: Bytes = []): Bytes {
  const opts = o.options ?? [];
  const doff = o.dataOffset ?? 5 + opts.length / 4;
  return [
    ...be16(o.sp), ...be16(o.dp), ...be32(o.seq ?? 1000), ...be32(o.ack ?? 0),
    (doff << 4) | ((o.flags >> 8) & 1), o.flags & 255, ...be16(o.win ?? 65535), 0, 0, 0, 0, ...opts, ...payload,
  ];
}

export function udp(sp: number, dp: number, payload: Bytes, length?: number): Bytes {
  return [...be16(sp), ...be16(dp), ...be16(length ?? 8 + payload.length), 0, 0, ...payload];
}

export function icmp(type: number, code: number, id: number, seq: number, payload: Bytes = []): Bytes {
  const h = [type, code, 0, 0, ...be16(id), ...be16(seq), ...payload];
  const c = checksum(h);
  h[2] = c >> 8;
  h[3] = c & 255;
  return h;
}

export function arp(op: number, sha: string, spa: string, tha: string, tpa: string): Bytes {
  return [...be16(1), ...be16(0x0800), 6, 4, ...be16(op), ...mac(sha), ...ip4(spa), ...mac(tha), ...ip4(tpa)];
}

export interface GreOpts {
  proto: number;
  key?: number;
  seq?: number;
  csum?: boolean;
  routing?: boolean;
  version?: number;
}
export function gre(o: GreOpts, payload: Bytes): Bytes {
  const f = (o.csum ? 0x8000 : 0) | (o.routing ? 0x4000 : 0) | (o.key !== undefined ? 0x2000 : 0) |
    (o.seq !== undefined ? 0x1000 : 0) | (o.version ?? 0);
  const h = [...be16(f), ...be16(o.proto)];
  if (o.csum) h.push(0, 0, 0, 0);
  if (o.key !== undefined) h.push(...be32(o.key));
  if (o.seq !== undefined) h.push(...be32(o.seq));
  return [...h, ...payload];
}

export function vxlan(vni: number, inner: Bytes, flags = 0x08): Bytes {
  return [flags, 0, 0, 0, ...be16(vni >> 8), vni & 255, 0, ...inner];
}

export function sll(proto: number, payload: Bytes, pktType = 0): Bytes {
  return [...be16(pktType), ...be16(1), ...be16(6), ...mac('02:00:00:00:00:01'), 0, 0, ...be16(proto), ...payload];
}

export function sll2(proto: number, payload: Bytes, ifindex = 3): Bytes {
  return [...be16(proto), 0, 0, ...be32(ifindex), ...be16(1), 0, 6, ...mac('02:00:00:00:00:01'), 0, 0, ...payload];
}

export function bytes(b: Bytes): Uint8Array {
  return Uint8Array.from(b);
}

/** TCP SYN options: MSS 1460, SACK permitted, timestamps, NOP, window scale 7 (20 bytes). */
export const SYN_OPTIONS: Bytes = [2, 4, ...be16(1460), 4, 2, 8, 10, ...be32(123456), ...be32(0), 1, 3, 3, 7];

/** A named corpus of valid packets covering every decoder, with their link type. */
export function corpus(): { name: string; linkType: number; bytes: Uint8Array }[] {
  const pl = (n: number) => Array.from({ length: n }, (_, i) => (i * 7) & 255);
  const list: [string, number, Bytes][] = [
    ['eth-ipv4-udp', 1, eth(0x0800, ipv4({ proto: 17 }, udp(1234, 53, pl(12))))],
    ['eth-ipv4-tcp-syn', 1, eth(0x0800, ipv4({ proto: 6 }, tcp({ sp: 40000, dp: 80, flags: 0x02, options: SYN_OPTIONS })))],
    ['eth-ipv4-tcp-data', 1, eth(0x0800, ipv4({ proto: 6, df: true }, tcp({ sp: 80, dp: 40000, flags: 0x18, ack: 5, seq: 77 }, pl(30))))],
    ['eth-ipv4-opts-icmp', 1, eth(0x0800, ipv4({ proto: 1, options: [7, 7, 4, 0, 0, 0, 0, 0, 1, 1, 1, 0] }, icmp(8, 0, 7, 9, pl(16))))],
    ['eth-ipv4-frag0', 1, eth(0x0800, ipv4({ proto: 17, mf: true, id: 4242 }, udp(5000, 6000, pl(24), 100)))],
    ['eth-ipv4-frag1', 1, eth(0x0800, ipv4({ proto: 17, fragOffset: 32, id: 4242 }, pl(40)))],
    ['qinq-ipv4-tcp', 1, ethVlan([[0x88a8, 0x2064], [0x8100, 0x00c8]], 0x0800, ipv4({ proto: 6 }, tcp({ sp: 1, dp: 2, flags: 0x11 })))],
    ['vlan-arp', 1, ethVlan([[0x8100, 5]], 0x0806, arp(1, '02:00:00:00:00:01', '10.0.0.1', '00:00:00:00:00:00', '10.0.0.2'))],
    ['eth-arp-reply', 1, eth(0x0806, arp(2, '02:00:00:00:00:02', '10.0.0.2', '02:00:00:00:00:01', '10.0.0.1'))],
    ['eth-ipv6-tcp', 1, eth(0x86dd, ipv6({ nh: 6 }, tcp({ sp: 443, dp: 50000, flags: 0x12, options: SYN_OPTIONS })))],
    ['eth-ipv6-ext-udp', 1, eth(0x86dd, ipv6({ nh: 0 }, ext(60, 0, ext(17, 0, udp(7, 8, pl(4)))))),],
    ['eth-ipv6-routing-frag-udp', 1, eth(0x86dd, ipv6({ nh: 43 }, routing(44, 2, frag6(17, 0, true, 0xdeadbeef, udp(9, 10, pl(8), 64)))))],
    ['eth-ipv6-frag1', 1, eth(0x86dd, ipv6({ nh: 44 }, frag6(17, 64, false, 0xdeadbeef, pl(20))))],
    ['eth-ipv6-ah-tcp', 1, eth(0x86dd, ipv6({ nh: 51 }, ah(6, 3, tcp({ sp: 22, dp: 2222, flags: 0x10 }))))],
    ['eth-ipv6-icmpv6-ns', 1, eth(0x86dd, ipv6({ nh: 58, hop: 255 }, [135, 0, 0, 0, 0, 0, 0, 0, ...ip6('2001:db8::2')]))],
    ['eth-ipv6-icmpv6-echo', 1, eth(0x86dd, ipv6({ nh: 58 }, icmp(128, 0, 3, 4, pl(8))))],
    ['eth-ipv4-gre-teb', 1, eth(0x0800, ipv4({ proto: 47 }, gre({ proto: 0x6558, key: 42, seq: 1, csum: true }, eth(0x0800, ipv4({ proto: 17, src: '192.168.0.1', dst: '192.168.0.2' }, udp(1, 2, pl(4)))))))],
    ['eth-ipv4-gre-ip', 1, eth(0x0800, ipv4({ proto: 47 }, gre({ proto: 0x0800 }, ipv4({ proto: 1, src: '172.16.0.1', dst: '172.16.0.2' }, icmp(0, 0, 1, 1)))))],
    ['eth-ipv4-vxlan', 1, eth(0x0800, ipv4({ proto: 17 }, udp(49152, 4789, vxlan(0xabcdef, eth(0x86dd, ipv6({ nh: 17 }, udp(11, 12, pl(5))))))))],
    ['eth-ipv4-ipip', 1, eth(0x0800, ipv4({ proto: 4 }, ipv4({ proto: 17, src: '1.1.1.1', dst: '2.2.2.2' }, udp(3, 4, []))))],
    ['sll-ipv4-tcp', 113, sll(0x0800, ipv4({ proto: 6 }, tcp({ sp: 5, dp: 6, flags: 0x04 })))],
    ['sll-vlan-ipv6-udp', 113, sll(0x8100, [...be16(0x0064), ...be16(0x86dd), ...ipv6({ nh: 17 }, udp(53, 5353, pl(9)))])],
    ['sll2-ipv6-icmpv6', 276, sll2(0x86dd, ipv6({ nh: 58 }, icmp(129, 0, 1, 2)))],
    ['raw-ipv4-udp', 101, ipv4({ proto: 17 }, udp(100, 200, pl(3)))],
    ['raw-ipv6-tcp', 101, ipv6({ nh: 6 }, tcp({ sp: 300, dp: 400, flags: 0x01 }))],
    ['ipv4-linktype-228', 228, ipv4({ proto: 6 }, tcp({ sp: 1000, dp: 2000, flags: 0x02 }))],
    ['ipv6-linktype-229', 229, ipv6({ nh: 17 }, udp(1000, 2000, pl(2)))],
    ['null-ipv4-udp', 0, [2, 0, 0, 0, ...ipv4({ proto: 17 }, udp(67, 68, pl(6)))]],
    ['loop-ipv6-tcp', 108, [0, 0, 0, 24, ...ipv6({ nh: 6 }, tcp({ sp: 8080, dp: 9090, flags: 0x18 }, pl(3)))]],
    ['eth-lldp', 1, eth(0x88cc, pl(30), '01:80:c2:00:00:0e')],
  ];
  return list.map(([name, linkType, b]) => ({ name, linkType, bytes: bytes(b) }));
}
