import { PCAP_MAGIC_MODIFIED, PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC } from './constants.js';
import { PcapFormatError } from './errors.js';
import { CaptureReaderBase, type ReaderOptions } from './reader-types.js';
import { ByteSource, type ReadSource } from './source.js';
import { TsResolution } from './time.js';

function swap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/**
 * Streaming reader of classic pcap files: microsecond and nanosecond magics
 * in both byte orders (and Kuznetzov's modified format), in constant memory.
 */
export class PcapReader extends CaptureReaderBase {
  readonly format = 'pcap' as const;
  /** True when the file is big-endian. */
  readonly bigEndian: boolean;
  /** 'nano' or 'micro'. */
  readonly precision: 'nano' | 'micro';
  /** Version in the header, e.g. "2.4". */
  readonly version: string;
  /** Snapshot length from the header. */
  readonly snaplen: number;
  private readonly le: boolean;
  private readonly nano: boolean;
  private readonly hdrLen: number;
  private readonly limit: number;

  /** Opens `source` (path, '-' for stdin, fd, bytes or a ByteSource) and reads the file header. */
  constructor(source: ReadSource | ByteSource, options: ReaderOptions = {}) {
    const src = source instanceof ByteSource ? source : new ByteSource(source, options.bufferSize);
    super(src, options);
    try {
      const at = src.position;
      const got = src.fill(24);
      if (got < 4) throw this.truncatedError(at, 'the pcap file header', 24, got);
      const raw = src.view.getUint32(src.start, true);
      let le: boolean;
      let magic: number;
      if (raw === PCAP_MAGIC_USEC || raw === PCAP_MAGIC_NSEC || raw === PCAP_MAGIC_MODIFIED) { le = true; magic = raw; }
      else {
        magic = swap32(raw);
        if (magic !== PCAP_MAGIC_USEC && magic !== PCAP_MAGIC_NSEC && magic !== PCAP_MAGIC_MODIFIED) {
          throw new PcapFormatError('BAD_MAGIC', at, `not a pcap file: magic 0x${raw.toString(16).padStart(8, '0')}`);
        }
        le = false;
      }
      if (got < 24) throw this.truncatedError(at, 'the pcap file header', 24, got);
      const v = src.view, p = src.start;
      const major = v.getUint16(p + 4, le), minor = v.getUint16(p + 6, le);
      if (major !== 2) throw new PcapFormatError('BAD_VERSION', at + 4, `unsupported pcap version ${major}.${minor}`);
      const snaplen = v.getUint32(p + 16, le);
      const lt = v.getUint32(p + 20, le);
      this.le = le;
      this.bigEndian = !le;
      this.nano = magic === PCAP_MAGIC_NSEC;
      this.precision = this.nano ? 'nano' : 'micro';
      this.hdrLen = magic === PCAP_MAGIC_MODIFIED ? 24 : 16;
      this.version = `${major}.${minor}`;
      this.snaplen = snaplen;
      const max = this.maxCaplen;
      // libpcap reads records up to its maximum whatever the header's snaplen says
      this.limit = snaplen > 0 ? Math.min(snaplen, max) : max;
      const fcs = (lt & 0x04000000) !== 0 ? ((lt >>> 28) & 0xf) * 2 : undefined;
      this.interfaces.push({
        index: 0, section: 0, id: 0, linkType: lt & 0x03ffffff, snaplen,
        tsresol: new TsResolution(this.nano ? 9 : 6), fcsLen: fcs, tsOffset: 0,
      });
      this.rec.linkType = lt & 0x03ffffff;
      src.start += 24;
    } catch (err) {
      src.close();
      throw err;
    }
  }

  protected readRecord(): boolean {
    const src = this.src;
    const at = src.position;
    const h = this.hdrLen;
    let got = src.fill(h);
    if (got === 0) return false;
    if (got < h) throw this.truncatedError(at, 'a pcap record header', h, got);
    let p = src.start;
    let v = src.view;
    const le = this.le;
    const caplen = v.getUint32(p + 8, le);
    if (caplen > this.limit) {
      if (caplen > this.maxCaplen) {
        throw new PcapFormatError('BAD_CAPLEN', at, `pcap record caplen ${caplen} is larger than the maximum ${this.maxCaplen}`);
      }
      this.caplenOverSnaplen(at, `pcap record caplen ${caplen} exceeds the file snaplen ${this.snaplen}`);
    }
    got = src.fill(h + caplen);
    if (got < h + caplen) throw this.truncatedError(at, 'a pcap record', h + caplen, got);
    p = src.start;
    v = src.view;
    const rec = this.rec;
    // as the file says: an invalid fraction (usec >= 1e6) is not carried into the
    // seconds, and an original length below caplen (0 in some files) is kept
    const nsec = v.getUint32(p + 4, le);
    rec.sec = v.getUint32(p, le);
    rec.nsec = this.nano ? nsec : nsec * 1000;
    rec.caplen = caplen;
    rec.wireLen = v.getUint32(p + 12, le);
    rec.data = src.buf;
    rec.offset = p + h;
    rec.fileOffset = at;
    if (h === 24) {
      rec.ifindex = v.getUint32(p + 16, le);
      rec.pktType = src.buf[p + 22];
    }
    src.start = p + h + caplen;
    return true;
  }
}
