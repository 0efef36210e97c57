/**
 * Worker module for `netring top --workers N`: each worker meters the flows of
 * its own socket (symmetric steering keeps both directions of a flow on one
 * worker) and, about once a second, posts the aggregated rows of its table
 * (the heaviest flows, talkers, ports and protocols; see trimTopRows) for the
 * main thread to merge and draw. Per packet it only meters (no allocation);
 * the rows are built once a second.
 */
import { defineWorker, type WorkerContext } from '../fanout/worker-api.js';
import { FlowTable, type FlowTableOptions } from './table.js';
import { topRows, trimTopRows, type TopRows } from './top.js';
import type { Batch } from '../ring/batch.js';

/** ctx.data of a top worker. */
export interface TopWorkerData { table: Omit<FlowTableOptions, 'onFull' | 'domain'>; everyMs?: number; rows?: number }

/** What a top worker posts about once a second. */
export interface TopWorkerMessage { t: 'top'; rows: TopRows }

// ctx.counters: 0 packets offered (metered or not), 1 their wire bytes, 2 active flows, 3 evicted
interface Ctx extends WorkerContext<TopWorkerData> { table?: FlowTable; nextPost?: number }

function counters(ctx: Ctx): void {
  const t = ctx.table!;
  ctx.counters[0] = t.packets + t.ignored;
  ctx.counters[1] = t.wireBytes;
  ctx.counters[2] = t.active;
  ctx.counters[3] = t.evicted;
}

export default defineWorker<void, TopWorkerData>({
  setup(c) {
    const ctx = c as Ctx;
    ctx.table = new FlowTable({ ...ctx.data.table, domain: ctx.index });
    ctx.nextPost = 0;
  },
  batch(batch: Batch, c) {
    (c as Ctx).table!.addBatch(batch);
  },
  tick(c) {
    const ctx = c as Ctx;
    const now = Date.now();
    if (now >= ctx.nextPost!) {
      ctx.nextPost = now + (ctx.data.everyMs ?? 1000);
      ctx.table!.expire(now * 1e6);
      ctx.table!.flushRecords();
      const msg: TopWorkerMessage = { t: 'top', rows: trimTopRows(topRows(ctx.table!), ctx.data.rows ?? 200) };
      ctx.post(msg);
    }
    counters(ctx);
  },
  finish(c) {
    counters(c as Ctx);
  },
});
