/**
 * XskReader: takes RX descriptors off the RX ring into batches and gives
 * their frames back through the fill ring. Pure ring arithmetic over the
 * mapped rings: no syscall (the capture decides when to kick or poll).
 *
 * Frame bookkeeping: a socket owns `rxFrames` frames. Each one is, at any
 * time, in exactly one place: the fill ring (the kernel's to fill), the RX
 * ring (filled, not yet taken), a held batch, or the spare stack (the frames
 * beyond the fill ring's size, and those the fill ring had no room for).
 * Taking a batch moves frames RX ring -> batch; releasing moves batch -> fill
 * ring (spare stack when it is full), so a frame is never handed out twice
 * nor lost, whatever the order batches are released in.
 *
 * The loop forms' batch (acquire without `hold`, at most one at a time)
 * reads its descriptors in the RX ring: the consumer index is advanced
 * locally and published only when the batch is released, right after its
 * frames went into the fill ring (one pass, as a C loop does). A batch taken
 * with `hold` copies its descriptors and publishes at once; if the loop
 * batch is still out then, it copies its descriptors first, so the kernel
 * never reuses a slot a batch still reads.
 */
import { NetringError } from '../errors.js';
import { OWN_MASK, XskBatch, XskPacketView, type XskBatchOwner } from './batch.js';
import type { ConsumerRing, ProducerRing } from './rings.js';

/** performance.timeOrigin, read once (the getter is a native call: it cost as much as now() itself per batch). */
const TIME_ORIGIN = performance.timeOrigin;

export class XskReader implements XskBatchOwner {
  readonly budget: number;
  /** Packets handed out so far. */
  packets = 0;
  /** Batches handed out so far. */
  batches = 0;
  /** The batch handed out by acquire() without `hold` (released by the next acquire). */
  private current: XskBatch | null = null;
  private readonly free: XskBatch[] = [];
  private readonly rx: ConsumerRing;
  private readonly fill: ProducerRing;
  private readonly frameMask: number;
  private readonly spare: Uint32Array;
  private spareN = 0;
  private readonly makeView: () => XskPacketView;
  private made = 0;
  private readonly maxBatches: number;
  /** Half the fill ring: spare frames go in when at least this many slots are free. */
  private readonly halfFill: number;

  constructor(rx: ConsumerRing, fill: ProducerRing, o: { budget: number; frameSize: number; firstAddr: number; frames: number; maxBatches: number; view: () => XskPacketView }) {
    this.rx = rx;
    this.fill = fill;
    this.budget = o.budget;
    this.frameMask = ~(o.frameSize - 1);
    this.makeView = o.view;
    this.maxBatches = o.maxBatches;
    this.halfFill = Math.max(1, fill.size >>> 1);
    this.spare = new Uint32Array(o.frames);
    // every frame starts on the spare stack, then as many as fit go to the fill ring
    for (let i = o.frames - 1; i >= 0; i--) this.spare[this.spareN++] = o.firstAddr + i * o.frameSize;
    this.refill();
  }

  /** Move spare frames into the fill ring (as many as fit). Returns frames moved. */
  refill(): number {
    const n = Math.min(this.spareN, this.fill.free(this.spareN));
    if (n === 0) return 0;
    const d = this.fill.desc;
    const mask = this.fill.mask;
    let p = this.fill.next;
    for (let i = 0; i < n; i++, p++) {
      const j = (p & mask) << 1;
      d[j] = this.spare[--this.spareN];
      d[j + 1] = 0;
    }
    this.fill.submit(n);
    return n;
  }

  /** Descriptors waiting on the RX ring (up to the budget). */
  ready(): number { return this.rx.peek(this.budget); }

  /** Every descriptor waiting on the RX ring (not only a budget's worth). */
  waiting(): number { return this.rx.peek(0xffffffff); }

  /**
   * Take up to `budget` ready descriptors as a batch; null when none. Without
   * `hold` the previous such batch is released first (the loop forms); with
   * `hold` the batch stays the caller's until it calls release().
   */
  acquire(hold = false): XskBatch | null {
    const cur = this.current;
    if (cur !== null) {
      if (!hold) this.releaseXskBatch(cur);
      else if (cur._inRing) this.detach(cur);
    }
    const n = this.rx.peek(this.budget);
    if (n === 0) return null;
    const b = this.take();
    const c = this.rx.next;
    if (hold) {
      const d = this.rx.desc;
      const mask = this.rx.mask;
      const own = b._own;
      for (let i = 0; i < n; i++) {
        const j = ((c + i) & mask) << 2; // 16-byte descriptors: u32 words addr_lo, addr_hi, len, options
        own[i << 2] = d[j];
        own[(i << 2) + 2] = d[j + 2];
      }
      this.rx.release(n);
      b._d = own;
      b._base = 0;
      b._mask = OWN_MASK;
      b._inRing = false;
    } else {
      this.rx.take(n); // published when the batch is released
      b._d = this.rx.desc;
      b._base = c;
      b._mask = this.rx.mask;
      b._inRing = true;
    }
    b.count = n;
    b.index = -1;
    b.seq = ++this.batches;
    b._held = true;
    const ms = TIME_ORIGIN + performance.now();
    const sec = Math.floor(ms / 1000);
    b.packet.sec = sec;
    b.packet.nsec = Math.floor((ms - sec * 1000) * 1e6);
    b.packet._a = -1;
    this.packets += n;
    if (!hold) this.current = b;
    return b;
  }

  private take(): XskBatch {
    const b = this.free.pop();
    if (b !== undefined) return b;
    if (this.made >= this.maxBatches)
      throw new NetringError(`too many AF_XDP batches held at once (${this.maxBatches}): release some first`, 'EBUSY');
    this.made++;
    return new XskBatch(this, this.budget, this.makeView());
  }

  /** The loop batch must outlive its ring slots (a held batch is being taken): copy its descriptors, publish the slots. */
  private detach(b: XskBatch): void {
    const d = b._d;
    const own = b._own;
    for (let i = 0; i < b.count; i++) {
      const j = ((b._base + i) & b._mask) << 2;
      own[i << 2] = d[j];
      own[(i << 2) + 2] = d[j + 2];
    }
    b._d = own;
    b._base = 0;
    b._mask = OWN_MASK;
    b._inRing = false;
    this.rx.publish();
  }

  /**
   * @internal give a batch's frames back: straight into the fill ring in one
   * submit, in the order they arrived, when the ring has room (the usual
   * case), else through the spare stack. Spare frames go in only when the
   * fill ring is down to half its size: in the usual case the same frames
   * cycle through the fill and RX rings in the same order, as in a C loop
   * that recycles each batch, so the kernel walks UMEM frames (and its own
   * per-frame records) in sequence while it copies into them. A loop batch
   * then gives its RX ring slots back.
   */
  releaseXskBatch(b: XskBatch): void {
    if (!b._held) return;
    b._held = false;
    b.packet._a = -1;
    if (this.current === b) this.current = null;
    const mask = this.frameMask;
    const d = b._d;
    const base = b._base;
    const dm = b._mask;
    const n = b.count;
    const fill = this.fill;
    const room = fill.free(n); // reads the kernel's consumer index only when the last one read leaves fewer than n slots
    if (room >= n) {
      const fd = fill.desc;
      const fm = fill.mask;
      const p = fill.next;
      // the high words of the fill ring's u64 entries are never written: always 0 (UMEM below 4 GiB)
      for (let i = 0; i < n; i++) fd[((p + i) & fm) << 1] = d[((base + i) & dm) << 2] & mask;
      fill.submit(n);
      // the reserve: only when the kernel's stock of free frames is down to half the ring (as last read)
      if (this.spareN !== 0 && room - n >= this.halfFill) this.refill();
    } else {
      for (let i = 0; i < n; i++) this.spare[this.spareN++] = (d[((base + i) & dm) << 2] & mask) >>> 0;
      this.refill();
    }
    if (b._inRing) { b._inRing = false; this.rx.publish(); }
    b.count = 0;
    this.free.push(b);
  }

  /** Release the current (auto) batch, if any. */
  releaseCurrent(): void {
    if (this.current !== null) this.releaseXskBatch(this.current);
  }

  /** Frames waiting on the spare stack (the fill ring had no room). */
  get spareFrames(): number { return this.spareN; }
}
