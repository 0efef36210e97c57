/**
 * What every live capture backend hands to user code: a batch of packets
 * walked through ONE reused view. The TPACKET_V3 ring (Batch/PacketView) and
 * the AF_XDP socket (src/xsk) both implement it, so tools and workers take
 * either without knowing which.
 */
import type { PacketLike } from '../packet-like.js';

/** A packet read in place, valid until its batch is released. */
export interface PacketViewLike extends PacketLike {
  /** A Uint8Array VIEW of the captured bytes (no copy). */
  readonly bytes: Uint8Array;
  /** A copy of the captured bytes that stays valid after the batch is released. */
  copy(): Uint8Array;
  /** Timestamp in nanoseconds since the epoch (allocates a BigInt). */
  readonly timestampNs: bigint;
  /** Timestamp in milliseconds since the epoch. */
  readonly timestampMs: number;
  /** caplen < wireLen. */
  readonly truncated: boolean;
}

/** A batch of packets; release() gives its memory back to the kernel. */
export interface BatchLike<P extends PacketViewLike = PacketViewLike> extends Iterable<P> {
  /** The reused packet view. */
  readonly packet: P;
  /** Packets in this batch. */
  readonly count: number;
  /** Index of the current packet, -1 before the first next(). */
  readonly index: number;
  /** True while the batch's memory belongs to user space. */
  readonly held: boolean;
  /** Move the view to the next packet; null at the end. */
  next(): P | null;
  /** Call fn for every remaining packet with the reused view. */
  forEach(fn: (p: P, index: number) => void): void;
  /** Give the memory back to the kernel now. Idempotent. */
  release(): void;
}
