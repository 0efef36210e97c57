import * as fs from 'node:fs';
import { DEFAULT_BUFFER_SIZE } from './constants.js';

/** What a reader reads: a path ('-' = stdin), an open file descriptor, or bytes in memory. */
export type ReadSource = string | number | Uint8Array;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Chunked input with constant memory: one reusable buffer refilled with
 * `fs.readSync`. Unread bytes are `buf[start, end)`; `base` is the file
 * offset of `buf[0]`. `fill(n)` compacts and reads so that at least `n`
 * bytes are available (fewer only at end of file). Bytes before `start` may
 * be moved or overwritten by the next `fill`.
 *
 * With `follow` the input is a file another writer is still growing: a read
 * that finds no more bytes does not end the input, and a later `fill` reads
 * what was appended since.
 */
export class ByteSource {
  buf: Uint8Array;
  view: DataView;
  start = 0;
  end = 0;
  base = 0;
  eof = false;
  private readonly fd: number;
  private readonly ownsFd: boolean;
  private closedFlag = false;
  private readonly follow: boolean;

  constructor(src: ReadSource, chunkSize = DEFAULT_BUFFER_SIZE, follow = false) {
    this.follow = follow;
    if (src instanceof Uint8Array) {
      this.fd = -1;
      this.ownsFd = false;
      this.buf = src;
      this.end = src.length;
      this.eof = true;
    } else {
      if (typeof src === 'number') { this.fd = src; this.ownsFd = false; }
      else if (src === '-') { this.fd = 0; this.ownsFd = false; }
      else { this.fd = fs.openSync(src, 'r'); this.ownsFd = true; }
      this.buf = new Uint8Array(Math.max(4096, chunkSize));
    }
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** File offset of the next unread byte. */
  get position(): number { return this.base + this.start; }

  /** Ensures `n` unread bytes if the input has them; returns how many are available. */
  fill(n: number): number {
    let avail = this.end - this.start;
    if (avail >= n || this.eof) return avail;
    if (this.start + n > this.buf.length) {
      if (n > this.buf.length) {
        const bigger = new Uint8Array(Math.max(n, this.buf.length * 2));
        bigger.set(this.buf.subarray(this.start, this.end));
        this.buf = bigger;
        this.view = new DataView(bigger.buffer);
      } else {
        this.buf.copyWithin(0, this.start, this.end);
      }
      this.base += this.start;
      this.end -= this.start;
      this.start = 0;
    }
    while (avail < n) {
      const got = this.read(this.end, this.buf.length - this.end);
      if (got === 0) {
        if (!this.follow) this.eof = true;
        break;
      }
      this.end += got;
      avail += got;
    }
    return avail;
  }

  private read(at: number, len: number): number {
    if (this.closedFlag) throw new Error('capture file reader is closed');
    for (;;) {
      try {
        return fs.readSync(this.fd, this.buf, at, len, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') { Atomics.wait(sleepCell, 0, 0, 1); continue; }
        if (code === 'EOF') return 0;
        throw err;
      }
    }
  }

  /** Closes the descriptor if this source opened it. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.eof = true;
    if (this.ownsFd) fs.closeSync(this.fd);
  }
}
