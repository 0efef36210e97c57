import { BlockType, PCAPNG_BOM } from './constants.js';
import { PcapFormatError } from './errors.js';
import { CaptureReaderBase, type FileInterface, type FileSection, type FileStatistics, type ReaderOptions } from './reader-types.js';
import { ByteSource, type ReadSource } from './source.js';
import { nsecOfRem, timeFromTicks, TsResolution, type TimeOut } from './time.js';

const decoder = new TextDecoder('utf-8', { fatal: false });
const USEC = new TsResolution(6);
const TWO32 = 4294967296;

/**
 * Streaming pcapng reader: several sections (either byte order) and
 * interfaces (each with its own link type, snaplen and if_tsresol, decimal
 * or power-of-2), EPB, SPB and the obsolete PB; ISBs are exposed as
 * `statistics`; unknown blocks are skipped. Constant memory.
 */
export class PcapngReader extends CaptureReaderBase {
  readonly format = 'pcapng' as const;
  /** Sections seen so far. */
  readonly sections: FileSection[] = [];
  private le = true;
  /** Interfaces of the current section (indices into `interfaces`). */
  private current: FileInterface[] = [];
  private readonly maxBlock: number;
  private readonly onStats: ((s: FileStatistics) => void) | undefined;
  private readonly t: TimeOut = { sec: 0, nsec: 0, rem: 0 };
  private cRes: TsResolution | null = null;
  private cHi = 0;
  private cLo = 0;
  private cSec = 0;
  /** A packet read ahead by the constructor, delivered by the first next(). */
  private pending = false;
  private atEnd = false;
  /** A format error met while reading ahead, thrown by the first next(). */
  private deferred: PcapFormatError | null = null;

  /** Opens `source` (path, '-' for stdin, fd, bytes or a ByteSource) and reads the first Section Header Block. */
  constructor(source: ReadSource | ByteSource, options: ReaderOptions = {}) {
    const src = source instanceof ByteSource ? source : new ByteSource(source, options.bufferSize);
    super(src, options);
    this.maxBlock = options.maxBlockLength ?? 16 * 1024 * 1024;
    this.onStats = options.onStatistics;
    try {
      const at = src.position;
      const got = src.fill(12);
      if (got >= 4 && src.view.getUint32(src.start, true) !== BlockType.SHB) {
        throw new PcapFormatError('BAD_MAGIC', at, 'not a pcapng file: the first block is not a Section Header Block');
      }
      if (got < 12) throw this.truncatedError(at, 'the section header block', 28, got);
      this.readBlock(true);
    } catch (err) {
      src.close();
      throw err;
    }
    // Read ahead the interface descriptions that precede the first packet,
    // so `interfaces` is filled once the reader is open. A format error
    // here is reported by the first next(), like any other.
    try {
      const r = this.readBlocksUntilPacket();
      if (r === 1) this.pending = true;
      else if (r === -1) this.atEnd = true;
    } catch (err) {
      if (!(err instanceof PcapFormatError)) { src.close(); throw err; }
      this.deferred = err;
    }
  }

  /** Byte order of the current section. */
  get bigEndian(): boolean { return !this.le; }

  protected readRecord(): boolean {
    if (this.pending) { this.pending = false; return true; }
    if (this.atEnd) return false;
    if (this.deferred !== null) throw this.deferred;
    return this.readBlocksUntilPacket() === 1;
  }

  private readBlocksUntilPacket(): number {
    for (;;) {
      const r = this.readBlock(false);
      if (r !== 0) return r;
    }
  }

  /** Reads one block: 1 = a packet is in `rec`, 0 = another kind of block, -1 = end of file. */
  private readBlock(first: boolean): number {
    const src = this.src;
    const at = src.position;
    let got = src.fill(12);
    if (got === 0 && !first) return -1;
    if (got < 12) throw this.truncatedError(at, 'a pcapng block header', 12, got);
    let v = src.view;
    let p = src.start;
    const type = v.getUint32(p, this.le);
    if (type === BlockType.SHB) {
      const bom = v.getUint32(p + 8, true);
      if (bom === PCAPNG_BOM) this.le = true;
      else if (bom === 0x4d3c2b1a) this.le = false;
      else throw new PcapFormatError('BAD_MAGIC', at + 8, `pcapng section header has a bad byte-order magic 0x${bom.toString(16)}`);
    }
    const le = this.le;
    const len = v.getUint32(p + 4, le);
    const minLen = type === BlockType.SHB ? 28 : 12;
    if (len < minLen || (len & 3) !== 0 || len > this.maxBlock) {
      throw new PcapFormatError('BAD_BLOCK_LENGTH', at + 4, `pcapng block of type 0x${type.toString(16)} has an invalid length ${len}`);
    }
    got = src.fill(len);
    if (got < len) throw this.truncatedError(at, `a pcapng block of type 0x${type.toString(16)}`, len, got);
    v = src.view;
    p = src.start;
    if (v.getUint32(p + len - 4, le) !== len) {
      throw new PcapFormatError('BAD_BLOCK_LENGTH', at + len - 4,
        `pcapng block of type 0x${type.toString(16)}: trailing length ${v.getUint32(p + len - 4, le)} differs from ${len}`);
    }
    // Consume the block now; its bytes stay in the buffer until the next fill.
    src.start = p + len;
    switch (type) {
      case BlockType.EPB: return this.epb(v, p, len, at);
      case BlockType.SPB: return this.spb(v, p, len, at);
      case BlockType.PB: return this.pb(v, p, len, at);
      case BlockType.SHB: this.shb(v, p, len, at); return 0;
      case BlockType.IDB: this.idb(v, p, len, at); return 0;
      case BlockType.ISB: this.isb(v, p, len, at); return 0;
      default: return 0; // unknown or uninteresting (NRB, DSB, custom): skipped
    }
  }

  private iface(id: number, at: number): FileInterface {
    const ifc = this.current[id];
    if (ifc === undefined) {
      throw new PcapFormatError('BAD_INTERFACE', at, `pcapng packet names interface ${id}, but the section has ${this.current.length}`);
    }
    return ifc;
  }

  private checkCaplen(caplen: number, room: number, ifc: FileInterface, at: number): void {
    if (caplen > room) throw new PcapFormatError('BAD_CAPLEN', at, `pcapng packet caplen ${caplen} does not fit its block (${room} bytes)`);
    if (caplen > this.maxCaplen) throw new PcapFormatError('BAD_CAPLEN', at, `pcapng packet caplen ${caplen} is larger than the maximum ${this.maxCaplen}`);
    if (ifc.snaplen !== 0 && caplen > ifc.snaplen) {
      this.caplenOverSnaplen(at, `pcapng packet caplen ${caplen} exceeds interface ${ifc.id} snaplen ${ifc.snaplen}`);
    }
  }

  private setPacket(ifc: FileInterface, caplen: number, orig: number, dataAt: number, at: number): void {
    const rec = this.rec;
    rec.data = this.src.buf;
    rec.offset = dataAt;
    rec.caplen = caplen;
    rec.wireLen = orig; // as the file says, even below caplen
    rec.ifindex = ifc.id;
    rec.interfaceIndex = ifc.index;
    rec.linkType = ifc.linkType;
    rec.section = ifc.section;
    rec.fileOffset = at;
  }

  /**
   * Timestamps of consecutive packets mostly fall in the same second: the
   * tick count at the start of that second is cached, so the common case is
   * a subtraction instead of three 64-bit division steps.
   */
  private setTime(hi: number, lo: number, ifc: FileInterface): void {
    const res = ifc.tsresol;
    const rec = this.rec;
    if (res === this.cRes) {
      const diff = (hi - this.cHi) * TWO32 + (lo - this.cLo);
      if (diff >= 0 && diff < res.perSec) {
        rec.sec = this.cSec + ifc.tsOffset;
        rec.nsec = nsecOfRem(diff, res);
        return;
      }
    }
    const t = this.t;
    timeFromTicks(hi, lo, res, t);
    rec.sec = t.sec + ifc.tsOffset;
    rec.nsec = t.nsec;
    if (res.kind === 3) { this.cRes = null; return; }
    // Start of this second in ticks, as hi * 2^32 + lo with lo possibly
    // negative (same value; the difference above stays exact).
    this.cHi = hi;
    this.cLo = lo - (t.rem as number);
    this.cSec = t.sec;
    this.cRes = res;
  }

  private epb(v: DataView, p: number, len: number, at: number): number {
    if (len < 32) throw new PcapFormatError('BAD_BLOCK_LENGTH', at + 4, `pcapng enhanced packet block too short (${len} bytes)`);
    return this.packetBody(v, p, len, at, v.getUint32(p + 8, this.le));
  }

  /** Obsolete Packet Block: the EPB layout with a 16-bit interface id and a 16-bit drop count. */
  private pb(v: DataView, p: number, len: number, at: number): number {
    if (len < 32) throw new PcapFormatError('BAD_BLOCK_LENGTH', at + 4, `pcapng packet block too short (${len} bytes)`);
    this.packetBody(v, p, len, at, v.getUint16(p + 8, this.le));
    const drops = v.getUint16(p + 10, this.le);
    if (drops !== 0xffff) this.rec.dropCount = drops;
    return 1;
  }

  /** EPB/PB from the timestamp on: caplen, original length, data, options. */
  private packetBody(v: DataView, p: number, len: number, at: number, ifaceId: number): number {
    const le = this.le;
    const ifc = this.iface(ifaceId, at);
    const caplen = v.getUint32(p + 20, le);
    this.checkCaplen(caplen, len - 32, ifc, at);
    this.setPacket(ifc, caplen, v.getUint32(p + 24, le), p + 28, at);
    this.setTime(v.getUint32(p + 12, le), v.getUint32(p + 16, le), ifc);
    this.packetOptions(v, p + 28 + ((caplen + 3) & ~3), p + len - 4, at);
    return 1;
  }

  private spb(v: DataView, p: number, len: number, at: number): number {
    if (len < 16) throw new PcapFormatError('BAD_BLOCK_LENGTH', at + 4, `pcapng simple packet block too short (${len} bytes)`);
    const ifc = this.iface(0, at);
    const orig = v.getUint32(p + 8, this.le);
    let caplen = Math.min(orig, len - 16);
    if (ifc.snaplen !== 0 && caplen > ifc.snaplen) caplen = ifc.snaplen;
    this.checkCaplen(caplen, len - 16, ifc, at);
    this.setPacket(ifc, caplen, orig, p + 12, at);
    this.rec.sec = 0;
    this.rec.nsec = 0;
    this.rec.setFlags(-1);
    this.rec.dropCount = -1;
    return 1;
  }

  /** epb_flags (2) and epb_dropcount (4) from a packet block's options. */
  private packetOptions(v: DataView, p: number, end: number, at: number): void {
    const rec = this.rec;
    let flags = -1;
    let drops = -1;
    for (let olen = this.option(v, p, end, at); olen >= 0; olen = this.option(v, p, end, at)) {
      const code = v.getUint16(p, this.le);
      if (code === 2 && olen === 4) flags = v.getUint32(p + 4, this.le);
      else if (code === 4 && olen === 8) drops = this.u64(v, p + 4);
      p += 4 + ((olen + 3) & ~3);
    }
    rec.setFlags(flags);
    rec.dropCount = drops;
  }

  /** Reads a 64-bit unsigned integer option value as a number. */
  private u64(v: DataView, p: number): number {
    return this.le
      ? v.getUint32(p + 4, true) * TWO32 + v.getUint32(p, true)
      : v.getUint32(p, false) * TWO32 + v.getUint32(p + 4, false);
  }

  /**
   * The value length of the option at p in [p, end), or -1 at opt_endofopt or
   * when no option header fits. Throws when the value runs past `end`.
   */
  private option(v: DataView, p: number, end: number, at: number): number {
    if (p + 4 > end) return -1;
    const code = v.getUint16(p, this.le);
    if (code === 0) return -1;
    const olen = v.getUint16(p + 2, this.le);
    if (p + 4 + olen > end) throw new PcapFormatError('BAD_OPTION', at, `pcapng option ${code} runs past the end of its block`);
    return olen;
  }

  /** Iterates options in [p, end): calls fn(code, valueOffset, valueLength). */
  private options(v: DataView, p: number, end: number, at: number, fn: (code: number, vp: number, vl: number) => void): void {
    for (let olen = this.option(v, p, end, at); olen >= 0; olen = this.option(v, p, end, at)) {
      fn(v.getUint16(p, this.le), p + 4, olen);
      p += 4 + ((olen + 3) & ~3);
    }
  }

  private text(p: number, n: number): string {
    return decoder.decode(this.src.buf.subarray(p, p + n)).replace(/\0+$/, '');
  }

  private shb(v: DataView, p: number, len: number, at: number): void {
    const le = this.le;
    const major = v.getUint16(p + 12, le), minor = v.getUint16(p + 14, le);
    if (major !== 1) throw new PcapFormatError('BAD_VERSION', at + 12, `unsupported pcapng version ${major}.${minor}`);
    const sec: FileSection = { index: this.sections.length, offset: at, bigEndian: !le, version: `${major}.${minor}` };
    this.options(v, p + 24, p + len - 4, at, (code, vp, vl) => {
      if (code === 2) sec.hardware = this.text(vp, vl);
      else if (code === 3) sec.os = this.text(vp, vl);
      else if (code === 4) sec.application = this.text(vp, vl);
    });
    this.sections.push(sec);
    this.current = [];
  }

  private idb(v: DataView, p: number, len: number, at: number): void {
    if (len < 20) throw new PcapFormatError('BAD_BLOCK_LENGTH', at + 4, `pcapng interface description block too short (${len} bytes)`);
    const le = this.le;
    const ifc: FileInterface = {
      index: this.interfaces.length,
      section: this.sections.length - 1,
      id: this.current.length,
      linkType: v.getUint16(p + 8, le),
      snaplen: v.getUint32(p + 12, le),
      tsresol: USEC,
      tsOffset: 0,
    };
    this.options(v, p + 16, p + len - 4, at, (code, vp, vl) => {
      switch (code) {
        case 2: ifc.name = this.text(vp, vl); break;
        case 3: ifc.description = this.text(vp, vl); break;
        case 9:
          if (vl >= 1) ifc.tsresol = new TsResolution(this.src.buf[vp]);
          break;
        case 13: if (vl >= 1) ifc.fcsLen = this.src.buf[vp]; break;
        case 14:
          if (vl === 8) {
            ifc.tsOffset = le
              ? v.getInt32(vp + 4, true) * TWO32 + v.getUint32(vp, true)
              : v.getInt32(vp, false) * TWO32 + v.getUint32(vp + 4, false);
          }
          break;
      }
    });
    this.interfaces.push(ifc);
    this.statistics.push(undefined);
    this.current.push(ifc);
  }

  private isb(v: DataView, p: number, len: number, at: number): void {
    if (len < 24) throw new PcapFormatError('BAD_BLOCK_LENGTH', at + 4, `pcapng interface statistics block too short (${len} bytes)`);
    const le = this.le;
    const ifc = this.iface(v.getUint32(p + 8, le), at);
    const t = this.t;
    timeFromTicks(v.getUint32(p + 12, le), v.getUint32(p + 16, le), ifc.tsresol, t);
    const st: FileStatistics = {
      interfaceIndex: ifc.index, section: ifc.section, interfaceId: ifc.id, sec: t.sec + ifc.tsOffset, nsec: t.nsec,
    };
    this.options(v, p + 20, p + len - 4, at, (code, vp, vl) => {
      if (vl !== 8) return;
      if (code === 2 || code === 3) {
        timeFromTicks(v.getUint32(vp, le), v.getUint32(vp + 4, le), ifc.tsresol, t);
        if (code === 2) { st.startSec = t.sec + ifc.tsOffset; st.startNsec = t.nsec; }
        else { st.endSec = t.sec + ifc.tsOffset; st.endNsec = t.nsec; }
        return;
      }
      const n = this.u64(v, vp);
      switch (code) {
        case 4: st.received = n; break;
        case 5: st.dropped = n; break;
        case 6: st.filterAccept = n; break;
        case 7: st.osDrop = n; break;
        case 8: st.delivered = n; break;
      }
    });
    this.statistics[ifc.index] = st;
    if (this.onStats) this.onStats(st);
  }
}
