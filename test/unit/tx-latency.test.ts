/** The latency/loss analyser on crafted stamped frames with chosen receive times. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LatencyAnalyser, analyseFile } from '../../src/latency/latency.js';
import { buildPacket } from '../../src/build/builder.js';
import { writeStamp } from '../../src/latency/stamp.js';
import { writeChecksums } from '../../src/build/builder.js';
import { PcapWriter } from '../../src/pcap/index.js';
import type { PacketLike } from '../../src/packet-like.js';

const T0 = 1_700_000_000;

/** A stamped UDP frame sent at (T0 + sendNs) and received latNs later, as a PacketLike. */
function pkt(stream: number, seq: number, sendNs: number, latNs: number, vlan = false): PacketLike {
  const t = buildPacket({ size: 80, vlan: vlan ? 3 : undefined });
  writeStamp(t.bytes, t.payloadOff, stream, seq, T0 + Math.floor(sendNs / 1e9), sendNs % 1e9);
  writeChecksums(t);
  const rx = sendNs + latNs;
  return {
    data: t.bytes, offset: 0, caplen: t.length, wireLen: t.length, sec: T0 + Math.floor(rx / 1e9), nsec: rx % 1e9,
    vlanValid: false, vlanTci: 0, vlanTpid: 0, ifindex: 0, pktType: 0, linkType: 1,
  };
}

test('a clean run: no loss, latencies as given, percentiles', () => {
  const a = new LatencyAnalyser();
  for (let i = 0; i < 1000; i++) a.observe(pkt(0, i, i * 1000, 10_000 + i * 10)); // 10.00 .. 19.99 us
  a.expect(0, 1000);
  const r = a.report();
  assert.deepEqual([r.received, r.unique, r.lost, r.duplicates, r.reordered, r.expected], [1000, 1000, 0, 0, 0, 1000]);
  const near = (x: number, want: number): boolean => Math.abs(x - want) <= want * 0.002 + 1;
  assert.ok(near(r.latency.min, 10_000), `min ${r.latency.min}`);
  assert.ok(near(r.latency.p50, 15_000), `p50 ${r.latency.p50}`);
  assert.ok(near(r.latency.p90, 19_000), `p90 ${r.latency.p90}`);
  assert.ok(near(r.latency.p99, 19_900), `p99 ${r.latency.p99}`);
  assert.ok(near(r.latency.max, 19_990), `max ${r.latency.max}`);
  assert.ok(near(r.latency.mean, 14_995), `mean ${r.latency.mean}`);
  assert.equal(r.negative, 0);
});

test('loss, reordering and duplicates are counted per stream; the sender count shows tail loss', () => {
  const a = new LatencyAnalyser();
  // stream 3: 0..99 minus {10, 50, 51}, with 20/21 swapped, 30 duplicated, 98/99 lost at the tail
  const order: number[] = [];
  for (let i = 0; i < 98; i++) if (![10, 50, 51].includes(i)) order.push(i);
  const i20 = order.indexOf(20);
  [order[i20], order[i20 + 1]] = [order[i20 + 1], order[i20]];
  order.splice(order.indexOf(30) + 1, 0, 30);
  order.forEach((seq, k) => a.observe(pkt(3, seq, k * 1000, 5000, k % 2 === 0)));
  // stream 9: clean
  for (let i = 0; i < 50; i++) a.observe(pkt(9, i, i * 1000, 7000));
  let r = a.report();
  const s3 = r.streams.find((s) => s.stream === 3)!;
  assert.equal(s3.expected, 98, 'without the sender count, expected = highest + 1');
  assert.equal(s3.lost, 3);
  assert.equal(s3.duplicates, 1);
  assert.equal(s3.reordered, 1);
  assert.equal(s3.received, 96);
  a.expect(3, 100);
  a.expect(9, 50);
  r = a.report();
  const s3b = r.streams.find((s) => s.stream === 3)!;
  assert.equal(s3b.lost, 5);
  assert.ok(Math.abs(s3b.lossPct - 5) < 1e-9);
  assert.deepEqual([r.expected, r.lost, r.duplicates, r.reordered, r.received], [150, 5, 1, 1, 146]);
  assert.equal(r.streams.length, 2);
});

test('late packets far behind count as reordered once; negatives are reported; unstamped frames ignored', () => {
  const a = new LatencyAnalyser();
  for (const seq of [0, 1, 2, 5, 6, 3, 7, 4]) a.observe(pkt(0, seq, 1e6, seq === 6 ? -500 : 1000));
  const plain = buildPacket({ size: 80 });
  a.observe({ data: plain.bytes, offset: 0, caplen: 80, wireLen: 80, sec: 0, nsec: 0, vlanValid: false, vlanTci: 0, vlanTpid: 0, ifindex: 0, pktType: 0, linkType: 1 });
  const r = a.report();
  assert.equal(r.reordered, 2);
  assert.equal(r.lost, 0);
  assert.equal(r.negative, 1);
  assert.equal(r.ignored, 1);
  assert.equal(r.latency.min, 0);
});

test('analyseFile reads receive times from a capture file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nrlat-'));
  try {
    const path = join(dir, 'rx.pcap');
    const w = new PcapWriter(path);
    for (let i = 0; i < 20; i++) {
      if (i === 7) continue;
      const p = pkt(1, i, i * 1e6, 42_000);
      w.write(p.data, 0, p.caplen, p.wireLen, p.sec, p.nsec);
    }
    w.close();
    const r = analyseFile(path, { expected: { 1: 20 } });
    assert.equal(r.received, 19);
    assert.equal(r.lost, 1);
    assert.ok(Math.abs(r.latency.p50 - 42_000) <= 50);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
