/**
 * Batch: one retired TPACKET_V3 block handed to user code. It walks its
 * packets through ONE reused PacketView; the block goes back to the kernel
 * when the batch is released (explicitly, or when the loop moves on).
 *
 *   for (let p = batch.next(); p !== null; p = batch.next()) { ... }   // fastest
 *   batch.forEach((p) => { ... })                                       // same, with a callback
 *   for (const p of batch) { ... }                                      // iterator protocol
 */
import { NetringError } from '../errors.js';
import { PacketView } from './packet.js';
import type { BatchLike } from './batch-like.js';
import { Blk, Tp3 } from './layout.js';

/** @internal what a batch needs from its ring */
export interface BatchOwner {
  releaseBlock(batch: Batch): void;
}

export class Batch implements BatchLike<PacketView> {
  /** The reused packet view; valid for the current packet only. */
  readonly packet: PacketView;
  /** Packets in this batch. */
  count = 0;
  /** Index of the current packet, -1 before the first next(). */
  index = -1;
  /** @internal byte offset of the block in the ring, -1 when not held */
  _block = -1;
  /** @internal ring block number */
  _blockNo = -1;
  private readonly u32: Uint32Array;
  private readonly owner: BatchOwner;

  /** @internal */
  constructor(buffer: ArrayBuffer, owner: BatchOwner) {
    this.packet = new PacketView(buffer);
    this.u32 = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    this.owner = owner;
  }

  /** True while the batch's block belongs to user space. */
  get held(): boolean { return this._block >= 0; }

  /** The kernel's sequence number of this block (increases by one per block). */
  get seq(): number {
    if (this._block < 0) throw releasedBatch();
    const lo = this.u32[(this._block + Blk.SeqNum) >>> 2];
    const hi = this.u32[(this._block + Blk.SeqNum + 4) >>> 2];
    return hi * 0x1_0000_0000 + lo;
  }

  /** @internal take ownership of the block at byte offset `block` */
  _acquire(block: number, blockNo: number): void {
    this._block = block;
    this._blockNo = blockNo;
    this.count = this.u32[(block + Blk.NumPkts) >>> 2];
    this.index = -1;
    this.packet._h = -1;
  }

  /** @internal forget the block (the owner hands it back to the kernel) */
  _drop(): void {
    this._block = -1;
    this.count = 0;
    this.index = -1;
    this.packet._h = -1;
  }

  /** Move the view to the next packet; null at the end. Throws after release. */
  next(): PacketView | null {
    const b = this._block;
    if (b < 0) throw releasedBatch();
    const i = this.index + 1;
    if (i >= this.count) { this.packet._h = -1; return null; }
    const p = this.packet;
    p._h = i === 0 ? b + this.u32[(b + Blk.OffsetToFirst) >>> 2] : p._h + this.u32[(p._h + Tp3.NextOffset) >>> 2];
    this.index = i;
    if (p._pre !== 0) p._cook();
    return p;
  }

  /** Call fn for every remaining packet with the reused view. Stops early if the batch is released (e.g. the capture was closed inside fn). */
  forEach(fn: (p: PacketView, index: number) => void): void {
    const b = this._block;
    if (b < 0) throw releasedBatch();
    const u32 = this.u32;
    const p = this.packet;
    let h = this.index < 0 ? b + u32[(b + Blk.OffsetToFirst) >>> 2] : p._h + u32[(p._h + Tp3.NextOffset) >>> 2];
    for (let i = this.index + 1; i < this.count; i++) {
      p._h = h;
      this.index = i;
      if (p._pre !== 0) p._cook();
      fn(p, i);
      if (this._block !== b) return;
      h += u32[(h + Tp3.NextOffset) >>> 2];
    }
    p._h = -1;
  }

  /** Iterator protocol (convenient; next()/forEach avoid the per-step result object). */
  *[Symbol.iterator](): Iterator<PacketView> {
    for (let p = this.next(); p !== null; p = this.next()) yield p;
  }

  /** Give the block back to the kernel now. Idempotent. Views of it throw afterwards. */
  release(): void {
    if (this._block >= 0) this.owner.releaseBlock(this);
  }
}

function releasedBatch(): NetringError {
  return new NetringError('batch used after it was released', 'ERELEASED');
}
