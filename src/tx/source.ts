/**
 * What a sender pulls packets from. The sender owns the ring and the pacing;
 * a source only writes the next frame into a slot.
 */

export interface PacketSource {
  /** Largest frame the source writes (sizes the ring slots). */
  readonly maxLength: number;
  /**
   * Write the next packet at `u8[off]`, in ring slot `slot`. `tags[slot]` is
   * the source's note about what the slot already holds (-1: unknown); a
   * source that only rewrites what varies keeps it up to date. Returns the
   * frame length, or 0 when the source has no more packets.
   */
  write(u8: Uint8Array, off: number, slot: number, tags: Int32Array): number;
  /**
   * For sources with their own timing (replay): ns after the start of the run
   * at which the next packet is due, or -1 when there is no next packet.
   * Sources without it are paced by the sender's rate.
   */
  due?(): number;
}

/**
 * What the send loop (netring/gen) drives: a ring of frame slots written in
 * place. The AF_PACKET TX ring (TxRing) and the AF_XDP TX ring (XskTxRing)
 * both implement it.
 */
export interface TxSink {
  /** Most frame bytes a slot holds. */
  readonly capacity: number;
  /** The memory slots live in (frames are written at the offsets next() returns). */
  readonly u8: Uint8Array;
  /** Per-slot note for sources that rewrite only what varies (-1: unknown). */
  readonly tags: Int32Array;
  /** Slot of the last next(). */
  readonly slot: number;
  /** Frames the kernel completed so far. */
  readonly totalSent: number;
  /** Frames refused so far. */
  readonly totalFailed: number;
  /** Committed frames the kernel has not taken yet. */
  readonly pending: number;
  /** Set by fill() when the source returned 0. */
  readonly sourceEnded: boolean;
  /** Bytes of the frames the last fill() committed. */
  readonly lastFillBytes: number;
  /** Offset in u8 of a free slot's frame (sets `slot`), or -1 when every slot is in flight. */
  next(): number;
  /** Queue the slot from next() with `length` frame bytes. */
  commit(length: number): void;
  /** Let `src` write and commit up to `max` frames; returns how many it took. */
  fill(src: PacketSource, max: number): number;
  /** Hand committed frames to the kernel; returns how many it did not take yet. */
  flush(): number;
  /** Wait up to timeoutMs for completions; returns free slots. */
  wait(timeoutMs: number): number;
  /** Flush and wait until every frame completed; true when drained. */
  drain(timeoutMs?: number): boolean;
  /** queued/sent/failed/inFlight/kicks/pressure. */
  stats(): { queued: number; sent: number; failed: number; inFlight: number; kicks: number; pressure: number };
  /** Release the socket. */
  close(): void;
}
