/**
 * The four AF_XDP rings as JS views over their mappings. Each ring is a
 * single-producer single-consumer queue of `size` (a power of two) entries
 * with free-running u32 producer and consumer indices; user space owns one
 * index of each ring and reads the other with Atomics (acquire), and
 * publishes its own with Atomics.store (release), as libxdp does with
 * smp_load_acquire/smp_store_release.
 *
 *   fill        user produces frame addresses, kernel consumes (RX buffers)
 *   rx          kernel produces descriptors {addr, len}, user consumes
 *   tx          user produces descriptors, kernel consumes
 *   completion  kernel produces addresses of sent frames, user consumes
 *
 * Descriptors are read as u32 words: netring keeps UMEM below 4 GiB, so the
 * high word of an address is always 0 and only the low word is read and written.
 * @internal
 */
import { DESC_SIZE, XDP_RING_NEED_WAKEUP, type RingOffsets } from './abi.js';

/** Common part: indices, flags and the descriptor array of one mapped ring. */
export class XskRing {
  readonly size: number;
  readonly mask: number;
  /** The mapping (released at close). */
  readonly map: ArrayBuffer;
  /** The descriptor area as u32 words. */
  readonly desc: Uint32Array;
  protected readonly idx: Uint32Array;
  protected readonly prodAt: number;
  protected readonly consAt: number;
  protected readonly flagsAt: number;

  constructor(map: ArrayBuffer, off: RingOffsets, size: number, entryBytes: number) {
    this.map = map;
    this.size = size;
    this.mask = size - 1;
    this.idx = new Uint32Array(map, 0, map.byteLength >>> 2);
    this.prodAt = off.producer >>> 2;
    this.consAt = off.consumer >>> 2;
    this.flagsAt = off.flags >>> 2;
    this.desc = new Uint32Array(map, off.desc, (size * entryBytes) >>> 2);
  }

  /** The kernel asks for a wakeup syscall (XDP_USE_NEED_WAKEUP). */
  needWakeup(): boolean {
    return (Atomics.load(this.idx, this.flagsAt) & XDP_RING_NEED_WAKEUP) !== 0;
  }
}

/** A ring user space produces into (fill, tx). */
export class ProducerRing extends XskRing {
  /** Our producer index (cached; published by submit()). */
  private prod: number;
  /** Last consumer index seen plus size: slots below it are free. */
  private limit: number;

  constructor(map: ArrayBuffer, off: RingOffsets, size: number, entryBytes: number) {
    super(map, off, size, entryBytes);
    this.prod = Atomics.load(this.idx, this.prodAt);
    this.limit = (Atomics.load(this.idx, this.consAt) + size) >>> 0;
  }

  /** Free slots (refreshes the consumer index only when the cached view says fewer than `want`). */
  free(want: number): number {
    let n = (this.limit - this.prod) >>> 0;
    if (n >= want) return n;
    this.limit = (Atomics.load(this.idx, this.consAt) + this.size) >>> 0;
    n = (this.limit - this.prod) >>> 0;
    return n;
  }

  /** Producer index of the next slot to write (entry index = value & mask). */
  get next(): number { return this.prod; }

  /** Publish n written entries (release). */
  submit(n: number): void {
    this.prod = (this.prod + n) >>> 0;
    Atomics.store(this.idx, this.prodAt, this.prod);
  }

  /** Entries written but not yet consumed by the kernel. */
  pending(): number {
    return (this.prod - Atomics.load(this.idx, this.consAt)) >>> 0;
  }
}

/** A ring user space consumes from (rx, completion). */
export class ConsumerRing extends XskRing {
  private cons: number;
  private avail = 0;

  constructor(map: ArrayBuffer, off: RingOffsets, size: number, entryBytes: number) {
    super(map, off, size, entryBytes);
    this.cons = Atomics.load(this.idx, this.consAt);
  }

  /** Entries ready, up to `max` (acquire load of the producer only when the cached count is short). */
  peek(max: number): number {
    if (this.avail < max) this.avail = (Atomics.load(this.idx, this.prodAt) - this.cons) >>> 0;
    return this.avail < max ? this.avail : max;
  }

  /** Consumer index of the first entry peek() counted. */
  get next(): number { return this.cons; }

  /** Give n consumed entries back to the kernel (release). */
  release(n: number): void {
    this.cons = (this.cons + n) >>> 0;
    this.avail -= n;
    Atomics.store(this.idx, this.consAt, this.cons);
  }

  /** Take n entries without giving them back yet: the kernel cannot reuse their slots until publish(). */
  take(n: number): void {
    this.cons = (this.cons + n) >>> 0;
    this.avail -= n;
  }

  /** Give every entry taken so far back to the kernel (release store of the consumer index). */
  publish(): void {
    Atomics.store(this.idx, this.consAt, this.cons);
  }
}

/** Bytes of one entry: fill/completion rings hold u64 addresses, rx/tx hold xdp_desc. */
export const ADDR_ENTRY = 8;
export const DESC_ENTRY = DESC_SIZE;

/** Bytes to map for a ring of `size` entries. */
export function ringBytes(off: RingOffsets, size: number, entryBytes: number): number {
  return off.desc + size * entryBytes;
}
