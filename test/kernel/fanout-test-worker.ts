/**
 * Worker module used by the fan-out group tests. Every test frame ends in a
 * 9-byte trailer: flow id (u32), direction (u8: 1 = forward, 2 = reverse),
 * sequence number (u32). The worker records which sequence numbers and which
 * flow directions it saw and returns them from finish(). Inert when imported
 * on the main thread.
 */
import { defineWorker, type WorkerContext } from '../../src/fanout/index.js';
import type { Batch } from '../../src/ring/batch.js';

export interface TestWorkerData {
  packets: number;
  flows: number;
  /** Throw (crash) once this worker index saw `after` packets. */
  throwAt?: { index: number; after: number };
  /** With throwAt: before throwing, wait (holding its batch) until the test sets word 0 of this buffer. */
  gate?: SharedArrayBuffer;
  /** Hang (an endless loop in batch()) once this worker index saw `after` packets, in its first life only. */
  hangAt?: { index: number; after: number };
  /** Post one message to the main thread from setup. */
  hello?: boolean;
}

export interface TestWorkerResult {
  index: number;
  generation: number;
  packets: number;
  seen: Uint8Array;
  flows: Uint8Array;
  foreign: number;
  affinity: number[];
}

interface State { seen: Uint8Array; flows: Uint8Array; packets: number; foreign: number }

function st(ctx: WorkerContext<TestWorkerData>): State { return ctx.state as State; }

export default defineWorker<TestWorkerResult, TestWorkerData>({
  setup(ctx) {
    ctx.state = { seen: new Uint8Array(ctx.data.packets), flows: new Uint8Array(ctx.data.flows), packets: 0, foreign: 0 } satisfies State;
    if (ctx.data.hello) ctx.post({ hello: ctx.index, generation: ctx.generation });
  },
  batch(batch: Batch, ctx) {
    const s = st(ctx);
    const d = ctx.data;
    for (let p = batch.next(); p !== null; p = batch.next()) {
      const end = p.offset + p.caplen;
      const buf = p.data;
      const flow = ((buf[end - 9] << 24) | (buf[end - 8] << 16) | (buf[end - 7] << 8) | buf[end - 6]) >>> 0;
      const dir = buf[end - 5];
      const seq = ((buf[end - 4] << 24) | (buf[end - 3] << 16) | (buf[end - 2] << 8) | buf[end - 1]) >>> 0;
      if (seq >= s.seen.length || flow >= s.flows.length || (dir !== 1 && dir !== 2)) { s.foreign++; continue; }
      if (s.seen[seq] < 255) s.seen[seq]++;
      s.flows[flow] |= dir;
      s.packets++;
      ctx.counters[0] += p.wireLen;
    }
    if (d.throwAt && d.throwAt.index === ctx.index && ctx.generation === 0 && s.packets >= d.throwAt.after) {
      if (d.gate) Atomics.wait(new Int32Array(d.gate), 0, 0, 60000);
      throw new Error(`test worker ${ctx.index} crashes on purpose`);
    }
    if (d.hangAt && d.hangAt.index === ctx.index && ctx.generation === 0 && s.packets >= d.hangAt.after) {
      for (;;) { /* hangs on purpose: only the group's watchdog ends this */ }
    }
  },
  async finish(ctx) {
    const s = st(ctx);
    const { native } = await import('../../src/native.js');
    return { index: ctx.index, generation: ctx.generation, packets: s.packets, seen: s.seen, flows: s.flows, foreign: s.foreign, affinity: native.getAffinity() };
  },
});
