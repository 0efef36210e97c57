import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Layers, flowHash, flowHashSymmetric, flowHashIpv4, summary, ipv6ToString, ipv4ToString, macToString, addrToString } from '../../src/decode/index.js';
import * as c from './decode-craft.js';

function hashes(b: c.Bytes, seed = 0): [number, number] {
  const l = new Layers();
  const u = c.bytes(b);
  l.decode(u, 0, u.length);
  return [flowHash(l, seed), flowHashSymmetric(l, seed)];
}

const tcp4 = (src: string, sp: number, dst: string, dp: number) =>
  c.eth(0x0800, c.ipv4({ proto: 6, src, dst }, c.tcp({ sp, dp, flags: 0x10 })));
const udp6 = (src: string, sp: number, dst: string, dp: number) =>
  c.eth(0x86dd, c.ipv6({ nh: 17, src, dst }, c.udp(sp, dp, [1, 2, 3])));

test('symmetric hash is equal in both directions, directional hash is not', () => {
  const [d1, s1] = hashes(tcp4('10.0.0.1', 1234, '10.0.0.2', 80));
  const [d2, s2] = hashes(tcp4('10.0.0.2', 80, '10.0.0.1', 1234));
  assert.equal(s1, s2);
  assert.notEqual(d1, d2);
  const [e1, t1] = hashes(udp6('2001:db8::1', 5000, 'fe80::9', 53));
  const [e2, t2] = hashes(udp6('fe80::9', 53, '2001:db8::1', 5000));
  assert.equal(t1, t2);
  assert.notEqual(e1, e2);
  // Same address both sides: ports decide the canonical order.
  const [, u1] = hashes(tcp4('10.0.0.1', 1, '10.0.0.1', 2));
  const [, u2] = hashes(tcp4('10.0.0.1', 2, '10.0.0.1', 1));
  assert.equal(u1, u2);
  for (const h of [d1, s1, e1, t1]) assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff);
});

test('flowHashIpv4 from numbers equals the packet hashes', () => {
  const [d, s] = hashes(tcp4('10.0.0.9', 1234, '10.0.0.2', 80), 5);
  assert.equal(flowHashIpv4(0x0a000009, 0x0a000002, 1234, 80, 6, false, 5), d);
  assert.equal(flowHashIpv4(0x0a000009, 0x0a000002, 1234, 80, 6, true, 5), s);
  assert.equal(flowHashIpv4(0x0a000002, 0x0a000009, 80, 1234, 6, true, 5), s);
});

test('hash depends on every tuple member and on the seed', () => {
  const base = hashes(tcp4('10.0.0.1', 1234, '10.0.0.2', 80))[0];
  const variants = [
    tcp4('10.0.0.3', 1234, '10.0.0.2', 80), tcp4('10.0.0.1', 1235, '10.0.0.2', 80),
    tcp4('10.0.0.1', 1234, '10.0.0.4', 80), tcp4('10.0.0.1', 1234, '10.0.0.2', 81),
    c.eth(0x0800, c.ipv4({ proto: 17, src: '10.0.0.1', dst: '10.0.0.2' }, c.udp(1234, 80, []))),
  ];
  for (const v of variants) assert.notEqual(hashes(v)[0], base);
  assert.notEqual(hashes(tcp4('10.0.0.1', 1234, '10.0.0.2', 80), 7)[0], base);
});

test('all fragments of a datagram hash together', () => {
  const first = c.eth(0x0800, c.ipv4({ proto: 17, mf: true, id: 9 }, c.udp(1000, 2000, Array(16).fill(0), 100)));
  const later = c.eth(0x0800, c.ipv4({ proto: 17, fragOffset: 24, id: 9 }, Array(40).fill(0)));
  assert.deepEqual(hashes(first), hashes(later));
  const f6a = c.eth(0x86dd, c.ipv6({ nh: 44 }, c.frag6(17, 0, true, 5, c.udp(1, 2, Array(8).fill(0), 40))));
  const f6b = c.eth(0x86dd, c.ipv6({ nh: 44 }, c.frag6(17, 16, false, 5, Array(24).fill(0))));
  assert.deepEqual(hashes(f6a), hashes(f6b));
});

test('non-IP frames hash the MAC pair symmetrically', () => {
  const a = c.eth(0x88cc, [1, 2, 3], '02:00:00:00:00:0a', '02:00:00:00:00:0b');
  const b = c.eth(0x88cc, [1, 2, 3], '02:00:00:00:00:0b', '02:00:00:00:00:0a');
  assert.equal(hashes(a)[1], hashes(b)[1]);
  assert.notEqual(hashes(a)[0], hashes(b)[0]);
});

test('hash spreads 65536 flows evenly over 16 buckets', () => {
  const l = new Layers();
  const buf = c.bytes(tcp4('10.0.0.1', 0, '10.0.0.2', 443));
  const counts = new Array(16).fill(0);
  for (let i = 0; i < 65536; i++) {
    buf[34] = i >> 8;
    buf[35] = i & 255;
    buf[29] = (i * 7) & 255; // vary the source address too
    l.decode(buf, 0, buf.length);
    counts[flowHashSymmetric(l) & 15]++;
  }
  for (const n of counts) assert.ok(Math.abs(n - 4096) < 4096 * 0.06, `bucket count ${n}`);
});

test('IPv6 address text follows RFC 5952', () => {
  const cases: [string, string][] = [
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['2001:DB8:aaaa:bbbb:cccc:dddd:eeee:0001', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1'],
    ['0:0:0:0:0:ffff:102:304', '::ffff:1.2.3.4'],
  ];
  for (const [full, want] of cases) assert.equal(ipv6ToString(c.bytes(c.ip6(full)), 0), want, full);
  const u = c.bytes([1, 2, 3]);
  assert.equal(ipv6ToString(u, 0), '?');
  assert.equal(ipv4ToString(u, 0), '?');
  assert.equal(macToString(c.bytes(c.mac('0a:1b:2c:3d:4e:5f')), 0), '0a:1b:2c:3d:4e:5f');
  assert.equal(addrToString(c.bytes([1, 2, 255]), 0, 3), '01:02:ff');
});

function sum(b: c.Bytes, caplen?: number, lt = 1): string {
  const l = new Layers();
  const u = c.bytes(b);
  l.decode(u, 0, caplen ?? u.length, lt);
  return summary(l);
}

test('summary: UDP, fragments, VXLAN, VLAN stack, errors', () => {
  assert.equal(sum(c.eth(0x0800, c.ipv4({ proto: 17, src: '1.2.3.4', dst: '5.6.7.8' }, c.udp(1000, 2000, [1, 2, 3])))),
    'IP 1.2.3.4.1000 > 5.6.7.8.2000: UDP, length 3');
  assert.equal(sum(c.eth(0x0800, c.ipv4({ proto: 17, fragOffset: 1480, id: 77 }, [1, 2, 3, 4]))),
    'IP 10.0.0.1 > 10.0.0.2: ip-proto-17 (frag 77:4@1480)');
  assert.equal(sum(c.ethVlan([[0x88a8, 10], [0x8100, 20]], 0x0800, c.ipv4({ proto: 17 }, c.udp(1, 2, [])))),
    'vlan 10, vlan 20, IP 10.0.0.1.1 > 10.0.0.2.2: UDP, length 0');
  const vx = c.eth(0x0800, c.ipv4({ proto: 17 }, c.udp(5, 4789, c.vxlan(99, c.eth(0x0800, c.ipv4({ proto: 1, src: '9.9.9.9', dst: '8.8.8.8' }, c.icmp(8, 0, 1, 2)))))));
  assert.equal(sum(vx), 'IP 10.0.0.1.5 > 10.0.0.2.4789: VXLAN, flags [I] (0x08), vni 99: IP 9.9.9.9 > 8.8.8.8: ICMP echo request, id 1, seq 2, length 8');
  const syn = c.eth(0x0800, c.ipv4({ proto: 6 }, c.tcp({ sp: 1, dp: 2, flags: 2, options: c.SYN_OPTIONS })));
  assert.match(sum(syn, 14 + 20 + 24), /^IP 10\.0\.0\.1\.1 > 10\.0\.0\.2\.2: Flags \[S\], seq 1000, win 65535, length 0 \[\|tcp\]$/);
  assert.equal(sum(c.eth(0x0800, c.ipv4({ proto: 17, ihl: 3 }, []))), 'IP, length 20 [ipv4: bad header length]');
  assert.equal(sum([1, 2, 3]), 'ethernet, length 3 [|ethernet]');
  assert.equal(sum([0x45, 0, 0, 20], undefined, 147), 'link type 147, length 4 [link: unsupported link type]');
});

test('summary never reads past caplen for any truncation of the corpus', () => {
  // Each truncation is decoded at the very end of its buffer and again followed by
  // bytes that differ (zeros, 0xff, the packet's real continuation): a decoder that
  // reads one byte past caplen prints something else for one of them.
  const l = new Layers();
  const POISON = 64;
  for (const { name, linkType, bytes } of c.corpus()) {
    for (let k = 0; k <= bytes.length; k++) {
      const cut = bytes.slice(0, k);
      l.decode(cut, 0, k, linkType);
      const s = summary(l);
      assert.ok(!s.includes('undefined') && !s.includes('NaN'), `${name}@${k}: ${s}`);
      const rest = bytes.subarray(k, k + POISON);
      const tails = [new Uint8Array(POISON), new Uint8Array(POISON).fill(0xff), rest, new Uint8Array(POISON).map((_, i) => (i * 37 + 11) & 0xff)];
      for (const tail of tails) {
        const buf = new Uint8Array(8 + k + tail.length);
        buf.fill(0xa5, 0, 8); // bytes before the packet differ too
        buf.set(cut, 8);
        buf.set(tail, 8 + k);
        l.decode(buf, 8, k, linkType);
        assert.equal(summary(l), s, `${name}@${k}: the summary depends on bytes past caplen`);
      }
    }
  }
});
