/**
 * RotatingWriter: tcpdump's rotation (-C/-G/-W) over record writers
 * ({@link PcapWriter}, {@link PcapngWriter}), for outputs that are written
 * record by record rather than from ring memory: the timestamp-merged file
 * of a multi-worker capture and `capture -r IN -w OUT`. Each file is valid
 * on its own (its own pcap header, or SHB + IDB at the top and, when the
 * caller gives statistics, an ISB at the end).
 */
import { Rotation, type RotationFiles, type RotationOptions } from './rotation.js';
import type { CaptureWriter, WriterStatistics } from './writer-types.js';

/** Options of {@link RotatingWriter}. */
export interface RotatingWriterOptions {
  /** Output path; with -G a strftime pattern. */
  path: string;
  rotate?: RotationOptions;
  /** Opens the writer of one file (creates/truncates it and writes its header). */
  open: (path: string) => CaptureWriter;
  /** Statistics for each file's closing ISB (pcapng; e.g. the kernel's cumulative counters). */
  statistics?: () => WriterStatistics | undefined;
  /** Called with the path of every file once it is closed complete. */
  onFileClosed?: (path: string) => void;
  /** Clock in seconds (tests); default time(2). */
  now?: () => number;
}

const unixNow = (): number => Math.floor(Date.now() / 1000);

export class RotatingWriter {
  /** The writer of the current file. */
  writer: CaptureWriter;
  /** Every file opened, in order. */
  readonly files: string[] = [];
  /** True once -W with -G reached its file count: the caller should stop. */
  finished = false;
  private readonly o: RotatingWriterOptions;
  private readonly rotation: Rotation;
  private readonly now: () => number;
  private done = 0;
  private current: string;
  private readonly rotationFiles: RotationFiles = {
    close: () => this.closeCurrent(),
    open: (name) => {
      this.current = name;
      this.writer = this.openFile(name);
    },
  };

  constructor(o: RotatingWriterOptions) {
    this.o = o;
    this.now = o.now ?? unixNow;
    this.rotation = new Rotation(o.path, o.rotate, this.now());
    if (this.rotation.active && o.path === '-') throw new RangeError('rotation (-C/-G) needs a file name, not standard output');
    this.current = this.rotation.firstName();
    this.writer = this.openFile(this.current);
  }

  /** Records written to every file so far. */
  get written(): number { return this.done + (this.writer.closed ? 0 : this.writer.packets); }

  /** True when files rotate at all. */
  get rotating(): boolean { return this.rotation.active; }

  private openFile(path: string): CaptureWriter {
    const w = this.o.open(path);
    this.files.push(path);
    return w;
  }

  private closeCurrent(): void {
    const w = this.writer;
    if (w.closed) return;
    const st = this.o.statistics?.();
    if (st !== undefined && w.format === 'pcapng') w.writeStatistics(st);
    w.close();
    this.done += w.packets;
    this.o.onFileClosed?.(this.current);
  }

  /**
   * Call before each record: opens the next file when one is due (time
   * first, then size, as tcpdump). Returns false when the output is
   * finished (-G with -W reached its file count): the record is not written.
   */
  before(): boolean {
    if (this.finished) return false;
    if (this.rotation.step(this.writer.bytes, this.now, this.rotationFiles)) return true;
    this.finished = true;
    return false;
  }

  /** Time-based rotation without a record (for idle outputs). */
  tick(): void {
    if (!this.writer.closed && !this.finished && this.rotation.seconds > 0) this.before();
  }

  /** Closes the current file (pcapng: with the statistics ISB when given). Idempotent. */
  close(): void {
    this.closeCurrent();
  }
}
