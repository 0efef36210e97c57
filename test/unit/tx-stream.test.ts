/**
 * TemplateStream writes frames by rewriting only what varies, with
 * checksums from partial sums: every frame must equal the one the builder
 * makes from scratch, through slot reuse (tags), sizes, flows and stamps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TemplateStream } from '../../src/gen/stream.js';
import { buildPacket, type L4Proto, type PacketSpec } from '../../src/build/builder.js';
import { makeFlows, type FlowFields } from '../../src/gen/flows.js';
import { parseSize } from '../../src/gen/size.js';
import { jobFlows, jobSizes } from '../../src/gen/job.js';
import { RealtimeClock } from '../../src/gen/clock.js';
import { isStamp, stampNsec, stampSec, stampSeq, stampStream } from '../../src/latency/stamp.js';
import { NetringError } from '../../src/errors.js';
import { checkFrame } from './tx-check.js';

/** A fake ring: `slots` slots of `stride` bytes, tags, slot order round robin (or a scrambled order). */
function drive(s: TemplateStream, n: number, slots = 37, scramble = false): Uint8Array[] {
  const stride = 9216;
  const u8 = new Uint8Array(slots * stride);
  const tags = new Int32Array(slots).fill(-1);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const slot = scramble ? (i * 7 + (i >> 3)) % slots : i % slots;
    const len = s.write(u8, slot * stride, slot, tags);
    out.push(u8.slice(slot * stride, slot * stride + len));
  }
  return out;
}

const CASES: Array<{ name: string; packet: PacketSpec; fields: FlowFields; flows?: number; size: string }> = [
  { name: 'udp4 fixed, 100 flows', packet: { proto: 'udp' }, fields: { src: '10.0.0.1-10.0.0.10', sport: '100-109' }, size: '64' },
  { name: 'udp4 imix, 1 flow', packet: { proto: 'udp', payload: 'inc' }, fields: {}, size: 'imix' },
  { name: 'tcp4 range sizes, vlan flows', packet: { proto: 'tcp', tcpFlags: 'PA', payload: 'random' }, fields: { vlan: '10-13', dport: '80,443' }, size: '78-300' },
  { name: 'icmp4 list sizes, dst flows', packet: { proto: 'icmp', payload: '0x5a' }, fields: { dst: '192.168.0.0/30' }, size: '60,61,99,1514' },
  { name: 'udp6 odd sizes, 77 flows', packet: { proto: 'udp', payload: 'text:abc' }, fields: { src: 'fd00::1', dst: 'fd00::2' }, flows: 77, size: '63-129' },
  { name: 'tcp6 fixed, vlan tag pcp kept', packet: { proto: 'tcp', vlan: { id: 1, pcp: 6 } }, fields: { src: 'fd00::1:0/120', dst: '2001:db8::1', vlan: '5-6' }, size: '200' },
  { name: 'udp4 with IPv4 options, range sizes, src flows', packet: { proto: 'udp', ipOptions: [148, 4, 0, 0, 7], payload: 'inc' }, fields: { src: '10.0.0.1-10.0.0.7', sport: '1-3' }, size: '70-140' },
  { name: 'tcp6 with hop-by-hop and fragment headers, odd sizes', packet: { proto: 'tcp', ipv6Ext: [{ type: 'hop-by-hop', length: 16 }, { type: 'fragment', id: 9 }] }, fields: { src: 'fd00::1', dst: 'fd00::2-fd00::5' }, size: '111-175' },
  { name: 'icmp6 jumbo', packet: { proto: 'icmp', payload: 'inc' }, fields: { src: 'fd00::1', dst: 'fd00::5-fd00::8' }, size: '9000' },
];

for (const c of CASES) {
  test(`stream frames equal freshly built ones: ${c.name}`, () => {
    const flows = makeFlows(c.fields, { flows: c.flows, ports: c.packet.proto !== 'icmp' });
    const sizes = parseSize(c.size, 3);
    const s = new TemplateStream({ packet: c.packet, flows, sizes });
    const n = Math.max(3 * flows.count, 300);
    for (const scramble of [false, true]) {
      const frames = drive(new TemplateStream({ packet: c.packet, flows, sizes }), n, 37, scramble);
      for (let i = 0; i < n; i++) {
        const t = flows.tuple(i % flows.count);
        const spec: PacketSpec = { ...c.packet, src: t.src, dst: t.dst, size: sizes.at(i) };
        if (c.packet.proto !== 'icmp') { spec.sport = t.sport; spec.dport = t.dport; }
        else spec.icmpSeq = (i + 1) & 0xffff; // echo requests count 1, 2, 3... as ping's
        if (t.vlan >= 0) spec.vlan = typeof c.packet.vlan === 'object' && !Array.isArray(c.packet.vlan) ? { ...c.packet.vlan, id: t.vlan } : t.vlan;
        const want = buildPacket(spec).bytes;
        if (frames[i].length !== want.length || !frames[i].every((x, k) => x === want[k])) {
          assert.deepEqual(frames[i], want, `frame ${i} (scramble ${scramble})`);
        }
      }
    }
    assert.equal(s.maxLength, sizes.max);
  });
}

test('gen --vlan 10 --proto icmp -c 2: the echo requests carry seq 1 and 2, checksums right', () => {
  const flows = makeFlows({ vlan: '10' }, { ports: false });
  const frames = drive(new TemplateStream({ packet: { proto: 'icmp' }, flows, sizes: parseSize('64') }), 2, 2);
  for (const [i, f] of frames.entries()) {
    const l4 = 14 + 4 + 20;
    assert.equal(f[l4], 8, 'echo request');
    assert.equal((f[l4 + 6] << 8) | f[l4 + 7], i + 1, `frame ${i} seq`);
    assert.deepEqual(f, buildPacket({ proto: 'icmp', src: flows.tuple(0).src, dst: flows.tuple(0).dst, vlan: 10, size: 64, icmpSeq: i + 1 }).bytes);
  }
});

test('a stream of an explicit icmpSeq counts from it and wraps at 65535; other ICMP types keep the word', () => {
  const flows = makeFlows({}, { ports: false });
  const seqs = drive(new TemplateStream({ packet: { proto: 'icmp', icmpSeq: 65534 }, flows, sizes: parseSize('60') }), 3, 3)
    .map((f) => (f[40] << 8) | f[41]);
  assert.deepEqual(seqs, [65534, 65535, 0]);
  const other = drive(new TemplateStream({ packet: { proto: 'icmp', icmpType: 13, icmpSeq: 7 }, flows, sizes: parseSize('60') }), 2, 2);
  assert.deepEqual(other[1], buildPacket({ proto: 'icmp', icmpType: 13, icmpSeq: 7, size: 60, src: flows.tuple(0).src, dst: flows.tuple(0).dst }).bytes);
});

test('gen without --size: the smallest frame the headers fit (IPv6 TCP 74, in a VLAN 78, IPv4 UDP 60, stamped)', () => {
  assert.equal(jobSizes({ iface: 'x', proto: 'tcp', dst: 'fd00::99' }).min, 74);
  assert.equal(jobSizes({ iface: 'x', proto: 'tcp', src: 'fd00::1', vlan: '5' }).min, 78);
  assert.equal(jobSizes({ iface: 'x' }).min, 60);
  assert.equal(jobSizes({ iface: 'x', stamp: true }).min, 60);
  assert.equal(jobSizes({ iface: 'x', proto: 'udp', dst: 'fd00::2', stamp: true }).min, 14 + 40 + 8 + 16);
  assert.equal(jobSizes({ iface: 'x', size: '64' }).min, 64, 'an explicit size stays');
  const flows = jobFlows({ iface: 'x', proto: 'tcp', dst: 'fd00::99' });
  const s = new TemplateStream({ packet: { proto: 'tcp' }, flows, sizes: jobSizes({ iface: 'x', proto: 'tcp', dst: 'fd00::99' }) });
  assert.equal(s.maxLength, 74);
});

test('stamped stream: sequence, stream id, send time, checksums', () => {
  const clock = new RealtimeClock();
  assert.ok(clock.uncertaintyNs < 1e6, `calibration window ${clock.uncertaintyNs} ns`);
  for (const proto of ['udp', 'tcp', 'icmp'] as L4Proto[]) {
    for (const src of ['10.0.0.1', 'fd00::1']) {
      const flows = makeFlows({ src, dst: src.includes(':') ? 'fd00::2' : '10.0.0.2' }, { flows: 5, ports: proto !== 'icmp' });
      const s = new TemplateStream({ packet: { proto, payload: 'inc' }, flows, sizes: parseSize('100-180'), stamp: { stream: 7, clock } });
      const before = Date.now();
      const frames = drive(s, 400, 16);
      const after = Date.now();
      frames.forEach((f, i) => {
        const c = checkFrame(f);
        assert.ok(c.ipOk && c.l4Ok, `${proto} ${src} frame ${i} checksums`);
        const o = c.payloadOff;
        assert.ok(isStamp(f, o));
        assert.equal(stampStream(f, o), 7);
        assert.equal(stampSeq(f, o), i);
        const ms = stampSec(f, o) * 1e3 + stampNsec(f, o) / 1e6;
        assert.ok(ms >= before - 2 && ms <= after + 2, `send time ${ms} within [${before}, ${after}]`);
        // the rest of the payload is still the pattern
        for (let k = o + 16; k < f.length; k++) assert.equal(f[k], (k - o) & 255);
      });
    }
  }
});

test('stamped stream: a sequence hook injects gaps, swaps and duplicates', () => {
  const clock = new RealtimeClock();
  const map = [0, 1, 3, 2, 4, 4, 6, 9];
  const s = new TemplateStream({
    packet: {}, flows: makeFlows(), sizes: parseSize('64'), stamp: { stream: 1, clock, sequence: (k) => map[k] ?? k + 2 },
  });
  const frames = drive(s, 10, 4);
  assert.deepEqual(frames.map((f) => stampSeq(f, 42)), [0, 1, 3, 2, 4, 4, 6, 9, 10, 11]);
  assert.ok(frames.every((f) => checkFrame(f).l4Ok));
});

test('workers share one sequence: start offsets split flows and sizes', () => {
  const flows = makeFlows({ sport: '1-10' });
  const sizes = parseSize('60-100', 4);
  const whole = drive(new TemplateStream({ packet: {}, flows, sizes }), 30);
  const a = drive(new TemplateStream({ packet: {}, flows, sizes, start: 0 }), 13);
  const b = drive(new TemplateStream({ packet: {}, flows, sizes, start: 13 }), 17);
  assert.deepEqual([...a, ...b], whole);
});

test('stream errors: sizes below headers (+ stamp, + IPv4 options), explicit payload bytes, ARP', () => {
  const flows = makeFlows({ src: 'fd00::1' });
  assert.throws(() => new TemplateStream({ packet: { proto: 'udp' }, flows, sizes: parseSize('64'), stamp: { stream: 0, clock: new RealtimeClock() } }),
    (e: unknown) => e instanceof NetringError && /size 64 is smaller than the headers: Ethernet 14 \+ IPv6 40 \+ UDP 8 \+ latency stamp 16 = 78 bytes/.test(e.message));
  assert.throws(() => new TemplateStream({ packet: { proto: 'tcp' }, flows, sizes: parseSize('60-100') }), /size 60 is smaller than the headers/);
  assert.throws(() => new TemplateStream({ packet: { payload: new Uint8Array(4) }, flows: makeFlows(), sizes: parseSize('64') }), /payload pattern/);
  assert.throws(() => new TemplateStream({ packet: { arp: {} }, flows: makeFlows(), sizes: parseSize('64') }), /a stream sends IP packets/);
  assert.throws(() => new TemplateStream({ packet: { ipOptions: new Array(40).fill(1) }, flows: makeFlows(), sizes: parseSize('64') }),
    /size 64 is smaller than the headers: Ethernet 14 \+ IPv4 20 \+ IPv4 options 40 \+ UDP 8 = 82 bytes/);
});
