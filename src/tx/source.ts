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
