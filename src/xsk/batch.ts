/**
 * XskBatch and XskPacketView: the AF_XDP side of the batch/view API. A batch
 * is the RX descriptors that were ready (up to a budget); its frames stay in
 * UMEM and belong to user space until the batch is released, when they go
 * back to the fill ring in one step. The ONE reused view reads a frame in
 * place: `data` is the whole UMEM, `offset` the frame's address in it.
 *
 * The loop forms (callback, iterator, nextBatch, tryBatch) read the
 * descriptors where the kernel wrote them, in the RX ring, and give the ring
 * slots back when the batch is released, as a C loop does: one pass over the
 * descriptors per packet. A batch from takeBatch() copies address and length
 * into its own array (two u32 per packet), so its ring slots go back at once
 * and batches may be released in any order: each batch returns exactly its
 * own frames.
 */
import { NetringError } from '../errors.js';
import type { BatchLike, PacketViewLike } from '../ring/batch-like.js';

function released(): NetringError {
  return new NetringError('packet view used after its batch was released (copy() what you keep)', 'ERELEASED');
}

/** Index mask of a batch's own descriptor copy (its indices never wrap). */
export const OWN_MASK = 0x3fffffff;

/** @internal what a batch needs from its reader */
export interface XskBatchOwner {
  releaseXskBatch(batch: XskBatch): void;
}

/** A frame in UMEM, read in place. Metadata AF_XDP does not carry reads as "none". */
export class XskPacketView implements PacketViewLike {
  /** The whole UMEM as bytes (never copied). */
  readonly data: Uint8Array;
  /** Link type: 1 (Ethernet). */
  readonly linkType = 1;
  /** Interface index of the capture. */
  readonly ifindex: number;
  /** Timestamp of the batch (taken when the batch was picked up: AF_XDP frames carry none), seconds. */
  sec = 0;
  /** Nanoseconds part of the batch timestamp. */
  nsec = 0;
  /** @internal frame address in UMEM, -1 when not positioned */
  _a = -1;
  /** @internal frame length */
  _len = 0;
  private readonly snaplen: number;

  /** @internal */
  constructor(umem: Uint8Array, ifindex: number, snaplen: number) {
    this.data = umem;
    this.ifindex = ifindex;
    this.snaplen = snaplen;
  }

  /** Offset of the frame (Ethernet header) in `data`. */
  get offset(): number { const a = this._a; if (a < 0) throw released(); return a; }
  /** Bytes available (the frame length, cut to the capture's snaplen). */
  get caplen(): number { if (this._a < 0) throw released(); return this._len < this.snaplen ? this._len : this.snaplen; }
  /** Length of the frame as received. */
  get wireLen(): number { if (this._a < 0) throw released(); return this._len; }
  get truncated(): boolean { return this.caplen < this._len; }
  get timestampNs(): bigint { return BigInt(this.sec) * 1_000_000_000n + BigInt(this.nsec); }
  get timestampMs(): number { return this.sec * 1e3 + this.nsec / 1e6; }
  /** AF_XDP hands frames with the VLAN tag in the bytes, never in metadata. */
  get vlanValid(): boolean { return false; }
  get vlanTci(): number { return 0; }
  get vlanTpid(): number { return 0; }
  /** 0 host, 1 broadcast, 2 multicast: from the destination MAC (XDP sees received frames only). */
  get pktType(): number {
    const a = this.offset;
    const d = this.data;
    if ((d[a] & 1) === 0) return 0;
    return d[a] === 0xff && d[a + 1] === 0xff && d[a + 2] === 0xff && d[a + 3] === 0xff && d[a + 4] === 0xff && d[a + 5] === 0xff ? 1 : 2;
  }
  /** EtherType of the frame (host order). */
  get protocol(): number { const a = this.offset; return (this.data[a + 12] << 8) | this.data[a + 13]; }

  /** A Uint8Array VIEW of the captured bytes (allocates a view object, copies nothing). */
  get bytes(): Uint8Array { const a = this.offset; return this.data.subarray(a, a + this.caplen); }

  /** A copy of the captured bytes that stays valid after the batch is released. */
  copy(): Uint8Array { const a = this.offset; return this.data.slice(a, a + this.caplen); }
}

export class XskBatch implements BatchLike<XskPacketView> {
  readonly packet: XskPacketView;
  count = 0;
  index = -1;
  /** Batch sequence number (1, 2, ... per capture). */
  seq = 0;
  /**
   * @internal the descriptors as u32 words (addr_lo, addr_hi, len, options):
   * the RX ring itself (loop forms) or `_own` (held batches)
   */
  _d: Uint32Array;
  /** @internal descriptor index of packet 0 in `_d` (before masking) */
  _base = 0;
  /** @internal index mask of `_d` */
  _mask = OWN_MASK;
  /** @internal this batch's own copy of its descriptors (held batches) */
  readonly _own: Uint32Array;
  /** @internal true while `_d` is the RX ring (the slots go back at release) */
  _inRing = false;
  /** @internal true while user space holds the frames */
  _held = false;
  private readonly owner: XskBatchOwner;

  /** @internal */
  constructor(owner: XskBatchOwner, budget: number, view: XskPacketView) {
    this.owner = owner;
    this._own = new Uint32Array(budget * 4);
    this._d = this._own;
    this.packet = view;
  }

  get held(): boolean { return this._held; }

  next(): XskPacketView | null {
    if (!this._held) throw releasedBatch();
    const i = this.index + 1;
    const p = this.packet;
    if (i >= this.count) { p._a = -1; return null; }
    const j = ((this._base + i) & this._mask) << 2;
    const d = this._d;
    p._a = d[j];
    p._len = d[j + 2];
    this.index = i;
    return p;
  }

  forEach(fn: (p: XskPacketView, index: number) => void): void {
    if (!this._held) throw releasedBatch();
    const p = this.packet;
    const seq = this.seq;
    for (let i = this.index + 1; i < this.count; i++) {
      const j = ((this._base + i) & this._mask) << 2;
      const d = this._d;
      p._a = d[j];
      p._len = d[j + 2];
      this.index = i;
      fn(p, i);
      if (!this._held || this.seq !== seq) return;
    }
    p._a = -1;
  }

  *[Symbol.iterator](): Iterator<XskPacketView> {
    for (let p = this.next(); p !== null; p = this.next()) yield p;
  }

  /** Give the frames back to the fill ring now. Idempotent. */
  release(): void {
    if (this._held) this.owner.releaseXskBatch(this);
  }
}

function releasedBatch(): NetringError {
  return new NetringError('batch used after it was released', 'ERELEASED');
}
