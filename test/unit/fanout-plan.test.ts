/**
 * Fan-out words, the group `fanout` option in all its forms, and the model of
 * the kernel's member slots.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeFanoutWord, fanoutWord, parseFanout, planFanout, programFor, SlotTable, runClassic, skbOf,
} from '../../src/fanout/index.js';
import { frame, randomFlow, rng } from './fanout-frames.js';

test('fanout words: id | (mode | flags) << 16, and back', () => {
  assert.equal(fanoutWord({ id: 7, mode: 'hash' }), 7);
  assert.equal(fanoutWord({ id: 1, mode: 'lb', rollover: true }), 1 | ((1 | 0x1000) << 16));
  assert.equal(fanoutWord({ id: 0, mode: 'cbpf', uniqueId: true, defrag: true, ignoreOutgoing: true }), (6 | 0x2000 | 0x8000 | 0x4000) << 16 >>> 0);
  for (const mode of ['hash', 'lb', 'cpu', 'rollover', 'rnd', 'qm', 'cbpf', 'ebpf'] as const) {
    const s = { id: 513, mode, defrag: true, rollover: mode !== 'rollover', uniqueId: false, ignoreOutgoing: true };
    assert.deepEqual(decodeFanoutWord(fanoutWord(s)), s);
  }
  assert.throws(() => fanoutWord({ id: 70000, mode: 'hash' }), /0\.\.65535/);
  assert.throws(() => fanoutWord({ id: 1, mode: 'hash', uniqueId: true }), /id 0/);
  assert.throws(() => fanoutWord({ id: 1, mode: 'rollover', rollover: true }), /rollover/);
  assert.throws(() => fanoutWord({ id: 1, mode: 'fast' as 'hash' }), /unknown fanout mode/);
});

test('the fanout option: kernel modes, steering names, flags, weights', () => {
  assert.deepEqual(planFanout(undefined), { mode: 'hash', flags: {}, describe: 'hash (kernel)' });
  assert.deepEqual(planFanout('hash+defrag+rollover').flags, { defrag: true, rollover: true });
  assert.equal(planFanout('lb').mode, 'lb');
  assert.equal(planFanout('qm').mode, 'qm');
  const flow = planFanout('flow+ignore-outgoing');
  assert.equal(flow.mode, 'cbpf');
  assert.deepEqual(flow.steering, { kind: 'flow' });
  assert.deepEqual(flow.flags, { ignoreOutgoing: true });
  assert.equal(planFanout('rrobin').mode, 'lb', 'an unweighted rrobin is the kernel round robin');
  assert.equal(planFanout({ steering: { steer: { kind: 'rrobin' }, weights: [1, 2] } }).mode, 'cbpf');
  assert.deepEqual(parseFanout('ip', [1, 3]), { steering: { steer: { kind: 'ip' }, weights: [1, 3] } });
  assert.match(planFanout(parseFanout('flow', [1, 3])).describe, /flow \(weights 1:3\)/);
  assert.throws(() => parseFanout('hash', [1, 2]), /steering function/);
  assert.throws(() => parseFanout('cbpf'), /needs a program/);
  assert.throws(() => parseFanout('flow+turbo'), /unknown fanout flag/);
  assert.throws(() => parseFanout('hash+ebpf'), /needs a steering function/);
  const eb = planFanout(parseFanout('ip+ebpf', [1, 3]));
  assert.equal(eb.mode, 'ebpf');
  assert.deepEqual(eb.table, { entries: 256 });
  assert.equal(programFor(eb, 2, [0, 1]), undefined, 'table mode: the program never changes with the layout');
  assert.throws(() => planFanout({ mode: 'cbpf' } as never), /needs `program`/);
  assert.throws(() => planFanout({ mode: 'ebpf', ebpfFd: -1 }), /ebpfFd/);
  const own = planFanout({ mode: 'cbpf', program: [{ code: 6, jt: 0, jf: 0, k: 1 }] });
  assert.deepEqual(programFor(own, 3, [0, 1, 2]), [{ code: 6, jt: 0, jf: 0, k: 1 }]);
  assert.equal(programFor(planFanout('hash'), 3, [0, 1, 2]), undefined);
});

test('slot model: join order, and the last member moves into a leaver\'s slot', () => {
  const t = new SlotTable();
  for (const m of [0, 1, 2, 3]) t.join(m);
  assert.deepEqual(t.slots(4), [0, 1, 2, 3]);
  t.leave(1);
  assert.deepEqual(t.slots(4), [0, -1, 2, 1]);
  t.leave(2); // the last one: nothing moves
  assert.deepEqual(t.slots(4), [0, -1, -1, 1]);
  t.join(1);
  assert.deepEqual(t.slots(4), [0, 2, -1, 1]);
  t.leave(0);
  assert.deepEqual(t.slots(4), [-1, 0, -1, 1]);
  assert.equal(t.size, 2);
  assert.throws(() => t.join(3), /twice/);
});

test('programs follow the layout: a weighted group keeps each worker\'s share when slots move', () => {
  const plan = planFanout({ steering: { steer: { kind: 'flow' }, weights: [1, 2, 1] } });
  const t = new SlotTable();
  [0, 1, 2].forEach((m) => t.join(m));
  t.leave(0); // worker 2 now sits in slot 0
  t.join(0); // worker 0 comes back in slot 2
  const slots = t.slots(3);
  assert.deepEqual(slots, [2, 1, 0]);
  const p = programFor(plan, 3, slots)!;
  const r = rng(3);
  const perWorker = [0, 0, 0];
  const N = 12000;
  for (let i = 0; i < N; i++) {
    const slot = runClassic(p, skbOf(frame(randomFlow(r)), 'in')) % 3;
    perWorker[slots.indexOf(slot)]++;
  }
  assert.ok(Math.abs(perWorker[1] / N - 0.5) < 0.03, `worker 1 (weight 2): ${perWorker}`);
  assert.ok(Math.abs(perWorker[0] / N - 0.25) < 0.03);
});
