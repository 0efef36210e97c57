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
 *
 * Linear mode (default): each slot starts with a 10-byte virtio_net_hdr
 * (PACKET_VNET_HDR) whose hdr_len asks the kernel to copy the frame into the
 * skb's linear area instead of attaching ring pages as fragments. For frames
 * up to a few KiB that is cheaper end to end (no page reference counting, no
 * pull of the headers on the receiving side: about 30-80 ns per frame here).
 * The kernel skips its MTU check on that path, so the ring does it: a frame
 * longer than the device MTU (+ Ethernet header, + 4 when VLAN-tagged, as the
 * kernel allows) is refused at commit, counted in `failed` and reported, as
 * the kernel would. The MTU is read when the ring opens (`refreshMtu()`
 * re-reads it). `linear: false` gives the plain TPACKET_V2 path.
 */
import { native } from '../native.js';
import {
  MSG_DONTWAIT, PACKET_TX_RING, PACKET_VERSION, POLLOUT, SOL_PACKET, TP_STATUS_SEND_REQUEST, TP_STATUS_WRONG_FORMAT,
  TPACKET_V2,
} from '../constants.js';
import { NetringError, explain, sys, type ErrorContext } from '../errors.js';
import { resolveTxGeometry, slotOffsets, tpacketReq, type TxGeometry } from './geometry.js';
import { PACKET_VNET_HDR, TX_BUSY_MASK, TX_DATA, TX_LEN, VNET_HDR_LEN } from './layout.js';
import { readFileSync } from 'node:fs';
import { openTxFd, type TxSocketOptions } from './socket.js';
import type { PacketSource } from './source.js';

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
  /** Copy frames into linear skbs via a virtio_net_hdr per slot (default true; see the module doc). */
  linear?: boolean;
}

/** Frames up to this length go linear; longer ones keep only the headers linear. */
const LINEAR_MAX = 4000;
const LINEAR_HEADERS = 128;

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
  /** Largest frame a slot holds (frameSize - 32, minus 10 in linear mode). */
  readonly capacity: number;
  /** True when slots carry a virtio_net_hdr (linear skbs). */
  readonly linear: boolean;
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
  private readonly seqs: Float64Array; // slot -> commit index of the frame it holds
  private readonly pre: number; // bytes before the frame in a slot's data (virtio_net_hdr)
  private mtuLimit = Infinity; // linear mode: longest untagged frame the device takes
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
    let linear = opts.linear ?? true;
    const pre = linear ? VNET_HDR_LEN : 0;
    const geometry = resolveTxGeometry({ ...opts, headroom: pre });
    this.geometry = geometry;
    const { fd, ifindex, ctx } = openTxFd(opts, 'open TX ring', (fd, c) => {
      sys(c, () => native.setsockopt(fd, SOL_PACKET, PACKET_VERSION, new Int32Array([TPACKET_V2])));
      if (linear) {
        try {
          native.setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, new Int32Array([1]));
        } catch {
          linear = false; // kernels without virtio headers on TX rings: plain path
        }
      }
      sys({ ...c, op: `${c.op}: set up the TX ring (${geometry.frameCount} slots of ${geometry.frameSize} bytes)` },
        () => native.setsockopt(fd, SOL_PACKET, PACKET_TX_RING, tpacketReq(geometry)));
    });
    this.linear = linear;
    this.pre = linear ? VNET_HDR_LEN : 0;
    this.capacity = geometry.frameSize - TX_DATA - this.pre;
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
    this.seqs = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) {
      this.hdr[i] = so[i] >>> 2;
      this.offsets[i] = so[i] + TX_DATA + this.pre;
    }
    this.tags = new Int32Array(this.n).fill(-1);
    if (this.linear) this.refreshMtu();
  }

  /** Re-read the device MTU (linear mode checks frame lengths against it). Returns it. */
  refreshMtu(): number {
    let mtu = NaN;
    try {
      mtu = Number(readFileSync(`/sys/class/net/${this.iface}/mtu`, 'utf8'));
    } catch { /* not visible (another namespace's sysfs): leave the check to the device */ }
    this.mtuLimit = Number.isFinite(mtu) ? mtu + 14 : Infinity;
    return mtu;
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

  /**
   * Hand the slot from next() to the kernel's queue with `length` frame bytes
   * (sent at the next flush). In linear mode a frame above the MTU is refused
   * here (counted in `failed`, reported to onFailure; the slot stays free).
   */
  commit(length: number): void {
    if (!(length >= 14 && length <= this.capacity)) throw new RangeError(`frame length ${length} outside 14..${this.capacity} (slot size ${this.geometry.frameSize})`);
    const s = this.head;
    if (length > this.mtuLimit && !this.vlanAllowance(s, length)) {
      this.refuse(this.queued++, length, 'EMSGSIZE');
      return;
    }
    const h = this.hdr[s];
    if (this.pre !== 0) {
      // virtio_net_hdr.hdr_len (le16): how much of the frame the kernel copies into the skb
      const o = this.offsets[s] - VNET_HDR_LEN + 2;
      const hl = length <= LINEAR_MAX ? length : LINEAR_HEADERS;
      this.u8[o] = hl & 0xff;
      this.u8[o + 1] = hl >>> 8;
    }
    this.i32[h + (TX_LEN >>> 2)] = length + this.pre;
    this.seqs[s] = this.queued;
    // A plain store is enough: the kernel reads TX slots only inside the kick
    // (send(2) from this thread), and the syscall orders everything written before it.
    this.i32[h] = TP_STATUS_SEND_REQUEST;
    this.head = s + 1 === this.n ? 0 : s + 1;
    this.inFlight++;
    this.unkicked++;
    this.queued++;
  }

  /** A VLAN-tagged frame may be 4 bytes longer (as the kernel allows). */
  private vlanAllowance(s: number, length: number): boolean {
    const o = this.offsets[s];
    const et = (this.u8[o + 12] << 8) | this.u8[o + 13];
    return (et === 0x8100 || et === 0x88a8) && length <= this.mtuLimit + 4;
  }

  private refuse(seq: number, length: number, code: string): void {
    this.failed++;
    const cb = this.onFailure;
    if (cb !== null) cb({ seq, length, code });
  }

  /**
   * The sender's fast path: take up to `max` free slots, let `src` write a
   * frame into each and commit it (same checks as next() + commit()). Returns
   * the frames committed; stops early when the ring is full (`free` is 0) or
   * the source has no more packets (`sourceEnded` is set). `bytes` of the
   * frames committed are added to `lastFillBytes`.
   */
  fill(src: PacketSource, max: number): number {
    const n = this.n;
    const u8 = this.u8;
    const i32 = this.i32;
    const hdr = this.hdr;
    const offsets = this.offsets;
    const seqs = this.seqs;
    const tags = this.tags;
    const pre = this.pre;
    const cap = this.capacity;
    const mtu = this.mtuLimit;
    let head = this.head;
    let inFlight = this.inFlight;
    let queued = this.queued;
    let done = 0;
    let committed = 0;
    let bytes = 0;
    this.sourceEnded = false;
    while (done < max) {
      if (inFlight === n) {
        this.inFlight = inFlight;
        this.reap();
        inFlight = this.inFlight;
        if (inFlight === n) break;
      }
      const off = offsets[head];
      const len = src.write(u8, off, head, tags);
      if (len === 0) { this.sourceEnded = true; break; }
      if (!(len >= 14 && len <= cap)) {
        this.head = head; this.inFlight = inFlight; this.queued = queued;
        throw new RangeError(`frame length ${len} outside 14..${cap} (slot size ${this.geometry.frameSize})`);
      }
      if (len > mtu && !this.vlanAllowance(head, len)) {
        this.queued = queued;
        this.refuse(queued, len, 'EMSGSIZE');
        queued++;
        done++;
        continue;
      }
      const h = hdr[head];
      if (pre !== 0) {
        const hl = len <= LINEAR_MAX ? len : LINEAR_HEADERS;
        u8[off - 8] = hl & 0xff;
        u8[off - 7] = hl >>> 8;
      }
      i32[h + 1] = len + pre; // tp_len
      seqs[head] = queued;
      i32[h] = TP_STATUS_SEND_REQUEST;
      head = head + 1 === n ? 0 : head + 1;
      inFlight++;
      committed++;
      queued++;
      done++;
      bytes += len;
    }
    this.unkicked += committed;
    this.head = head;
    this.inFlight = inFlight;
    this.queued = queued;
    this.lastFillBytes = bytes;
    return done;
  }

  /** Set by fill() when the source returned 0. */
  sourceEnded = false;
  /** Bytes of the frames the last fill() committed. */
  lastFillBytes = 0;

  /** Copy a whole frame into the next slot and commit it. False when the ring is full. */
  write(frame: Uint8Array): boolean {
    if (frame.length > this.capacity) throw new RangeError(`frame length ${frame.length} exceeds the slot capacity ${this.capacity}`);
    const off = this.next();
    if (off < 0) return false;
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
      // written by the skb destructor (any CPU); a fresh load every iteration
      const st = i32[this.hdr[this.tail]];
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
   * ring's pages are swapped for zero pages at once (so the socket is released
   * with its fd instead of when the mapping is garbage collected); stray views
   * of `u8` then read zeros and the memory goes when they are collected.
   */
  close(): void {
    if (this.fd < 0) return;
    try { native.releaseMapping(this.ring); } catch { /* the finalizer unmaps it later */ }
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
    const length = i32[this.hdr[k] + (TX_LEN >>> 2)] - this.pre;
    const seq = this.seqs[k];
    // Shift k+1 .. head-1 down by one slot (virtio header, frame, length, tag, commit index).
    const pre = this.pre;
    let dst = k;
    let src = k + 1 === n ? 0 : k + 1;
    while (src !== this.head) {
      const len = i32[this.hdr[src] + (TX_LEN >>> 2)];
      this.u8.copyWithin(this.offsets[dst] - pre, this.offsets[src] - pre, this.offsets[src] - pre + len);
      i32[this.hdr[dst] + (TX_LEN >>> 2)] = len;
      this.tags[dst] = this.tags[src];
      this.seqs[dst] = this.seqs[src];
      i32[this.hdr[dst]] = TP_STATUS_SEND_REQUEST;
      dst = src;
      src = src + 1 === n ? 0 : src + 1;
    }
    i32[this.hdr[dst]] = 0;
    this.head = dst;
    this.inFlight--;
    this.unkicked = Math.max(0, this.unkicked - 1);
    this.refuse(seq, length, code);
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
