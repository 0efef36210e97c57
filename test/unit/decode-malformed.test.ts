import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Layers, Layer, DecodeError } from '../../src/decode/index.js';
import * as c from './decode-craft.js';
import { assertInRange, fields } from './decode-invariants.js';

type Fields = Record<string, unknown>;
const DEFAULTS: Fields = fields(new Layers());
/** Fields that legitimately change when a packet is cut short. */
const VARYING = new Set(['data', 'end', 'payloadOffset', 'payloadLength', 'ipEnd', 'truncated', 'error', 'errorLayer', 'ipProto', 'l3Length', 'l2Length', 'cut', 'rare', 'present', 'vlanCount']);

function snapshot(l: Layers): Fields {
  return fields(l);
}

test('truncation at every byte boundary of every corpus packet', () => {
  const l = new Layers();
  let checked = 0;
  for (const { name, linkType, bytes } of c.corpus()) {
    assert.equal(l.decode(bytes, 0, bytes.length, linkType), 0, `${name}: ${l.errorText()}`);
    const full = snapshot(l);
    const headersEnd = Math.max(l.payloadOffset, l.innerOffset);
    for (let k = 0; k <= bytes.length; k++) {
      const rc = l.decode(bytes, 0, k, linkType);
      assert.equal(rc, l.error);
      assertInRange(l, `${name}@${k}`);
      if (k < headersEnd) {
        assert.equal(l.error, DecodeError.Truncated, `${name}@${k}/${headersEnd}: ${l.errorText()}`);
        // Whatever was decoded before the cut agrees with the full decode.
        const got = snapshot(l);
        for (const [f, v] of Object.entries(got)) {
          if (VARYING.has(f) || v === DEFAULTS[f]) continue;
          assert.equal(v, full[f], `${name}@${k}: field ${f}`);
        }
        assert.equal(l.present & ~(full.present as number), 0, `${name}@${k}: extra layers`);
      } else {
        assert.equal(l.error, 0, `${name}@${k}: ${l.errorText()}`);
        const got = snapshot(l);
        for (const [f, v] of Object.entries(got)) {
          if (f === 'end' || f === 'payloadLength' || f === 'ipEnd' || f === 'truncated' || f === 'cut' || f === 'rare') continue;
          assert.equal(v, full[f], `${name}@${k}: field ${f}`);
        }
        assert.equal(l.payloadLength, (full.payloadLength as number) - (bytes.length - k), `${name}@${k}: payload length`);
        if (l.ipVersion !== 0) assert.equal(l.truncated, k < bytes.length ? 1 : 0, `${name}@${k}: truncated flag`);
      }
      checked++;
    }
  }
  assert.equal(checked, c.corpus().reduce((n, p) => n + p.bytes.length + 1, 0));
});

function ethIp4(o: c.Ip4Opts, payload: c.Bytes): Uint8Array {
  return c.bytes(c.eth(0x0800, c.ipv4(o, payload)));
}

function run(b: Uint8Array, caplen = b.length, linkType = 1): Layers {
  const l = new Layers();
  l.decode(b, 0, caplen, linkType);
  assertInRange(l, 'case');
  return l;
}

test('IPv4: IHL < 5', () => {
  for (const ihl of [0, 1, 4]) {
    const l = run(ethIp4({ proto: 17, ihl }, c.udp(1, 2, [])));
    assert.equal(l.error, DecodeError.BadHeaderLength);
    assert.equal(l.errorLayer, Layer.IPv4);
    assert.equal(l.errorText(), 'ipv4: bad header length');
    assert.ok(!l.has(Layer.IPv4));
    assert.equal(l.payloadOffset, 14);
  }
});

test('IPv4: total length below header length, and header longer than the datagram', () => {
  let l = run(ethIp4({ proto: 17, totalLength: 19 }, c.udp(1, 2, [])));
  assert.equal(l.error, DecodeError.BadLength);
  assert.equal(l.errorLayer, Layer.IPv4);
  l = run(ethIp4({ proto: 17, ihl: 15, totalLength: 40 }, [...Array(40).fill(1), ...c.udp(1, 2, [])]));
  assert.equal(l.error, DecodeError.BadLength);
});

test('IPv4: total length beyond caplen is truncation, not an error, when headers fit', () => {
  const b = ethIp4({ proto: 17, totalLength: 1500 }, c.udp(1, 2, [1, 2, 3, 4], 1480));
  const l = run(b);
  assert.equal(l.error, 0);
  assert.equal(l.truncated, 1);
  assert.equal(l.payloadLength, 4);
  assert.equal(l.ipEnd, b.length);
});

test('IPv4: options cut by caplen', () => {
  const b = ethIp4({ proto: 6, options: Array(20).fill(1) }, c.tcp({ sp: 1, dp: 2, flags: 2 }));
  const l = run(b, 14 + 30);
  assert.equal(l.error, DecodeError.Truncated);
  assert.equal(l.errorLayer, Layer.IPv4);
  assert.ok(l.has(Layer.IPv4), 'the fixed header was decoded');
  assert.equal(l.srcAddrOffset, 26);
});

test('IPv4/IPv6 version mismatch', () => {
  let l = run(c.bytes(c.eth(0x0800, c.ipv6({ nh: 17 }, c.udp(1, 2, [])))));
  assert.equal(l.error, DecodeError.BadVersion);
  assert.equal(l.errorLayer, Layer.IPv4);
  l = run(c.bytes(c.eth(0x86dd, c.ipv4({ proto: 17 }, c.udp(1, 2, [...Array(30).fill(0)])))));
  assert.equal(l.error, DecodeError.BadVersion);
  assert.equal(l.errorLayer, Layer.IPv6);
});

test('IPv4 total length 0 (TSO super-packet) decodes to the captured end', () => {
  const l = run(ethIp4({ proto: 6, totalLength: 0 }, c.tcp({ sp: 1, dp: 2, flags: 0x18 }, [1, 2, 3])));
  assert.equal(l.error, 0);
  assert.equal(l.payloadLength, 3);
});

test('IPv6: extension header length past the payload / past caplen', () => {
  // Payload length is exact, but the hop-by-hop header claims 8 * (3 + 1) bytes.
  const inner = c.ext(17, 0, c.udp(1, 2, []));
  const b = c.bytes(c.eth(0x86dd, c.ipv6({ nh: 0 }, inner)));
  b[14 + 40 + 1] = 3;
  let l = run(b);
  assert.equal(l.error, DecodeError.BadLength);
  assert.equal(l.errorLayer, Layer.IPv6Ext);
  assert.equal(l.ipProto, 0, 'ipProto names the header that failed');
  assert.equal(l.l4Offset, -1);
  // Payload length claims more than captured: the same header is "truncated".
  const b2 = c.bytes(c.eth(0x86dd, c.ipv6({ nh: 0, payloadLength: 200 }, inner)));
  b2[14 + 40 + 1] = 3;
  l = run(b2);
  assert.equal(l.error, DecodeError.Truncated);
  assert.equal(l.errorLayer, Layer.IPv6Ext);
  // Payload length 1: not even the 2 bytes of the first extension header.
  const b3 = c.bytes(c.eth(0x86dd, c.ipv6({ nh: 60, payloadLength: 1 }, c.ext(17, 0, []))));
  l = run(b3);
  assert.equal(l.error, DecodeError.BadLength);
  // Fragment header cut in the middle.
  const b4 = c.bytes(c.eth(0x86dd, c.ipv6({ nh: 44 }, c.frag6(17, 0, true, 1, c.udp(1, 2, [])))));
  l = run(b4, 14 + 40 + 5);
  assert.equal(l.error, DecodeError.Truncated);
  assert.equal(l.isFragment, 0, 'fragment info only from a complete header');
});

test('IPv6: payload length shorter than the TCP header', () => {
  const l = run(c.bytes(c.eth(0x86dd, c.ipv6({ nh: 6, payloadLength: 10 }, c.tcp({ sp: 1, dp: 2, flags: 2 })))));
  assert.equal(l.error, DecodeError.BadLength);
  assert.equal(l.errorLayer, Layer.TCP);
  assert.ok(!l.has(Layer.TCP));
});

test('IPv6 payload length 0 (jumbogram/TSO) decodes to the captured end', () => {
  const l = run(c.bytes(c.eth(0x86dd, c.ipv6({ nh: 17, payloadLength: 0 }, c.udp(1, 2, [9, 9], 0)))));
  assert.equal(l.error, 0);
  assert.equal(l.payloadLength, 2);
});

test('TCP: data offset < 5, past the datagram, past caplen', () => {
  for (const doff of [0, 4]) {
    const l = run(ethIp4({ proto: 6 }, c.tcp({ sp: 1, dp: 2, flags: 2, dataOffset: doff })));
    assert.equal(l.error, DecodeError.BadHeaderLength);
    assert.equal(l.errorLayer, Layer.TCP);
    assert.equal(l.srcPort, 1, 'ports of the fixed header are kept');
    assert.equal(l.payloadOffset, 34);
  }
  let l = run(ethIp4({ proto: 6 }, c.tcp({ sp: 1, dp: 2, flags: 2, dataOffset: 15 })));
  assert.equal(l.error, DecodeError.BadLength);
  const b = ethIp4({ proto: 6 }, c.tcp({ sp: 1, dp: 2, flags: 2, options: Array(40).fill(1) }));
  l = run(b, b.length - 4);
  assert.equal(l.error, DecodeError.Truncated);
  assert.equal(l.errorLayer, Layer.TCP);
  assert.equal(l.tcpFlags, 2);
  assert.equal(l.tcpOptionsEnd(), b.length - 4, 'options end at the captured end');
});

test('UDP: length < 8, length past the datagram, length 0', () => {
  let l = run(ethIp4({ proto: 17 }, c.udp(1, 2, [1, 2], 7)));
  assert.equal(l.error, DecodeError.BadLength);
  assert.equal(l.errorLayer, Layer.UDP);
  l = run(ethIp4({ proto: 17 }, c.udp(1, 2, [1, 2], 50)));
  assert.equal(l.error, DecodeError.BadLength);
  l = run(ethIp4({ proto: 17 }, c.udp(1, 2, [1, 2], 9)));
  assert.equal(l.error, 0);
  assert.equal(l.payloadLength, 1, 'UDP length shorter than the IP payload bounds the payload');
  l = run(ethIp4({ proto: 17 }, c.udp(1, 2, [1, 2, 3], 0)));
  assert.equal(l.error, 0);
  assert.equal(l.payloadLength, 3);
});

test('ICMP / ICMPv6 shorter than 8 bytes', () => {
  let l = run(ethIp4({ proto: 1 }, [8, 0, 0, 0]));
  assert.equal(l.error, DecodeError.BadLength);
  assert.equal(l.errorLayer, Layer.ICMP);
  l = run(c.bytes(c.eth(0x86dd, c.ipv6({ nh: 58, payloadLength: 20 }, [128, 0, 0]))));
  assert.equal(l.error, DecodeError.Truncated);
  assert.equal(l.errorLayer, Layer.ICMPv6);
});

test('GRE: routing bit and unknown version are unsupported; short header', () => {
  let l = run(ethIp4({ proto: 47 }, c.gre({ proto: 0x0800, routing: true }, Array(20).fill(0))));
  assert.equal(l.error, DecodeError.Unsupported);
  assert.equal(l.errorLayer, Layer.GRE);
  l = run(ethIp4({ proto: 47 }, c.gre({ proto: 0x0800, version: 2 }, Array(20).fill(0))));
  assert.equal(l.error, DecodeError.Unsupported);
  l = run(ethIp4({ proto: 47 }, c.gre({ proto: 0x0800, key: 1, seq: 2 }, []).slice(0, 10)));
  assert.equal(l.error, DecodeError.BadLength);
  // PPTP enhanced GRE (v1, key + ack): decoded, inner link type unknown (PPP).
  l = run(ethIp4({ proto: 47 }, [0x20, 0x81, 0x88, 0x0b, 0, 4, 0, 1, 0, 0, 0, 9, 1, 2, 3, 4]));
  assert.equal(l.error, 0);
  assert.equal(l.l4Length, 12);
  assert.equal(l.innerLinkType, 0);
  assert.equal(l.decodeInner(new Layers()), false);
});

test('VLAN tag, SLL and ARP cut short', () => {
  const v = c.bytes(c.ethVlan([[0x88a8, 1], [0x8100, 2]], 0x0800, c.ipv4({ proto: 17 }, c.udp(1, 2, []))));
  let l = run(v, 20);
  assert.equal(l.error, DecodeError.Truncated);
  assert.equal(l.errorLayer, Layer.VLAN);
  assert.equal(l.vlanCount, 1);
  l = run(c.bytes(c.sll(0x0800, [])), 15, 113);
  assert.equal(l.errorLayer, Layer.LinuxSLL);
  l = run(c.bytes(c.sll2(0x0800, [])), 19, 276);
  assert.equal(l.errorLayer, Layer.LinuxSLL2);
  const a = c.bytes(c.eth(0x0806, c.arp(1, '02:00:00:00:00:01', '1.2.3.4', '00:00:00:00:00:00', '5.6.7.8')));
  a[14 + 4] = 255; // hlen 255: addresses run past the frame
  l = run(a);
  assert.equal(l.error, DecodeError.Truncated);
  assert.equal(l.errorLayer, Layer.ARP);
  assert.equal(l.arpOp, 0);
});

test('VXLAN cut inside its header is reported as truncated', () => {
  const b = c.bytes(c.eth(0x0800, c.ipv4({ proto: 17 }, c.udp(1, 4789, c.vxlan(5, c.eth(0x0800, []))))));
  const l = run(b, 42 + 4);
  assert.equal(l.error, DecodeError.Truncated);
  assert.equal(l.errorLayer, Layer.VXLAN);
  assert.ok(l.has(Layer.UDP));
});
