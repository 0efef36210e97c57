/**
 * Built-in worker of `netring capture --workers N`: writes its share of the
 * traffic to its own pcap/pcapng file (or only counts when it has no file),
 * honouring a group-wide packet budget (`-c`) kept in shared memory, and
 * records the kernel's counters in the file's final statistics block.
 */
import { defineWorker, type WorkerContext } from '../fanout/index.js';
import { openCaptureWriter, type CaptureWriter } from '../pcap/index.js';

/** ctx.data of the writer worker. */
export interface WriterWorkerData {
  /** Output path per worker (null entries or no array: count only). */
  paths?: Array<string | null>;
  format?: 'pcap' | 'pcapng';
  snaplen?: number;
  /** Group-wide packet budget: Int32Array(1) over this buffer counts packets taken so far. */
  budget?: SharedArrayBuffer;
  limit?: number;
}

/** What each writer worker returns. */
export interface WriterWorkerResult {
  index: number;
  path: string | null;
  packets: number;
  bytes: number;
  drops: number;
}

interface State { writer: CaptureWriter | null; path: string | null; budget: Int32Array | null; packets: number; bytes: number }

/** Path of a restarted worker's file: a crash must not truncate what its first life wrote. */
export function generationPath(path: string, generation: number): string {
  if (generation === 0) return path;
  const m = /^(.*?)(\.[A-Za-z0-9]+)?$/.exec(path)!;
  return `${m[1]}.r${generation}${m[2] ?? ''}`;
}

const S = (ctx: WorkerContext<WriterWorkerData>): State => ctx.state as State;

export default defineWorker<WriterWorkerResult, WriterWorkerData>({
  setup(ctx) {
    const p = ctx.data.paths?.[ctx.index] ?? null;
    const path = p === null ? null : generationPath(p, ctx.generation);
    const writer = path === null ? null : openCaptureWriter(path, { format: ctx.data.format, name: ctx.iface, snaplen: ctx.data.snaplen });
    const st: State = { writer, path, budget: ctx.data.budget ? new Int32Array(ctx.data.budget) : null, packets: 0, bytes: 0 };
    ctx.state = st;
  },
  batch(batch, ctx) {
    const st = S(ctx);
    let allowed = batch.count;
    if (st.budget !== null) {
      const limit = ctx.data.limit ?? Infinity;
      const before = Atomics.add(st.budget, 0, batch.count);
      allowed = Math.max(0, Math.min(batch.count, limit - before));
    }
    const w = st.writer;
    let bytes = 0;
    for (let i = 0; i < allowed; i++) {
      const p = batch.next()!;
      bytes += p.wireLen;
      if (w !== null) w.writePacket(p);
    }
    st.packets += allowed;
    st.bytes += bytes;
    ctx.counters[0] = st.packets;
    ctx.counters[1] = st.bytes;
  },
  tick(ctx) {
    S(ctx).writer?.flush();
  },
  finish(ctx) {
    const st = S(ctx);
    const s = ctx.capture?.stats();
    if (st.writer !== null) {
      if (s !== undefined) st.writer.writeStatistics({ received: s.kernelPackets, dropped: s.drops, delivered: st.packets });
      st.writer.close();
    }
    return { index: ctx.index, path: st.path, packets: st.packets, bytes: st.bytes, drops: s?.drops ?? 0 };
  },
});
