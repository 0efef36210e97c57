/**
 * Latency mode against the real kernel: stamped packets over a veth pair,
 * analysed from a live capture with kernel RX timestamps. An idle link shows
 * no loss, duplicates or reordering; packets deliberately skipped, swapped
 * and repeated by the sender are reported as exactly that.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openCapture } from '../../src/index.js';
import { generate } from '../../src/gen/generate.js';
import { LatencyAnalyser, analyseCapture } from '../../src/latency/latency.js';
import { openTxRing } from '../../src/tx/index.js';
import { runSender } from '../../src/gen/sender.js';
import { TemplateStream } from '../../src/gen/stream.js';
import { makeFlows } from '../../src/gen/flows.js';
import { parseSize } from '../../src/gen/size.js';
import { RealtimeClock } from '../../src/gen/clock.js';
import { needRoot, withVeth } from '../helpers/netns.js';

test('idle link: zero loss, no duplicates or reordering, sane one-way latencies (2 streams)', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const cap = openCapture({ iface: b, blockSize: 1 << 20, blockCount: 16, blockTimeoutMs: 5, direction: 'in' });
    const g = generate({ iface: a, stamp: true, rate: '20kpps', count: 10000, workers: 2, size: 'imix', streamBase: 40 });
    let finished = false;
    let summary: Awaited<typeof g.done> | undefined;
    g.done.then((s) => { summary = s; }).finally(() => setTimeout(() => { finished = true; }, 150));
    const an = new LatencyAnalyser();
    await analyseCapture(cap, an, () => finished);
    cap.close();
    summary!.workers.forEach((w, i) => an.expect(40 + i, w.sent));
    const r = an.report();
    assert.equal(summary!.sent, 10000);
    assert.deepEqual(r.streams.map((s) => s.stream), [40, 41]);
    assert.deepEqual([r.expected, r.received, r.unique, r.lost, r.duplicates, r.reordered, r.ignored], [10000, 10000, 10000, 0, 0, 0, 0]);
    for (const s of r.streams) assert.equal(s.received, 5000);
    assert.equal(r.latency.count, 10000);
    // one host, one clock: latencies are positive and below a second
    assert.ok(r.negative <= r.received * 0.001, `${r.negative} negative samples`);
    assert.ok(r.latency.p50 > 0 && r.latency.max < 1e9, `p50 ${r.latency.p50} max ${r.latency.max}`);
    assert.ok(r.latency.min <= r.latency.p50 && r.latency.p50 <= r.latency.p90 && r.latency.p90 <= r.latency.p99
      && r.latency.p99 <= r.latency.p999 && r.latency.p999 <= r.latency.max);
  });
});

test('injected faults: skipped, swapped and repeated sequence numbers are found exactly', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    // 0..999 without 100, 101 and 555; 200<->201 and 700<->705 swapped; 300 and 900 sent twice; 999 dropped at the tail
    const seqs: number[] = [];
    for (let i = 0; i < 999; i++) if (![100, 101, 555].includes(i)) seqs.push(i);
    const swap = (x: number, y: number): void => {
      const i = seqs.indexOf(x), j = seqs.indexOf(y);
      [seqs[i], seqs[j]] = [seqs[j], seqs[i]];
    };
    swap(200, 201);
    swap(700, 705);
    seqs.splice(seqs.indexOf(300) + 1, 0, 300);
    seqs.splice(seqs.indexOf(900) + 3, 0, 900);
    // the sender below runs on this thread: the ring must hold the whole run (blocks retire every 5 ms)
    const cap = openCapture({ iface: b, blockSize: 1 << 16, blockCount: 128, blockTimeoutMs: 5, direction: 'in' });
    const ring = openTxRing({ iface: a, maxFrameLen: 128, frameCount: 256 });
    const src = new TemplateStream({
      packet: {}, flows: makeFlows(), sizes: parseSize(64), stamp: { stream: 5, clock: new RealtimeClock(), sequence: (k) => seqs[k] },
    });
    const res = runSender({ ring, source: src, count: seqs.length, rate: { value: 20000, unit: 'pps' } });
    ring.close();
    assert.equal(res.sent, seqs.length);
    const an = new LatencyAnalyser({ expected: { 5: 1000 } });
    const t = Date.now();
    await analyseCapture(cap, an, () => an.stamped >= seqs.length || Date.now() - t > 3000);
    assert.equal(cap.stats().drops, 0);
    cap.close();
    const r = an.report();
    assert.equal(r.received, seqs.length);
    assert.equal(r.duplicates, 2);
    assert.equal(r.lost, 4, 'three gaps and the tail');
    // 200 after 201, 700 after 705, and 701..704 after 705: RFC 4737 "late" packets
    assert.equal(r.reordered, 6);
    assert.equal(r.expected, 1000);
    assert.equal(r.streams[0].stream, 5);
  });
});
