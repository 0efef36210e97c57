import type { PacketLike } from '../packet-like.js';
import { LinkType, MAX_SNAPLEN, PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC } from './constants.js';
import { vlanInsertOffset, writeFrame } from './frame-copy.js';
import { ByteSink, type WriteTarget } from './sink.js';
import type { CaptureWriter, WriterStatistics } from './writer-types.js';

/** Options of {@link PcapWriter}. */
export interface PcapWriterOptions {
  /** LINKTYPE_* of every record (default 1, Ethernet). */
  linkType?: number;
  /** Snapshot length in the header; longer frames are cut (default 262144). */
  snaplen?: number;
  /** Timestamp precision: 'nano' (magic 0xA1B23C4D, the default) or 'micro' (0xA1B2C3D4). */
  precision?: 'nano' | 'micro';
  /** Write big-endian (default: little-endian, the host order on Linux x86/arm). */
  bigEndian?: boolean;
  /** Size of the reusable output buffer (default 1 MiB). */
  bufferSize?: number;
}

/**
 * Classic pcap writer: a 24-byte header then 16-byte record headers and the
 * frames, buffered and pushed with `fs.writeSync`.
 */
export class PcapWriter implements CaptureWriter {
  readonly format = 'pcap' as const;
  readonly linkType: number;
  readonly snaplen: number;
  readonly precision: 'nano' | 'micro';
  private readonly sink: ByteSink;
  private readonly le: boolean;
  private readonly tagAt: number;
  private readonly nano: boolean;
  private count = 0;

  constructor(target: WriteTarget, options: PcapWriterOptions = {}) {
    this.linkType = options.linkType ?? LinkType.Ethernet;
    this.snaplen = options.snaplen ?? MAX_SNAPLEN;
    if (!(this.snaplen > 0 && this.snaplen <= 0x7fffffff)) throw new RangeError(`pcap snaplen must be 1..2^31-1, got ${this.snaplen}`);
    this.precision = options.precision ?? 'nano';
    this.nano = this.precision === 'nano';
    this.le = !options.bigEndian;
    this.tagAt = vlanInsertOffset(this.linkType);
    this.sink = new ByteSink(target, options.bufferSize);
    const s = this.sink;
    s.reserve(24);
    const v = s.view, p = s.pos, le = this.le;
    v.setUint32(p, this.precision === 'nano' ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC, le);
    v.setUint16(p + 4, 2, le);
    v.setUint16(p + 6, 4, le);
    v.setUint32(p + 8, 0, le);
    v.setUint32(p + 12, 0, le);
    v.setUint32(p + 16, this.snaplen, le);
    v.setUint32(p + 20, this.linkType, le);
    s.pos = p + 24;
    s.flush(); // an empty capture is already a valid file
  }

  get packets(): number { return this.count; }
  get bytes(): number { return this.sink.flushed + this.sink.pos; }
  get closed(): boolean { return this.sink.closed; }

  write(
    data: Uint8Array, offset: number, caplen: number, wireLen: number, sec: number, nsec: number,
    vlanTci = -1, vlanTpid = 0,
  ): void {
    let tagAt = -1;
    if (vlanTci >= 0 && this.tagAt >= 0 && caplen >= this.tagAt) {
      tagAt = this.tagAt;
      caplen += 4;
      wireLen += 4;
    }
    const out = caplen > this.snaplen ? this.snaplen : caplen;
    const s = this.sink;
    s.reserve(16 + out);
    const v = s.view, p = s.pos, le = this.le;
    v.setUint32(p, sec, le);
    v.setUint32(p + 4, this.nano ? nsec : Math.floor(nsec / 1000), le);
    v.setUint32(p + 8, out, le);
    v.setUint32(p + 12, wireLen, le);
    writeFrame(s.buf, v, p + 16, data, offset, out, tagAt, vlanTpid || 0x8100, vlanTci);
    s.pos = p + 16 + out;
    this.count++;
  }

  writePacket(p: PacketLike, _ifaceId?: number): void {
    this.write(p.data, p.offset, p.caplen, p.wireLen, p.sec, p.nsec,
      p.vlanValid ? p.vlanTci : -1, p.vlanTpid);
  }

  /** pcap has no place for statistics: always false. */
  writeStatistics(_stats: WriterStatistics, _ifaceId?: number): boolean { return false; }
  /** Ignored: pcap files cannot carry statistics. */
  setStatisticsSource(_source: (() => WriterStatistics | undefined) | null, _ifaceId?: number): void { /* no-op */ }

  flush(): void { this.sink.flush(); }
  close(): void { this.sink.close(); }
}
