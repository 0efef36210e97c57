/**
 * TxRing: an AF_PACKET PACKET_TX_RING (TPACKET_V2 slots) mapped into JS.
 *
 *   const off = ring.next();          // data offset of a free slot in ring.u8, -1 when full
 *   ring.u8.set(frame, off);          // or rewrite only the fields that vary
 *   ring.commit(frame.length);        // slot -> TP_STATUS_SEND_REQUEST
 *   ring.flush();                     // ONE send(fd, NULL, 0) hands every committed slot over
 *
 * The kernel never writes frame data, so a slot keeps its bytes after it was
 * sent: `ring.tags[ring.slot]` is a number the caller may use to remember what
 * a slot holds (a template id) and skip the copy next time round.
 *
 * Completion tracking: the kernel marks a slot SENDING while its skb lives and
 * AVAILABLE when it is released; `reap()` walks completed slots in order and
 * counts them as `sent`. A frame the kernel refuses (tp_len above the device
 * MTU, ...) is marked TP_STATUS_WRONG_FORMAT and the kernel stops at it; the
 * ring counts it in `failed`, reports it to `onFailure`, moves the frames
 * queued behind it down one slot and kicks again, so one bad frame never
 * blocks the ring. Invariant: queued = sent + failed + inFlight.
 */
import { native } from '../native.js';
import {
  MSG_DONTWAIT, PACKET_TX_RING, PACKET_VERSION, POLLOUT, SOL_PACKET, TP_STATUS_SEND_REQUEST, TP_STATUS_WRONG_FORMAT,
  TPACKET_V2,
} from '../constants.js';
import { NetringError, explain, sys, type ErrorContext } from '../errors.js';
import { resolveTxGeometry, slotOffsets, tpacketReq, type TxGeometry } from './geometry.js';
import { TX_BUSY_MASK, TX_DATA, TX_LEN } from './layout.js';
import { openTxFd, type TxSocketOptions } from './socket.js';

/** Options of {@link openTxRing}. */
export interface TxRingOptions extends TxSocketOptions {
  /** Largest frame that will be sent (default 1514): picks the slot size. */
  maxFrameLen?: number;
  /** Slot size in bytes, header included (default: from maxFrameLen). */
  frameSize?: number;
  /** Number of slots (default: about 1 MiB of ring). */
  frameCount?: number;
  /** Pre-fault the ring pages at mmap time (default true). */
  populate?: boolean;
}

/** A frame the kernel refused. */
export interface TxFailure {
  /** Position of the frame in commit order (0 = first frame committed on this ring). */
  seq: number;
  /** tp_len of the frame. */
  length: number;
  /** errno name the kernel gave (EMSGSIZE: larger than the MTU; EINVAL: bad header). */
  code: string;
}

/** Counters of a TX ring. */
export interface TxRingStats {
  /** Frames committed. */
  queued: number;
  /** Frames the kernel transmitted and released. */
  sent: number;
  /** Frames the kernel refused (TP_STATUS_WRONG_FORMAT). */
  failed: number;
  /** Frames committed but not completed yet. */
  inFlight: number;
  /** send() calls that handed frames over. */
  kicks: number;
  /** Kicks that stopped early for lack of socket buffer or device queue (EAGAIN/ENOBUFS). */
  pressure: number;
}

/** A TX ring on one interface. Create with {@link openTxRing}. */
export class TxRing {
  readonly iface: string;
  readonly ifindex: number;
  readonly geometry: TxGeometry;
  /** Largest frame a slot holds (frameSize - 32). */
  readonly capacity: number;
  /** The whole mapping as bytes (no copy). */
  readonly u8: Uint8Array;
  /** Data offset in `u8` of every slot. */
  readonly offsets: Int32Array;
  /** Caller-owned tag per slot (initially -1); kept with the bytes when the ring moves frames. */
  readonly tags: Int32Array;
  /** Slot index handed out by the last next(). */
  slot = -1;
  /** Called for each frame the kernel refuses. */
  onFailure: ((f: TxFailure) => void) | null = null;
  /** File descriptor, -1 after close. */
  fd: number;
  /** The mapping (kept so it outlives every view). */
  readonly ring: ArrayBuffer;

  private readonly i32: Int32Array;
  private readonly hdr: Int32Array; // slot -> header offset / 4
  private readonly n: number;
  private head = 0;
  private tail = 0;
  private inFlight = 0;
  private unkicked = 0;
  private queued = 0;
  private sent = 0;
  private failed = 0;
  private kicks = 0;
  private pressure = 0;
  private readonly ctx: ErrorContext;

  /** @internal use openTxRing() */
  constructor(opts: TxRingOptions) {
    const geometry = resolveTxGeometry(opts);
    this.geometry = geometry;
    this.capacity = geometry.frameSize - TX_DATA;
    const { fd, ifindex, ctx } = openTxFd(opts, 'open TX ring', (fd, c) => {
      sys(c, () => native.setsockopt(fd, SOL_PACKET, PACKET_VERSION, new Int32Array([TPACKET_V2])));
      sys({ ...c, op: `${c.op}: set up the TX ring (${geometry.frameCount} slots of ${geometry.frameSize} bytes)` },
        () => native.setsockopt(fd, SOL_PACKET, PACKET_TX_RING, tpacketReq(geometry)));
    });
    this.iface = opts.iface;
    this.ifindex = ifindex;
    this.fd = fd;
    this.ctx = ctx;
    try {
      this.ring = sys(ctx, () => native.mmap(fd, geometry.blockSize * geometry.blockCount, opts.populate ?? true));
    } catch (e) {
      native.close(fd);
      throw e;
    }
    this.u8 = new Uint8Array(this.ring);
    this.i32 = new Int32Array(this.ring);
    const so = slotOffsets(geometry);
    this.n = geometry.frameCount;
    this.hdr = new Int32Array(this.n);
    this.offsets = new Int32Array(this.n);
    for (let i = 0; i < this.n; i++) {
      this.hdr[i] = so[i] >>> 2;
      this.offsets[i] = so[i] + TX_DATA;
    }
    this.tags = new Int32Array(this.n).fill(-1);
  }

  /** Number of slots. */
  get frameCount(): number { return this.n; }

  /** Slots free for next() without waiting for completions. */
  get free(): number { return this.n - this.inFlight; }

  /** Frames completed so far (without reaping; see stats()). */
  get totalSent(): number { return this.sent; }

  /** Frames refused so far. */
  get totalFailed(): number { return this.failed; }

  /** Committed frames the kernel has not taken yet (not kicked, or kicked under pressure). */
  get pending(): number { return this.unkicked; }

  /**
   * Take the next free slot: returns the offset in `u8` where its frame data
   * starts (and sets `slot`), or -1 when every slot is in flight. No syscall.
   */
  next(): number {
    if (this.inFlight === this.n) {
      this.reap();
      if (this.inFlight === this.n) return -1;
    }
    const s = this.head;
    this.slot = s;
    return this.offsets[s];
  }

  /** Hand the slot from next() to the kernel's queue with `length` frame bytes (sent at the next flush). */
  commit(length: number): void {
    if (!(length >= 14 && length <= this.capacity)) throw new RangeError(`frame length ${length} outside 14..${this.capacity} (slot size ${this.geometry.frameSize})`);
    const s = this.head;
    const h = this.hdr[s];
    this.i32[h + (TX_LEN >>> 2)] = length;
    // Release ordering: the kernel must see the bytes before the status.
    Atomics.store(this.i32, h, TP_STATUS_SEND_REQUEST);
    this.head = s + 1 === this.n ? 0 : s + 1;
    this.inFlight++;
    this.unkicked++;
    this.queued++;
  }

  /** Copy a whole frame into the next slot and commit it. False when the ring is full. */
  write(frame: Uint8Array): boolean {
    const off = this.next();
    if (off < 0) return false;
    if (frame.length > this.capacity) throw new RangeError(`frame length ${frame.length} exceeds the slot capacity ${this.capacity}`);
    this.u8.set(frame, off);
    this.commit(frame.length);
    return true;
  }

  /**
   * Kick: one send(fd, NULL, 0, MSG_DONTWAIT) hands every committed frame to
   * the kernel. Returns the number of committed frames still not taken (0 when
   * all went; more under socket-buffer or device-queue pressure: call again
   * later). Refused frames are counted, reported and skipped.
   */
  flush(): number {
    if (this.unkicked === 0) return 0;
    this.ensureOpen();
    for (let round = 0; round < this.n + 2; round++) {
      try {
        native.kick(this.fd, MSG_DONTWAIT); // < 0: EAGAIN/ENOBUFS, seen below as frames still waiting
      } catch (e) {
        if (!this.skipRefused((e as { code?: string }).code ?? 'EINVAL')) throw explain(e, this.ctx);
        if (this.unkicked === 0) return 0;
        continue;
      }
      this.kicks++;
      const last = this.head === 0 ? this.n - 1 : this.head - 1;
      if ((Atomics.load(this.i32, this.hdr[last]) & TX_BUSY_MASK) !== TP_STATUS_SEND_REQUEST) {
        this.unkicked = 0;
        return 0;
      }
      // Some frames were not taken: count how many are still waiting for the kernel.
      this.pressure++;
      this.unkicked = this.countWaiting();
      return this.unkicked;
    }
    return this.unkicked;
  }

  /** Walk completed slots in order; returns how many completed now. */
  reap(): number {
    let done = 0;
    const i32 = this.i32;
    while (this.inFlight > 0) {
      const st = Atomics.load(i32, this.hdr[this.tail]);
      if ((st & TX_BUSY_MASK) !== 0) break;
      this.tail = this.tail + 1 === this.n ? 0 : this.tail + 1;
      this.inFlight--;
      done++;
    }
    this.sent += done;
    return done;
  }

  /**
   * Block in poll(2) up to timeoutMs until the kernel can take more (a slot
   * completed or socket buffer freed), then reap. For worker threads and
   * short waits. Returns the number of free slots.
   */
  wait(timeoutMs: number): number {
    this.ensureOpen();
    if (this.unkicked > 0) this.flush();
    if (this.reap() === 0 && this.inFlight > 0) {
      native.poll(this.fd, POLLOUT, timeoutMs);
      if (this.unkicked > 0) this.flush();
      this.reap();
    }
    return this.n - this.inFlight;
  }

  /** Flush and wait until every committed frame completed or timeoutMs passed. True when drained. */
  drain(timeoutMs = 1000): boolean {
    const end = Date.now() + timeoutMs;
    this.flush();
    this.reap();
    while (this.inFlight > 0) {
      if (Date.now() >= end) return false;
      this.wait(Math.min(10, Math.max(1, end - Date.now())));
    }
    return true;
  }

  /** Counters (reaps first). */
  stats(): TxRingStats {
    if (this.fd >= 0) this.reap();
    return { queued: this.queued, sent: this.sent, failed: this.failed, inFlight: this.inFlight, kicks: this.kicks, pressure: this.pressure };
  }

  /** True until close(). */
  get isOpen(): boolean { return this.fd >= 0; }

  /**
   * Close the socket. Frames not yet handed over are dropped. Idempotent. The
   * mapping is unmapped when no view of it is reachable any more.
   */
  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    native.close(fd);
  }

  private ensureOpen(): void {
    if (this.fd < 0) throw new NetringError(`TX ring on ${this.iface} is closed`, 'ECLOSED');
  }

  /** Committed slots (from the tail) still in SEND_REQUEST. */
  private countWaiting(): number {
    let w = 0;
    for (let k = 0, s = this.tail; k < this.inFlight; k++, s = s + 1 === this.n ? 0 : s + 1) {
      if ((Atomics.load(this.i32, this.hdr[s]) & TX_BUSY_MASK) === TP_STATUS_SEND_REQUEST) w++;
    }
    return w;
  }

  /**
   * After a kick failed: find the slot the kernel marked WRONG_FORMAT, count
   * it, move the frames queued behind it down one slot so the kernel (whose
   * cursor stays on the refused slot) sends them next. False when no slot was
   * refused (the error is something else).
   */
  private skipRefused(code: string): boolean {
    this.reap();
    const i32 = this.i32;
    const n = this.n;
    let k = this.tail;
    let dist = 0;
    for (; dist < this.inFlight; dist++, k = k + 1 === n ? 0 : k + 1) {
      if ((Atomics.load(i32, this.hdr[k]) & TX_BUSY_MASK) === TP_STATUS_WRONG_FORMAT) break;
    }
    if (dist === this.inFlight) return false;
    const length = i32[this.hdr[k] + (TX_LEN >>> 2)];
    const seq = this.sent + this.failed + dist;
    // Shift k+1 .. head-1 down by one slot.
    let dst = k;
    let src = k + 1 === n ? 0 : k + 1;
    while (src !== this.head) {
      const len = i32[this.hdr[src] + (TX_LEN >>> 2)];
      this.u8.copyWithin(this.offsets[dst], this.offsets[src], this.offsets[src] + len);
      i32[this.hdr[dst] + (TX_LEN >>> 2)] = len;
      this.tags[dst] = this.tags[src];
      Atomics.store(i32, this.hdr[dst], TP_STATUS_SEND_REQUEST);
      dst = src;
      src = src + 1 === n ? 0 : src + 1;
    }
    Atomics.store(i32, this.hdr[dst], 0);
    this.head = dst;
    this.inFlight--;
    this.unkicked = Math.max(0, this.unkicked - 1);
    this.failed++;
    const cb = this.onFailure;
    if (cb !== null) cb({ seq, length, code });
    return true;
  }
}

/**
 * Open a TX ring on `opts.iface`. Throws NetringError with a helpful message
 * (EPERM: needs root/CAP_NET_RAW; ENODEV: no such interface; EGEOMETRY: which
 * ring constraint was broken).
 */
export function openTxRing(opts: TxRingOptions): TxRing {
  return new TxRing(opts);
}
