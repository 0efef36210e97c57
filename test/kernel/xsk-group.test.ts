/**
 * group({ backend: 'xdp' }) on the real kernel: one worker per RX queue of a
 * two-queue veth, each with its own AF_XDP socket in the group's XSKMAP.
 * Frames are sent from the peer's TX queue q through an AF_XDP TX socket, so
 * they arrive on RX queue q (veth has no RSS); every frame carries its
 * sequence number, so the tests check exact counts per queue, and that a
 * crashed or hung worker's replacement gets its queue back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { group, type CrashInfo, type FanoutGroup, type GroupOptions, type StallInfo } from '../../src/fanout/index.js';
import { openCapture } from '../../src/index.js';
import { XskTxRing } from '../../src/xsk/index.js';
import { ifCounters, needRoot, run, seqPayload, sleep, udpFrame, withVeth } from '../helpers/netns.js';
import type { XskWorkerData, XskWorkerResult } from './xsk-group-worker.js';

const WORKER = new URL('./xsk-group-worker.js', import.meta.url);

/** One copy-mode AF_XDP TX socket per TX queue of `iface`; frames sent on queue q reach the peer's RX queue q. */
class QueueSender {
  private readonly rings: XskTxRing[];
  private seq = 0;
  readonly bytes: number[] = [];
  constructor(readonly iface: string, queues: number) {
    this.rings = Array.from({ length: queues }, (_, q) => new XskTxRing({ iface, queue: q, copyMode: 'copy', frames: 256 }));
  }
  /** Send n frames of 60..~800 bytes on TX queue q; returns their sequence numbers. Paced in bursts of 32. */
  async send(q: number, n: number): Promise<number[]> {
    const r = this.rings[q];
    const seqs: number[] = [];
    for (let i = 0; i < n; i += 32) {
      for (let k = i; k < Math.min(n, i + 32); k++) {
        const s = this.seq++;
        const f = udpFrame({ sport: 2000 + (s % 64), payload: seqPayload(s, 18 + ((s * 37) % 760)) });
        let off = r.next();
        while (off < 0) { r.wait(10); off = r.next(); }
        r.u8.set(f, off);
        r.commit(f.length);
        seqs.push(s);
        this.bytes[s] = f.length;
      }
      assert.ok(r.drain(5000), 'the kernel completed every TX frame');
      await sleep(1); // lets the peer's NAPI empty veth's 256-frame XDP ring before the next burst
    }
    return seqs;
  }
  get total(): number { return this.seq; }
  close(): void { for (const r of this.rings) r.close(); }
}

async function until(cond: () => boolean, ms = 15000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(10);
  }
  return true;
}

function xdpAttached(iface: string): boolean {
  return /prog\/xdp|xdpgeneric|xdpdrv| xdp /.test(run('ip', ['link', 'show', 'dev', iface]));
}

/** rx_queue_N_xdp_redirect of a veth end (ethtool -S). */
function redirects(iface: string, queue: number): number {
  const m = new RegExp(`rx_queue_${queue}_xdp_redirect: (\\d+)`).exec(run('ethtool', ['-S', iface]));
  return m === null ? -1 : Number(m[1]);
}

/** Sequence numbers a worker saw, each asserted to be seen at most once. */
function seqsOf(r: XskWorkerResult): number[] {
  const out: number[] = [];
  r.seen.forEach((n, s) => {
    if (n > 1) assert.fail(`worker ${r.index} saw frame ${s} ${n} times`);
    if (n === 1) out.push(s);
  });
  return out;
}

function startGroup(b: string, total: number, extra: Partial<GroupOptions<XskWorkerData>> = {}): Promise<FanoutGroup> {
  return group<XskWorkerData>({ iface: b, backend: 'xdp', worker: WORKER, xdp: { copyMode: 'copy' }, data: { total }, ...extra });
}

const accounted = (g: FanoutGroup): number => { const s = g.stats(); return s.packets + s.drops + s.lost; };

test("group({ backend: 'xdp', queues: 'all' }) on a 2-queue veth: worker i reads RX queue i, exact frames and bytes per queue, nothing left attached", { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const total = 8000;
    const g = await startGroup(b, total, { queues: 'all' });
    const tx = new QueueSender(a, 2);
    try {
      assert.equal(g.size, 2);
      assert.equal(g.xdpMode, 'native');
      assert.ok(xdpAttached(b), 'the group attached its program');
      const r0 = [redirects(b, 0), redirects(b, 1)];
      const drop0 = ifCounters(a).txDropped;
      const q0 = await tx.send(0, 3000);
      const q1 = await tx.send(1, 5000);
      assert.equal(ifCounters(a).txDropped - drop0, 0, 'veth delivered every frame to XDP');
      assert.ok(await until(() => g.stats().packets === 8000), `received ${g.stats().packets} of 8000`);
      assert.deepEqual([redirects(b, 0) - r0[0], redirects(b, 1) - r0[1]], [3000, 5000], 'XDP redirected each queue\'s frames');
      const res = await g.stop<XskWorkerResult>();
      const s = res.stats;
      assert.deepEqual(s.workers.map((w) => w.packets), [3000, 5000]);
      assert.deepEqual(s.workers.map((w) => w.kernelPackets), [3000, 5000]);
      assert.deepEqual(s.workers.map((w) => [w.drops, w.lost, w.freezes]), [[0, 0, 0], [0, 0, 0]]);
      const [w0, w1] = res.results as XskWorkerResult[];
      assert.deepEqual([w0.queue, w1.queue], [0, 1], 'worker i bound RX queue i');
      assert.deepEqual(seqsOf(w0), q0, 'worker 0 got exactly the frames sent on queue 0, once each');
      assert.deepEqual(seqsOf(w1), q1, 'worker 1 got exactly the frames sent on queue 1, once each');
      const sum = (seqs: number[]): number => seqs.reduce((n, x) => n + tx.bytes[x], 0);
      assert.deepEqual([w0.bytes, w1.bytes], [sum(q0), sum(q1)], 'exact bytes per queue');
      assert.equal(res.crashes.length, 0);
      assert.equal(xdpAttached(b), false, 'stop detached the program');
    } finally {
      tx.close();
      await g.stop();
    }
  }, { queues: 2 });
});

test("group({ backend: 'xdp', queues: [1], xdp: { filter } }): the one worker reads queue 1's matching frames; queue 0's frames and the misses go up the stack", { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    // QueueSender's source ports are 2000 + seq % 64: the filter keeps half of them, in XDP
    const g = await startGroup(b, 2000, { queues: [1], xdp: { copyMode: 'copy', filter: 'udp src portrange 2000-2031' } });
    const stack = openCapture({ iface: b, blockTimeoutMs: 5, direction: 'in' });
    const tx = new QueueSender(a, 2);
    try {
      assert.equal(g.size, 1);
      const q0 = await tx.send(0, 700);
      const q1 = await tx.send(1, 500);
      const hit = q1.filter((x) => x % 64 < 32);
      const miss = q1.filter((x) => x % 64 >= 32);
      assert.ok(await until(() => g.stats().packets === hit.length), `received ${g.stats().packets} of ${hit.length}`);
      const passed: number[] = [];
      await until(() => {
        for (let bt = stack.tryBatch(); bt !== null; bt = stack.tryBatch()) {
          for (let p = bt.next(); p !== null; p = bt.next()) if (p.caplen >= 46) passed.push(new DataView(p.data.buffer, p.data.byteOffset + p.offset + 42, 4).getUint32(0));
        }
        return passed.length >= 700 + miss.length;
      });
      const res = await g.stop<XskWorkerResult>();
      assert.equal(res.results[0]!.queue, 1);
      assert.deepEqual(seqsOf(res.results[0]!), hit, 'queue 1: every matching frame to the worker, once');
      assert.deepEqual(passed.sort((x, y) => x - y), [...q0, ...miss].sort((x, y) => x - y), 'queue 0 (no socket) and the misses: XDP_PASS, the stack saw each frame');
      assert.equal(res.stats.drops + res.stats.lost, 0);
    } finally {
      tx.close();
      stack.close();
      await g.stop();
    }
  }, { queues: 2 });
});

test('xdp group: a worker that throws mid-run is restarted, its socket back in the XSKMAP; received + dropped + lost == sent exactly', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const crashes: CrashInfo[] = [];
    const restarts: number[] = [];
    // worker 1 throws in a batch it holds until all of the first round is on its RX ring
    const gate = new SharedArrayBuffer(4);
    const g = await startGroup(b, 10000, {
      restart: { max: 1 }, stallMs: 0, onCrash: (c) => crashes.push(c),
      data: { total: 10000, throwAt: { index: 1, after: 200 }, gate },
    });
    g.on('restart', (r: { index: number }) => restarts.push(r.index));
    const tx = new QueueSender(a, 2);
    try {
      const drop0 = ifCounters(a).txDropped;
      const first = [await tx.send(0, 2000), await tx.send(1, 2000)];
      assert.ok(await until(() => g.stats().workers[0].packets === 2000), 'worker 0 took its queue');
      await sleep(200);
      const held = g.stats().workers[1].packets; // what worker 1 returned from before the batch it holds
      assert.ok(held < 2000);
      Atomics.store(new Int32Array(gate), 0, 1);
      Atomics.notify(new Int32Array(gate), 0);
      assert.ok(await until(() => crashes.length === 1), 'crash reported');
      assert.equal(crashes[0].index, 1);
      assert.match(crashes[0].error?.message ?? '', /crashes on purpose/);
      assert.equal(crashes[0].restarting, true);
      assert.ok(await until(() => restarts.length === 1), 'restarted');
      assert.ok(await until(() => accounted(g) === tx.total), `accounted ${accounted(g)} of ${tx.total}`);
      assert.equal(crashes[0].lost, 2000 - held, 'the batch it threw in and the rest of its ring are lost with it');
      assert.equal(g.stats().workers[1].kernelPackets, 2000);
      // the replacement's socket is in the map: queue 1's frames reach it again
      const second = [await tx.send(0, 1000), await tx.send(1, 1500)];
      assert.equal(ifCounters(a).txDropped - drop0, 0, 'veth delivered every frame to XDP');
      assert.ok(await until(() => accounted(g) === tx.total), `accounted ${accounted(g)} of ${tx.total}`);
      const res = await g.stop<XskWorkerResult>();
      const s = res.stats;
      assert.equal(s.packets + s.drops + s.lost, tx.total, 'received + dropped + lost with the worker == sent');
      assert.equal(s.kernelPackets, tx.total);
      assert.deepEqual(s.workers.map((w) => w.packets), [3000, held + 1500]);
      assert.deepEqual(s.workers.map((w) => w.lost), [0, 2000 - held]);
      assert.equal(s.drops, 0);
      assert.equal(s.workers[1].restarts, 1);
      assert.equal(res.results[1]!.generation, 1);
      assert.equal(res.results[1]!.queue, 1);
      assert.deepEqual(seqsOf(res.results[0]!), [...first[0], ...second[0]]);
      assert.deepEqual(seqsOf(res.results[1]!), second[1], 'the replacement got every later frame of queue 1, once');
      assert.equal(xdpAttached(b), false);
    } finally {
      tx.close();
      await g.stop();
    }
  }, { queues: 2 });
});

test('xdp group: a worker that hangs is found by the watchdog, terminated and restarted; received + dropped + lost == sent exactly, drops included', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const crashes: CrashInfo[] = [];
    const stalls: StallInfo[] = [];
    const restarts: number[] = [];
    // small rings: the hung worker's RX ring (512) fills up, and the rest of its queue is dropped and counted
    const g = await startGroup(b, 10000, {
      restart: { max: 1 }, stallMs: 1000, onStall: (x) => stalls.push(x), onCrash: (c) => crashes.push(c),
      xdp: { copyMode: 'copy', rxSize: 512, fillSize: 512 },
      data: { total: 10000, hangAt: { index: 1, after: 100 } },
    });
    g.on('restart', (r: { index: number }) => restarts.push(r.index));
    const tx = new QueueSender(a, 2);
    try {
      const drop0 = ifCounters(a).txDropped;
      await tx.send(1, 100);
      await sleep(200);
      const took = g.stats().workers[1].packets; // the batches it returned from before the one it hangs in
      assert.ok(took < 100);
      await tx.send(1, 1900); // worker 1 hangs in its batch: its RX ring fills up, the rest is dropped
      await tx.send(0, 1000);
      assert.ok(await until(() => stalls.length === 1, 20000), 'stall reported');
      assert.equal(stalls[0].index, 1);
      assert.ok(await until(() => crashes.length === 1, 20000), 'the stalled worker was terminated');
      assert.equal(crashes[0].stalledMs, stalls[0].stalledMs);
      assert.ok(await until(() => restarts.length === 1, 20000), 'restarted');
      let s = g.stats();
      assert.equal(s.workers[1].kernelPackets, 2000, 'its socket\'s totals were read after it died');
      assert.ok(s.workers[1].drops > 0, 'the frames its full ring could not take are counted as drops');
      assert.equal(s.workers[1].drops + crashes[0].lost, 2000 - took, 'what it never returned from is dropped or lost');
      assert.equal(crashes[0].lost, s.workers[1].lost);
      const later = await tx.send(1, 800);
      await tx.send(0, 200);
      assert.equal(ifCounters(a).txDropped - drop0, 0, 'veth delivered every frame to XDP');
      assert.ok(await until(() => accounted(g) === tx.total), `accounted ${accounted(g)} of ${tx.total}`);
      const res = await g.stop<XskWorkerResult>();
      s = res.stats;
      assert.equal(s.packets + s.drops + s.lost, tx.total, 'received + dropped + lost with the worker == sent');
      assert.equal(s.kernelPackets, tx.total);
      assert.deepEqual(s.workers.map((w) => w.packets), [1200, took + 800]);
      assert.equal(res.results[1]!.generation, 1);
      assert.deepEqual(seqsOf(res.results[1]!), later, 'the replacement got every later frame of queue 1, once');
      assert.equal(s.workers[1].state, 'done');
      assert.equal(xdpAttached(b), false);
    } finally {
      tx.close();
      await g.stop();
    }
  }, { queues: 2 });
});
