import type { ByteSource } from './source.js';
import { PcapFormatError } from './errors.js';
import { FileRecord } from './record.js';
import type { TsResolution } from './time.js';

/** Options shared by the pcap and pcapng readers. */
export interface ReaderOptions {
  /** Read chunk / initial buffer size (default 1 MiB). */
  bufferSize?: number;
  /** Largest captured length accepted (default 262144, libpcap's maximum). */
  maxCaplen?: number;
  /** Largest pcapng block accepted (default 16 MiB). */
  maxBlockLength?: number;
  /**
   * Refuse records whose caplen exceeds the snapshot length of their file or
   * interface (CAPLEN_EXCEEDS_SNAPLEN). Default false: such records are read
   * whole, as libpcap and Wireshark read them, and `onWarning` is told once.
   * Set true to validate files strictly.
   */
  strictSnaplen?: boolean;
  /**
   * Called once per kind of irregularity the reader accepted (today:
   * CAPLEN_EXCEEDS_SNAPLEN when `strictSnaplen` is false), with the offset of
   * the first record that showed it.
   */
  onWarning?: (warning: ReaderWarning) => void;
  /**
   * What a file that ends inside a record does: 'throw' (default) delivers
   * every complete record, then `next()` throws a TRUNCATED PcapFormatError,
   * as tcpdump reports "truncated dump file"; 'end' ends the iteration
   * quietly and sets `truncated` (useful on a file still being written).
   */
  onTruncated?: 'throw' | 'end';
  /** Called for every Interface Statistics Block (pcapng). */
  onStatistics?: (stats: FileStatistics) => void;
}

/** Something irregular a lenient reader accepted (see `ReaderOptions.onWarning`). */
export interface ReaderWarning {
  code: 'CAPLEN_EXCEEDS_SNAPLEN';
  /** File offset of the first record that showed it. */
  offset: number;
  message: string;
}

/** A capture interface: the pcap file header, or one pcapng IDB. */
export interface FileInterface {
  /** Index in the reader's `interfaces` list. */
  index: number;
  /** pcapng section (0 for pcap). */
  section: number;
  /** Interface id within its section (what `FileRecord.ifindex` holds). */
  id: number;
  linkType: number;
  /** Snapshot length (0 = none given). */
  snaplen: number;
  /** Timestamp resolution. */
  tsresol: TsResolution;
  /** if_name. */
  name?: string;
  /** if_description. */
  description?: string;
  /** FCS bytes at the end of each frame, when the file says. */
  fcsLen?: number;
  /** if_tsoffset seconds added to every timestamp. */
  tsOffset: number;
}

/** One pcapng Interface Statistics Block. */
export interface FileStatistics {
  /** Index in the reader's `interfaces` list. */
  interfaceIndex: number;
  section: number;
  /** Interface id within its section. */
  interfaceId: number;
  /** When the statistics were taken. */
  sec: number;
  nsec: number;
  /** isb_ifrecv */ received?: number;
  /** isb_ifdrop */ dropped?: number;
  /** isb_filteraccept */ filterAccept?: number;
  /** isb_osdrop */ osDrop?: number;
  /** isb_usrdeliv */ delivered?: number;
  /** isb_starttime */ startSec?: number; startNsec?: number;
  /** isb_endtime */ endSec?: number; endNsec?: number;
}

/** Information from a pcapng Section Header Block. */
export interface FileSection {
  index: number;
  /** File offset of the SHB. */
  offset: number;
  bigEndian: boolean;
  version: string;
  hardware?: string;
  os?: string;
  application?: string;
}

/**
 * Common reader surface. Records come through ONE reused {@link FileRecord}
 * (valid until the next read; `copy()` keeps one). Use `for (const rec of
 * reader)`, or the batch-style `next()` / `forEach()` loop.
 */
export abstract class CaptureReaderBase implements Iterable<FileRecord> {
  abstract readonly format: 'pcap' | 'pcapng';
  /** Interfaces seen so far (pcap: exactly one, from the file header). */
  readonly interfaces: FileInterface[] = [];
  /** Latest statistics per interface (indexed like `interfaces`), pcapng only. */
  readonly statistics: Array<FileStatistics | undefined> = [];
  /** True when the file ended inside a record and `onTruncated` is 'end'. */
  truncated = false;
  /** Records delivered so far. */
  count = 0;
  protected readonly rec = new FileRecord();
  protected readonly src: ByteSource;
  protected readonly maxCaplen: number;
  protected readonly strictSnaplen: boolean;
  private readonly truncMode: 'throw' | 'end';
  private readonly onWarning: ((w: ReaderWarning) => void) | undefined;
  private readonly warned = new Set<string>();
  private failure: PcapFormatError | null = null;
  private done = false;
  private readonly iterResult: { value: FileRecord; done: boolean } = { value: this.rec, done: false };

  protected constructor(src: ByteSource, options: ReaderOptions) {
    this.src = src;
    this.maxCaplen = options.maxCaplen ?? 262144;
    this.strictSnaplen = options.strictSnaplen ?? false;
    this.onWarning = options.onWarning;
    this.truncMode = options.onTruncated ?? 'throw';
  }

  /** Link type of the first interface (the file's link type for pcap). */
  get linkType(): number { return this.interfaces.length > 0 ? this.interfaces[0].linkType : -1; }

  /** File offset of the next unread byte. */
  get position(): number { return this.src.position; }

  /** Reads the next record into the shared record object, or returns null at the end. */
  next(): FileRecord | null {
    if (this.failure !== null) throw this.failure;
    if (this.done) return null;
    try {
      if (this.readRecord()) { this.count++; return this.rec; }
      this.done = true;
      return null;
    } catch (err) {
      if (err instanceof PcapFormatError) {
        if (err.code === 'TRUNCATED' && this.truncMode === 'end') {
          this.truncated = true;
          this.done = true;
          return null;
        }
        this.failure = err;
      }
      throw err;
    }
  }

  /** Calls `fn` for each record (the shared object) until the end or `fn` returns false; returns the count. */
  forEach(fn: (rec: FileRecord) => void | boolean): number {
    let n = 0;
    for (let r = this.next(); r !== null; r = this.next()) {
      n++;
      if (fn(r) === false) break;
    }
    return n;
  }

  [Symbol.iterator](): Iterator<FileRecord> {
    const res = this.iterResult;
    return {
      next: () => {
        const r = this.next();
        res.done = r === null;
        return res as IteratorResult<FileRecord>;
      },
    };
  }

  /** Closes the file if the reader opened it. Idempotent. */
  close(): void {
    this.done = true;
    this.src.close();
  }

  /** Reads one record into `rec`; false at a clean end of file. */
  protected abstract readRecord(): boolean;

  /** A record whose caplen exceeds its snapshot length: an error in strict mode, else one warning per reader. */
  protected caplenOverSnaplen(at: number, message: string): void {
    if (this.strictSnaplen) throw new PcapFormatError('CAPLEN_EXCEEDS_SNAPLEN', at, message);
    if (this.warned.has('CAPLEN_EXCEEDS_SNAPLEN')) return;
    this.warned.add('CAPLEN_EXCEEDS_SNAPLEN');
    this.onWarning?.({ code: 'CAPLEN_EXCEEDS_SNAPLEN', offset: at, message: `${message} (read whole, as libpcap does; later records not reported)` });
  }

  protected truncatedError(at: number, what: string, want: number, got: number): PcapFormatError {
    return new PcapFormatError('TRUNCATED', at, `truncated capture file: ${what} needs ${want} bytes, only ${got} left`);
  }
}
