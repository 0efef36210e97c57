/**
 * The write path of `netring capture -i IF -w FILE`: every retired ring
 * block goes to the file as it comes with one native writev (on a pool
 * thread, so a slow disk never blocks the event loop: it shows up as ring
 * pressure and kernel-counted drops), and the block is handed back to the
 * kernel only after its write completed. Rotation (-C/-G/-W), post-rotate
 * command (-z), compression of closed files (--compress), privilege drop
 * after the first file is open (-Z), standard output (-w -; a closed pipe
 * ends the capture quietly), and write errors (one line naming the file,
 * file cut back to its last complete block, exit 1).
 */
import { spawn, execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, accessSync, constants as fsc, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Capture, PacketView } from '../ring/index.js';
import { CaptureFileError, chooseFormat, RingFileWriter, type RotationOptions } from '../pcap/index.js';
import { InvalidArgumentError } from 'commander';
import { UsageError } from './args.js';

/** The -w related options of `netring capture`. */
export interface WriteCliOptions {
  write?: string;
  format?: string;
  snaplen?: number;
  /** -C: rotate once a file exceeds this many bytes (parsed by {@link fileSizeArg}). */
  fileSize?: number;
  /** -G: rotate every this many seconds. */
  rotateSeconds?: number;
  /** -W: number of files. */
  fileCount?: number;
  /** -z: command run on each closed file. */
  postRotate?: string;
  /** --compress zstd|gzip for closed files. */
  compress?: 'zstd' | 'gzip';
  /** -Z: user to become after the capture and the first file are open. */
  relinquish?: string;
  /** -U: packet-buffered output (every block is written as it retires anyway). */
  packetBuffered?: boolean;
}

/** Checks the combination of write options (before anything is opened). */
export function checkWriteOptions(o: WriteCliOptions): RotationOptions | undefined {
  const rotating = o.fileSize !== undefined || o.rotateSeconds !== undefined;
  if (o.write === undefined) {
    for (const [flag, v] of [['-C', o.fileSize], ['-G', o.rotateSeconds], ['-W', o.fileCount], ['-z', o.postRotate], ['--compress', o.compress]] as const)
      if (v !== undefined) throw new UsageError(`${flag} goes with -w FILE`);
    return undefined;
  }
  if (o.fileCount !== undefined && !rotating) throw new UsageError('-W goes with -C or -G');
  if (rotating && o.write === '-') throw new UsageError('-C and -G need a file name, not -w -');
  if ((o.postRotate !== undefined || o.compress !== undefined) && o.write === '-') throw new UsageError('-z and --compress need a file name, not -w -');
  if (!rotating) return undefined;
  return {
    sizeBytes: o.fileSize,
    seconds: o.rotateSeconds,
    count: o.fileCount,
  };
}

/**
 * tcpdump's -C argument: millions of bytes (1,000,000), or with a k, m or g
 * suffix KiB, MiB or GiB. Returns bytes.
 */
export function fileSizeArg(v: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(v.trim());
  if (!m || Number(m[1]) < 1) throw new InvalidArgumentError(`-C must be a positive size in millions of bytes, or with a k/m/g suffix (got "${v}")`);
  const unit = { '': 1_000_000, k: 1024, m: 1 << 20, g: 1 << 30 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}

/** uid/gid of a user name or number, from the passwd database. */
export function lookupUser(user: string): { name: string; uid: number; gid: number } {
  let line: string;
  try {
    line = execFileSync('getent', ['passwd', user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    throw new UsageError(`-Z: no such user '${user}'`);
  }
  const f = line.split('\n')[0].split(':');
  return { name: f[0], uid: Number(f[2]), gid: Number(f[3]) };
}

/**
 * Becomes `user` (supplementary groups, gid, uid, as tcpdump's -Z). A no-op
 * when not running as root. After this the process cannot open new capture
 * sockets; the open ones keep working.
 */
export function dropPrivileges(user: string): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  const u = lookupUser(user);
  try {
    const p = process as NodeJS.Process & { initgroups?: (user: string, extra: number) => void };
    p.initgroups?.(u.name, u.gid);
    process.setgid!(u.gid);
    process.setuid!(u.uid);
  } catch (e) {
    throw new Error(`-Z: could not change to '${user}' uid=${u.uid} gid=${u.gid}: ${(e as Error).message}`);
  }
}

/** Runs what happens to each closed file: compression, then -z CMD FILE. Keeps track so the end can wait. */
export class AfterClose {
  private readonly pending: Array<Promise<void>> = [];
  constructor(private readonly compress: 'zstd' | 'gzip' | undefined, private readonly cmd: string | undefined, private readonly log: (l: string) => void) {}

  get active(): boolean { return this.compress !== undefined || this.cmd !== undefined; }

  closed(path: string): void {
    if (!this.active) return;
    this.pending.push(this.run(path).catch((e: Error) => this.log(`netring: ${e.message}`)));
  }

  private async run(path: string): Promise<void> {
    let file = path;
    if (this.compress === 'zstd') {
      await runCommand('zstd', ['-q', '-f', '--rm', file], `--compress zstd on ${file}`);
      file = `${file}.zst`;
    } else if (this.compress === 'gzip') {
      try {
        await runCommand('gzip', ['-f', file], `--compress gzip on ${file}`, true);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        await pipeline(createReadStream(file), createGzip(), createWriteStream(`${file}.gz`)); // no gzip binary: node:zlib
        rmSync(file);
      }
      file = `${file}.gz`;
    }
    if (this.cmd !== undefined) await runCommand(this.cmd, [file], `-z ${this.cmd} ${file}`);
  }

  /** Waits for every compression and -z command started so far. */
  async settle(): Promise<void> {
    while (this.pending.length > 0) await this.pending.shift();
  }
}

function runCommand(cmd: string, args: string[], what: string, passEnoent = false): Promise<void> {
  return new Promise((res, rej) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    c.on('error', (e: NodeJS.ErrnoException) => {
      if (passEnoent && e.code === 'ENOENT') rej(e);
      else rej(new Error(`${what}: ${e.code === 'ENOENT' ? `${cmd} not found` : e.message}`));
    });
    c.on('exit', (code, sig) => (code === 0 ? res() : rej(new Error(`${what} failed (${sig ?? `exit ${code}`})`))));
  });
}

/** What the write loop reports back. */
export interface LiveWriteResult {
  /** Packets taken from the ring. */
  received: number;
  /** Packets that passed the user-space filter part. */
  matched: number;
  /** Records in the files (completed writes only). */
  written: number;
  /** Wire bytes of the matched packets. */
  bytes: number;
  /** Files written (more than one when rotating). */
  files: string[];
  /** The one-line write error, when writing failed (not for a closed pipe). */
  error?: string;
  /** Matched packets taken from the ring but not in a file because writing failed. */
  unwritten: number;
  /** Set when the interface was deleted: everything its ring held was written first. */
  fault?: string;
}

/** Options of {@link captureToFile}. */
export interface LiveWriteOptions extends WriteCliOptions {
  write: string;
  iface: string;
  /** -c */
  count?: number;
  /** --seconds */
  seconds?: number;
  /** User-space part of the filter. */
  match: ((p: PacketView) => boolean) | null;
  log?: (line: string) => void;
  /** Called once the first file is open and privileges are dropped. */
  onReady?: () => void;
}

/**
 * Captures from `cap` into files until count, time, SIGINT/SIGTERM/SIGHUP,
 * -G/-W's last file, a closed stdout or a write error. Closes `cap`.
 */
export async function captureToFile(cap: Capture, o: LiveWriteOptions): Promise<LiveWriteResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const rotate = checkWriteOptions(o);
  const after = new AfterClose(o.compress, o.postRotate, log);
  const w = new RingFileWriter(cap.ring, {
    path: o.write, blockSize: cap.geometry.blockSize, format: chooseFormat(o.write, o.format), linkType: 1,
    snaplen: o.snaplen ?? 262144, name: o.iface, rotate,
    statistics: () => { const st = cap.stats(); return { received: st.kernelPackets, dropped: st.drops }; },
    onFileClosed: (p) => after.closed(p),
  });
  if (o.relinquish !== undefined) {
    try {
      dropPrivileges(o.relinquish);
      if (rotate !== undefined) {
        const dir = dirname(resolve(w.file.path));
        try { accessSync(dir, fsc.W_OK | fsc.X_OK); } catch {
          throw new Error(`-Z ${o.relinquish}: the user cannot create files in ${dir}, which rotation (-C/-G) needs`);
        }
      }
    } catch (e) {
      w.close();
      cap.close();
      throw e;
    }
  }
  o.onReady?.();
  const limit = o.count ?? Infinity;
  let inFlight = false;
  let stop = false;
  const requestStop = (): void => {
    stop = true;
    if (!inFlight) cap.close(); // wakes the iterator; never while a write reads the ring
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, requestStop);
  const timer = o.seconds !== undefined ? setTimeout(requestStop, o.seconds * 1000) : undefined;
  let error: CaptureFileError | null = null;
  let taken = 0;
  let gone = false;
  try {
    // the iterator drains the ring of a deleted interface, then throws ENODEV: end like a stop, and say so
    try { for await (const batch of cap) {
      if (stop) break;
      taken += batch.count;
      inFlight = true;
      try {
        await w.writeBlockAsync(batch, limit - w.written, o.match);
      } catch (e) {
        if (!(e instanceof CaptureFileError)) throw e;
        error = e;
      } finally {
        inFlight = false;
      }
      if (error !== null || stop || w.finished || w.written >= limit) break;
    } } catch (e) {
      if (cap.linkState !== 'gone') throw e;
      gone = true;
    }
  } finally {
    for (const s of signals) process.off(s, requestStop);
    clearTimeout(timer);
    if (cap.isOpen) cap.close();
    try { w.close(); } catch (e) { if (error === null && e instanceof CaptureFileError) error = e; else if (!(e instanceof CaptureFileError)) throw e; }
    await after.settle();
  }
  // Without an error, packets of the last block past -c were never looked at: they are not counted.
  // After a write error every packet taken from the ring counts; those not filtered out and not in a file are "unwritten".
  const received = error !== null ? taken : w.walked;
  const matched = received - w.rejected;
  const quiet = error !== null && error.code === 'EPIPE';
  return {
    received, matched, written: w.written, bytes: w.wireBytes, files: w.files,
    unwritten: error !== null ? matched - w.written : 0,
    ...(error !== null && !quiet ? { error: error.message } : {}),
    ...(gone ? { fault: `interface ${o.iface} went away` } : {}),
  };
}
