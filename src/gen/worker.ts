/**
 * Worker thread body of generate(): opens its own TX ring (AF_PACKET, or AF_XDP with `xdp`), builds its share
 * of the job's packets and runs the send loop. Talks to the main thread
 * through shared memory (stop flag, live counters) and one final message.
 * @internal
 */
import { parentPort, workerData } from 'node:worker_threads';
import { makeSource, type Job } from './job.js';
import { openTxRing, type TxSink } from '../tx/index.js';
import { openXskTxRing } from '../xsk/tx.js';
import { runSender } from './sender.js';

interface WorkerInput {
  job: Job;
  w: number;
  stop: SharedArrayBuffer;
  progress: SharedArrayBuffer;
}

const { job, w, stop, progress } = workerData as WorkerInput;
try {
  const o = job.opts;
  const source = makeSource(job, w);
  const ring: TxSink = o.xdp !== undefined
    ? openXskTxRing({ iface: o.iface, queue: (o.xdp.queue ?? 0) + w, frames: o.frameCount, copyMode: o.xdp.copyMode })
    : openTxRing({ iface: o.iface, maxFrameLen: Math.max(60, source.maxLength), frameCount: o.frameCount, qdiscBypass: o.qdiscBypass, linear: o.linear });
  const rate = job.rate === null ? null : { value: job.rate.value / job.workers, unit: job.rate.unit };
  const ctl = new Int32Array(stop);
  try {
    // Start together: every worker has its ring open before any sends (ctl[1] counts the ready ones).
    Atomics.add(ctl, 1, 1);
    Atomics.notify(ctl, 1);
    for (let r = Atomics.load(ctl, 1); r < job.workers && Atomics.load(ctl, 0) === 0; r = Atomics.load(ctl, 1)) Atomics.wait(ctl, 1, r, 100);
    const res = runSender({
      ring, source, rate, burst: o.burst === undefined ? undefined : o.burst / job.workers, count: job.counts[w], seconds: o.seconds,
      batch: o.batch, stop: ctl, progress: new Float64Array(progress, w * 5 * 8, 5),
    });
    parentPort!.postMessage({ ok: true, res });
  } finally {
    ring.close();
    (source as { close?: () => void }).close?.();
  }
} catch (e) {
  const err = e as { message?: string; code?: string };
  parentPort!.postMessage({ ok: false, message: err.message ?? String(e), code: err.code ?? 'EUNKNOWN' });
}
