import * as fs from 'node:fs';
import { DEFAULT_BUFFER_SIZE } from './constants.js';

/** Where a writer sends its bytes: a path, '-' for stdout, or an open file descriptor. */
export type WriteTarget = string | number;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `buf[off, off+len)` to `fd`, retrying short writes and EAGAIN. */
export function writeAll(fd: number, buf: Uint8Array, off: number, len: number): void {
  while (len > 0) {
    let n: number;
    try {
      n = fs.writeSync(fd, buf, off, len);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(sleepCell, 0, 0, 1); // non-blocking stdout: wait 1 ms and retry
        continue;
      }
      throw err;
    }
    off += n;
    len -= n;
  }
}

/**
 * A large reusable output buffer in front of a file descriptor. Writers fill
 * `buf` at `pos` directly (through `view` for integers) after `reserve(n)`,
 * and the bytes go out with one `fs.writeSync` when the buffer is full, on
 * `flush()` and on `close()`.
 */
export class ByteSink {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  /** Bytes handed to the file descriptor so far. */
  flushed = 0;
  readonly fd: number;
  private readonly ownsFd: boolean;
  private closedFlag = false;

  constructor(target: WriteTarget, bufferSize = DEFAULT_BUFFER_SIZE) {
    if (typeof target === 'number') { this.fd = target; this.ownsFd = false; }
    else if (target === '-') { this.fd = 1; this.ownsFd = false; }
    else { this.fd = fs.openSync(target, 'w'); this.ownsFd = true; }
    this.buf = new Uint8Array(Math.max(4096, bufferSize));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  get closed(): boolean { return this.closedFlag; }

  /** Makes room for `n` more bytes at `pos` (flushing, or growing for a huge record). */
  reserve(n: number): void {
    if (this.closedFlag) throw new Error('capture file writer is closed');
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) {
      this.buf = new Uint8Array(n);
      this.view = new DataView(this.buf.buffer);
    }
  }

  /** Sends the buffered bytes to the file descriptor. */
  flush(): void {
    if (this.pos === 0) return;
    const n = this.pos;
    this.pos = 0;
    writeAll(this.fd, this.buf, 0, n);
    this.flushed += n;
  }

  /** Flushes and closes the descriptor if this sink opened it. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    try {
      this.flush();
    } finally {
      this.closedFlag = true;
      if (this.ownsFd) fs.closeSync(this.fd);
    }
  }
}
