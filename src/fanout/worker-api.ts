/**
 * What a worker script looks like. A worker module default-exports (or
 * exports as named functions) a {@link WorkerModule}:
 *
 * ```js
 * // my-worker.js
 * import { defineWorker } from 'netring/fanout';
 * export default defineWorker({
 *   setup(ctx) { ctx.state = new Map(); },
 *   batch(batch, ctx) {                       // runs in the worker, once per block
 *     for (let p = batch.next(); p !== null; p = batch.next()) ctx.counters[0] += p.wireLen;
 *   },
 *   finish(ctx) { return { bytes: ctx.counters[0] }; },   // the worker's result, sent once
 * });
 * ```
 *
 * Results flow back through exactly two channels, never per packet:
 * `finish()`'s return value (combined by the group's `reduce`), and
 * `ctx.post(message)` for occasional messages (the group emits 'message').
 * `ctx.counters` are shared memory the main thread reads in `group.stats()`.
 */
import type { TransferListItem } from 'node:worker_threads';
import type { Batch } from '../ring/batch.js';
import type { BatchLike } from '../ring/batch-like.js';
import type { Capture } from '../ring/capture.js';
import type { XskCapture } from '../xsk/capture.js';

/** What a worker's functions receive. */
export interface WorkerContext<D = unknown> {
  /** This worker's index, 0..workers-1 (stable across restarts). */
  readonly index: number;
  /** Number of workers in the group. */
  readonly workers: number;
  /** Interface captured. */
  readonly iface: string;
  /** Fan-out group id (valid from the first batch on; -1 during setup). */
  readonly fanoutId: number;
  /** The group's `data` option (structured clone). */
  readonly data: D;
  /** 0 on first start, +1 per restart after a crash. */
  readonly generation: number;
  /** Free shared counters (8 doubles) the main thread sees in `stats().workers[i].user`. */
  readonly counters: Float64Array;
  /** This worker's AF_PACKET capture (valid from the first batch on; null during setup and in `backend: 'xdp'` groups). */
  readonly capture: Capture | null;
  /** This worker's AF_XDP capture in `backend: 'xdp'` groups (its RX queue is `xsk.queue`); null otherwise. */
  readonly xsk: XskCapture | null;
  /** True once the group is stopping (the worker is draining its ring). */
  readonly stopping: boolean;
  /** Send a message to the main thread (the group emits 'message'); for summaries, never per packet. */
  post(message: unknown, transfer?: readonly TransferListItem[]): void;
  /** Scratch space for user state. */
  [key: string]: unknown;
}

/**
 * A worker script's functions. Only `batch` is required; everything runs on
 * the worker thread. `B` is the batch type: a ring block (`Batch`) in
 * AF_PACKET groups, an `XskBatch` in `backend: 'xdp'` groups; a worker
 * written for both takes `Batch | XskBatch` (or any `BatchLike`).
 */
export interface WorkerModule<R = unknown, D = unknown, B extends BatchLike = Batch> {
  /** Before joining the group (load tables, open files). May be async. */
  setup?(ctx: WorkerContext<D>): void | Promise<void>;
  /** Once per batch (one ring block, or the AF_XDP descriptors that were ready); synchronous. The batch is released when it returns: copy what you keep. */
  batch(batch: B, ctx: WorkerContext<D>): void;
  /** When no block came within the poll timeout. */
  idle?(ctx: WorkerContext<D>): void;
  /** About every `statsMs` (default 250 ms) while running, busy or not. */
  tick?(ctx: WorkerContext<D>): void;
  /** After the ring was drained on stop; its value is the worker's result. May be async. */
  finish?(ctx: WorkerContext<D>): R | Promise<R>;
}

/** Identity helper that types a worker module. */
export function defineWorker<R = unknown, D = unknown, B extends BatchLike = Batch>(m: WorkerModule<R, D, B>): WorkerModule<R, D, B> {
  return m;
}
