/**
 * One output capture file written block by block: the file header (pcap
 * header, or pcapng SHB + IDB) through the classic writers, then each block
 * table with ONE native writev, then (pcapng) an Interface Statistics Block
 * at close. The file is valid after every completed block write, so a
 * killed process leaves everything up to its last block readable; on a write
 * error the file is cut back to the end of the last complete block.
 */
import * as fs from 'node:fs';
import { native } from '../native.js';
import type { BlockTable } from './block-table.js';
import { PcapWriter } from './pcap-writer.js';
import { PcapngWriter } from './pcapng-writer.js';
import type { WriterStatistics } from './writer-types.js';

/** How an output file is laid out. */
export interface CaptureFileFormat {
  format: 'pcap' | 'pcapng';
  linkType: number;
  snaplen: number;
  precision?: 'nano' | 'micro';
  /** pcapng if_name. */
  name?: string;
  bigEndian?: boolean;
}

/** A write to a capture file failed: names the file, keeps the errno code. */
export class CaptureFileError extends Error {
  /** errno name: ENOSPC, EIO, EPIPE, ... */
  readonly code: string;
  readonly path: string;
  constructor(path: string, code: string, detail: string) {
    super(`cannot write ${path === '-' ? 'standard output' : path}: ${detail}`);
    this.name = 'CaptureFileError';
    this.code = code;
    this.path = path;
  }
}

const DETAIL: Record<string, string> = {
  ENOSPC: 'no space left on device (ENOSPC)',
  EDQUOT: 'disk quota exceeded (EDQUOT)',
  EIO: 'input/output error (EIO)',
  EPIPE: 'the reading end of the pipe was closed (EPIPE)',
  EFBIG: 'file too large (EFBIG)',
  EROFS: 'read-only file system (EROFS)',
  ENODEV: 'the file system went away (ENODEV)',
  ESTALE: 'the file system went away (ESTALE)',
  EBADF: 'the file was closed (EBADF)',
};

/** The {@link CaptureFileError} of a failed open or write of `path` (errno named in words). */
export function fileError(path: string, e: unknown): CaptureFileError {
  const err = e as NodeJS.ErrnoException;
  const code = typeof err?.code === 'string' ? err.code : 'EIO';
  return new CaptureFileError(path, code, DETAIL[code] ?? (err?.message ?? String(e)));
}

/** An open capture file. `path` '-' is standard output. */
export class CaptureFile {
  readonly path: string;
  readonly fd: number;
  /** Bytes in the file (header and every completed block). */
  offset = 0;
  /** Packet records in the file. */
  records = 0;
  /** Set once a write failed: the file was cut back and closed. */
  failed: CaptureFileError | null = null;
  private readonly head: PcapWriter | PcapngWriter;
  private readonly owns: boolean;
  private readonly seekable: boolean;
  private closedFlag = false;
  private inFlight = false;

  /**
   * Creates (truncates) the file and writes its header. `mode` is the file
   * mode for a new file (default 0o644, as tcpdump).
   */
  constructor(path: string, f: CaptureFileFormat, mode = 0o644) {
    this.path = path;
    if (path === '-') { this.fd = 1; this.owns = false; }
    else {
      try { this.fd = fs.openSync(path, 'w', mode); } catch (e) { throw fileError(path, e); }
      this.owns = true;
    }
    let seekable = false;
    try { seekable = fs.fstatSync(this.fd).isFile(); } catch { /* not a regular file */ }
    this.seekable = seekable;
    try {
      this.head = f.format === 'pcap'
        ? new PcapWriter(this.fd, { linkType: f.linkType, snaplen: f.snaplen, precision: f.precision, bigEndian: f.bigEndian, bufferSize: 4096 })
        : new PcapngWriter(this.fd, {
          linkType: f.linkType, snaplen: f.snaplen, precision: f.precision, name: f.name, bigEndian: f.bigEndian, bufferSize: 4096,
        });
    } catch (e) {
      if (this.owns) try { fs.closeSync(this.fd); } catch { /* already failing */ }
      throw fileError(path, e);
    }
    this.offset = this.head.bytes;
  }

  get closed(): boolean { return this.closedFlag; }

  /** Writes the table's part synchronously (one native call). Throws {@link CaptureFileError} (file cut back and closed). */
  writeSync(t: BlockTable): void {
    if (this.closedFlag) throw new CaptureFileError(this.path, 'EBADF', 'the file is closed');
    if (t.pieces === 0) return;
    try {
      native.writev(this.fd, t.buffers, t.table, t.pieces);
    } catch (e) {
      throw this.fail(e);
    }
    this.offset += t.bytes;
    this.records += t.records;
  }

  /**
   * Writes the table's part on a pool thread; resolves when the bytes are in
   * the file (the caller releases the block only then). The table may be
   * refilled as soon as this returns. Rejects with {@link CaptureFileError}.
   */
  writeAsync(t: BlockTable): Promise<void> {
    if (this.closedFlag) return Promise.reject(new CaptureFileError(this.path, 'EBADF', 'the file is closed'));
    if (t.pieces === 0) return Promise.resolve();
    if (this.inFlight) return Promise.reject(new Error('CaptureFile.writeAsync: one write at a time'));
    const bytes = t.bytes, records = t.records;
    this.inFlight = true;
    return new Promise<void>((resolve, reject) => {
      native.writevAsync(this.fd, t.buffers, t.table, t.pieces, (err) => {
        this.inFlight = false;
        if (err !== null) { reject(this.fail(err)); return; }
        this.offset += bytes;
        this.records += records;
        resolve();
      });
    });
  }

  /** Cuts the file back to its last complete block, closes it, remembers and returns the error. */
  private fail(e: unknown): CaptureFileError {
    const err = fileError(this.path, e);
    this.failed = err;
    if (this.seekable) try { fs.ftruncateSync(this.fd, this.offset); } catch { /* best effort */ }
    this.closedFlag = true;
    if (this.owns) try { fs.closeSync(this.fd); } catch { /* already failing */ }
    return err;
  }

  /**
   * pcapng: appends an Interface Statistics Block (returns false for pcap).
   * Throws {@link CaptureFileError} when the write fails.
   */
  writeStatistics(stats: WriterStatistics): boolean {
    if (this.closedFlag || this.head.format !== 'pcapng') return false;
    try {
      const before = this.head.bytes;
      this.head.writeStatistics(stats);
      this.head.flush();
      this.offset += this.head.bytes - before;
    } catch (e) {
      throw this.fail(e);
    }
    return true;
  }

  /** Closes the file (idempotent). With `stats`, a pcapng file ends with an ISB first. */
  close(stats?: WriterStatistics): void {
    if (this.closedFlag) return;
    try {
      if (stats !== undefined) this.writeStatistics(stats);
    } finally {
      if (!this.closedFlag) {
        this.closedFlag = true;
        if (this.owns) fs.closeSync(this.fd);
      }
    }
  }
}
