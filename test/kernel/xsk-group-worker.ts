/**
 * Worker module of the AF_XDP group tests. Every test frame carries its
 * sequence number (u32) at byte 42 (seqPayload in an untagged UDP/IPv4
 * frame). The worker records which sequence numbers it saw, how many frames
 * and bytes, and its RX queue, and returns them from finish(). It can throw
 * (after waiting on a gate, holding its batch) or hang, in its first life
 * only. Inert when imported on the main thread.
 */
import { defineWorker, type WorkerContext } from '../../src/fanout/index.js';
import type { XskBatch } from '../../src/xsk/index.js';

export interface XskWorkerData {
  /** Sequence numbers in use: 0..total-1. */
  total: number;
  /** Throw once this worker index saw `after` frames; with `gate`, first wait (holding the batch) until word 0 is set. */
  throwAt?: { index: number; after: number };
  gate?: SharedArrayBuffer;
  /** Hang (an endless loop in batch()) once this worker index saw `after` frames. */
  hangAt?: { index: number; after: number };
}

export interface XskWorkerResult {
  index: number;
  generation: number;
  queue: number;
  packets: number;
  bytes: number;
  seen: Uint8Array;
}

interface State { seen: Uint8Array; packets: number; bytes: number }

const st = (ctx: WorkerContext<XskWorkerData>): State => ctx.state as State;

export default defineWorker<XskWorkerResult, XskWorkerData, XskBatch>({
  setup(ctx) {
    ctx.state = { seen: new Uint8Array(ctx.data.total), packets: 0, bytes: 0 } satisfies State;
  },
  batch(batch, ctx) {
    const s = st(ctx);
    const d = ctx.data;
    for (let p = batch.next(); p !== null; p = batch.next()) {
      const o = p.offset + 42;
      const b = p.data;
      const seq = ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
      if (p.caplen >= 46 && seq < s.seen.length && s.seen[seq] < 255) s.seen[seq]++;
      s.packets++;
      s.bytes += p.caplen;
    }
    if (ctx.generation === 0 && d.throwAt?.index === ctx.index && s.packets >= d.throwAt.after) {
      if (d.gate) Atomics.wait(new Int32Array(d.gate), 0, 0, 60000);
      throw new Error(`test worker ${ctx.index} crashes on purpose`);
    }
    if (ctx.generation === 0 && d.hangAt?.index === ctx.index && s.packets >= d.hangAt.after) {
      for (;;) { /* hangs on purpose: only the group's watchdog ends this */ }
    }
  },
  finish(ctx) {
    const s = st(ctx);
    return { index: ctx.index, generation: ctx.generation, queue: ctx.xsk!.queue, packets: s.packets, bytes: s.bytes, seen: s.seen };
  },
});
