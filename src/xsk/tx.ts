/**
 * XskTxRing: transmit through an AF_XDP socket's TX ring, with the same
 * slot interface as the AF_PACKET TxRing (TxSink), so the generator's send
 * loop drives either.
 *
 *   const off = ring.next();      // byte offset of a free UMEM frame in ring.u8, -1 when none is free
 *   ring.u8.set(frame, off);      // write the frame in place
 *   ring.commit(frame.length);    // descriptor {addr, len} written into the TX ring
 *   ring.flush();                 // publish the producer index, kick (sendto) when the kernel asks
 *
 * Frame ownership: every TX frame of the socket is, at any time, either on
 * the free stack (user space may write it) or in flight (its descriptor is in
 * the TX ring, or the kernel is sending it). A frame goes back to the free
 * stack only when its address comes back on the completion ring, so no frame
 * is rewritten before the kernel is done with it. The TX ring has as many
 * entries as there are TX frames, so a free frame always has a descriptor
 * slot. Invariant: queued = sent + failed + inFlight.
 *
 * Kicks: in copy mode the kernel transmits only inside sendto(), a bounded
 * number of descriptors per call (it answers EAGAIN when more are left), so
 * flush() kicks until the ring is taken or the kernel pushes back (ENOBUFS,
 * EBUSY: counted as pressure, retried at the next flush or wait).
 */
import { readFileSync } from 'node:fs';
import { NetringError } from '../errors.js';
import type { PacketSource, TxSink } from '../tx/source.js';
import { XskSocket, type CopyMode } from './socket.js';

/** Options of {@link openXskTxRing}. */
export interface XskTxOptions {
  /** Interface name. */
  iface: string;
  /** TX queue to bind (default 0). */
  queue?: number;
  /** TX frames = TX ring entries (power of two, default 2048). */
  frames?: number;
  /** UMEM frame size, 2048 or 4096 (default 4096): the largest frame it can send. */
  frameSize?: number;
  /** copy, zerocopy or auto (default auto). */
  copyMode?: CopyMode;
}

const EAGAIN = -11;
const nap = new Int32Array(new SharedArrayBuffer(4));

/** An AF_XDP TX ring on one queue (see the module doc). */
export class XskTxRing implements TxSink {
  readonly iface: string;
  readonly queue: number;
  /** The socket (UMEM, TX and completion rings). */
  readonly socket: XskSocket;
  /** True when the kernel bound the socket in zero-copy mode. */
  readonly zeroCopy: boolean;
  readonly capacity: number;
  readonly u8: Uint8Array;
  readonly tags: Int32Array;
  slot = -1;
  sourceEnded = false;
  lastFillBytes = 0;
  /** Called for a frame refused at commit (above the device MTU). */
  onFailure: ((f: { seq: number; length: number; code: string }) => void) | null = null;
  private readonly frames: number;
  private readonly frameSize: number;
  private readonly firstAddr: number;
  /** Free frame indices (0..frames-1), a stack. */
  private readonly free: Int32Array;
  private freeN: number;
  private unsubmitted = 0;
  private queued = 0;
  private sent = 0;
  private failed = 0;
  private kicks = 0;
  private pressure = 0;
  private readonly mtuLimit: number;

  constructor(o: XskTxOptions) {
    if (!o || typeof o.iface !== 'string' || o.iface === '') throw new NetringError('an interface is required', 'EINVAL');
    const frames = o.frames ?? 2048;
    if (!Number.isInteger(frames) || frames < 1 || (frames & (frames - 1)) !== 0 || frames > 1 << 20)
      throw new NetringError(`AF_XDP TX frames must be a power of two in 1..1048576 (got ${String(frames)})`, 'EINVAL');
    this.iface = o.iface;
    this.socket = new XskSocket({
      iface: o.iface, queue: o.queue, rxSize: 0, fillSize: 64, txSize: frames, txFrames: frames, completionSize: frames,
      frameSize: o.frameSize, copyMode: o.copyMode,
    });
    const s = this.socket;
    this.queue = s.queue;
    this.zeroCopy = s.zeroCopy;
    this.frames = frames;
    this.frameSize = s.umem.frameSize;
    this.capacity = this.frameSize;
    this.firstAddr = s.frameAddr(s.txFrames.first);
    this.u8 = s.umem.bytes;
    this.tags = new Int32Array(frames).fill(-1);
    this.free = new Int32Array(frames);
    for (let i = 0; i < frames; i++) this.free[i] = frames - 1 - i;
    this.freeN = frames;
    let mtu = Infinity;
    try { mtu = Number(readFileSync(`/sys/class/net/${o.iface}/mtu`, 'utf8')) + 14; } catch { /* unknown: no check */ }
    this.mtuLimit = Number.isFinite(mtu) ? mtu : Infinity;
  }

  get totalSent(): number { return this.sent; }
  get totalFailed(): number { return this.failed; }
  /** Frames the kernel has not taken from the TX ring yet (or not yet published). */
  get pending(): number { return this.unsubmitted + this.socket.tx!.pending(); }
  /** Frames in flight (in the TX ring or being sent). */
  get inFlight(): number { return this.frames - this.freeN; }

  next(): number {
    if (this.freeN === 0 && this.reap() === 0) return -1;
    const f = this.free[this.freeN - 1];
    this.slot = f;
    return this.firstAddr + f * this.frameSize;
  }

  commit(length: number): void {
    if (!(length >= 14 && length <= this.capacity)) throw new RangeError(`frame length ${length} outside 14..${this.capacity} (UMEM frame size)`);
    if (this.freeN === 0 || this.free[this.freeN - 1] !== this.slot) throw new NetringError('commit() without a next()', 'EINVAL');
    if (length > this.mtuLimit && !this.vlanAllowance(this.slot, length)) {
      this.failed++;
      const cb = this.onFailure;
      if (cb !== null) cb({ seq: this.queued, length, code: 'EMSGSIZE' });
      this.queued++;
      return;
    }
    this.put(this.slot, length);
  }

  /** Descriptor of frame f with `length` bytes at the next TX ring slot (not yet published). */
  private put(f: number, length: number): void {
    const tx = this.socket.tx!;
    const j = ((tx.next + this.unsubmitted) & tx.mask) << 2; // xdp_desc: u64 addr, u32 len, u32 options
    const d = tx.desc;
    d[j] = this.firstAddr + f * this.frameSize;
    d[j + 1] = 0;
    d[j + 2] = length;
    d[j + 3] = 0;
    this.freeN--;
    this.unsubmitted++;
    this.queued++;
  }

  private vlanAllowance(f: number, length: number): boolean {
    const o = this.firstAddr + f * this.frameSize;
    const et = (this.u8[o + 12] << 8) | this.u8[o + 13];
    return (et === 0x8100 || et === 0x88a8) && length <= this.mtuLimit + 4;
  }

  fill(src: PacketSource, max: number): number {
    let done = 0;
    let bytes = 0;
    this.sourceEnded = false;
    const u8 = this.u8;
    const tags = this.tags;
    while (done < max) {
      const off = this.next();
      if (off < 0) break;
      const len = src.write(u8, off, this.slot, tags);
      if (len === 0) { this.sourceEnded = true; break; }
      const before = this.failed;
      this.commit(len);
      if (this.failed === before) bytes += len;
      done++;
    }
    this.lastFillBytes = bytes;
    return done;
  }

  flush(): number {
    this.ensureOpen();
    const tx = this.socket.tx!;
    if (this.unsubmitted > 0) {
      tx.submit(this.unsubmitted);
      this.unsubmitted = 0;
    }
    for (let round = 0; tx.pending() > 0 && round < this.frames + 2; round++) {
      if (this.zeroCopy && this.socket.needWakeup && !tx.needWakeup()) break; // the driver takes them without a syscall
      const r = this.socket.kickTx();
      this.kicks++;
      if (r === EAGAIN) continue; // the kernel's per-call budget ran out: more to go
      if (r < 0) { this.pressure++; break; } // ENOBUFS, EBUSY, ...: retried at the next flush or wait
    }
    this.reap();
    return tx.pending();
  }

  /** Take the completed frames' addresses off the completion ring onto the free stack. Returns how many. */
  reap(): number {
    const cq = this.socket.completion!;
    const n = cq.peek(this.frames);
    if (n === 0) return 0;
    const d = cq.desc;
    const mask = cq.mask;
    let c = cq.next;
    for (let i = 0; i < n; i++, c++) {
      const addr = d[(c & mask) << 1]; // u64 address, low word (UMEM is below 4 GiB)
      const f = ((addr - this.firstAddr) / this.frameSize) | 0;
      if (f < 0 || f >= this.frames) throw new NetringError(`AF_XDP completion of an address outside this socket's frames (${addr})`, 'EIO');
      this.free[this.freeN++] = f;
    }
    cq.release(n);
    this.sent += n;
    return n;
  }

  wait(timeoutMs: number): number {
    this.ensureOpen();
    this.flush();
    if (this.reap() === 0 && this.inFlight > 0) {
      // completions arrive from the skb destructor (copy mode) or the driver: nap, then look again
      Atomics.wait(nap, 0, 0, Math.max(0, Math.min(timeoutMs, 1)));
      if (this.pending > 0) this.flush();
      this.reap();
    }
    return this.freeN;
  }

  drain(timeoutMs = 1000): boolean {
    const end = Date.now() + timeoutMs;
    this.flush();
    while (this.inFlight > 0) {
      if (Date.now() >= end) return false;
      this.wait(Math.min(10, Math.max(1, end - Date.now())));
    }
    return true;
  }

  stats(): { queued: number; sent: number; failed: number; inFlight: number; kicks: number; pressure: number } {
    if (this.socket.isOpen) this.reap();
    return { queued: this.queued, sent: this.sent, failed: this.failed, inFlight: this.inFlight, kicks: this.kicks, pressure: this.pressure };
  }

  get isOpen(): boolean { return this.socket.isOpen; }

  /** Close the socket (frames not sent yet are dropped). Idempotent. */
  close(): void { this.socket.close(); }

  private ensureOpen(): void {
    if (!this.socket.isOpen) throw new NetringError(`AF_XDP TX ring on ${this.iface} queue ${this.queue} is closed`, 'ECLOSED');
  }
}

/** Open an AF_XDP TX ring on one queue of an interface. */
export function openXskTxRing(o: XskTxOptions): XskTxRing {
  return new XskTxRing(o);
}
