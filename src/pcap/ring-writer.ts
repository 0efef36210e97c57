/**
 * RingFileWriter: capture files written straight from ring memory, one
 * native writev per retired block (or per part of one when a file rotates
 * inside it), with tcpdump's rotation (-C/-G/-W). Each file is complete and
 * valid on its own (pcap header, or pcapng SHB + IDB at the top and an ISB
 * with the kernel's counters at the end); the caller releases a block only
 * after {@link RingFileWriter.writeBlock} returned (or its promise settled).
 *
 * The byte layout equals {@link PcapWriter}'s / {@link PcapngWriter}'s for
 * the same packets (see {@link BlockTable}). Nothing is written into the
 * ring: the batch stays readable after its block was written.
 */
import type { Batch } from '../ring/batch.js';
import type { PacketView } from '../ring/packet.js';
import { BlockTable } from './block-table.js';
import { CaptureFile, type CaptureFileFormat } from './capture-file.js';
import { Rotation, type RotationFiles, type RotationOptions } from './rotation.js';
import type { WriterStatistics } from './writer-types.js';

/** Options of {@link RingFileWriter}. */
export interface RingFileWriterOptions extends CaptureFileFormat {
  /** Output path ('-' = standard output); with -G a strftime pattern. */
  path: string;
  /** Ring block size (sizes the header arena). */
  blockSize: number;
  rotate?: RotationOptions;
  /** pcapng: epb_flags from the packet type (default true). */
  directionFromPktType?: boolean;
  /** Statistics for each file's closing ISB (pcapng; kernel counters are cumulative). */
  statistics?: () => WriterStatistics | undefined;
  /** Called with the path of every file once it is closed complete (rotation and the final close). */
  onFileClosed?: (path: string) => void;
  /** Called before each new file is opened (e.g. to report its name). */
  onFileOpened?: (path: string) => void;
  /** Clock in seconds (tests); default time(2). */
  now?: () => number;
  /** Mode of created files (default 0o644). */
  mode?: number;
}

const unixNow = (): number => Math.floor(Date.now() / 1000);

export class RingFileWriter {
  /** The gather table (exposed for tests and benchmarks). */
  readonly table: BlockTable;
  /** The file being written. */
  file: CaptureFile;
  /** Records written to every file so far. */
  written = 0;
  /** Packets walked (matched or not) and wire bytes of the matched ones, over all blocks. */
  walked = 0;
  wireBytes = 0;
  /** Packets the predicate rejected, over all blocks. */
  rejected = 0;
  /** Every file opened, in order. */
  readonly files: string[] = [];
  /** True once -W with -G reached its file count: the capture should stop. */
  finished = false;
  private readonly o: RingFileWriterOptions;
  private readonly rotation: Rotation;
  private readonly now: () => number;
  private readonly rotationFiles: RotationFiles = {
    close: () => this.closeCurrent(),
    open: (name) => { this.file = this.open(name); },
  };

  constructor(ring: ArrayBuffer, o: RingFileWriterOptions) {
    this.o = o;
    this.now = o.now ?? unixNow;
    this.rotation = new Rotation(o.path, o.rotate, this.now());
    if (this.rotation.active && o.path === '-') throw new RangeError('rotation (-C/-G) needs a file name, not standard output');
    this.table = new BlockTable(ring, o.blockSize, {
      format: o.format, linkType: o.linkType, snaplen: o.snaplen, precision: o.precision, bigEndian: o.bigEndian,
      directionFromPktType: o.directionFromPktType,
    });
    this.file = this.open(this.rotation.firstName());
  }

  /** Records in the current file. */
  get records(): number { return this.file.records; }

  private open(path: string): CaptureFile {
    this.o.onFileOpened?.(path);
    const f = new CaptureFile(path, this.o, this.o.mode);
    this.files.push(path);
    this.table.firstSec = -1;
    this.table.lastSec = -1;
    return f;
  }

  private statsFor(): WriterStatistics | undefined {
    const s = this.o.statistics?.();
    if (s === undefined) return undefined;
    const t = this.table;
    const out: WriterStatistics = { ...s };
    if (t.firstSec >= 0 && out.startSec === undefined) { out.startSec = t.firstSec; out.startNsec = t.firstNsec; }
    if (t.lastSec >= 0 && out.endSec === undefined) { out.endSec = t.lastSec; out.endNsec = t.lastNsec; }
    return out;
  }

  private closeCurrent(): void {
    const f = this.file;
    if (f.closed) return;
    f.close(this.statsFor());
    this.o.onFileClosed?.(f.path);
  }

  /** Rotates if due; false when the capture must stop (-G with -W reached). */
  private step(): boolean {
    if (this.rotation.step(this.file.offset, this.now, this.rotationFiles)) return true;
    this.finished = true;
    return false;
  }

  /**
   * Writes the batch's packets (at most `limit` records; with `match`, only
   * packets it accepts, seen through `view`) synchronously: one writev per
   * part. Returns the records written. Throws {@link CaptureFileError}
   * (the file is cut back to its last complete block and closed).
   */
  writeBlock(batch: Batch, limit = Infinity, match: ((p: PacketView) => boolean) | null = null): number {
    const t = this.table;
    t.begin(batch);
    let n = 0;
    while (this.nextPart(batch, n, limit, match)) {
      this.file.writeSync(t);
      n += t.records;
      this.written += t.records;
    }
    return n;
  }

  /** {@link writeBlock} with the writes on a pool thread: the event loop keeps running while the disk works. */
  async writeBlockAsync(batch: Batch, limit = Infinity, match: ((p: PacketView) => boolean) | null = null): Promise<number> {
    const t = this.table;
    t.begin(batch);
    let n = 0;
    while (this.nextPart(batch, n, limit, match)) {
      await this.file.writeAsync(t);
      n += t.records;
      this.written += t.records;
    }
    return n;
  }

  /**
   * Fills the table with the batch's next part (what fits the current file,
   * after rotating if due), `n` of `limit` records written so far. False
   * when the batch is done, the limit reached or the writer finished.
   */
  private nextPart(batch: Batch, n: number, limit: number, match: ((p: PacketView) => boolean) | null): boolean {
    const t = this.table;
    if (t.remaining <= 0 || n >= limit || !this.step()) return false;
    t.fill(limit - n, this.rotation.budget(this.file.offset), match, match !== null ? batch.packet : null);
    this.walked += t.walked;
    this.wireBytes += t.wireBytes;
    this.rejected += t.rejected;
    return true;
  }

  /** Time-based rotation check without a packet (tcpdump rotates only when a packet comes; this is for idle captures). */
  tick(): void {
    if (!this.file.closed && !this.finished) this.step();
  }

  /** Closes the current file (pcapng: with the final ISB). Idempotent. */
  close(): void {
    if (this.file.failed !== null) return;
    this.closeCurrent();
  }
}
