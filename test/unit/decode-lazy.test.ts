/**
 * The lazy decoder: `load` records only the frame; the first field read
 * decodes (the common Ethernet/IPv4/TCP-or-UDP packet in one step, anything
 * else stage by stage). Checked here: the one-step path gives exactly what
 * the staged path gives, for the corpus and for mutated and truncated
 * packets; whatever was read of an earlier packet, a packet's fields are its
 * own; the order in which fields are read never changes them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Layer, DecodeError, Layers, Tunnel } from '../../src/decode/index.js';
import { prng } from '../../src/util/random.js';
import { corpus, eth, ethVlan, ipv4, ipv6, ext, tcp, udp, bytes } from './decode-craft.js';
import { fields } from './decode-invariants.js';
import type { PacketLike } from '../../src/packet-like.js';

const CORPUS = corpus();

/** Every getter name of Layers (the public fields a user reads). */
const GETTERS = Object.entries(Object.getOwnPropertyDescriptors(Layers.prototype))
  .filter(([, d]) => d.get !== undefined)
  .map(([k]) => k);

function read(l: Layers, k: string): unknown {
  return (l as unknown as Record<string, unknown>)[k];
}

/** Fields of `data[offset .. offset + caplen)` from a fresh decoder taking the staged path only. */
function staged(data: Uint8Array, offset: number, caplen: number, linkType: number): Record<string, number> {
  const l = new Layers();
  l._noFast = 1;
  l.load(data, offset, caplen, linkType);
  return fields(l);
}

/** Deterministic mutations and truncations of the corpus (a few bytes changed, often cut short). */
function* mutated(seed: number, n: number): Generator<{ what: string; data: Uint8Array; caplen: number; linkType: number }> {
  const rnd = prng(seed);
  const buf = new Uint8Array(512);
  for (let i = 0; i < n; i++) {
    const s = CORPUS[Math.floor(rnd() * CORPUS.length)]!;
    buf.fill(0xee);
    buf.set(s.bytes);
    const m = Math.floor(rnd() * 3);
    for (let j = 0; j < m; j++) {
      // Header bytes mostly: lengths, versions, protocols, flags, ports.
      const pos = Math.floor(rnd() * Math.min(s.bytes.length, 70));
      buf[pos] = rnd() < 0.5 ? Math.floor(rnd() * 256) : buf[pos]! ^ (1 << Math.floor(rnd() * 8));
    }
    const caplen = rnd() < 0.4 ? Math.floor(rnd() * (s.bytes.length + 1)) : s.bytes.length;
    yield { what: `${s.name} #${i}`, data: buf, caplen, linkType: s.linkType };
  }
}

test('the one-step path and the staged path agree on every field (corpus, every truncation, mutations)', () => {
  const l = new Layers();
  let common = 0;
  for (const s of CORPUS) {
    for (let caplen = 0; caplen <= s.bytes.length; caplen++) {
      l.load(s.bytes, 0, caplen, s.linkType);
      const got = fields(l);
      assert.deepEqual(got, staged(s.bytes, 0, caplen, s.linkType), `${s.name} caplen ${caplen}`);
      if (got.error === 0 && (got.present & ((1 << Layer.UDP) | (1 << Layer.TCP))) !== 0 && got.ipVersion === 4 && got.vlanCount === 0) common++;
    }
  }
  for (const c of mutated(7, 20000)) {
    l.load(c.data, 0, c.caplen, c.linkType);
    const got = fields(l);
    assert.deepEqual(got, staged(c.data, 0, c.caplen, c.linkType), c.what);
    if (got.error === 0 && got.ipVersion === 4 && got.etherType === 0x0800 && got.vlanCount === 0 && got.l4Length > 0) common++;
  }
  // The comparison means something only if the common case was met often.
  assert.ok(common > 1000, `common packets compared: ${common}`);
});

test('a field read after another packet was loaded is that packet\'s, whatever was read before', () => {
  const l = new Layers();
  const want = CORPUS.map((s) => staged(s.bytes, 0, s.bytes.length, s.linkType));
  for (let a = 0; a < CORPUS.length; a++) {
    for (let b = 0; b < CORPUS.length; b++) {
      const A = CORPUS[a]!;
      const B = CORPUS[b]!;
      for (const first of ['etherType', 'ipProto', 'dstPort', 'error']) {
        // Packet A partly decoded (one stage, or all), then B loaded and read field by field in reverse order.
        l.load(A.bytes, 0, A.bytes.length, A.linkType);
        read(l, first);
        l.load(B.bytes, 0, B.bytes.length, B.linkType);
        for (const k of [...GETTERS].reverse()) {
          const v = read(l, k);
          if (typeof v === 'number') assert.equal(v, want[b]![k], `${A.name} (read ${first}) then ${B.name}: ${k}`);
        }
      }
      // A loaded but never read: nothing of it leaks into B.
      l.load(A.bytes, 0, A.bytes.length, A.linkType);
      l.load(B.bytes, 0, B.bytes.length, B.linkType);
      assert.deepEqual(fields(l), want[b], `${A.name} unread then ${B.name}`);
    }
  }
});

test('reading one field at a time, in any order, gives the fields of a whole decode', () => {
  const rnd = prng(11);
  const l = new Layers();
  for (const c of mutated(3, 3000)) {
    const want = staged(c.data, 0, c.caplen, c.linkType);
    const order = [...GETTERS];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    l.load(c.data, 0, c.caplen, c.linkType);
    for (const k of order) {
      const v = read(l, k);
      if (typeof v === 'number') assert.equal(v, want[k], `${c.what}: ${k} read in order ${order.join(',')}`);
    }
  }
});

test('lazy reads of truncated frames, VLAN/QinQ, IPv6 extension headers and tunnels', () => {
  const l = new Layers();
  // IPv4/UDP cut inside the UDP header: the network layer reads fine first, the error comes with the transport layer.
  const u = bytes(eth(0x0800, ipv4({ proto: 17 }, udp(1000, 2000, [1, 2, 3, 4]))));
  l.load(u, 0, 14 + 20 + 5);
  assert.equal(l.ipProto, 17);
  assert.equal(l.ipEnd, 39);
  assert.equal(l.truncated, 1);
  assert.equal(l.errorLayer, Layer.UDP);
  assert.equal(l.error, DecodeError.Truncated);
  assert.equal(l.dstPort, 0);
  // The same frame whole, read through the same object: nothing of the cut one stays.
  l.load(u, 0, u.length);
  assert.equal(l.dstPort, 2000);
  assert.equal(l.error, 0);
  assert.equal(l.truncated, 0);
  assert.equal(l.payloadLength, 4);

  // QinQ: the link stage alone gives both tags; the TCP flags come after.
  const q = bytes(ethVlan([[0x88a8, 0x2064], [0x8100, 0x00c8]], 0x0800, ipv4({ proto: 6 }, tcp({ sp: 1, dp: 2, flags: 0x11 }))));
  l.load(q, 0, q.length);
  assert.equal(l.vlanCount, 2);
  assert.equal(l.vlan0Tpid, 0x88a8);
  assert.equal(l.vlan0Tci & 0xfff, 0x064);
  assert.equal(l.vlan1Tci & 0xfff, 0x0c8);
  assert.equal(l.etherType, 0x0800);
  assert.equal(l.l3Offset, 22);
  assert.equal(l.tcpFlags, 0x11);
  // A plain frame next: the tags are gone.
  l.load(u, 0, u.length);
  assert.equal(l.vlanCount, 0);
  assert.equal(l.vlan0Tpid, 0);
  assert.equal(l.l3Offset, 14);

  // A tag from metadata makes even an Ethernet/IPv4/UDP frame take the staged path: the tag is reported.
  l.loadPacket({ data: u, offset: 0, caplen: u.length, wireLen: u.length, sec: 0, nsec: 0, vlanValid: true, vlanTci: 7, vlanTpid: 0, ifindex: 0, pktType: 0, linkType: 1 });
  assert.equal(l.dstPort, 2000);
  assert.equal(l.vlanCount, 1);
  assert.equal(l.vlanFromMeta, 1);
  assert.equal(l.vlan0Tpid, 0x8100);
  assert.equal(l.vlan0Tci, 7);
  l.loadPacket({ data: u, offset: 0, caplen: u.length, wireLen: u.length, sec: 0, nsec: 0, vlanValid: false, vlanTci: 0, vlanTpid: 0, ifindex: 0, pktType: 0, linkType: 1 });
  assert.equal(l.vlanFromMeta, 0);
  assert.equal(l.vlanCount, 0);

  // IPv6 with two extension headers: the network stage walks them before the transport is read.
  const x = bytes(eth(0x86dd, ipv6({ nh: 0 }, ext(60, 0, ext(17, 0, udp(7, 8, [9]))))));
  l.load(x, 0, x.length);
  assert.equal(l.ipv6ExtCount, 2);
  assert.equal(l.ipProto, 17);
  assert.equal(l.l3Length, 40 + 16);
  assert.equal(l.has(Layer.IPv6Ext), true);
  assert.equal(l.dstPort, 8);
  // Cut inside the second extension header.
  l.load(x, 0, 14 + 40 + 8 + 1);
  assert.equal(l.ipProto, 60);
  assert.equal(l.errorLayer, Layer.IPv6Ext);
  assert.equal(l.error, DecodeError.Truncated);

  // Tunnels: the tunnel fields come with the transport stage, and the next packet clears them.
  for (const s of CORPUS.filter((c) => /gre|vxlan|ipip/.test(c.name))) {
    l.load(s.bytes, 0, s.bytes.length, s.linkType);
    assert.equal(l.ipVersion, 4, s.name);
    assert.notEqual(l.tunnel, 0, s.name);
    assert.ok(l.innerOffset > l.l4Offset || (l.tunnel === Tunnel.IPIP && l.innerOffset === l.l4Offset), s.name);
    const inner = new Layers();
    assert.equal(l.decodeInner(inner), true, s.name);
    assert.equal(inner.error, 0, s.name);
    l.load(u, 0, u.length);
    assert.equal(l.tunnel, 0, `${s.name} then plain UDP`);
    assert.equal(l.tunnelKey, -1);
    assert.equal(l.innerOffset, -1);
  }
});

test('the one-step path leaves VXLAN to the staged path (port setting honoured both ways)', () => {
  const s = CORPUS.find((c) => c.name === 'eth-ipv4-vxlan')!;
  const l = new Layers();
  l.load(s.bytes, 0, s.bytes.length);
  assert.equal(l.tunnel, Tunnel.VXLAN);
  assert.equal(l.tunnelKey, 0xabcdef);
  l.vxlanPort = 0;
  l.load(s.bytes, 0, s.bytes.length);
  assert.equal(l.tunnel, 0);
  assert.equal(l.dstPort, 4789);
  assert.equal(l.payloadLength, s.bytes.length - 14 - 20 - 8);
});

test('decodePacket gives the staged fields whatever came before it (decodePacket, load and partial reads interleaved; metadata VLAN; offsets)', () => {
  const rnd = prng(23);
  const l = new Layers();
  const pkt = (data: Uint8Array, offset: number, caplen: number, linkType: number, vlanValid: boolean): PacketLike => ({
    data, offset, caplen, wireLen: caplen, sec: 0, nsec: 0, vlanValid, vlanTci: vlanValid ? 0x2005 : 0, vlanTpid: 0, ifindex: 0, pktType: 0, linkType,
  });
  let oneStep = 0;
  let afterOther = 0;
  let prevCommon = true;
  for (const c of mutated(5, 20000)) {
    // Shift the frame so that offsets differ from packet to packet.
    const off = Math.floor(rnd() * 8);
    const data = new Uint8Array(off + c.data.length);
    data.set(c.data, off);
    const p = pkt(data, off, c.caplen, c.linkType, rnd() < 0.1);
    const ref = new Layers();
    ref._noFast = 1;
    ref.loadPacket(p);
    const want = fields(ref);
    const how = rnd();
    if (how < 0.6) {
      assert.equal(l.decodePacket(p), want.error, c.what);
    } else if (how < 0.8) {
      // Loaded but read partly (one stage), then decoded whole.
      l.loadPacket(p);
      read(l, GETTERS[Math.floor(rnd() * GETTERS.length)]!);
      assert.equal(l.decodePacket(p), want.error, c.what);
    } else {
      l.loadPacket(p);
    }
    const got = fields(l);
    assert.deepEqual(got, want, `${c.what} (offset ${off}, vlanValid ${p.vlanValid})`);
    const common = got.error === 0 && got.ipVersion === 4 && got.vlanCount === 0 && got.etherType === 0x0800 && got.l4Length > 0 && got.tunnel === 0;
    if (common) {
      oneStep++;
      if (!prevCommon) afterOther++;
    }
    prevCommon = common;
  }
  // Meaningful only if one-step packets were met often, many of them right after a packet of another shape.
  assert.ok(oneStep > 1000 && afterOther > 300, `one-step packets ${oneStep}, after another shape ${afterOther}`);
});

test('after decodePacket, the layer offsets and lengths are the packet\'s whatever is read and whatever the bytes become (decodes with and without reads of them interleaved; bytes overwritten after the decode)', () => {
  const rnd = prng(31);
  const l = new Layers();
  const pkt = (data: Uint8Array, offset: number, caplen: number, linkType: number): PacketLike => ({
    data, offset, caplen, wireLen: caplen, sec: 0, nsec: 0, vlanValid: false, vlanTci: 0, vlanTpid: 0, ifindex: 0, pktType: 0, linkType,
  });
  let oneStep = 0;
  let unreadBefore = 0;
  let prevUnread = false;
  for (const c of mutated(11, 20000)) {
    const off = Math.floor(rnd() * 8);
    const data = new Uint8Array(off + c.data.length);
    data.set(c.data, off);
    const p = pkt(data, off, c.caplen, c.linkType);
    const ref = new Layers();
    ref._noFast = 1;
    ref.loadPacket(p);
    const want = fields(ref);
    assert.equal(l.decodePacket(p), want.error, c.what);
    // What a filter reads, every time.
    assert.equal(l.ipProto, want.ipProto, c.what);
    assert.equal(l.dstPort, want.dstPort, c.what);
    if (rnd() < 0.7) {
      // Most packets: nothing else is read (the next decode comes with the layer offsets still unread).
      prevUnread = true;
      continue;
    }
    // The packet's bytes change after the decode (the decoder keeps what it needs: only arpOp, icmpType and icmpCode read bytes).
    const keep = { arpOp: want.arpOp, icmpType: want.icmpType, icmpCode: want.icmpCode };
    data.fill(rnd() < 0.5 ? 0 : 0xff);
    const got = { ...fields(l), arpOp: keep.arpOp, icmpType: keep.icmpType, icmpCode: keep.icmpCode };
    assert.deepEqual(got, want, `${c.what} (offset ${off})`);
    if (want.error === 0 && want.ipVersion === 4 && want.etherType === 0x0800 && want.l4Length > 0 && want.tunnel === 0 && want.vlanCount === 0) {
      oneStep++;
      if (prevUnread) unreadBefore++;
    }
    prevUnread = false;
  }
  // Meaningful only if many one-step packets were checked, many of them right after packets whose offsets were never read.
  assert.ok(oneStep > 500 && unreadBefore > 300, `one-step packets checked ${oneStep}, after an unread one ${unreadBefore}`);
});
