/**
 * Built-in worker of `netring capture --workers N`: writes its share of the
 * traffic to its own pcap/pcapng file straight from its ring (one writev per
 * block on this worker's thread: a slow disk fills this worker's ring and
 * shows up as its kernel drops), or, in an AF_XDP group (`--xdp`), record by
 * record from the frames in UMEM through the capture writer, one flush per
 * batch; or only counts when it has no file,
 * honouring a group-wide packet budget (`-c`) kept in shared memory, and
 * records the kernel's counters in the file's final statistics block.
 */
import { defineWorker, type WorkerContext } from '../fanout/index.js';
import { CaptureFileError, chooseFormat, fileError, openCaptureWriter, RingFileWriter, type CaptureWriter } from '../pcap/index.js';
import { BLK_TS_LAST_NSEC, BLK_TS_LAST_SEC } from '../ring/layout.js';
import type { Batch } from '../ring/batch.js';
import { XskBatch } from '../xsk/batch.js';

/** ctx.data of the writer worker. */
export interface WriterWorkerData {
  /** Output path per worker (null entries or no array: count only). */
  paths?: Array<string | null>;
  format?: 'pcap' | 'pcapng';
  snaplen?: number;
  /** Group-wide packet budget: Int32Array(1) over this buffer counts packets taken so far. */
  budget?: SharedArrayBuffer;
  limit?: number;
  /** Int32Array(1) over this buffer: set to 1 by a worker whose file failed (the group stops). */
  failed?: SharedArrayBuffer;
  /**
   * Int32Array(workers): worker i stores its generation + 1 once its file
   * is open (or -1 when opening failed): the group waits for every worker's
   * first file before dropping privileges, and a merge follows each file.
   */
  opened?: SharedArrayBuffer;
  /**
   * Float64Array(workers): worker i's watermark in microseconds since the
   * epoch: every packet it writes from now on has a timestamp at or after
   * it (the last written block's last packet; after an empty poll, the
   * poll's start minus the kernel's block retire timeout and a margin). The streaming merge
   * writes records older than every worker's watermark.
   */
  watermark?: SharedArrayBuffer;
  /** Idle margin in ms below the empty poll's start (covers the block retire timeout; default 2 x timeout + 250; AF_XDP: 250). */
  idleMarginMs?: number;
}

/** What each writer worker returns. */
export interface WriterWorkerResult {
  index: number;
  path: string | null;
  packets: number;
  bytes: number;
  drops: number;
  /** Records in the worker's file. */
  written: number;
  /** The write error that closed the file, if any. */
  error?: string;
}

interface State {
  writer: RingFileWriter | null;
  /** AF_XDP groups: the record-by-record writer (frames in UMEM are no ring blocks). */
  records: CaptureWriter | null; path: string | null; budget: Int32Array | null; packets: number; bytes: number;
  error: string | null;
  opened: Int32Array | null;
  watermark: Float64Array | null;
  /** The ring as 32-bit words (block headers' last-packet timestamps). */
  ring32: Uint32Array | null;
  /** Clock (ms) when the last batch()/idle() returned: the poll that follows started after it. */
  mark: number;
}

/** Path of a restarted worker's file: a crash must not truncate what its first life wrote. */
export function generationPath(path: string, generation: number): string {
  if (generation === 0) return path;
  const m = /^(.*?)(\.[A-Za-z0-9]+)?$/.exec(path)!;
  return `${m[1]}.r${generation}${m[2] ?? ''}`;
}

const S = (ctx: WorkerContext<WriterWorkerData>): State => ctx.state as State;

function openWriter(ctx: WorkerContext<WriterWorkerData>, st: State): void {
  if (ctx.xsk !== null) { openRecordWriter(ctx, st); return; }
  const cap = ctx.capture;
  if (st.path === null || st.writer !== null || st.error !== null || cap === null) return;
  try {
    st.writer = new RingFileWriter(cap.ring, {
      path: st.path, blockSize: cap.geometry.blockSize, format: chooseFormat(st.path, ctx.data.format), linkType: 1,
      snaplen: ctx.data.snaplen ?? 262144, name: ctx.iface,
      statistics: () => { const s = cap.stats(); return { received: s.kernelPackets, dropped: s.drops, delivered: st.packets }; },
    });
    if (st.opened !== null) Atomics.store(st.opened, ctx.index, ctx.generation + 1);
  } catch (e) {
    if (st.opened !== null) Atomics.store(st.opened, ctx.index, -1);
    fail(ctx, st, e);
  }
}

/** AF_XDP: a pcap/pcapng writer fed record by record; the file ends with the socket's counters. */
function openRecordWriter(ctx: WorkerContext<WriterWorkerData>, st: State): void {
  const cap = ctx.xsk;
  if (st.path === null || st.records !== null || st.error !== null || cap === null) return;
  const path = st.path;
  try {
    let w: CaptureWriter;
    try {
      w = openCaptureWriter(path, { format: chooseFormat(path, ctx.data.format), linkType: 1, snaplen: ctx.data.snaplen ?? 262144, name: ctx.iface });
    } catch (e) { throw fileError(path, e); }
    w.setStatisticsSource(() => { const s = cap.stats(); return { received: s.kernelPackets, dropped: s.drops, delivered: st.packets }; });
    st.records = w;
    if (st.opened !== null) Atomics.store(st.opened, ctx.index, ctx.generation + 1);
  } catch (e) {
    if (st.opened !== null) Atomics.store(st.opened, ctx.index, -1);
    fail(ctx, st, e);
  }
}

/** AF_XDP batch: the first `allowed` frames, record by record, then one flush (the merge follows whole records). */
function writeRecords(ctx: WorkerContext<WriterWorkerData>, st: State, batch: XskBatch, allowed: number): number {
  let bytes = 0;
  const w = st.records;
  if (w === null || st.error !== null) {
    for (let i = 0; i < allowed; i++) bytes += batch.next()!.wireLen;
    return bytes;
  }
  const path = st.path!;
  try {
    try {
      for (let i = 0; i < allowed; i++) {
        const p = batch.next()!;
        w.writePacket(p);
        bytes += p.wireLen;
      }
      w.flush();
    } catch (e) { throw e instanceof CaptureFileError ? e : fileError(path, e); }
  } catch (e) {
    fail(ctx, st, e);
  }
  return bytes;
}

/** Raises this worker's watermark (never lowers it). */
function advance(st: State, ctx: WorkerContext<WriterWorkerData>, us: number): void {
  const wm = st.watermark;
  if (wm !== null && us > wm[ctx.index]) wm[ctx.index] = us;
}

/**
 * Watermark of an idle worker: a whole poll found no retired block, and the
 * kernel retires a block at most a retire timeout after its first packet, so
 * every packet older than the poll's start minus that timeout (and a margin)
 * was written. The poll started after the previous hook returned (`mark`):
 * that time is used, not the clock now, which a descheduled thread reads late.
 */
function idleWatermark(st: State, ctx: WorkerContext<WriterWorkerData>): void {
  const cap = ctx.capture;
  if (st.watermark === null || (cap === null && ctx.xsk === null) || st.mark === 0) return;
  // AF_XDP stamps a batch when it is taken (no block to retire): the margin only covers the two clocks
  const margin = ctx.data.idleMarginMs ?? (cap !== null ? 2 * cap.geometry.blockTimeoutMs + 250 : 250);
  advance(st, ctx, (st.mark - margin) * 1000);
}

function fail(ctx: WorkerContext<WriterWorkerData>, st: State, e: unknown): void {
  if (!(e instanceof CaptureFileError)) throw e;
  st.error = e.message;
  if (ctx.data.failed) Atomics.store(new Int32Array(ctx.data.failed), 0, 1);
}

export default defineWorker<WriterWorkerResult, WriterWorkerData, Batch | XskBatch>({
  setup(ctx) {
    const p = ctx.data.paths?.[ctx.index] ?? null;
    const path = p === null ? null : generationPath(p, ctx.generation);
    const st: State = {
      writer: null, records: null, path, budget: ctx.data.budget ? new Int32Array(ctx.data.budget) : null, packets: 0, bytes: 0, error: null,
      opened: ctx.data.opened ? new Int32Array(ctx.data.opened) : null,
      watermark: ctx.data.watermark ? new Float64Array(ctx.data.watermark) : null,
      ring32: null, mark: 0,
    };
    ctx.state = st;
  },
  idle(ctx) {
    const st = S(ctx);
    if (st.writer === null && st.records === null) openWriter(ctx, st); // the first file opens right after joining, not with the first packet
    idleWatermark(st, ctx);
    if (st.watermark !== null) st.mark = Date.now();
  },
  batch(batch, ctx) {
    const st = S(ctx);
    let allowed = batch.count;
    if (st.budget !== null) {
      const limit = ctx.data.limit ?? Infinity;
      const before = Atomics.add(st.budget, 0, batch.count);
      allowed = Math.max(0, Math.min(batch.count, limit - before));
    }
    if (batch instanceof XskBatch) {
      if (st.records === null) openWriter(ctx, st);
      const bytes = writeRecords(ctx, st, batch, allowed);
      // every batch taken later is stamped later than this one
      advance(st, ctx, batch.packet.sec * 1e6 + Math.floor(batch.packet.nsec / 1000));
      st.packets += allowed;
      st.bytes += bytes;
      if (st.watermark !== null) st.mark = Date.now();
      ctx.counters[0] = st.packets;
      ctx.counters[1] = st.bytes;
      return;
    }
    if (st.writer === null) openWriter(ctx, st);
    const w = st.writer;
    let bytes = 0;
    if (w !== null && st.error === null) {
      const before = w.wireBytes;
      try {
        w.writeBlock(batch, allowed);
      } catch (e) {
        fail(ctx, st, e);
      }
      bytes = w.wireBytes - before;
    } else {
      for (let i = 0; i < allowed; i++) bytes += batch.next()!.wireLen;
    }
    if (st.watermark !== null && ctx.capture !== null) {
      // the block is written: everything after it is at or after its last packet
      const r = st.ring32 ??= new Uint32Array(ctx.capture.ring, 0, ctx.capture.ring.byteLength >>> 2);
      const b = batch._block;
      advance(st, ctx, r[(b + BLK_TS_LAST_SEC) >>> 2] * 1e6 + Math.floor(r[(b + BLK_TS_LAST_NSEC) >>> 2] / 1000));
    }
    st.packets += allowed;
    st.bytes += bytes;
    if (st.watermark !== null) st.mark = Date.now();
    ctx.counters[0] = st.packets;
    ctx.counters[1] = st.bytes;
  },
  finish(ctx) {
    const st = S(ctx);
    const s = ctx.capture?.stats() ?? ctx.xsk?.stats();
    if (st.writer === null && st.records === null) openWriter(ctx, st); // a worker that saw nothing still leaves a valid empty file
    if (st.writer !== null && st.error === null) {
      try { st.writer.close(); } catch (e) { fail(ctx, st, e); }
    }
    if (st.records !== null && st.error === null) {
      try {
        try { st.records.close(); } catch (e) { throw e instanceof CaptureFileError ? e : fileError(st.path!, e); }
      } catch (e) { fail(ctx, st, e); }
    }
    return {
      index: ctx.index, path: st.path, packets: st.packets, bytes: st.bytes, drops: s?.drops ?? 0,
      written: st.writer?.written ?? st.records?.packets ?? 0, ...(st.error !== null ? { error: st.error } : {}),
    };
  },
});
