/**
 * The receive plumbing every live capture backend shares: the TPACKET_V3
 * Capture (ring/capture.ts) and the AF_XDP XskCapture (xsk/capture.ts) both
 * extend Receiver and keep only what differs (how a batch is taken, what a
 * poll error means, what closing releases).
 *
 *   for await (const batch of capture) { ... }     async iterator
 *   capture.start((batch) => { ... })              callback, time-sliced
 *
 * Readiness comes from one libuv watcher on the socket's fd, started only
 * while a receive form waits.
 */
import { native, type Watcher } from '../native.js';
import { POLLIN } from '../constants.js';
import { NetringError } from '../errors.js';
import type { BatchLike } from './batch-like.js';

/** Largest snaplen a capture accepts (whole frames up to 256 KiB). */
export const SNAPLEN_MAX = 262144;
/** Time-slice for the callback form: batches per event-loop turn before yielding. */
const BATCHES_PER_TURN = 16;

/** Check the options every capture takes: `iface` present, `snaplen` in range. Returns the snaplen. */
export function checkCaptureOptions(opts: { iface?: unknown; snaplen?: number } | null | undefined): number {
  if (!opts || typeof opts.iface !== 'string' || opts.iface.length === 0)
    throw new NetringError('openCapture: `iface` (an interface name) is required', 'EINVAL');
  const snaplen = opts.snaplen ?? SNAPLEN_MAX;
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > SNAPLEN_MAX)
    throw new NetringError(`snaplen must be an integer in 1..${SNAPLEN_MAX} (got ${String(snaplen)})`, 'EINVAL');
  return snaplen;
}

/** Base of the live captures: async iterator, callback form, readiness watcher, open/closed state. */
export abstract class Receiver<B extends BatchLike> implements AsyncIterable<B> {
  private watcher: Watcher | null = null;
  /** The pending wait() of the async iterator, if any. */
  protected waiter: ((ok: boolean) => void) | null = null;
  /** The callback of start(), if any. */
  protected handler: ((batch: B) => void) | null = null;
  /** Set once by close(). */
  protected closed = false;

  /** The fd the watcher polls. */
  protected abstract get pollFd(): number;
  /** The next ready batch (releasing the previous one), or null. Never blocks. */
  protected abstract acquireNext(): B | null;
  /** True when a batch is ready now. */
  protected abstract hasReady(): boolean;
  /** Release the batch the iterator handed out last (the loop was left). */
  protected abstract releaseCurrent(): void;
  /** Names the capture in the "is closed" error. */
  protected abstract get label(): string;

  /** Called before waiting and when the callback form found nothing ready (AF_XDP kicks the kernel here). */
  protected idle(): void { /* nothing by default */ }
  /** The watcher saw POLLERR (libuv stopped it). Default: treat it as readiness. */
  protected onPollError(): void { this.onReadable(0); }
  /** Whether waiting can still bring a batch (false once the interface is gone). */
  protected mayWait(): boolean { return true; }
  /** What the iterator throws when a wait ends without a batch on an open capture (null: end quietly). */
  protected endError(): Error | null { return null; }

  /** Wait (without blocking the event loop) until a batch is ready or the capture closes. */
  protected wait(): Promise<boolean> {
    if (this.hasReady()) return Promise.resolve(true);
    if (!this.mayWait()) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.watch(true);
    });
  }

  /** Start or stop the readiness watcher. */
  protected watch(on: boolean): void {
    if (this.closed) return;
    if (this.watcher === null) this.watcher = native.watch(this.pollFd, (rev) => this.onReadable(rev));
    if (on) {
      this.idle();
      native.watcherStart(this.watcher, POLLIN);
    } else native.watcherStop(this.watcher);
  }

  /** Resolve a pending wait() (the iterator's) with `ok`. */
  protected resolveWaiter(ok: boolean): void {
    const w = this.waiter;
    this.waiter = null;
    if (w !== null) w(ok);
  }

  /** Deliver up to 16 ready batches to the start() callback, releasing each when it returns. */
  protected deliver(): void {
    for (let n = 0; n < BATCHES_PER_TURN && this.handler !== null && !this.closed; n++) {
      const b = this.acquireNext();
      if (b === null) { this.idle(); break; }
      this.handler(b);
      if (this.closed || this.handler === null) break;
      b.release();
    }
  }

  private onReadable(rev: number): void {
    if (this.closed) return;
    if (rev < 0) { this.onPollError(); return; }
    if (this.waiter !== null) {
      if (!this.hasReady()) return; // spurious: keep waiting
      if (this.handler === null) this.watch(false);
      this.resolveWaiter(true);
      return;
    }
    if (this.handler !== null) this.deliver();
  }

  /** Async iteration: the previous batch is released when the loop asks for the next. Breaking out releases the batch but leaves the capture open. */
  async *[Symbol.asyncIterator](): AsyncGenerator<B, void, undefined> {
    try {
      while (!this.closed) {
        const b = this.acquireNext();
        if (b !== null) {
          yield b;
          continue;
        }
        if (!(await this.wait())) {
          const e = this.closed ? null : this.endError();
          if (e !== null) throw e;
          return;
        }
      }
    } finally {
      if (!this.closed) this.releaseCurrent();
    }
  }

  /**
   * Callback form: fn runs for each batch, at most 16 per event-loop turn so the
   * loop is never starved. The batch is released when fn returns (copy what you
   * keep). Call stop() or close() to end.
   */
  start(fn: (batch: B) => void): this {
    this.ensureOpen();
    if (this.waiter !== null) throw new NetringError('capture is being iterated; use one receive form at a time', 'EBUSY');
    this.handler = fn;
    this.watch(true);
    return this;
  }

  /** Stop the callback form (the capture stays open; the kernel keeps filling the ring). */
  stop(): this {
    this.handler = null;
    if (!this.closed) this.watch(false);
    return this;
  }

  /** True until close(). */
  get isOpen(): boolean { return !this.closed; }

  /** Mark closed, end the callback form and close the watcher (first step of every close()). */
  protected beginClose(): void {
    this.closed = true;
    this.handler = null;
    if (this.watcher !== null) { native.watcherClose(this.watcher); this.watcher = null; }
  }

  /** Throw ECLOSED after close(). */
  protected ensureOpen(): void {
    if (this.closed) throw new NetringError(`capture on ${this.label} is closed`, 'ECLOSED');
  }
}
