/**
 * generate(): run a job on one or more worker threads, each with its own
 * socket and TX ring on the same device, and report live progress and a
 * summary. The main thread stays free (status line, Ctrl-C).
 *
 *   const g = generate({ iface: 'eth0', dst: '10.0.0.2', rate: '100kpps', seconds: 10 });
 *   setInterval(() => console.error(g.progress()), 1000);
 *   const summary = await g.done;
 */
import { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { NetringError } from '../errors.js';
import { prepareJob, type GenerateOptions, type Job } from './job.js';
import type { SenderResult, StopReason } from './sender.js';

/** Counters while a generation runs (sums over workers). */
export interface GenProgress {
  /** Frames handed to the rings. */
  queued: number;
  /** Bytes of those frames. */
  bytes: number;
  /** Frames the kernel transmitted. */
  sent: number;
  /** Frames the kernel refused. */
  failed: number;
  /** Longest worker run time so far, ns. */
  elapsedNs: number;
}

/** Final report of a generation. */
export interface GenSummary extends GenProgress {
  iface: string;
  /** Per-worker results. */
  workers: SenderResult[];
  stoppedBy: StopReason;
  /** Sending window (first frame to last kick, longest worker), ns. */
  sendNs: number;
  /** sent / wall time of the run (elapsedNs): what the run achieved, including any wait before the first frame or between frames. */
  pps: number;
  /** bits of the frames sent / wall time of the run. */
  bps: number;
  /** Distinct flows (0 for replay). */
  flows: number;
  /** Growth of the device's tx_dropped counter during the run (when readable). */
  deviceDropped?: number;
}

function txDropped(iface: string): number | undefined {
  try {
    return Number(readFileSync(`/sys/class/net/${iface}/statistics/tx_dropped`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** A running generation. Create with {@link generate}. */
export class Generation {
  readonly job: Job;
  /** Resolves with the summary when every worker finished; rejects on the first worker error. */
  readonly done: Promise<GenSummary>;
  private readonly stopFlag: Int32Array;
  private readonly prog: Float64Array;
  private readonly workers: Worker[] = [];

  /** @internal use generate() */
  constructor(job: Job) {
    this.job = job;
    const stop = new SharedArrayBuffer(8); // [stop flag, workers ready]
    const progress = new SharedArrayBuffer(8 * 5 * job.workers);
    this.stopFlag = new Int32Array(stop, 0, 1);
    this.prog = new Float64Array(progress);
    const drop0 = txDropped(job.opts.iface);
    const results: Promise<SenderResult>[] = [];
    for (let w = 0; w < job.workers; w++) {
      const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { job, w, stop, progress } });
      this.workers.push(worker);
      results.push(new Promise<SenderResult>((resolve, reject) => {
        let settled = false;
        worker.once('message', (m: { ok: boolean; res?: SenderResult; message?: string; code?: string }) => {
          settled = true;
          if (m.ok) resolve(m.res!);
          else reject(new NetringError(m.message ?? 'worker failed', m.code ?? 'EUNKNOWN'));
        });
        worker.once('error', (e) => { settled = true; reject(e); });
        worker.once('exit', (code) => { if (!settled) reject(new NetringError(`sender worker ${w} exited with code ${code}`, 'EWORKER')); });
      }));
    }
    this.done = Promise.all(results).then((rs) => this.summarize(rs, drop0), (e: unknown) => {
      this.stop();
      throw e;
    });
  }

  /** Live counters (summed over workers). */
  progress(): GenProgress {
    const p = this.prog;
    const r: GenProgress = { queued: 0, bytes: 0, sent: 0, failed: 0, elapsedNs: 0 };
    for (let w = 0; w < this.job.workers; w++) {
      const b = w * 5;
      r.queued += p[b];
      r.bytes += p[b + 1];
      r.sent += p[b + 2];
      r.failed += p[b + 3];
      if (p[b + 4] > r.elapsedNs) r.elapsedNs = p[b + 4];
    }
    return r;
  }

  /** Live counters of each worker (index = worker). */
  workerProgress(): GenProgress[] {
    const p = this.prog;
    return Array.from({ length: this.job.workers }, (_, w) => {
      const b = w * 5;
      return { queued: p[b], bytes: p[b + 1], sent: p[b + 2], failed: p[b + 3], elapsedNs: p[b + 4] };
    });
  }

  /** Ask every worker to stop (they drain what is in flight, then report). Idempotent. */
  stop(): void {
    Atomics.store(this.stopFlag, 0, 1);
    Atomics.notify(this.stopFlag, 0);
  }

  private summarize(rs: SenderResult[], drop0: number | undefined): GenSummary {
    const s: GenSummary = {
      iface: this.job.opts.iface, workers: rs, queued: 0, bytes: 0, sent: 0, failed: 0, elapsedNs: 0, sendNs: 0, pps: 0, bps: 0,
      stoppedBy: rs.some((r) => r.stoppedBy === 'stop') ? 'stop' : rs[0]?.stoppedBy ?? 'count', flows: this.job.flowCount,
    };
    let sentBytes = 0;
    for (const r of rs) {
      s.queued += r.queued;
      s.bytes += r.bytes;
      s.sent += r.sent;
      s.failed += r.failed;
      s.elapsedNs = Math.max(s.elapsedNs, r.elapsedNs);
      s.sendNs = Math.max(s.sendNs, r.sendNs);
      sentBytes += r.queued > 0 ? (r.bytes * r.sent) / r.queued : 0;
    }
    // over the wall time of the run: 1 packet in a 3 s run is 0.3 pps, not 1 / (time spent sending it)
    if (s.elapsedNs > 0) {
      s.pps = (s.sent * 1e9) / s.elapsedNs;
      s.bps = (sentBytes * 8e9) / s.elapsedNs;
    }
    const drop1 = txDropped(this.job.opts.iface);
    if (drop0 !== undefined && drop1 !== undefined) s.deviceDropped = drop1 - drop0;
    return s;
  }
}

/**
 * Start sending. Validates the options first and throws NetringError for bad
 * input (unknown interface, sizes below the headers, rate syntax, ranges,
 * capture files of another link type) before any thread starts.
 */
export function generate(opts: GenerateOptions): Generation {
  return new Generation(prepareJob(opts));
}
