/**
 * Benchmark worker: counts (the runtime counts batches into shared memory);
 * with data.touch it also reads each packet's IPv4 source address, as a
 * consumer that looks at headers would; data.work adds that many rounds of
 * arithmetic per packet (a stand-in for per-packet analysis cost).
 */
import { defineWorker } from '../src/fanout/worker-api.js';

export default defineWorker<number, { touch?: boolean; work?: number }>({
  setup(ctx) { ctx.sum = 0; },
  batch(batch, ctx) {
    const work = ctx.data.work ?? 0;
    if (!ctx.data.touch && work === 0) return;
    let s = ctx.sum as number;
    for (let p = batch.next(); p !== null; p = batch.next()) {
      const o = p.offset + 26;
      let h = (p.data[o] << 8) | p.data[o + 3];
      for (let i = 0; i < work; i++) h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) + i;
      s = (s + h) | 0;
    }
    ctx.sum = s;
  },
  finish(ctx) { return ctx.sum as number; },
});
