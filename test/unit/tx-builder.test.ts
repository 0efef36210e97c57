/** Packet builder: header fields, lengths, checksums (own verifier and tshark), sizes, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPacket, describeHeaders, headerLength, parseTcpFlags, type L4Proto, type PacketSpec } from '../../src/build/builder.js';
import { formatIPv6, parseIPv4, parseIPv6, parseMac } from '../../src/build/addr.js';
import { NetringError } from '../../src/errors.js';
import { Layers } from '../../src/decode/index.js';
import { checkFrame, hasTshark, tsharkChecksumsOf } from './tx-check.js';

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
