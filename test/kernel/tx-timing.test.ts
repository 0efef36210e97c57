/**
 * Pacing against the real kernel, measured with the receiver's kernel RX
 * timestamps: token-bucket rates (packets/s and bits/s) are never exceeded
 * (no 0.5 s window above the rate plus one bucket) and are reached (the run
 * within -20%..+2% of rate x time: a sender descheduled for longer than its
 * bucket loses the excess, which a loaded machine does); replay of a capture
 * file keeps order, bytes and gaps, speed, loops and fixed rates. The bucket
 * arithmetic is exact in unit/tx-rate.test.ts with a fake clock; the pacing
 * precision of a quiet machine is a benchmark figure (bench/gen.sh).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCapture } from '../../src/index.js';
import { PcapWriter } from '../../src/pcap/index.js';
import { generate, type GenSummary } from '../../src/gen/generate.js';
import type { GenerateOptions } from '../../src/gen/job.js';
import { buildPacket } from '../../src/build/builder.js';
import { needRoot, withVeth } from '../helpers/netns.js';
import { collect, type Rx } from './tx-helpers.js';

async function run(b: string, opts: GenerateOptions): Promise<{ rx: Rx[]; s: GenSummary }> {
  const cap = openCapture({ iface: b, blockSize: 1 << 20, blockCount: 64, blockTimeoutMs: 2, direction: 'in' });
  try {
    const g = generate(opts);
    let finished = false;
    const done = g.done.finally(() => { finished = true; });
    const rx = await collect(cap, () => finished, Infinity, 60000);
    const s = await done;
    assert.equal(cap.stats().drops, 0, 'the receiver kept up');
    return { rx, s };
  } finally {
    cap.close();
  }
}

/** Packets received in [from, to) ns. */
function inWindow(rx: Rx[], from: number, to: number): number {
  let n = 0;
  for (const r of rx) if (r.tNs >= from && r.tNs < to) n++;
  return n;
}

for (const c of [
  { rate: '20kpps', pps: 20_000, size: 64, workers: 1 },
  { rate: '50kpps', pps: 50_000, size: 64, workers: 2 },
  { rate: '40Mbps', pps: 40e6 / (8 * 200), size: 200, workers: 1 },
]) {
  test(`rate ${c.rate} (${c.workers} worker${c.workers > 1 ? 's' : ''}): paced, never above the rate in any 0.5 s window, reached over the run`, { skip: needRoot }, async () => {
    await withVeth(async ({ a, b }) => {
      const seconds = 2.5;
      const { rx, s } = await run(b, { iface: a, rate: c.rate, seconds, size: c.size, workers: c.workers });
      assert.equal(s.stoppedBy, 'duration');
      assert.equal(rx.length, s.sent);
      // sender side: count(t) = rate * t, so the total is rate * seconds
      const total = c.pps * seconds;
      assert.ok(s.sent <= total * 1.02 && s.sent >= total * 0.8, `sent ${s.sent}, want ${total} (-20%..+2%)`);
      // receiver side: steady windows between the first and last packet
      const t0 = rx[0].tNs, t1 = rx[rx.length - 1].tNs;
      const span = t1 - t0;
      assert.ok(Math.abs(span - seconds * 1e9) < 0.1e9, `packets span ${(span / 1e9).toFixed(3)} s`);
      const win = 0.5e9;
      const counts: number[] = [];
      for (let w = t0 + 0.1e9; w + win <= t1 - 0.1e9; w += win) counts.push(inWindow(rx, w, w + win));
      assert.ok(counts.length >= 4);
      const wantWin = c.pps * 0.5;
      const bucket = c.pps * 0.02; // the default bucket: 20 ms of traffic, the most a late sender may catch up at once
      // a sender that sent at its ceiling would fill a window many times over; a paced one never exceeds rate + bucket
      for (const x of counts) assert.ok(x <= wantWin * 1.02 + bucket, `windows ${counts.join(',')} (none above ${wantWin} + ${bucket})`);
      const sum = counts.reduce((x, y) => x + y, 0);
      assert.ok(sum >= wantWin * counts.length * 0.8, `windows sum ${sum} (want about ${wantWin * counts.length})`);
    });
  });
}

/** A capture file of n distinct frames at the given gaps (ns). */
function traceFile(dir: string, gaps: number[]): { path: string; frames: Uint8Array[]; offs: number[] } {
  const path = join(dir, 'trace.pcap');
  const w = new PcapWriter(path);
  const frames: Uint8Array[] = [];
  const offs: number[] = [];
  let t = 0;
  for (let i = 0; i <= gaps.length; i++) {
    const f = buildPacket({ sport: 1000 + i, size: 60 + ((i * 37) % 400), payload: 'inc' }).bytes;
    frames.push(f);
    offs.push(t);
    const ns = 1e8 + t;
    w.write(f, 0, f.length, f.length, 1_700_000_000 + Math.floor(ns / 1e9), ns % 1e9);
    if (i < gaps.length) t += gaps[i];
  }
  w.close();
  return { path, frames, offs };
}

test('replay: order, bytes and inter-packet gaps at 1x and 2x; loops; fixed rate', { skip: needRoot }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nrreplay-'));
  try {
    const gaps: number[] = [];
    for (let i = 0; i < 40; i++) gaps.push([2e6, 10e6, 25e6, 5e6][i % 4]); // 2..25 ms
    const tr = traceFile(dir, gaps);
    await withVeth(async ({ a, b }) => {
      for (const speed of [1, 2]) {
        const { rx, s } = await run(b, { iface: a, replay: { file: tr.path, speed } });
        assert.equal(s.stoppedBy, 'source');
        assert.equal(rx.length, tr.frames.length);
        rx.forEach((r, i) => assert.deepEqual(r.bytes, tr.frames[i], `frame ${i} in order and unchanged`));
        const errs = gaps.map((g, i) => Math.abs((rx[i + 1].tNs - rx[i].tNs) - g / speed));
        errs.sort((x, y) => x - y);
        const med = errs[errs.length >> 1];
        // gaps are kept (a replay that ignored them would be off by the whole 2..25 ms gap);
        // the precision itself is a benchmark figure (bench/gen.sh), not a pass/fail bound
        assert.ok(med < 2e6, `speed ${speed}: median gap error ${(med / 1e6).toFixed(3)} ms`);
        const span = rx[rx.length - 1].tNs - rx[0].tNs;
        const want = tr.offs[tr.offs.length - 1] / speed;
        assert.ok(Math.abs(span - want) < want * 0.1, `speed ${speed}: span ${(span / 1e6).toFixed(2)} ms, want ${(want / 1e6).toFixed(2)}`);
      }
      const loops = await run(b, { iface: a, replay: { file: tr.path, speed: 8, loop: 3 } });
      assert.equal(loops.rx.length, 3 * tr.frames.length);
      loops.rx.forEach((r, i) => assert.deepEqual(r.bytes, tr.frames[i % tr.frames.length]));
      const fixed = await run(b, { iface: a, replay: { file: tr.path, loop: 50, ignoreTiming: true }, rate: '10kpps' });
      const n = 50 * tr.frames.length;
      assert.equal(fixed.rx.length, n);
      const span = fixed.rx[n - 1].tNs - fixed.rx[0].tNs;
      // paced at 10 kpps: never faster than the rate allows (one bucket ahead at most; unpaced, 2,050 frames take
      // about 2 ms); slower only by scheduling, which a loaded machine stretches (bounded at 10x to catch a stuck pacer)
      assert.ok(span >= (n - 1) * 1e5 * 0.9 && span <= (n - 1) * 1e5 * 10, `fixed rate: ${n} frames over ${(span / 1e6).toFixed(1)} ms`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
