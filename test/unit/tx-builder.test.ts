/** Packet builder: header fields, lengths, checksums (own verifier and tshark), sizes, errors; IPv4 options and fragments, IPv6 extension headers, ARP (decoded by netring and by tshark). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPacket, describeHeaders, headerLength, parseTcpFlags, type L4Proto, type PacketSpec } from '../../src/build/builder.js';
import { formatIPv6, parseIPv4, parseIPv6, parseMac } from '../../src/build/addr.js';
import { NetringError } from '../../src/errors.js';
import { ArpOp, arpShaOffset, arpSpaOffset, arpThaOffset, Ipv4Option, Ipv4OptionIterator, Layer, Layers } from '../../src/decode/index.js';
import { checkFrame, hasTshark, tsharkChecksumsOf, tsharkFieldsOf } from './tx-check.js';

const specs: PacketSpec[] = [];
for (const proto of ['udp', 'tcp', 'icmp'] as L4Proto[]) {
  for (const v6 of [false, true]) {
    for (const vlan of [undefined, 100, [{ id: 7, pcp: 5 }, 9]] as PacketSpec['vlan'][]) {
      for (const size of [undefined, 61, 128, 1514, 9000]) {
        for (const payload of ['zero', 'inc', 'random', '0xa5', 'hex:deadbeef01', 'text:netring']) {
          const base: PacketSpec = { proto, vlan, payload, src: v6 ? 'fd00::a:1' : '10.1.2.3', dst: v6 ? '2001:db8::ffff:5' : '192.168.200.7', sport: 1234, dport: 65535 };
          // 61: an odd length just above the headers (or the minimum)
          specs.push({ ...base, size: size === 61 ? Math.max(61, headerLength(base) + 1) : size });
        }
      }
    }
  }
}

test('every protocol/family/VLAN/size/payload combination has correct checksums and lengths', () => {
  const L = new Layers();
  for (const s of specs) {
    const t = buildPacket(s);
    const f = t.bytes;
    const want = s.size ?? Math.max(60, headerLength(s));
    assert.equal(f.length, want);
    const c = checkFrame(f);
    assert.ok(c.ipOk, `IP checksum ${JSON.stringify(s)}`);
    assert.ok(c.l4Ok, `L4 checksum ${JSON.stringify(s)}`);
    assert.equal(c.ipEnd, f.length, 'the IP packet fills the frame');
    assert.equal(c.family, s.src!.includes(':') ? 6 : 4);
    assert.equal(c.proto, s.proto === 'udp' ? 17 : s.proto === 'tcp' ? 6 : c.family === 4 ? 1 : 58);
    L.decode(f, 0, f.length, 1);
    assert.equal(L.error, 0, `decoder error ${L.errorText?.() ?? L.error}`);
    assert.equal(L.l4Offset, t.l4Off);
    assert.equal(L.payloadOffset, t.payloadOff);
    if (s.proto !== 'icmp') { assert.equal(L.srcPort, 1234); assert.equal(L.dstPort, 65535); }
    assert.deepEqual(c.vlans, s.vlan === undefined ? [] : Array.isArray(s.vlan) ? [7, 9] : [100]);
  }
});

test('tshark agrees: every checksum is good', { skip: hasTshark() ? false : 'tshark not installed' }, () => {
  const frames = specs.filter((_, i) => i % 3 === 0).map((s) => buildPacket(s).bytes);
  const verdicts = tsharkChecksumsOf(frames);
  assert.equal(verdicts.length, frames.length);
  verdicts.forEach((v, i) => {
    const vals = Object.values(v);
    assert.ok(vals.length >= 1, `frame ${i}: tshark reported no checksum`);
    for (const [k, x] of Object.entries(v)) assert.equal(x, '1', `frame ${i} ${k}`);
  });
});

test('header fields land where the template says', () => {
  const t = buildPacket({
    srcMac: '02:11:22:33:44:55', dstMac: 'ff:ff:ff:ff:ff:ff', vlan: { id: 42, pcp: 3, dei: true }, src: '1.2.3.4', dst: '5.6.7.8',
    proto: 'tcp', sport: 80, dport: 443, ttl: 9, tos: 0x10, ipId: 0xbeef, df: false, tcpFlags: 'PA', tcpSeq: 0x01020304,
    tcpAck: 0xa0b0c0d0, tcpWindow: 512, size: 100, payload: 'inc',
  });
  const b = t.bytes;
  assert.deepEqual([...b.subarray(0, 12)], [255, 255, 255, 255, 255, 255, 2, 0x11, 0x22, 0x33, 0x44, 0x55]);
  assert.deepEqual([...b.subarray(12, 18)], [0x81, 0x00, (3 << 5) | 0x10, 42, 0x08, 0x00]);
  assert.deepEqual(t.vlanTciOffs, [14]);
  const ip = t.l3Off;
  assert.equal(ip, 18);
  assert.equal(b[ip], 0x45); assert.equal(b[ip + 1], 0x10);
  assert.equal((b[ip + 2] << 8) | b[ip + 3], 82);
  assert.equal((b[ip + 4] << 8) | b[ip + 5], 0xbeef);
  assert.equal(b[ip + 6], 0);
  assert.equal(b[ip + 8], 9); assert.equal(b[ip + 9], 6);
  assert.deepEqual([...b.subarray(t.srcOff, t.srcOff + 4)], [1, 2, 3, 4]);
  assert.deepEqual([...b.subarray(t.dstOff, t.dstOff + 4)], [5, 6, 7, 8]);
  const l4 = t.l4Off;
  assert.equal((b[l4] << 8) | b[l4 + 1], 80);
  assert.equal((b[l4 + 2] << 8) | b[l4 + 3], 443);
  assert.deepEqual([...b.subarray(l4 + 4, l4 + 12)], [1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd0]);
  assert.equal(b[l4 + 12], 0x50); assert.equal(b[l4 + 13], 0x18);
  assert.equal((b[l4 + 14] << 8) | b[l4 + 15], 512);
  for (let i = t.payloadOff; i < 100; i++) assert.equal(b[i], (i - t.payloadOff) & 255);
});

test('IPv6 header: version, traffic class, flow label, payload length, hop limit', () => {
  const t = buildPacket({ src: '::1', dst: 'fe80::1:2:3', tos: 0xb8, flowLabel: 0xabcde, ttl: 1, size: 200 });
  const b = t.bytes;
  const w = ((b[14] << 24) | (b[15] << 16) | (b[16] << 8) | b[17]) >>> 0;
  assert.equal(w >>> 28, 6);
  assert.equal((w >>> 20) & 0xff, 0xb8);
  assert.equal(w & 0xfffff, 0xabcde);
  assert.equal((b[18] << 8) | b[19], 200 - 54);
  assert.equal(b[20], 17);
  assert.equal(b[21], 1);
  assert.equal(formatIPv6(b, 38), 'fe80::1:2:3');
});

test('explicit payload bytes shorter than the minimum get a zero trailer outside the IP packet', () => {
  const t = buildPacket({ payload: Uint8Array.of(1, 2, 3) });
  assert.equal(t.length, 60);
  assert.ok(t.trailer);
  const c = checkFrame(t.bytes);
  assert.equal(c.ipEnd, 45);
  assert.ok(c.ipOk && c.l4Ok);
  assert.deepEqual([...t.bytes.subarray(42, 45)], [1, 2, 3]);
  assert.ok(t.bytes.subarray(45).every((x) => x === 0));
});

test('bad input gives clear errors', () => {
  const err = (s: PacketSpec, re: RegExp): void => {
    assert.throws(() => buildPacket(s), (e: unknown) => e instanceof NetringError && e.code === 'EINVAL' && re.test(e.message), re.source);
  };
  err({ proto: 'tcp', src: 'fd00::1', vlan: [1, 2], size: 64 }, /size 64 is smaller than the headers: Ethernet 14 \+ VLAN 8 \+ IPv6 40 \+ TCP 20 = 82 bytes/);
  err({ size: 59 }, /outside 60\.\.9000/);
  err({ size: 9001 }, /outside 60\.\.9000/);
  err({ src: '10.0.0.1', dst: 'fd00::1' }, /different IP versions/);
  err({ src: '10.0.0.300' }, /bad source address|IPv4 address/);
  err({ dst: 'nonsense' }, /bad destination address/);
  err({ sport: 70000 }, /sport must be an integer in 0\.\.65535/);
  err({ vlan: 4096 }, /VLAN id/);
  err({ proto: 'sctp' as L4Proto }, /unknown protocol "sctp"/);
  err({ payload: 'hex:abc' }, /even number of hex digits/);
  err({ payload: 'stripes' }, /bad payload "stripes"/);
  err({ tcpFlags: 'SX', proto: 'tcp' }, /bad TCP flags/);
  err({ srcMac: '02:00:00:00:00' }, /bad MAC address/);
  assert.equal(describeHeaders({ proto: 'icmp', src: '::1' }), 'Ethernet 14 + IPv6 40 + ICMPV6 8');
});

test('address and flag parsers', () => {
  assert.equal(parseIPv4('192.168.1.254'), 0xc0a801fe);
  assert.deepEqual([...parseMac('0a-0b-0c-0d-0e-0f')], [10, 11, 12, 13, 14, 15]);
  assert.equal(formatIPv6(parseIPv6('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
  assert.equal(formatIPv6(parseIPv6('::ffff:10.1.2.3')), '::ffff:a01:203');
  assert.equal(formatIPv6(parseIPv6('::')), '::');
  assert.equal(formatIPv6(parseIPv6('1:2:3:4:5:6:7:8')), '1:2:3:4:5:6:7:8');
  assert.throws(() => parseIPv6('1::2::3'), /only once/);
  assert.throws(() => parseIPv6('1:2:3'), /8 groups/);
  assert.equal(parseTcpFlags('sa'), 0x12);
  assert.equal(parseTcpFlags(undefined), 0x02);
});

// ---------------------------------------------- IPv4 options, IPv6 extension headers, ARP ---

/** Router alert (4 bytes) and a record route with room for one address (7 bytes): 11 bytes, one NOP of padding. */
const RA_RR = [148, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0];

test('IPv4 options: the header length counts them (NOP padding to 4 bytes), the header checksum covers them, the decoder walks them', () => {
  const L = new Layers();
  for (const proto of ['udp', 'tcp', 'icmp'] as L4Proto[]) {
    const t = buildPacket({ proto, ipOptions: RA_RR, vlan: 5, payload: 'inc', size: 128, sport: 7, dport: 9 });
    const f = t.bytes;
    assert.equal(t.l4Off - t.l3Off, 32, 'IHL 8');
    assert.equal(f[t.l3Off] & 15, 8);
    assert.deepEqual([...f.subarray(t.l3Off + 20, t.l3Off + 32)], [...RA_RR, 1]);
    const c = checkFrame(f);
    assert.ok(c.ipOk, `${proto}: IPv4 header checksum`);
    assert.ok(c.l4Ok, `${proto}: transport checksum`);
    assert.equal(c.ipEnd, f.length);
    L.decode(f, 0, f.length, 1);
    assert.equal(L.error, 0, L.errorText());
    assert.equal(L.l3Length, 32);
    assert.equal(L.l4Offset, t.l4Off);
    assert.equal(L.payloadOffset, t.payloadOff);
    const types: number[] = [];
    const it = new Ipv4OptionIterator().reset(f, t.l3Off, f.length);
    while (it.next()) types.push(it.type);
    assert.deepEqual(types, [Ipv4Option.RouterAlert, Ipv4Option.RecordRoute, Ipv4Option.Nop]);
    assert.ok(!it.malformed);
    if (proto !== 'icmp') assert.deepEqual([L.srcPort, L.dstPort], [7, 9]);
  }
  assert.equal(headerLength({ ipOptions: RA_RR }), 14 + 32 + 8);
  assert.equal(describeHeaders({ ipOptions: RA_RR, proto: 'tcp' }), 'Ethernet 14 + IPv4 20 + IPv4 options 12 + TCP 20');
  assert.equal(buildPacket({ ipOptions: new Array(40).fill(1) }).l4Off, 14 + 60);
});

test('IPv4 fragment fields: mf and fragOffset set the flags word (DF off unless asked), the decoder reports the fragment', () => {
  const L = new Layers();
  const first = buildPacket({ mf: true, ipId: 4242 });
  L.decode(first.bytes, 0, first.length, 1);
  assert.equal(first.bytes[first.l3Off + 6] & 0xe0, 0x20, 'MF only');
  assert.deepEqual([L.isFragment, L.fragMore, L.fragOffset, L.fragId], [1, 1, 0, 4242]);
  assert.equal(L.dstPort, 5001, 'the first fragment has the ports');
  const later = buildPacket({ fragOffset: 1480, ipId: 4242 });
  L.decode(later.bytes, 0, later.length, 1);
  assert.equal(later.bytes[later.l3Off + 6] & 0xe0, 0, 'no flag');
  assert.deepEqual([L.isFragment, L.fragMore, L.fragOffset], [1, 0, 1480]);
  assert.equal(buildPacket({ fragOffset: 8, df: true }).bytes[14 + 6] & 0x40, 0x40, 'DF when asked');
  assert.equal(buildPacket({}).bytes[14 + 6], 0x40, 'an unfragmented packet keeps DF by default');
  assert.ok(checkFrame(later.bytes).ipOk);
});

test('IPv6 extension headers: hop-by-hop then fragment, chained Next Headers, payload length, checksums; the decoder walks them', () => {
  const L = new Layers();
  for (const proto of ['udp', 'tcp', 'icmp'] as L4Proto[]) {
    const t = buildPacket({
      proto, src: 'fd00::1', dst: 'fd00::2', payload: 'inc', size: 200, sport: 7, dport: 9,
      ipv6Ext: [{ type: 'hop-by-hop', length: 16 }, { type: 'fragment', offset: 0, more: true, id: 0xdeadbeef }],
    });
    const f = t.bytes;
    const ip = t.l3Off;
    assert.equal(t.l4Off, ip + 40 + 16 + 8);
    assert.equal(f[ip + 6], 0, 'fixed header -> hop-by-hop');
    assert.equal(f[ip + 40], 44, 'hop-by-hop -> fragment');
    assert.equal(f[ip + 41], 1, 'hop-by-hop length: one 8-byte unit beyond the first');
    assert.deepEqual([f[ip + 42], f[ip + 43]], [1, 12], 'one PadN option over the other 14 bytes');
    assert.equal(f[ip + 56], t.ipProto, 'fragment -> transport');
    assert.equal((f[ip + 4] << 8) | f[ip + 5], f.length - ip - 40, 'payload length counts the extension headers');
    const c = checkFrame(f);
    assert.equal(c.proto, t.ipProto);
    assert.ok(c.l4Ok, `${proto}: transport checksum`);
    L.decode(f, 0, f.length, 1);
    assert.equal(L.error, 0, L.errorText());
    assert.deepEqual([L.ipProto, L.ipv6ExtCount, L.l4Offset, L.payloadOffset], [t.ipProto, 2, t.l4Off, t.payloadOff]);
    assert.deepEqual([L.isFragment, L.fragMore, L.fragOffset, L.fragId], [1, 1, 0, 0xdeadbeef]);
    if (proto !== 'icmp') assert.deepEqual([L.srcPort, L.dstPort], [7, 9]);
  }
  const later = buildPacket({ src: 'fd00::1', ipv6Ext: [{ type: 'fragment', offset: 2048 }] });
  L.decode(later.bytes, 0, later.length, 1);
  assert.deepEqual([L.isFragment, L.fragMore, L.fragOffset, L.ipProto], [1, 0, 2048, 17]);
  assert.equal(describeHeaders({ src: '::1', ipv6Ext: [{ type: 'hop-by-hop' }] }), 'Ethernet 14 + IPv6 40 + IPv6 extension headers 8 + UDP 8');
});

test('ARP: request to broadcast with a zero target MAC by default, reply to the destination MAC; sender/target addresses; the decoder reads them', () => {
  const L = new Layers();
  const req = buildPacket({ arp: {}, srcMac: '02:00:00:00:0a:01', src: '10.1.0.1', dst: '10.1.0.2', vlan: 12 });
  const f = req.bytes;
  assert.equal(req.length, 60, 'padded to the Ethernet minimum');
  assert.ok(req.trailer);
  assert.deepEqual([...f.subarray(0, 6)], [255, 255, 255, 255, 255, 255]);
  assert.deepEqual([req.l3Off, req.l4Off, req.payloadOff, req.ipProto, req.ipCsumOff], [18, -1, 46, -1, -1]);
  assert.ok(f.subarray(req.payloadOff).every((x) => x === 0), 'zero padding');
  L.decode(f, 0, f.length, 1);
  assert.equal(L.error, 0, L.errorText());
  assert.ok(L.has(Layer.ARP));
  assert.equal(L.arpOp, ArpOp.Request);
  assert.deepEqual([...f.subarray(arpShaOffset(f, req.l3Off), arpShaOffset(f, req.l3Off) + 6)], [2, 0, 0, 0, 10, 1]);
  assert.deepEqual([...f.subarray(arpSpaOffset(f, req.l3Off), arpSpaOffset(f, req.l3Off) + 4)], [10, 1, 0, 1]);
  assert.deepEqual([...f.subarray(arpThaOffset(f, req.l3Off), arpThaOffset(f, req.l3Off) + 6)], [0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...f.subarray(req.dstOff, req.dstOff + 4)], [10, 1, 0, 2]);
  assert.equal(req.srcOff, arpSpaOffset(f, req.l3Off));
  const rep = buildPacket({ arp: { op: 'reply', senderMac: '02:00:00:00:0b:02' }, dstMac: '02:00:00:00:0a:01' });
  L.decode(rep.bytes, 0, rep.length, 1);
  assert.equal(L.arpOp, ArpOp.Reply);
  const r = rep.bytes;
  assert.deepEqual([...r.subarray(0, 6)], [2, 0, 0, 0, 10, 1]);
  assert.deepEqual([...r.subarray(arpShaOffset(r, 14), arpShaOffset(r, 14) + 6)], [2, 0, 0, 0, 11, 2]);
  assert.deepEqual([...r.subarray(arpThaOffset(r, 14), arpThaOffset(r, 14) + 6)], [2, 0, 0, 0, 10, 1], 'target MAC: the destination');
  assert.equal(headerLength({ arp: {} }), 42);
  assert.equal(describeHeaders({ arp: {}, vlan: [1, 2] }), 'Ethernet 14 + VLAN 8 + ARP 28');
});

test('tshark reads the same IPv4 options, IPv6 extension headers and ARP fields, and finds every checksum good', { skip: hasTshark() ? false : 'tshark not installed' }, () => {
  const frames = [
    buildPacket({ proto: 'udp', ipOptions: RA_RR, sport: 7, dport: 9, size: 100 }).bytes,
    buildPacket({ proto: 'tcp', ipOptions: [148, 4, 0, 0], sport: 7, dport: 9 }).bytes,
    // an atomic fragment (offset 0, no more): tshark decodes the UDP inside without reassembly
    buildPacket({ proto: 'udp', src: 'fd00::1', dst: 'fd00::2', sport: 7, dport: 9, size: 150, ipv6Ext: [{ type: 'hop-by-hop', length: 24 }, { type: 'fragment', id: 77 }] }).bytes,
    buildPacket({ arp: { op: 'reply' }, src: '10.1.0.1', dst: '10.1.0.2', vlan: 3 }).bytes,
  ];
  const fields = ['ip.hdr_len', 'ip.opt.type', 'ip.checksum.status', 'udp.checksum.status', 'tcp.checksum.status', 'udp.srcport',
    'ipv6.hopopts.len_oct', 'ipv6.opt.type', 'ipv6.fraghdr.ident', 'ipv6.fraghdr.offset', 'ipv6.fraghdr.more', 'arp.opcode', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4'];
  const rows = tsharkFieldsOf(frames, fields, ['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE']);
  assert.equal(rows.length, 4);
  assert.deepEqual(pick(rows[0], ['ip.hdr_len', 'ip.opt.type', 'ip.checksum.status', 'udp.checksum.status', 'udp.srcport']),
    { 'ip.hdr_len': '32', 'ip.opt.type': '148,7,1', 'ip.checksum.status': '1', 'udp.checksum.status': '1', 'udp.srcport': '7' });
  assert.deepEqual(pick(rows[1], ['ip.hdr_len', 'ip.opt.type', 'ip.checksum.status', 'tcp.checksum.status']),
    { 'ip.hdr_len': '24', 'ip.opt.type': '148', 'ip.checksum.status': '1', 'tcp.checksum.status': '1' });
  assert.deepEqual(pick(rows[2], ['ipv6.hopopts.len_oct', 'ipv6.opt.type', 'ipv6.fraghdr.ident', 'ipv6.fraghdr.offset', 'ipv6.fraghdr.more', 'udp.checksum.status', 'udp.srcport']),
    { 'ipv6.hopopts.len_oct': '24', 'ipv6.opt.type': '0x01', 'ipv6.fraghdr.ident': '0x0000004d', 'ipv6.fraghdr.offset': '0', 'ipv6.fraghdr.more': '0', 'udp.checksum.status': '1', 'udp.srcport': '7' });
  assert.deepEqual(pick(rows[3], ['arp.opcode', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4']),
    { 'arp.opcode': '2', 'arp.src.proto_ipv4': '10.1.0.1', 'arp.dst.proto_ipv4': '10.1.0.2' });
});

test('IPv4 options, IPv6 extension headers and ARP: bad input gives clear errors', () => {
  const err = (s: PacketSpec, re: RegExp): void => {
    assert.throws(() => buildPacket(s), (e: unknown) => e instanceof NetringError && e.code === 'EINVAL' && re.test(e.message), re.source);
  };
  err({ ipOptions: [1], src: 'fd00::1' }, /ipOptions are IPv4 header options/);
  err({ ipOptions: new Array(41).fill(1) }, /at most 40 fit/);
  err({ ipOptions: [256] }, /ipOptions\[0\] is not a byte/);
  err({ ipv6Ext: [{ type: 'fragment' }] }, /ipv6Ext are IPv6 extension headers/);
  err({ src: '::1', ipv6Ext: [{ type: 'fragment' }, { type: 'hop-by-hop' }] }, /hop-by-hop header must come first/);
  err({ src: '::1', ipv6Ext: [{ type: 'hop-by-hop', length: 12 }] }, /multiple of 8 in 8\.\.256/);
  err({ src: '::1', ipv6Ext: [{ type: 'fragment', offset: 5 }] }, /fragment offset must be a multiple of 8/);
  err({ src: '::1', ipv6Ext: [{ type: 'routing' } as never] }, /unknown header type "routing"/);
  err({ src: '::1', mf: true }, /fragOffset and mf are IPv4 fields/);
  err({ fragOffset: 65536 }, /fragOffset must be an integer in 0\.\.65528/);
  err({ arp: {}, src: 'fd00::1' }, /ARP carries IPv4 addresses/);
  err({ arp: {}, proto: 'tcp' }, /proto does not apply to an ARP frame/);
  err({ arp: {}, payload: 'inc' }, /payload does not apply to an ARP frame/);
  err({ arp: { op: 0 } }, /arp op must be an integer in 1\.\.65535/);
});

function pick(r: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.map((k) => [k, r[k] ?? '']));
}
