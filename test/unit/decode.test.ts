import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Layers, Layer, DecodeError, Tunnel, TcpOptionIterator, Ipv4OptionIterator, tcpMss, tcpWindowScale,
  tcpSackPermitted, tcpTsVal, tcpTsEcr, tcpSackBlocks, ipv4TotalLength, ipv4ChecksumOk, ipv4Src, ipv4Id,
  ipv6FlowLabel, ipv6TrafficClass, ipv6FragId, greHeaderLength, greKey, vxlanVni, arpOp, arpSpaOffset,
  tciVid, tciPcp, tciDei, sll2Ifindex, sllProtocol, ipv4ToString, ipv6ToString, macToString, ipv4NumberToString,
  errorName, layerName,
} from '../../src/decode/index.js';
import type { PacketLike } from '../../src/packet-like.js';
import * as c from './decode-craft.js';

const L = new Layers();

function dec(b: c.Bytes | Uint8Array, linkType = 1): Layers {
  const u = b instanceof Uint8Array ? b : c.bytes(b);
  L.decode(u, 0, u.length, linkType);
  return L;
}

test('Ethernet + IPv4 + UDP: every field', () => {
  const b = c.bytes(c.eth(0x0800, c.ipv4({ proto: 17, src: '192.0.2.1', dst: '198.51.100.7', ttl: 9 }, c.udp(1234, 53, [1, 2, 3]))));
  const l = dec(b);
  assert.equal(l.error, 0);
  assert.equal(l.errorText(), '');
  assert.ok(l.has(Layer.Ethernet) && l.has(Layer.IPv4) && l.has(Layer.UDP));
  assert.ok(!l.has(Layer.TCP) && !l.has(Layer.VLAN));
  assert.equal(l.l2Offset, 0);
  assert.equal(l.l2Length, 14);
  assert.equal(l.etherType, 0x0800);
  assert.equal(l.l3Offset, 14);
  assert.equal(l.ipVersion, 4);
  assert.equal(l.l3Length, 20);
  assert.equal(l.ipProto, 17);
  assert.equal(l.l4Offset, 34);
  assert.equal(l.l4Length, 8);
  assert.equal(l.srcPort, 1234);
  assert.equal(l.dstPort, 53);
  assert.equal(l.payloadOffset, 42);
  assert.equal(l.payloadLength, 3);
  assert.deepEqual([...l.payload()], [1, 2, 3]);
  assert.equal(l.ttl(), 9);
  assert.equal(ipv4NumberToString(l.srcIp4()), '192.0.2.1');
  assert.equal(ipv4ToString(b, l.dstAddrOffset), '198.51.100.7');
  assert.equal(l.addrLength, 4);
  assert.equal(l.isFragment, 0);
  assert.equal(l.truncated, 0);
  assert.ok(ipv4ChecksumOk(b, 14, 20));
  assert.equal(ipv4Src(b, 14), 0xc0000201);
  assert.equal(macToString(b, 0), '02:00:00:00:00:02');
});

test('payload() is a view, copyPayload() a copy', () => {
  const b = c.bytes(c.eth(0x0800, c.ipv4({ proto: 17 }, c.udp(1, 2, [10, 20, 30]))));
  const l = dec(b);
  const view = l.payload();
  const copy = l.copyPayload();
  b[l.payloadOffset] = 99;
  assert.equal(view[0], 99);
  assert.equal(copy[0], 10);
  assert.equal(view.buffer, b.buffer);
});

test('packet embedded at an offset in a larger buffer', () => {
  const pkt = c.eth(0x0800, c.ipv4({ proto: 6 }, c.tcp({ sp: 7, dp: 8, flags: 0x12 }, [5, 5])));
  const big = new Uint8Array(300).fill(0xee);
  big.set(pkt, 100);
  const l = new Layers();
  assert.equal(l.decode(big, 100, pkt.length), 0);
  assert.equal(l.l3Offset, 114);
  assert.equal(l.l4Offset, 134);
  assert.equal(l.payloadOffset, 154);
  assert.equal(l.payloadLength, 2);
  assert.equal(l.tcpFlags, 0x12);
});

test('Ethernet padding beyond the IPv4 total length is not payload', () => {
  const b = [...c.eth(0x0800, c.ipv4({ proto: 17 }, c.udp(1, 2, [7]))), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const l = dec(b);
  assert.equal(l.error, 0);
  assert.equal(l.payloadLength, 1);
  assert.equal(l.ipEnd, 14 + 29);
});

test('single 802.1Q tag: TCI fields, inner EtherType', () => {
  const l = dec(c.ethVlan([[0x8100, (5 << 13) | (1 << 12) | 100]], 0x86dd, c.ipv6({ nh: 59 }, [])));
  assert.equal(l.error, 0);
  assert.ok(l.has(Layer.VLAN));
  assert.equal(l.vlanCount, 1);
  assert.equal(l.vlan0Tpid, 0x8100);
  assert.equal(tciVid(l.vlan0Tci), 100);
  assert.equal(tciPcp(l.vlan0Tci), 5);
  assert.equal(tciDei(l.vlan0Tci), 1);
  assert.equal(l.etherType, 0x86dd);
  assert.equal(l.l2Length, 18);
  assert.equal(l.l3Offset, 18);
  assert.equal(l.ipProto, 59);
});

test('QinQ and deeper stacks: first two tags recorded, all skipped', () => {
  let l = dec(c.ethVlan([[0x88a8, 100], [0x8100, 200]], 0x0800, c.ipv4({ proto: 17 }, c.udp(1, 2, []))));
  assert.equal(l.error, 0);
  assert.equal(l.vlanCount, 2);
  assert.equal(l.vlan0Tpid, 0x88a8);
  assert.equal(l.vlan0Tci, 100);
  assert.equal(l.vlan1Tpid, 0x8100);
  assert.equal(l.vlan1Tci, 200);
  assert.equal(l.l3Offset, 22);
  assert.equal(l.dstPort, 2);
  l = dec(c.ethVlan([[0x9100, 1], [0x88a8, 2], [0x8100, 3]], 0x0800, c.ipv4({ proto: 17 }, c.udp(1, 2, []))));
  assert.equal(l.error, 0);
  assert.equal(l.vlanCount, 3);
  assert.equal(l.vlan0Tci, 1);
  assert.equal(l.vlan1Tci, 2);
  assert.equal(l.l3Offset, 26);
  assert.equal(l.ipVersion, 4);
});

function pkt(b: c.Bytes, meta: Partial<PacketLike> = {}): PacketLike {
  const data = c.bytes(b);
  return {
    data, offset: 0, caplen: data.length, wireLen: data.length, sec: 0, nsec: 0, vlanValid: false, vlanTci: 0,
    vlanTpid: 0, ifindex: 1, pktType: 0, linkType: 1, ...meta,
  };
}

test('decodePacket: VLAN from metadata becomes the outermost tag', () => {
  const l = new Layers();
  l.decodePacket(pkt(c.eth(0x0800, c.ipv4({ proto: 17 }, c.udp(1, 2, []))), { vlanValid: true, vlanTci: 42, vlanTpid: 0x88a8 }));
  assert.equal(l.error, 0);
  assert.equal(l.vlanCount, 1);
  assert.equal(l.vlanFromMeta, 1);
  assert.equal(l.vlan0Tci, 42);
  assert.equal(l.vlan0Tpid, 0x88a8);
  assert.ok(l.has(Layer.VLAN));
  assert.equal(l.l3Offset, 14);
  // Stripped outer tag + an in-frame inner tag (QinQ where the device took the outer one).
  l.decodePacket(pkt(c.ethVlan([[0x8100, 7]], 0x0800, c.ipv4({ proto: 17 }, c.udp(1, 2, []))), { vlanValid: true, vlanTci: 9 }));
  assert.equal(l.vlanCount, 2);
  assert.equal(l.vlan0Tci, 9);
  assert.equal(l.vlan0Tpid, 0x8100, 'tpid 0 in metadata defaults to 0x8100');
  assert.equal(l.vlan1Tci, 7);
  // No metadata: nothing added, and the previous packet's state is gone.
  l.decodePacket(pkt(c.eth(0x0800, c.ipv4({ proto: 17 }, c.udp(1, 2, [])))));
  assert.equal(l.vlanCount, 0);
  assert.equal(l.vlanFromMeta, 0);
  assert.equal(l.vlan0Tci, 0);
});

test('ARP request and reply', () => {
  const b = c.bytes(c.eth(0x0806, c.arp(1, '02:00:00:00:00:01', '10.0.0.1', '00:00:00:00:00:00', '10.0.0.9')));
  const l = dec(b);
  assert.equal(l.error, 0);
  assert.ok(l.has(Layer.ARP));
  assert.equal(l.arpOp, 1);
  assert.equal(arpOp(b, 14), 1);
  assert.equal(ipv4ToString(b, l.srcAddrOffset), '10.0.0.1');
  assert.equal(ipv4ToString(b, l.dstAddrOffset), '10.0.0.9');
  assert.equal(arpSpaOffset(b, 14), l.srcAddrOffset);
  assert.equal(l.ipVersion, 0);
  assert.equal(l.payloadLength, 0);
});

test('IPv4 options: header length, option iterator, L4 after options', () => {
  const opts = [7, 7, 4, 10, 0, 0, 1, 1, 148, 4, 0, 0];
  const b = c.bytes(c.eth(0x0800, c.ipv4({ proto: 6, options: opts }, c.tcp({ sp: 9, dp: 10, flags: 2 }))));
  const l = dec(b);
  assert.equal(l.error, 0);
  assert.equal(l.l3Length, 32);
  assert.equal(l.l4Offset, 14 + 32);
  assert.equal(l.srcPort, 9);
  assert.ok(ipv4ChecksumOk(b, 14, 32));
  const it = new Ipv4OptionIterator().reset(b, 14, b.length);
  const seen: [number, number][] = [];
  while (it.next()) seen.push([it.type, it.length]);
  assert.deepEqual(seen, [[7, 7], [1, 1], [148, 4]]);
  assert.equal(it.malformed, false);
  b[14 + 21] = 30; // record-route length past the options
  it.reset(b, 14, b.length);
  assert.equal(it.next(), false);
  assert.equal(it.malformed, true);
});

test('IPv4 fragments: first (MF) decodes L4, later ones do not', () => {
  let l = dec(c.eth(0x0800, c.ipv4({ proto: 17, mf: true, id: 777 }, c.udp(5, 6, [1, 2, 3, 4], 1000))));
  assert.equal(l.error, 0);
  assert.equal(l.isFragment, 1);
  assert.equal(l.fragMore, 1);
  assert.equal(l.fragOffset, 0);
  assert.equal(l.fragId, 777);
  assert.ok(l.has(Layer.UDP));
  assert.equal(l.dstPort, 6);
  assert.equal(l.payloadLength, 4);
  l = dec(c.eth(0x0800, c.ipv4({ proto: 17, fragOffset: 1480, id: 777, df: false }, [1, 2, 3])));
  assert.equal(l.error, 0);
  assert.equal(l.isFragment, 1);
  assert.equal(l.fragMore, 0);
  assert.equal(l.fragOffset, 1480);
  assert.equal(l.ipProto, 17);
  assert.ok(!l.has(Layer.UDP));
  assert.equal(l.l4Offset, -1);
  assert.equal(l.srcPort, 0);
  assert.equal(l.payloadOffset, 34);
  assert.equal(l.payloadLength, 3);
  l = dec(c.eth(0x0800, c.ipv4({ proto: 17, df: true }, c.udp(1, 2, []))));
  assert.equal(l.isFragment, 0, 'DF alone is not a fragment');
});

test('IPv6 with hop-by-hop, destination options, routing, fragment and AH', () => {
  const b = c.bytes(c.eth(0x86dd, c.ipv6({ nh: 0, flow: 0xabcde, tc: 0x2e }, c.ext(60, 1, c.ext(43, 0, c.routing(44, 2, c.frag6(51, 0, true, 0x01020304, c.ah(6, 3, c.tcp({ sp: 1, dp: 2, flags: 0x10 })))))))));
  const l = dec(b);
  assert.equal(l.error, 0, l.errorText());
  assert.equal(l.ipVersion, 6);
  assert.ok(l.has(Layer.IPv6Ext));
  assert.equal(l.ipv6ExtCount, 5);
  assert.equal(l.ipProto, 6);
  const extLen = 16 + 8 + (8 + 32) + 8 + 24;
  assert.equal(l.l3Length, 40 + extLen);
  assert.equal(l.l4Offset, 14 + 40 + extLen);
  assert.equal(l.isFragment, 1);
  assert.equal(l.fragMore, 1);
  assert.equal(l.fragId, 0x01020304);
  assert.equal(ipv6FragId(b, 14 + 40 + 16 + 8 + 40), 0x01020304);
  assert.equal(l.dstPort, 2);
  assert.equal(l.tcpFlags, 0x10);
  assert.equal(ipv6FlowLabel(b, 14), 0xabcde);
  assert.equal(ipv6TrafficClass(b, 14), 0x2e);
  assert.equal(ipv6ToString(b, l.srcAddrOffset), '2001:db8::1');
  assert.equal(l.addrLength, 16);
  assert.equal(l.ttl(), 64);
});

test('IPv6 non-first fragment: upper protocol known, no L4', () => {
  const l = dec(c.eth(0x86dd, c.ipv6({ nh: 44 }, c.frag6(6, 1232, false, 99, [1, 2, 3, 4]))));
  assert.equal(l.error, 0);
  assert.equal(l.ipProto, 6);
  assert.equal(l.fragOffset, 1232);
  assert.equal(l.fragMore, 0);
  assert.equal(l.fragId, 99);
  assert.ok(!l.has(Layer.TCP));
  assert.equal(l.payloadLength, 4);
});

test('IPv6 ESP and No Next Header stop the chain', () => {
  let l = dec(c.eth(0x86dd, c.ipv6({ nh: 0 }, c.ext(50, 0, [1, 2, 3, 4, 5, 6, 7, 8]))));
  assert.equal(l.error, 0);
  assert.equal(l.ipProto, 50);
  assert.equal(l.l4Offset, 14 + 48);
  l = dec(c.eth(0x86dd, c.ipv6({ nh: 59 }, [])));
  assert.equal(l.error, 0);
  assert.equal(l.ipProto, 59);
  assert.equal(l.payloadLength, 0);
});

test('TCP flags and options via iterator and helpers', () => {
  const b = c.bytes(c.eth(0x0800, c.ipv4({ proto: 6 }, c.tcp({ sp: 40000, dp: 443, seq: 0xfffffff0, ack: 0x80000001, flags: 0x1c2 & 0x1ff, win: 1234, options: [...c.SYN_OPTIONS, 1, 1, 5, 10, ...c.be32(1), ...c.be32(2)] }))));
  const l = dec(b);
  assert.equal(l.error, 0);
  assert.equal(l.tcpFlags, 0x1c2);
  assert.equal(l.tcpSeq(), 0xfffffff0);
  assert.equal(l.tcpAck(), 0x80000001);
  assert.equal(l.tcpWindow(), 1234);
  assert.equal(l.l4Length, 20 + 32);
  const q = l.l4Offset;
  const end = l.tcpOptionsEnd();
  assert.equal(end, q + 52);
  assert.equal(tcpMss(b, q, end), 1460);
  assert.equal(tcpWindowScale(b, q, end), 7);
  assert.equal(tcpSackPermitted(b, q, end), true);
  assert.equal(tcpTsVal(b, q, end), 123456);
  assert.equal(tcpTsEcr(b, q, end), 0);
  assert.equal(tcpSackBlocks(b, q, end), 1);
  const it = new TcpOptionIterator();
  const kinds: number[] = [];
  for (it.reset(b, q, b.length); it.next(); ) kinds.push(it.kind);
  assert.deepEqual(kinds, [2, 4, 8, 1, 3, 1, 1, 5]);
  // Without options: every helper reports absence.
  const b2 = c.bytes(c.tcp({ sp: 1, dp: 2, flags: 2 }));
  assert.equal(tcpMss(b2, 0, b2.length), -1);
  assert.equal(tcpWindowScale(b2, 0, b2.length), -1);
  assert.equal(tcpSackPermitted(b2, 0, b2.length), false);
  assert.equal(tcpTsVal(b2, 0, b2.length), -1);
  // Malformed option length (0) stops the iterator and flags it.
  const b3 = c.bytes(c.tcp({ sp: 1, dp: 2, flags: 2, options: [2, 0, 0, 0] }));
  it.reset(b3, 0, b3.length);
  assert.equal(it.next(), false);
  assert.equal(it.malformed, true);
  // Options cut by `end` are not read.
  assert.equal(tcpMss(b, q, q + 22), -1);
});

test('ICMP echo and ICMPv6 neighbour solicitation', () => {
  let l = dec(c.eth(0x0800, c.ipv4({ proto: 1 }, c.icmp(8, 0, 0x1234, 7, [1, 2]))));
  assert.equal(l.error, 0);
  assert.ok(l.has(Layer.ICMP));
  assert.equal(l.icmpType, 8);
  assert.equal(l.icmpCode, 0);
  assert.equal(l.payloadLength, 2);
  l = dec(c.eth(0x0800, c.ipv4({ proto: 1 }, c.icmp(3, 4, 0, 1400, []))));
  assert.equal(l.icmpType, 3);
  assert.equal(l.icmpCode, 4);
  l = dec(c.eth(0x86dd, c.ipv6({ nh: 58 }, [135, 0, 0, 0, 0, 0, 0, 0, ...c.ip6('fe80::2')])));
  assert.equal(l.error, 0);
  assert.ok(l.has(Layer.ICMPv6));
  assert.equal(l.icmpType, 135);
  assert.equal(ipv6ToString(L.data, l.payloadOffset), 'fe80::2');
});

test('GRE: flags, key, header length, inner Ethernet and IP', () => {
  const inner = c.eth(0x0800, c.ipv4({ proto: 17, src: '192.168.1.1', dst: '192.168.1.2' }, c.udp(10, 20, [])));
  const b = c.bytes(c.eth(0x0800, c.ipv4({ proto: 47 }, c.gre({ proto: 0x6558, csum: true, key: 0xabcd, seq: 5 }, inner))));
  const l = dec(b);
  assert.equal(l.error, 0);
  assert.ok(l.has(Layer.GRE));
  assert.equal(l.tunnel, Tunnel.GRE);
  assert.equal(l.tunnelOffset, 34);
  assert.equal(greHeaderLength(b, 34), 16);
  assert.equal(greKey(b, 34), 0xabcd);
  assert.equal(l.tunnelKey, 0xabcd);
  assert.equal(l.tunnelProto, 0x6558);
  assert.equal(l.innerOffset, 50);
  assert.equal(l.innerLinkType, 1);
  const il = new Layers();
  assert.ok(l.decodeInner(il));
  assert.equal(il.error, 0);
  assert.equal(ipv4ToString(b, il.srcAddrOffset), '192.168.1.1');
  assert.equal(il.dstPort, 20);
  const l2 = dec(c.eth(0x0800, c.ipv4({ proto: 47 }, c.gre({ proto: 0x86dd }, c.ipv6({ nh: 17 }, c.udp(1, 2, []))))));
  assert.equal(l2.innerLinkType, 229);
  assert.equal(l2.tunnelKey, -1);
  assert.ok(l2.decodeInner(il));
  assert.equal(il.ipVersion, 6);
  assert.equal(il.dstPort, 2);
});

test('VXLAN: VNI and inner frame; port configurable; I flag required', () => {
  const inner = c.eth(0x0800, c.ipv4({ proto: 6, src: '10.1.1.1', dst: '10.1.1.2' }, c.tcp({ sp: 1111, dp: 2222, flags: 2 })));
  const b = c.bytes(c.eth(0x0800, c.ipv4({ proto: 17 }, c.udp(50000, 4789, c.vxlan(0x123456, inner)))));
  const l = new Layers();
  assert.equal(l.decode(b, 0, b.length), 0);
  assert.ok(l.has(Layer.VXLAN));
  assert.equal(l.tunnel, Tunnel.VXLAN);
  assert.equal(l.tunnelKey, 0x123456);
  assert.equal(vxlanVni(b, l.tunnelOffset), 0x123456);
  assert.equal(l.innerOffset, 42 + 8);
  assert.equal(l.payloadOffset, 42, 'payload stays the UDP payload');
  const il = new Layers();
  assert.ok(l.decodeInner(il));
  assert.equal(il.dstPort, 2222);
  assert.equal(il.tcpFlags, 2);
  l.vxlanPort = 0;
  l.decode(b, 0, b.length);
  assert.equal(l.tunnel, 0);
  assert.equal(l.decodeInner(il), false);
  l.vxlanPort = 4789;
  const nb = c.bytes(c.eth(0x0800, c.ipv4({ proto: 17 }, c.udp(50000, 4789, c.vxlan(1, inner, 0x00)))));
  l.decode(nb, 0, nb.length);
  assert.equal(l.error, 0);
  assert.equal(l.tunnel, 0, 'no I flag: plain UDP');
});

test('inner packet ends with the outer payload, not at trailing padding', () => {
  const inner = c.eth(0x0800, c.ipv4({ proto: 17, totalLength: 0 }, c.udp(7, 8, [1, 2, 3], 0)));
  const b = c.bytes([...c.eth(0x0800, c.ipv4({ proto: 17 }, c.udp(1, 4789, c.vxlan(1, inner)))), 0xee, 0xee, 0xee, 0xee]);
  const l = dec(b);
  assert.equal(l.error, 0);
  const il = new Layers();
  assert.ok(l.decodeInner(il));
  assert.equal(il.end, b.length - 4);
  assert.equal(il.payloadLength, 3, 'inner IP length unknown (0): bounded by the outer UDP length');
});

test('IP-in-IP tunnel', () => {
  const b = c.bytes(c.eth(0x0800, c.ipv4({ proto: 4 }, c.ipv4({ proto: 17, src: '1.1.1.1', dst: '2.2.2.2' }, c.udp(3, 4, [])))));
  const l = dec(b);
  assert.equal(l.tunnel, Tunnel.IPIP);
  assert.equal(l.innerOffset, 34);
  const il = new Layers();
  assert.ok(l.decodeInner(il));
  assert.equal(ipv4ToString(b, il.dstAddrOffset), '2.2.2.2');
  assert.equal(il.dstPort, 4);
});

test('link types: SLL, SLL2, raw IP (101, 228, 229)', () => {
  let b = c.bytes(c.sll(0x0800, c.ipv4({ proto: 6 }, c.tcp({ sp: 5, dp: 6, flags: 4 })), 4));
  let l = dec(b, 113);
  assert.equal(l.error, 0);
  assert.ok(l.has(Layer.LinuxSLL));
  assert.equal(sllProtocol(b, 0), 0x0800);
  assert.equal(l.l3Offset, 16);
  assert.equal(l.tcpFlags, 4);
  b = c.bytes(c.sll(0x8100, [0, 100, 0x86, 0xdd, ...c.ipv6({ nh: 17 }, c.udp(53, 5353, []))]));
  l = dec(b, 113);
  assert.equal(l.error, 0);
  assert.equal(l.vlanCount, 1);
  assert.equal(l.vlan0Tci, 100);
  assert.equal(l.l3Offset, 20);
  assert.equal(l.srcPort, 53);
  b = c.bytes(c.sll2(0x86dd, c.ipv6({ nh: 58 }, c.icmp(129, 0, 1, 2)), 17));
  l = dec(b, 276);
  assert.equal(l.error, 0);
  assert.ok(l.has(Layer.LinuxSLL2));
  assert.equal(sll2Ifindex(b, 0), 17);
  assert.equal(l.l3Offset, 20);
  assert.equal(l.icmpType, 129);
  l = dec(c.ipv4({ proto: 17 }, c.udp(100, 200, [])), 101);
  assert.equal(l.error, 0);
  assert.equal(l.l2Offset, -1);
  assert.equal(l.l3Offset, 0);
  assert.equal(l.etherType, 0x0800);
  assert.equal(l.dstPort, 200);
  l = dec(c.ipv6({ nh: 6 }, c.tcp({ sp: 300, dp: 400, flags: 1 })), 101);
  assert.equal(l.ipVersion, 6);
  assert.equal(l.etherType, 0x86dd);
  assert.equal(l.srcPort, 300);
  l = dec(c.ipv4({ proto: 6 }, c.tcp({ sp: 1, dp: 2, flags: 1 })), 228);
  assert.equal(l.ipVersion, 4);
  l = dec(c.ipv6({ nh: 17 }, c.udp(1, 2, [])), 229);
  assert.equal(l.ipVersion, 6);
  l = dec(c.ipv6({ nh: 17 }, c.udp(1, 2, [])), 228);
  assert.equal(l.error, DecodeError.BadVersion, 'IPv6 bytes under link type 228');
  l = dec([0x50, 1, 2, 3], 101);
  assert.equal(l.error, DecodeError.BadVersion);
  assert.equal(l.errorLayer, Layer.Link);
});

test('BSD loopback link types: Null (host order) and Loop (network order)', () => {
  let l = dec([2, 0, 0, 0, ...c.ipv4({ proto: 17 }, c.udp(1, 2, []))], 0);
  assert.equal(l.error, 0);
  assert.equal(l.l2Offset, 0);
  assert.equal(l.l3Offset, 4);
  assert.equal(l.dstPort, 2);
  for (const fam of [10, 24, 28, 30]) {
    l = dec([0, 0, 0, fam, ...c.ipv6({ nh: 17 }, c.udp(3, 4, []))], 108);
    assert.equal(l.error, 0);
    assert.equal(l.ipVersion, 6);
    assert.equal(l.dstPort, 4);
  }
  l = dec([0, 0, 0, 7, 1, 2, 3], 0);
  assert.equal(l.error, 0);
  assert.equal(l.ipVersion, 0);
  assert.equal(l.payloadLength, 3);
  l = dec([2, 0, 0], 0);
  assert.equal(l.error, DecodeError.Truncated);
  assert.equal(l.errorLayer, Layer.Link);
});

test('unknown EtherType and 802.3 length field: no error, L3 offset recorded', () => {
  let l = dec(c.eth(0x88cc, [1, 2, 3, 4]));
  assert.equal(l.error, 0);
  assert.equal(l.etherType, 0x88cc);
  assert.equal(l.l3Offset, 14);
  assert.equal(l.payloadLength, 4);
  assert.equal(l.ipVersion, 0);
  l = dec(c.eth(0x0026, [0x42, 0x42, 3, 0, 0]));
  assert.equal(l.error, 0);
  assert.equal(l.etherType, 0x26);
});

test('error codes and names', () => {
  const l = new Layers();
  assert.equal(l.decode(new Uint8Array(60), 0, 60, 147), DecodeError.UnsupportedLinkType);
  assert.equal(l.errorLayer, Layer.Link);
  assert.equal(l.errorText(), 'link: unsupported link type');
  for (const off of [-1, 1.5, NaN, Infinity]) {
    assert.equal(l.decode(new Uint8Array(60), off, 10), DecodeError.BadOffset);
  }
  assert.equal(l.decode(new Uint8Array(60), 0, -3), DecodeError.BadOffset);
  assert.equal(errorName(DecodeError.Truncated), 'truncated');
  assert.equal(layerName(Layer.IPv6Ext), 'ipv6-ext');
  assert.equal(layerName(99), 'layer-99');
});

test('caplen beyond data.length and offset past the end are clamped, not read', () => {
  const b = c.bytes(c.eth(0x0800, c.ipv4({ proto: 17 }, c.udp(1, 2, [1, 2, 3]))));
  const l = new Layers();
  assert.equal(l.decode(b, 0, 10_000), 0);
  assert.equal(l.end, b.length);
  assert.equal(l.payloadLength, 3);
  assert.equal(l.decode(b, b.length + 10, 100), DecodeError.Truncated);
  assert.equal(l.end, l.start);
});

test('a reused Layers carries nothing over between packets', () => {
  const l = new Layers();
  const a = c.bytes(c.eth(0x86dd, c.ipv6({ nh: 44 }, c.frag6(6, 0, true, 5, c.tcp({ sp: 1, dp: 2, flags: 2 })))));
  const b = c.bytes(c.eth(0x0806, c.arp(1, '02:00:00:00:00:01', '10.0.0.1', '00:00:00:00:00:00', '10.0.0.2')));
  l.decode(a, 0, a.length);
  assert.equal(l.isFragment, 1);
  l.decode(b, 0, b.length);
  const fresh = new Layers();
  fresh.decode(b, 0, b.length);
  assert.deepEqual({ ...l }, { ...fresh });
});

test('accessor functions agree with Layers fields', () => {
  const b = c.bytes(c.eth(0x0800, c.ipv4({ proto: 17, id: 0xbeef, totalLength: 30 }, c.udp(1, 2, [1, 2]))));
  const l = dec(b);
  assert.equal(ipv4TotalLength(b, l.l3Offset), 30);
  assert.equal(ipv4Id(b, l.l3Offset), 0xbeef);
  assert.equal(l.ipEnd, 14 + 30);
});

test('lazy: load() decodes nothing until a field is read; each stage reads the bytes as they are then', () => {
  const b = c.bytes(c.eth(0x0800, c.ipv4({ proto: 17 }, c.udp(1234, 53, [1, 2, 3]))));
  const l = new Layers();
  l.load(b, 0, b.length, 1);
  // Change the bytes after load: what is read first is what the stages see.
  b[14 + 9] = 6; // IPv4 protocol -> TCP (the UDP header is too short for TCP: BadLength)
  assert.equal(l.etherType, 0x0800);
  assert.equal(l.ipProto, 6);
  b[14 + 9] = 17; // too late: the network stage already ran
  assert.equal(l.ipProto, 6);
  assert.equal(l.error, DecodeError.BadLength);
  assert.equal(l.errorLayer, Layer.TCP);
  // A new load starts over, and decode() is load + every stage.
  assert.equal(l.load(b, 0, b.length, 1).dstPort, 53);
  assert.equal(l.decode(b, 0, b.length, 1), 0);
  assert.equal(l.srcPort, 1234);
});

test('the TX builder and the decoders share the layouts: what buildPacket writes, Layers reads back', async () => {
  const { buildPacket } = await import('../../src/build/index.js');
  const l = new Layers();
  for (const spec of [
    { proto: 'udp' as const, sport: 7, dport: 4789, vlan: [{ id: 5 }, { id: 6, tpid: 0x88a8 }] },
    { proto: 'tcp' as const, src: 'fd00::9', dst: 'fd00::a', sport: 80, dport: 443, tcpFlags: 'SA' },
    { proto: 'icmp' as const, src: '10.1.2.3', dst: '10.3.2.1', icmpType: 0, icmpCode: 0 },
  ]) {
    const t = buildPacket(spec);
    assert.equal(l.decode(t.bytes, 0, t.length, 1), 0, l.errorText());
    assert.equal(l.l3Offset, t.l3Off);
    assert.equal(l.l4Offset, t.l4Off);
    assert.equal(l.srcAddrOffset, t.srcOff);
    assert.equal(l.dstAddrOffset, t.dstOff);
    if (spec.proto !== 'icmp') {
      assert.equal(l.srcPort, spec.sport);
      assert.equal(l.dstPort, spec.dport);
    } else {
      assert.equal(l.icmpType, 0);
    }
  }
});
