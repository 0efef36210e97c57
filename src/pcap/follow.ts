/**
 * Follows a pcapng file another thread is still writing (netring's own
 * per-worker files: one little-endian section): hands out each complete
 * Enhanced Packet Block once all its bytes are in the file, and waits (returns
 * null) at a block that is not complete yet. Memory: one buffer that grows to
 * the largest block. The last Interface Statistics Block seen is kept.
 */
import { BlockType } from './constants.js';
import { FileRecord } from './record.js';
import { ByteSource } from './source.js';
import { timeFromTicks, TsResolution, type TimeOut } from './time.js';
import type { WriterStatistics } from './writer-types.js';

const SHB_MAGIC = 0x1a2b3c4d;

/** Reads the complete blocks of a growing pcapng file. */
export class PcapngFollower {
  readonly path: string;
  /** The record handed out by {@link next} (reused). */
  readonly record = new FileRecord();
  /** Packets handed out. */
  count = 0;
  /** The last statistics block of the file (isb_ifrecv, isb_ifdrop, isb_usrdeliv). */
  statistics: WriterStatistics | null = null;
  private readonly src: ByteSource;
  private res = new TsResolution(6);
  private readonly t: TimeOut = { sec: 0, nsec: 0 };

  constructor(path: string) {
    this.path = path;
    this.src = new ByteSource(path, 1 << 16, true);
  }

  private get buf(): Uint8Array { return this.src.buf; }
  private get dv(): DataView { return this.src.view; }

  /** The next complete packet record, or null when the file holds no further complete block yet. */
  next(): FileRecord | null {
    for (;;) {
      const src = this.src;
      if (src.fill(12) < 12) return null;
      const type = src.view.getUint32(src.start, true);
      const len = src.view.getUint32(src.start + 4, true);
      if (len < 12 || len % 4 !== 0 || len > 1 << 28) throw new Error(`${this.path}: bad block length ${len} at a block boundary`);
      if (src.fill(len) < len) return null;
      const at = src.start;
      src.start += len;
      if (type === BlockType.SHB) {
        if (this.dv.getUint32(at + 8, true) !== SHB_MAGIC) throw new Error(`${this.path}: not a little-endian pcapng section`);
      } else if (type === BlockType.IDB) {
        this.res = new TsResolution(this.tsresol(at + 16, at + len - 4) ?? 6);
      } else if (type === BlockType.EPB) {
        const r = this.record;
        const caplen = this.dv.getUint32(at + 20, true);
        timeFromTicks(this.dv.getUint32(at + 12, true), this.dv.getUint32(at + 16, true), this.res, this.t);
        r.data = this.buf;
        r.offset = at + 28;
        r.caplen = caplen;
        r.wireLen = this.dv.getUint32(at + 24, true);
        r.sec = this.t.sec;
        r.nsec = this.t.nsec;
        r.fileOffset = at;
        r.setFlags(this.epbFlags(at + 28 + ((caplen + 3) & ~3), at + len - 4));
        this.count++;
        return r;
      } else if (type === BlockType.ISB) {
        this.statistics = this.isb(at + 20, at + len - 4);
      }
    }
  }

  private *options(from: number, to: number): Generator<[number, number, number]> {
    let p = from;
    while (p + 4 <= to) {
      const code = this.dv.getUint16(p, true);
      const len = this.dv.getUint16(p + 2, true);
      if (code === 0) return;
      yield [code, p + 4, len];
      p += 4 + ((len + 3) & ~3);
    }
  }

  private tsresol(from: number, to: number): number | undefined {
    for (const [code, at] of this.options(from, to)) if (code === 9) return this.buf[at];
    return undefined;
  }

  private epbFlags(from: number, to: number): number {
    if (from >= to) return -1;
    for (const [code, at, len] of this.options(from, to)) if (code === 2 && len === 4) return this.dv.getUint32(at, true);
    return -1;
  }

  private isb(from: number, to: number): WriterStatistics {
    const s: WriterStatistics = {};
    const u64 = (at: number): number => this.dv.getUint32(at + 4, true) * 4294967296 + this.dv.getUint32(at, true);
    for (const [code, at, len] of this.options(from, to)) {
      if (len !== 8) continue;
      if (code === 4) s.received = u64(at);
      else if (code === 5) s.dropped = u64(at);
      else if (code === 8) s.delivered = u64(at);
    }
    return s;
  }

  /** Closes the file. Idempotent. */
  close(): void {
    this.src.close();
  }
}
