/**
 * Helpers of `netring capture --workers`: file names, the timestamp-order
 * merge, status lines and the balance report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  balanceReport, expectedShares, formatStatus, isPerWorkerPattern, mergeCaptureFiles, workerFileName,
} from '../../src/cli/fanout-capture.js';
import { generationPath } from '../../src/cli/fanout-writer-worker.js';
import { openCaptureReader, openCaptureWriter } from '../../src/pcap/index.js';
import type { GroupStats, WorkerStats } from '../../src/fanout/index.js';
import { rng } from './fanout-frames.js';

test('per-worker file names', () => {
  assert.equal(workerFileName('out.%w.pcapng', 3), 'out.3.pcapng');
  assert.equal(workerFileName('/tmp/x/w%w-%w.pcap', 12), '/tmp/x/w12-12.pcap');
  assert.equal(workerFileName('out.pcapng', 2), 'out.2.pcapng');
  assert.equal(workerFileName('capture', 0), 'capture.0');
  assert.equal(isPerWorkerPattern('a.%w.pcap'), true);
  assert.equal(isPerWorkerPattern('a.pcap'), false);
  assert.equal(generationPath('out.1.pcapng', 0), 'out.1.pcapng');
  assert.equal(generationPath('out.1.pcapng', 2), 'out.1.r2.pcapng');
});

test('merge: k files in timestamp order, ties in input order, every byte and the summed statistics kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nr-merge-'));
  try {
    const r = rng(1);
    const inputs: string[] = [];
    const all: Array<{ sec: number; nsec: number; input: number; seq: number }> = [];
    for (let k = 0; k < 4; k++) {
      const p = join(dir, `in.${k}.pcapng`);
      inputs.push(p);
      const w = openCaptureWriter(p, { name: 'veth' });
      let sec = 1000, nsec = 0;
      for (let i = 0; i < 500; i++) {
        // nondecreasing per file; coarse steps so equal timestamps across files happen
        nsec += Math.floor(r() * 3) * 1000;
        if (nsec >= 1e9) { sec++; nsec -= 1e9; }
        const frame = new Uint8Array(60);
        frame[0] = k;
        new DataView(frame.buffer).setUint32(1, i);
        w.write(frame, 0, 60, 60, sec, nsec);
        all.push({ sec, nsec, input: k, seq: i });
      }
      w.writeStatistics({ received: 500 + k, dropped: k });
      w.close();
    }
    const out = join(dir, 'merged.pcapng');
    const stats: Array<{ received?: number; dropped?: number }> = [];
    assert.equal(mergeCaptureFiles(inputs, out, { name: 'veth' }), 2000);
    const rd = openCaptureReader(out, { onStatistics: (s) => stats.push(s) });
    const got: Array<{ sec: number; nsec: number; input: number; seq: number }> = [];
    for (const rec of rd) got.push({ sec: rec.sec, nsec: rec.nsec, input: rec.data[rec.offset], seq: new DataView(rec.data.buffer, rec.data.byteOffset + rec.offset + 1, 4).getUint32(0) });
    rd.close();
    const want = [...all].sort((a, b) => a.sec - b.sec || a.nsec - b.nsec || a.input - b.input || a.seq - b.seq);
    assert.deepEqual(got, want);
    assert.deepEqual(stats.map((s) => [s.received, s.dropped]), [[2006, 6]]);
    // pcap output, and an empty input
    const empty = join(dir, 'empty.pcapng');
    openCaptureWriter(empty).close();
    assert.equal(mergeCaptureFiles([empty, inputs[1]], join(dir, 'm.pcap')), 500);
    const rp = openCaptureReader(join(dir, 'm.pcap'));
    assert.equal(rp.constructor.name, 'PcapReader');
    let n = 0;
    for (const _ of rp) n++;
    rp.close();
    assert.equal(n, 500);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function stats(packets: number[], at: number, drops: number[] = packets.map(() => 0)): GroupStats {
  const workers: WorkerStats[] = packets.map((p, i) => ({
    index: i, state: 'running', packets: p, batches: 0, kernelPackets: p, drops: drops[i], lost: 0, freezes: 0, restarts: 0,
    cpu: i, tid: 100 + i, user: [], startedMs: 0, updatedMs: 0,
  }));
  return { at, fanoutId: 7, fanout: 'hash (kernel)', workers, packets: packets.reduce((x, y) => x + y, 0), drops: drops.reduce((x, y) => x + y, 0), lost: 0, kernelPackets: 0 };
}

test('status lines: packets, rate since the previous snapshot, drops, share', () => {
  const l = formatStatus(stats([3_000_000, 1_000_000], 3000, [5, 0]), stats([1_000_000, 500_000], 1000));
  assert.equal(l.length, 3);
  assert.match(l[0], /^w0 cpu0 +3,000,000 pkts +1\.000 Mpps +drops +5 +share +75\.0%$/);
  assert.match(l[1], /^w1 cpu1 +1,000,000 pkts +0\.250 Mpps +drops +0 +share +25\.0%$/);
  assert.match(l[2], /^all +4,000,000 pkts +1\.250 Mpps +drops +5$/);
  assert.match(formatStatus(stats([0, 0], 0), null)[0], /0\.000 Mpps.*share +0\.0%/);
});

test('balance report against equal or weighted shares', () => {
  const even = balanceReport(stats([500, 500], 0));
  assert.deepEqual(even.shares, [0.5, 0.5]);
  assert.equal(even.maxDeviation, 0);
  assert.equal(even.peakToMean, 1);
  assert.equal(even.cv, 0);
  const skew = balanceReport(stats([300, 700], 0), expectedShares('flow', 2));
  assert.ok(Math.abs(skew.maxDeviation - 0.2) < 1e-12);
  assert.equal(skew.peakToMean, 1.4);
  assert.ok(Math.abs(skew.cv - 0.4) < 1e-12);
  assert.deepEqual(expectedShares({ steering: { steer: { kind: 'flow' }, weights: [1, 3] } }, 2), [0.25, 0.75]);
  assert.deepEqual(expectedShares({ steering: { steer: { kind: 'ip' }, members: [2, 0], weights: [1, 1] } }, 3), [0.5, 0, 0.5]);
  const w = balanceReport(stats([250, 750], 0), [0.25, 0.75]);
  assert.equal(w.maxDeviation, 0);
  assert.match(w.lines[1], /w0 +250 pkts +25\.0% \(expected 25\.0%\)/);
});

test('balance report: packets lost with a worker that died are named, per worker and in total', () => {
  const s = stats([600, 300], 0, [2, 0]);
  s.workers[1].lost = 37;
  s.lost = 37;
  const r = balanceReport(s);
  assert.match(r.lines[0], /900 packets, 2 dropped by the kernel, 37 lost with workers that died:$/);
  assert.match(r.lines[1], /drops 2$/);
  assert.match(r.lines[2], /drops 0 {2}lost with worker 1 37$/);
  const none = balanceReport(stats([600, 300], 0));
  assert.doesNotMatch(none.lines.join('\n'), /lost/);
});
