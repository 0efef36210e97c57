/**
 * RingReader: walks the blocks of a TPACKET_V3 RX ring in memory. It knows
 * nothing about sockets: the capture gives it the mmap'ed ring, benchmarks
 * and tests give it an image built in memory. Taking and giving back a block
 * is a status-word load/store on the shared memory: no syscall.
 */
import { TP_STATUS_KERNEL, TP_STATUS_USER } from '../constants.js';
import { Batch, type BatchOwner } from './batch.js';
import type { RingGeometry } from './geometry.js';
import { BLK_HDR_LEN, BLK_NUM_PKTS, BLK_STATUS } from './layout.js';

/** Poison released blocks (NETRING_DEBUG=1) so a kept view reads 0xdd, not plausible data. */
const POISON = process.env.NETRING_DEBUG === '1';

export class RingReader implements BatchOwner {
  /** The reused batch object. */
  readonly batch: Batch;
  readonly blockSize: number;
  readonly blockCount: number;
  /** Next block to look at. */
  cursor = 0;
  /** Packets handed to user code so far. */
  packets = 0;
  /** Blocks handed to user code so far. */
  blocks = 0;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;

  constructor(buffer: ArrayBuffer, geometry: Pick<RingGeometry, 'blockSize' | 'blockCount'>) {
    this.blockSize = geometry.blockSize;
    this.blockCount = geometry.blockCount;
    this.i32 = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
    this.u8 = new Uint8Array(buffer);
    this.batch = new Batch(buffer, this);
  }

  /** True when the block at the cursor belongs to user space. */
  ready(): boolean {
    return (Atomics.load(this.i32, (this.cursor * this.blockSize + BLK_STATUS) >>> 2) & TP_STATUS_USER) !== 0;
  }

  /**
   * Hand out the block at the cursor as the batch, releasing the previous
   * batch first if it is still held. Returns null when no block is ready.
   */
  acquire(): Batch | null {
    const batch = this.batch;
    if (batch._block >= 0) this.releaseBlock(batch);
    const off = this.cursor * this.blockSize;
    if ((Atomics.load(this.i32, (off + BLK_STATUS) >>> 2) & TP_STATUS_USER) === 0) return null;
    batch._acquire(off, this.cursor);
    this.packets += batch.count;
    this.blocks++;
    return batch;
  }

  /** @internal give the batch's block back to the kernel and advance. */
  releaseBlock(batch: Batch): void {
    const off = batch._block;
    if (off < 0) return;
    batch._drop();
    if (POISON) this.u8.fill(0xdd, off + BLK_HDR_LEN, off + this.blockSize);
    // Release ordering: the kernel must not see the block before we are done reading it.
    Atomics.store(this.i32, (off + BLK_STATUS) >>> 2, TP_STATUS_KERNEL);
    this.cursor = this.cursor + 1 === this.blockCount ? 0 : this.cursor + 1;
  }

  /** Release whatever is held and every block already retired, counting the packets discarded. */
  discardReady(): number {
    let n = 0;
    for (let b = this.acquire(); b !== null; b = this.acquire()) n += b.count;
    return n;
  }

  /** Packets in the block at the cursor if it is ready (peek, no hand-out). */
  peekCount(): number {
    const off = this.cursor * this.blockSize;
    return this.ready() ? this.i32[(off + BLK_NUM_PKTS) >>> 2] : 0;
  }
}
