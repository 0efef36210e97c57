/**
 * Worker module for metering in a fan-out group (`netring flows --workers N`):
 * each worker meters the flows of its own socket (the kernel's symmetric
 * flow hash keeps both directions of a flow on one worker) and posts its
 * finished records to the main thread as whole record buffers (transferred,
 * not copied), about once a second or when a buffer fills.
 */
import { defineWorker, type WorkerContext } from '../fanout/worker-api.js';
import { FlowTable, type FlowTableOptions } from './table.js';
import { RecordBuffer } from './record.js';
import type { Batch } from '../ring/batch.js';

/** ctx.data of a flow worker. */
export interface FlowWorkerData { table: Omit<FlowTableOptions, 'onFull' | 'domain'>; scanMs?: number }

/** A message a flow worker posts. */
export interface FlowWorkerMessage { t: 'records'; buffer: ArrayBuffer; count: number; stats: ReturnType<FlowTable['stats']> }

// ctx.counters: 0 packets metered, 1 active flows, 2 records, 3 evicted, 4 ignored, 5 created
interface Ctx extends WorkerContext<FlowWorkerData> { table?: FlowTable; nextScan?: number }

function post(ctx: Ctx, rb: RecordBuffer): void {
  const copy = rb.buffer.slice(0, rb.count * (rb.buffer.byteLength / rb.capacity));
  const msg: FlowWorkerMessage = { t: 'records', buffer: copy, count: rb.count, stats: ctx.table!.stats() };
  ctx.post(msg, [copy]);
}

function counters(ctx: Ctx): void {
  const t = ctx.table!;
  ctx.counters[0] = t.packets;
  ctx.counters[1] = t.active;
  ctx.counters[2] = t.records;
  ctx.counters[3] = t.evicted;
  ctx.counters[4] = t.ignored;
  ctx.counters[5] = t.created;
}

export default defineWorker<ReturnType<FlowTable['stats']>, FlowWorkerData>({
  setup(c) {
    const ctx = c as Ctx;
    ctx.table = new FlowTable({ ...ctx.data.table, domain: ctx.index, onFull: (rb) => post(ctx, rb) });
    ctx.nextScan = 0;
  },
  batch(batch: Batch, c) {
    const ctx = c as Ctx;
    const t = ctx.table!;
    t.addBatch(batch);
  },
  tick(c) {
    const ctx = c as Ctx;
    const now = Date.now();
    counters(ctx);
    if (now < ctx.nextScan!) return;
    ctx.nextScan = now + (ctx.data.scanMs ?? 1000);
    ctx.table!.expire(now * 1e6);
    ctx.table!.flushRecords();
  },
  finish(c) {
    const ctx = c as Ctx;
    ctx.table!.flushAll();
    counters(ctx);
    return ctx.table!.stats();
  },
});
