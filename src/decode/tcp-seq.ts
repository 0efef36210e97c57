/**
 * TCP sequence numbers relative to each conversation's first, as tcpdump
 * prints them by default (-S prints them absolute). tcpdump's rule: only
 * segments with ACK set are made relative; the first such segment of a
 * conversation (or any SYN) records the base in both directions (its seq,
 * and its ack - 1 for the other side) and is printed absolute.
 */

interface Base { seq: number; ack: number }

/** Per-conversation bases, keyed by the ordered address/port pair. */
export class TcpSeqTracker {
  private readonly conv = new Map<string, Base>();

  /**
   * Map (seq, ack) of one segment to what tcpdump prints. `src`/`dst` are the
   * address texts, compared as tcpdump compares the raw addresses only when
   * the ports are equal (byte order of the text is enough for an order).
   * Returns [seq, ack] (unsigned 32-bit).
   */
  relative(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, alen: number,
    sport: number, dport: number, flags: number, seq: number, ack: number): [number, number] {
    if ((flags & 0x10) === 0) return [seq, ack];
    let rev = sport > dport;
    if (sport === dport) {
      for (let i = 0; i < alen; i++) {
        const a = src[srcOff + i]!;
        const b = dst[dstOff + i]!;
        if (a !== b) { rev = a > b; break; }
      }
    }
    const hex = (d: Uint8Array, o: number): string => {
      let s = '';
      for (let i = 0; i < alen; i++) s += d[o + i]!.toString(16).padStart(2, '0');
      return s;
    };
    const key = rev ? `${hex(dst, dstOff)}.${dport}>${hex(src, srcOff)}.${sport}` : `${hex(src, srcOff)}.${sport}>${hex(dst, dstOff)}.${dport}`;
    const b = this.conv.get(key);
    if (b === undefined || (flags & 0x02) !== 0) {
      this.conv.set(key, rev ? { ack: seq, seq: (ack - 1) >>> 0 } : { seq, ack: (ack - 1) >>> 0 });
      return [seq, ack];
    }
    return rev ? [(seq - b.ack) >>> 0, (ack - b.seq) >>> 0] : [(seq - b.seq) >>> 0, (ack - b.ack) >>> 0];
  }

  /** Forget every conversation. */
  clear(): void { this.conv.clear(); }
}
