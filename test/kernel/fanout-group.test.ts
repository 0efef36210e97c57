/**
 * Worker groups on a veth pair. Traffic: many flows, each sent in both
 * directions (forward frames from end a arrive on b, reverse frames are sent
 * from b itself), captured on b with direction 'both'. Every frame carries
 * (flow, direction, sequence) in a trailer the test worker records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { group, type CrashInfo, type FanoutGroup, type GroupFanout, type GroupOptions, type StallInfo } from '../../src/fanout/index.js';
import { native } from '../../src/native.js';
import { needRoot, RawSender, run, sleep, withVeth } from '../helpers/netns.js';
import { frame, randomFlow, reverse, rng, type FrameSpec } from '../unit/fanout-frames.js';
import type { TestWorkerData, TestWorkerResult } from './fanout-test-worker.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const WORKER = new URL('./fanout-test-worker.js', import.meta.url);
const CAPTURE = { blockSize: 1 << 16, blockCount: 64, blockTimeoutMs: 2 };

function trailer(flow: number, dir: number, seq: number): Uint8Array {
  const t = new Uint8Array(9);
  const dv = new DataView(t.buffer);
  dv.setUint32(0, flow);
  t[4] = dir;
  dv.setUint32(5, seq);
  return t;
}

/** Traffic of `flows` flows, one frame per direction each, in a fixed random order of flows. */
class Traffic {
  readonly flows: FrameSpec[];
  sent = 0;
  constructor(flows: number, seed: number) {
    const r = rng(seed);
    this.flows = Array.from({ length: flows }, () => randomFlow(r));
  }
  get packets(): number { return this.flows.length * 2; }
  /** Send flows [from, to): forward from `a`, reverse from `b`. */
  send(ta: RawSender, tb: RawSender, from = 0, to = this.flows.length): void {
    for (let f = from; f < to; f++) {
      ta.send([frame({ ...this.flows[f], tail: trailer(f, 1, this.sent++) })]);
      tb.send([frame({ ...reverse(this.flows[f]), tail: trailer(f, 2, this.sent++) })]);
    }
  }
}

async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(10);
  }
  return true;
}

/** Send all traffic in slices, letting the workers catch up (read from shared memory) between slices. */
async function sendAll(g: FanoutGroup | FanoutGroup[], t: Traffic, ta: RawSender, tb: RawSender, slice = 1000): Promise<void> {
  const gs = Array.isArray(g) ? g : [g];
  for (let f = 0; f < t.flows.length; f += slice) {
    t.send(ta, tb, f, Math.min(t.flows.length, f + slice));
    await until(() => gs.every((x) => x.stats().packets >= t.sent));
  }
}

function start(iface: string, fanout: GroupFanout, workers: number, t: Traffic, extra: Partial<GroupOptions<TestWorkerData>> = {}): Promise<FanoutGroup> {
  return group<TestWorkerData>({
    iface, workers, fanout, worker: WORKER, capture: CAPTURE,
    data: { packets: t.packets, flows: t.flows.length }, ...extra,
  });
}

/** Every packet exactly once across the workers; returns packets per worker. */
function exactlyOnce(results: Array<TestWorkerResult | undefined>, t: Traffic): number[] {
  const rs = results.filter((r): r is TestWorkerResult => r !== undefined);
  let missing = 0, dup = 0;
  for (let q = 0; q < t.sent; q++) {
    let c = 0;
    for (const r of rs) c += r.seen[q];
    if (c === 0) missing++;
    else if (c > 1) dup++;
  }
  assert.equal(rs.reduce((x, r) => x + r.foreign, 0), 0, 'no packets other than the test traffic');
  assert.equal(missing, 0, `${missing} packets not received`);
  assert.equal(dup, 0, `${dup} packets received more than once`);
  return results.map((r) => r?.packets ?? 0);
}

/** Every flow and its reverse on exactly one worker. */
function flowAffinity(results: TestWorkerResult[], flows: number): void {
  let split = 0, partial = 0;
  for (let f = 0; f < flows; f++) {
    let holders = 0, bits = 0;
    for (const r of results) if (r.flows[f] !== 0) { holders++; bits = r.flows[f]; }
    if (holders !== 1) split++;
    else if (bits !== 3) partial++;
  }
  assert.equal(split, 0, `${split} of ${flows} flows were seen by more than one worker`);
  assert.equal(partial, 0, `${partial} flows lost a direction`);
}

for (const [name, fanout, workers] of [
  ['generated flow steering (cbpf)', 'flow', 3],
  ['kernel hash mode', 'hash', 2],
] as const) {
  test(`${name}: 12,000 flows in both directions, every packet once, every flow and its reverse on one worker`, { skip: needRoot }, async () => {
    await withVeth(async ({ a, b }) => {
      const t = new Traffic(12000, 11);
      const g = await start(b, fanout, workers, t);
      const ta = new RawSender(a), tb = new RawSender(b);
      await sendAll(g, t, ta, tb);
      const live = g.stats();
      const res = await g.stop<TestWorkerResult>();
      ta.close(); tb.close();
      const per = exactlyOnce(res.results, t);
      flowAffinity(res.results as TestWorkerResult[], t.flows.length);
      assert.deepEqual(res.crashes, []);
      assert.equal(res.stats.drops, 0);
      assert.equal(res.stats.packets, t.packets, 'shared counters = packets delivered');
      assert.ok(live.packets <= t.packets);
      assert.equal(res.stats.kernelPackets, t.packets, 'kernel counters summed over workers');
      for (const n of per) assert.ok(n > t.packets / workers / 2, `every worker got a fair part: ${per}`);
      // user counters (bytes) are visible in the stats
      const bytes = res.stats.workers.reduce((x, w) => x + w.user[0], 0);
      assert.ok(bytes > t.packets * 60);
    });
  });
}

test('lb spreads evenly; weights 1:3 give 25/75 and keep flow affinity', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const ta = new RawSender(a), tb = new RawSender(b);
    const t = new Traffic(4000, 12);
    const lb = await start(b, 'lb', 2, t);
    await sendAll(lb, t, ta, tb);
    const r1 = await lb.stop<TestWorkerResult>();
    const per = exactlyOnce(r1.results, t);
    for (const n of per) assert.ok(Math.abs(n / t.packets - 0.5) < 0.02, `lb shares ${per}`);

    const t2 = new Traffic(12000, 13);
    const w = await start(b, { steering: { steer: { kind: 'flow' }, weights: [1, 3] } }, 2, t2);
    await sendAll(w, t2, ta, tb);
    const r2 = await w.stop<TestWorkerResult>();
    const per2 = exactlyOnce(r2.results, t2);
    flowAffinity(r2.results as TestWorkerResult[], t2.flows.length);
    assert.ok(Math.abs(per2[0] / t2.packets - 0.25) < 0.03, `weights 1:3 shares ${per2}`);
    ta.close(); tb.close();
  });
});

test('two groups on the same device each see every packet', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const t = new Traffic(3000, 14);
    const g1 = await start(b, 'hash', 2, t);
    const g2 = await start(b, { steering: { kind: 'ip' } }, 2, t);
    assert.notEqual(g1.id, g2.id);
    const ta = new RawSender(a), tb = new RawSender(b);
    await sendAll([g1, g2], t, ta, tb);
    const [r1, r2] = await Promise.all([g1.stop<TestWorkerResult>(), g2.stop<TestWorkerResult>()]);
    ta.close(); tb.close();
    exactlyOnce(r1.results, t);
    exactlyOnce(r2.results, t);
  });
});

for (const fanout of ['flow', { steering: { kind: 'flow' }, ebpf: true }] as const) test(`a worker that throws is reported, the others keep counting, its traffic moves to them (${typeof fanout === 'string' ? 'cbpf' : 'ebpf table'})`, { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const t = new Traffic(6000, 15);
    const crashes: CrashInfo[] = [];
    const g = await start(b, fanout, 2, t, { data: { packets: t.packets, flows: t.flows.length, throwAt: { index: 1, after: 100 } } });
    g.on('crash', (c: CrashInfo) => crashes.push(c));
    const ta = new RawSender(a), tb = new RawSender(b);
    t.send(ta, tb, 0, 1000);
    assert.ok(await until(() => crashes.length === 1), 'crash reported');
    assert.equal(crashes[0].index, 1);
    assert.equal(crashes[0].phase, 'run');
    assert.match(crashes[0].error!.message, /crashes on purpose/);
    assert.equal(crashes[0].restarting, false);
    assert.ok(await until(() => g.stats().workers[1].state === 'crashed'));
    const before = g.stats().workers[0].packets;
    const from = t.sent;
    t.send(ta, tb, 1000, 3000);
    const to = t.sent;
    assert.ok(await until(() => g.stats().workers[0].packets >= before + (to - from)), 'worker 0 keeps counting');
    const res = await g.stop<TestWorkerResult>();
    ta.close(); tb.close();
    let missing = 0;
    for (let q = from; q < to; q++) if (res.results[0]!.seen[q] !== 1) missing++;
    assert.equal(missing, 0, 'every packet sent after the crash reached worker 0, exactly once');
    assert.equal(res.results[1], undefined);
    assert.equal(res.results[0]!.packets, res.stats.workers[0].packets);
    assert.equal(res.crashes.length, 1);
  });
});

/** received + dropped + lost with workers, read from shared memory. */
function accounted(g: FanoutGroup): number {
  const s = g.stats();
  return s.packets + s.drops + s.lost;
}

test('a worker that throws mid-run: its batch and ring are counted as lost with it, received + dropped + lost == sent exactly', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const t = new Traffic(3000, 21);
    const crashes: CrashInfo[] = [];
    // worker 1 holds the batch it will throw in until all traffic is queued, so it dies with a batch in hand
    // and its share of the rest in its ring (and its socket closes with no frame on the wire)
    const gate = new SharedArrayBuffer(4);
    const g = await start(b, 'hash', 2, t, {
      stallMs: 0, onCrash: (c) => crashes.push(c),
      data: { packets: t.packets, flows: t.flows.length, throwAt: { index: 1, after: 200 }, gate },
    });
    const ta = new RawSender(a), tb = new RawSender(b);
    t.send(ta, tb);
    let seen = -1;
    assert.ok(await until(() => { const k = g.stats().workers[0].packets; const same = k === seen; seen = k; return same && k > 0; }, 15000));
    await sleep(200);
    Atomics.store(new Int32Array(gate), 0, 1);
    Atomics.notify(new Int32Array(gate), 0);
    assert.ok(await until(() => crashes.length === 1, 15000), 'crash reported');
    assert.ok(await until(() => accounted(g) === t.sent, 15000), `accounted ${accounted(g)} of ${t.sent}`);
    const res = await g.stop<TestWorkerResult>();
    ta.close(); tb.close();
    const s = res.stats;
    assert.equal(s.packets + s.drops + s.lost, t.sent, 'received + dropped + lost with the worker == sent');
    assert.equal(s.kernelPackets, t.sent, 'the kernel queued every frame to one of the sockets');
    assert.equal(crashes[0].index, 1);
    assert.ok(crashes[0].lost > 0, 'the batch it threw in is lost with it');
    assert.equal(crashes[0].lost, s.workers[1].lost);
    assert.equal(s.workers[0].lost, 0, 'the healthy worker lost nothing');
    assert.equal(res.results[0]!.foreign, 0);
    assert.equal(res.results[0]!.packets, s.workers[0].packets);
  });
});

test('a worker that hangs is reported by the watchdog, terminated and restarted; received + dropped + lost == sent exactly', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const t = new Traffic(3000, 22);
    const crashes: CrashInfo[] = [];
    const stalls: StallInfo[] = [];
    const restarts: number[] = [];
    const g = await start(b, 'hash', 2, t, {
      stallMs: 1000, restart: { max: 1 }, onStall: (st) => stalls.push(st), onCrash: (c) => crashes.push(c),
      data: { packets: t.packets * 2, flows: t.flows.length, hangAt: { index: 1, after: 200 } },
    });
    g.on('restart', (r: { index: number }) => restarts.push(r.index));
    const ta = new RawSender(a), tb = new RawSender(b);
    t.send(ta, tb);
    assert.ok(await until(() => stalls.length === 1, 20000), 'stall reported');
    assert.equal(stalls[0].index, 1);
    assert.ok(stalls[0].stalledMs >= 1000, `stalled ${stalls[0].stalledMs} ms`);
    assert.ok(await until(() => crashes.length === 1, 20000), 'the stalled worker was terminated');
    assert.equal(crashes[0].index, 1);
    assert.equal(crashes[0].stalledMs, stalls[0].stalledMs);
    assert.equal(crashes[0].restarting, true);
    assert.ok(crashes[0].lost > 0, 'the batch it hung in is lost with it');
    assert.ok(await until(() => restarts.length === 1, 20000), 'restarted');
    assert.ok(await until(() => accounted(g) === t.sent, 15000), `accounted ${accounted(g)} of ${t.sent}`);
    // the replacement takes its share again
    const t2 = new Traffic(1000, 23);
    t2.sent = t.sent;
    const before = g.stats().workers.map((w) => w.packets);
    t2.send(ta, tb);
    assert.ok(await until(() => accounted(g) === t2.sent, 15000), `accounted ${accounted(g)} of ${t2.sent}`);
    const res = await g.stop<TestWorkerResult>();
    ta.close(); tb.close();
    const s = res.stats;
    assert.equal(s.packets + s.drops + s.lost, t2.sent, 'received + dropped + lost with the worker == sent');
    assert.equal(s.kernelPackets, t2.sent);
    assert.equal(s.workers[1].lost, crashes[0].lost, 'only the hung life lost packets');
    assert.ok(s.workers[1].packets > before[1], 'the replacement counts');
    assert.equal(res.results[1]!.generation, 1);
    assert.equal(s.workers[1].state, 'done');
  });
});

test('a killed worker is reported and restarted; the replacement joins and counts', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const t = new Traffic(4000, 16);
    const crashes: CrashInfo[] = [];
    const restarts: number[] = [];
    const hello: Array<{ hello: number; generation: number }> = [];
    const g = await start(b, { steering: { steer: { kind: 'flow' }, weights: [1, 1] } }, 2, t, {
      restart: { max: 1 }, data: { packets: t.packets, flows: t.flows.length, hello: true },
      onCrash: (c) => crashes.push(c), onMessage: (m) => hello.push(m as { hello: number; generation: number }),
    });
    g.on('restart', (r: { index: number }) => restarts.push(r.index));
    assert.deepEqual(hello.map((h) => h.hello).sort(), [0, 1], 'setup() messages of both workers arrived');
    const ta = new RawSender(a), tb = new RawSender(b);
    await sendAll(g, t, ta, tb, 500);
    const mid = g.stats().workers.map((w) => w.packets);
    await g.kill(0);
    assert.equal(crashes.length, 1);
    assert.equal(crashes[0].index, 0);
    assert.equal(crashes[0].error, undefined, 'terminated, not thrown');
    assert.equal(crashes[0].restarting, true);
    assert.ok(await until(() => restarts.length === 1), 'restarted');
    assert.deepEqual(hello.filter((h) => h.generation === 1).map((h) => h.hello), [0]);
    // fresh traffic spreads over both again
    const t2 = new Traffic(2000, 17);
    t2.sent = t.sent;
    const before = g.stats().packets;
    t2.send(ta, tb);
    assert.ok(await until(() => g.stats().packets === before + t2.packets), 'all new packets counted');
    const after = g.stats().workers.map((w, i) => w.packets - mid[i]);
    assert.ok(after[0] > 0 && after[1] > 0, `both workers count after the restart: ${after}`);
    assert.equal(g.stats().workers[0].restarts, 1);
    const res = await g.stop<TestWorkerResult>();
    ta.close(); tb.close();
    assert.equal(res.results[0]!.generation, 1);
  });
});

function socketInodes(): { fds: Set<string>; maps: Set<string> } {
  const fds = new Set<string>();
  for (const f of readdirSync('/proc/self/fd')) {
    try { const l = readlinkSync(`/proc/self/fd/${f}`); if (l.startsWith('socket:')) fds.add(l); } catch { /* raced */ }
  }
  const maps = new Set(readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('socket:[')).map((l) => l.slice(l.indexOf('socket:['))));
  return { fds, maps };
}

test('nothing is left after stop, even after a worker was terminated: no fd, no ring mapping, no namespace', { skip: needRoot }, async () => {
  gc();
  const base = socketInodes();
  let vethName = '';
  await withVeth(async ({ a, b }) => {
    vethName = b;
    const t = new Traffic(500, 18);
    const avail = native.getAffinity();
    const cpus = [avail[avail.length - 1], avail[0]];
    const g = await start(b, 'flow', 2, t, { cpus });
    const during = socketInodes();
    assert.equal([...during.maps].filter((m) => !base.maps.has(m)).length, 2, 'one ring mapping per worker while running');
    const ta = new RawSender(a), tb = new RawSender(b);
    await sendAll(g, t, ta, tb);
    ta.close(); tb.close();
    // pinning: each worker runs on the CPU it was given
    const st = g.stats();
    assert.deepEqual(st.workers.map((w) => w.cpu), cpus);
    await g.kill(1);
    const res = await g.stop<TestWorkerResult>();
    assert.deepEqual(res.results[0]!.affinity, [cpus[0]]);
  });
  gc();
  await sleep(50);
  gc();
  const after = socketInodes();
  assert.deepEqual([...after.fds].filter((x) => !base.fds.has(x)), [], 'no socket fd left');
  assert.deepEqual([...after.maps].filter((x) => !base.maps.has(x)), [], 'no ring mapping left');
  assert.equal(run('ip', ['-o', 'link', 'show']).includes(vethName), false, 'veth gone');
});

test('start fails cleanly with the reason: unknown interface, a module without batch(), a worker that throws in setup', { skip: needRoot }, async () => {
  gc();
  const base = socketInodes();
  await assert.rejects(group({ iface: 'nrnosuchif0', workers: 2, worker: WORKER, data: { packets: 1, flows: 1 } }),
    (e: Error & { code?: string }) => e.code === 'ENODEV' && /nrnosuchif0/.test(e.message));
  await withVeth(async ({ b }) => {
    await assert.rejects(group({ iface: b, workers: 2, worker: 'data:text/javascript,export default { setup() {} }' }), /exports no batch/);
    await assert.rejects(group({ iface: b, workers: 2, worker: 'data:text/javascript,export function batch() {} export function setup() { throw new Error("no tables") }' }),
      /worker \d failed in setup: no tables/);
    await assert.rejects(group({ iface: b, workers: 0, worker: WORKER }), /workers must be/);
  });
  gc();
  assert.deepEqual([...socketInodes().fds].filter((x) => !base.fds.has(x)), []);
});

for (const ebpf of [false, true]) {
  test(`live re-weighting (${ebpf ? 'eBPF table map' : 'classic BPF program swap'}): 1:1 then 1:3, flow affinity throughout`, { skip: needRoot }, async () => {
    await withVeth(async ({ a, b }) => {
      const t = new Traffic(12000, 19);
      const g = await start(b, { steering: { steer: { kind: 'flow' }, weights: [1, 1] }, ebpf }, 2, t);
      assert.match(g.plan.describe, ebpf ? /^ebpf steering flow/ : /^cbpf steering flow/);
      const ta = new RawSender(a), tb = new RawSender(b);
      for (let f = 0; f < 6000; f += 1000) { t.send(ta, tb, f, f + 1000); await until(() => g.stats().packets >= t.sent); }
      const mid = g.stats().workers.map((w) => w.packets);
      assert.ok(Math.abs(mid[0] / t.sent - 0.5) < 0.03, `1:1 shares ${mid}`);
      await g.setWeights([1, 3]);
      for (let f = 6000; f < 12000; f += 1000) { t.send(ta, tb, f, f + 1000); await until(() => g.stats().packets >= t.sent); }
      const end = g.stats().workers.map((w, i) => w.packets - mid[i]);
      assert.ok(Math.abs(end[0] / (end[0] + end[1]) - 0.25) < 0.03, `1:3 shares ${end}`);
      const res = await g.stop<TestWorkerResult>();
      ta.close(); tb.close();
      exactlyOnce(res.results, t);
      flowAffinity(res.results as TestWorkerResult[], t.flows.length);
      await assert.rejects(g.setWeights([1]), /2 members/);
    });
  });
}
