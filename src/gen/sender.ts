/**
 * The send loop: pulls frames from a PacketSource into a TxRing, paced by a
 * token bucket (packets/s or bits/s), by the source's own schedule (replay),
 * or as fast as the kernel takes them; stops on a count, a duration, the end
 * of the source, or a stop flag another thread sets.
 *
 * It is synchronous and blocks its thread (poll(2) when the ring is full,
 * Atomics.wait while the bucket refills): run it in a worker thread (see
 * generate.ts), or on the main thread for short runs.
 *
 * Per batch: one clock read, the frames the bucket allows (at most `batch`),
 * one kick. Per packet: the source's write() and a status store.
 */
import { NetringError } from '../errors.js';
import { monotonicNs } from './clock.js';
import type { Rate } from './rate.js';
import { TokenBucket } from './rate.js';
import type { PacketSource, TxSink } from '../tx/index.js';

/** Why a run ended. */
export type StopReason = 'count' | 'duration' | 'source' | 'stop';

/** Options of {@link runSender}. */
export interface SenderOptions {
  /** The TX ring: AF_PACKET (TxRing) or AF_XDP (XskTxRing). */
  ring: TxSink;
  source: PacketSource;
  /** Rate limit (null/undefined: as fast as possible, or the source's schedule). */
  rate?: Rate | null;
  /** Token bucket size in packets (pps) or bits (bps). Default: 20 ms of traffic, at least 2 packets (a stall shorter than that is caught up). */
  burst?: number;
  /** Stop after this many packets. */
  count?: number;
  /** Stop after this many seconds. */
  seconds?: number;
  /** Most frames per kick (default 256). */
  batch?: number;
  /** Stop when element 0 becomes non-zero (Atomics; also woken by Atomics.notify). */
  stop?: Int32Array;
  /** Live counters for other threads: [queued, bytes, sent, failed, elapsedNs] (written every batch). */
  progress?: Float64Array;
  /** Wait this long (ms) at the end for in-flight frames to complete (default 2000). */
  drainMs?: number;
}

/** Outcome of {@link runSender}. */
export interface SenderResult {
  /** Frames handed to the ring. */
  queued: number;
  /** Bytes of those frames. */
  bytes: number;
  /** Frames the kernel transmitted. */
  sent: number;
  /** Frames the kernel refused. */
  failed: number;
  /** Frames still in flight after the drain (0 normally). */
  inFlight: number;
  /** Time from the first frame to the end of the drain, ns. */
  elapsedNs: number;
  /** Time from the first frame to the last kick, ns (the sending window). */
  sendNs: number;
  stoppedBy: StopReason;
}

const SPIN_NS = 50_000;

/** Run the send loop to completion (see the module doc). */
export function runSender(o: SenderOptions): SenderResult {
  const ring = o.ring;
  const src = o.source;
  if (src.maxLength > ring.capacity) throw new NetringError(`frames of ${src.maxLength} bytes do not fit the ring slots (${ring.capacity})`, 'EINVAL');
  const batch = o.batch ?? 256;
  if (!Number.isInteger(batch) || batch < 1) throw new NetringError(`batch must be a positive integer (got ${String(batch)})`, 'EINVAL');
  const count = o.count ?? Infinity;
  if (count !== Infinity && (!Number.isInteger(count) || count < 0)) throw new NetringError(`count must be a non-negative integer (got ${String(count)})`, 'EINVAL');
  const durNs = o.seconds === undefined ? Infinity : o.seconds * 1e9;
  if (!(durNs > 0)) throw new NetringError(`seconds must be above zero (got ${String(o.seconds)})`, 'EINVAL');
  const stop = o.stop ?? new Int32Array(new SharedArrayBuffer(4));
  const prog = o.progress ?? null;
  const u8 = ring.u8;
  const tags = ring.tags;
  tags.fill(-1);
  const scheduled = typeof src.due === 'function';
  const rate = o.rate ?? null;
  const bps = rate !== null && rate.unit === 'bps';
  const t0 = monotonicNs();
  const bucket = rate === null ? null : new TokenBucket(rate.value, o.burst, 0, bps ? src.maxLength * 8 : 1);
  const need = bps ? 1e-9 : 1;
  const sent0 = ring.totalSent;
  const failed0 = ring.totalFailed;

  let queued = 0;
  let bytes = 0;
  let reason: StopReason = 'count';
  let lastKick = 0;
  for (;;) {
    if (Atomics.load(stop, 0) !== 0) { reason = 'stop'; break; }
    const t = monotonicNs() - t0;
    // At the deadline a paced sender still sends what the bucket earned up to it.
    const over = t >= durNs;
    if (over && (bucket === null || scheduled)) { reason = 'duration'; break; }
    let budget = count - queued;
    if (budget <= 0) { reason = 'count'; break; }
    if (budget > batch) budget = batch;
    let wakeAt = -1;
    if (bucket !== null) {
      // up to, not including, the deadline: the bucket starts with one packet's tokens (the one sent at t=0),
      // so counting the instant itself would send rate x seconds + 1
      const level = bucket.refill(over ? durNs - 1 : t);
      if (level < need) {
        if (over) { reason = 'duration'; break; }
        wakeAt = t + bucket.nsUntil(bucket.wakeLevel);
        budget = 0;
      } else if (!bps && level < budget) budget = Math.floor(level);
    }
    let n = 0;
    let ended = false;
    let full = false;
    if (!scheduled && !bps) {
      // fast path: the ring pulls up to `budget` frames from the source in one call
      if (budget > 0) {
        n = ring.fill(src, budget);
        bytes += ring.lastFillBytes;
        ended = ring.sourceEnded;
        full = n < budget && !ended;
      }
    } else {
      while (n < budget) {
        if (scheduled) {
          const d = src.due!();
          if (d < 0) { ended = true; break; }
          if (d > t + SPIN_NS) { wakeAt = d; break; }
        }
        const off = ring.next();
        if (off < 0) { full = true; break; }
        const len = src.write(u8, off, ring.slot, tags);
        if (len === 0) { ended = true; break; }
        ring.commit(len);
        bytes += len;
        n++;
        if (bps) {
          bucket!.tokens -= len * 8;
          if (bucket!.tokens < need) break;
        }
      }
    }
    if (n > 0) {
      queued += n;
      if (!bps && bucket !== null) bucket.tokens -= n;
    }
    if (ring.pending > 0) { ring.flush(); lastKick = monotonicNs() - t0; }
    if (prog !== null) publish(prog, ring, queued, bytes, t, sent0, failed0);
    if (ended) { reason = 'source'; break; }
    if (n > 0 && !full) continue;
    if (full) { ring.wait(5); continue; }
    if (wakeAt >= 0) sleepUntil(stop, t0, wakeAt, durNs);
  }
  ring.drain(o.drainMs ?? 2000);
  const st = ring.stats();
  const elapsedNs = monotonicNs() - t0;
  const res: SenderResult = {
    queued, bytes, sent: st.sent - sent0, failed: st.failed - failed0, inFlight: st.inFlight,
    elapsedNs, sendNs: lastKick, stoppedBy: reason,
  };
  if (prog !== null) publish(prog, ring, queued, bytes, elapsedNs, sent0, failed0);
  return res;
}

function publish(p: Float64Array, ring: TxSink, queued: number, bytes: number, t: number, sent0: number, failed0: number): void {
  p[0] = queued;
  p[1] = bytes;
  p[2] = ring.totalSent - sent0;
  p[3] = ring.totalFailed - failed0;
  p[4] = t;
}

/** Sleep until monotonic time t0 + at (ns), waking early on the stop flag. Spins the last stretch. */
function sleepUntil(stop: Int32Array, t0: number, at: number, durNs: number): void {
  const target = Math.min(at, durNs);
  for (;;) {
    const left = target - (monotonicNs() - t0);
    if (left <= 0 || Atomics.load(stop, 0) !== 0) return;
    if (left > SPIN_NS) Atomics.wait(stop, 0, 0, (left - SPIN_NS / 2) / 1e6);
  }
}
