/**
 * Benchmark worker: counts (the runtime counts batches into shared memory);
 * with data.touch it also reads each packet's IPv4 source address, as a
 * consumer that looks at headers would.
 */
import { defineWorker } from '../src/fanout/worker-api.js';

export default defineWorker<number, { touch?: boolean }>({
  setup(ctx) { ctx.sum = 0; },
  batch(batch, ctx) {
    if (!ctx.data.touch) return;
    let s = ctx.sum as number;
    for (let p = batch.next(); p !== null; p = batch.next()) {
      const o = p.offset + 26;
      s = (s + p.data[o] + p.data[o + 3]) | 0;
    }
    ctx.sum = s;
  },
  finish(ctx) { return ctx.sum as number; },
});
