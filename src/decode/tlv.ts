/**
 * The option walk IPv4 and TCP share (RFC 791 / RFC 793 type-length-value
 * options: 0 ends the list, 1 is a one-byte no-op, every other option carries
 * a length byte that counts the whole option). Reusable, non-allocating.
 */
const EMPTY = new Uint8Array(0);

export class TlvOptionIterator {
  /** Type (kind) of the current option. */
  type = 0;
  /** Length of the whole option (1 for the no-op). */
  length = 0;
  /** First byte after type and length. */
  valueOffset = 0;
  /** True when a length byte was < 2 or ran past the options. */
  malformed = false;
  protected d: Uint8Array = EMPTY;
  protected pos = 0;
  protected end = 0;

  /** Walk the options in d[pos, end). */
  protected start(d: Uint8Array, pos: number, end: number): void {
    this.d = d;
    this.pos = pos;
    this.end = end;
    this.malformed = false;
  }

  /** Advance to the next option; false at end-of-options, at the end, or on a malformed option. */
  next(): boolean {
    if (this.pos >= this.end) return false;
    const d = this.d;
    const t = d[this.pos]!;
    if (t === 0) return false;
    this.type = t;
    if (t === 1) {
      this.length = 1;
      this.valueOffset = this.pos + 1;
      this.pos += 1;
      return true;
    }
    if (this.pos + 1 >= this.end) {
      this.malformed = true;
      return false;
    }
    const len = d[this.pos + 1]!;
    if (len < 2 || this.pos + len > this.end) {
      this.malformed = true;
      return false;
    }
    this.length = len;
    this.valueOffset = this.pos + 2;
    this.pos += len;
    return true;
  }
}
