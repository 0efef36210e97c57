/**
 * The pieces of `netring capture --workers N --fanout MODE`: per-worker file
 * names (`out.%w.pcapng`), a merge of per-worker files in timestamp order,
 * live per-worker status lines, the final balance report, and
 * {@link runFanoutCapture} which puts them together (the CLI maps its options
 * onto it).
 */
import { accessSync, chownSync, constants as fsc, existsSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { group, parseFanout, toClasses, type FanoutGroup, type GroupFanout, type GroupLinkChange, type GroupStats, type GroupXdpOptions } from '../fanout/index.js';
import type { CaptureOptions } from '../ring/index.js';
import {
  fileError, openCaptureReader, openCaptureWriter, PcapngFollower, RotatingWriter,
  type CaptureFormat, type CaptureReader, type FileRecord, type FileStatistics, type RotationOptions, type WriterStatistics,
} from '../pcap/index.js';
import { generationPath, type WriterWorkerData, type WriterWorkerResult } from './fanout-writer-worker.js';
import { dropPrivileges, lookupUser } from './capture-write.js';
import { UsageError } from './args.js';

/**
 * File of worker `index`: `%w` in the pattern becomes the index; a pattern
 * without `%w` gets `.INDEX` before its extension (out.pcapng -> out.3.pcapng).
 */
export function workerFileName(pattern: string, index: number): string {
  if (pattern.includes('%w')) return pattern.replaceAll('%w', String(index));
  const m = /^(.*?)(\.[A-Za-z0-9]+)?$/.exec(pattern)!;
  return `${m[1]}.${index}${m[2] ?? ''}`;
}

/** True when a -w argument asks for one file per worker. */
export function isPerWorkerPattern(path: string): boolean {
  return path.includes('%w');
}

/** Options of {@link mergeCaptureFiles}. */
export interface MergeOptions {
  format?: CaptureFormat;
  /** Interface name for the output's interface description. */
  name?: string;
  snaplen?: number;
}

/**
 * Merge capture files (each already in timestamp order, as every worker's
 * file is) into one file in timestamp order; ties keep the input order.
 * Streams: one record per input in memory. The inputs' final statistics
 * blocks (kernel counts per worker) are summed into one at the end of a
 * pcapng output. Returns the packets written.
 */
export function mergeCaptureFiles(inputs: readonly string[], output: string, opts: MergeOptions = {}): number {
  const readers: CaptureReader[] = [];
  // the last statistics block of each input, summed into the output's
  const last = new Map<number, FileStatistics>();
  try {
    inputs.forEach((p, i) => readers.push(openCaptureReader(p, { onStatistics: (s) => last.set(i, s) })));
    const writer = openCaptureWriter(output, { format: opts.format, name: opts.name, snaplen: opts.snaplen });
    // min-heap of readers by (sec, nsec, input index)
    const heads: Array<FileRecord | null> = readers.map((r) => r.next());
    const heap: number[] = [];
    const less = (a: number, b: number): boolean => {
      const x = heads[a]!, y = heads[b]!;
      return x.sec !== y.sec ? x.sec < y.sec : x.nsec !== y.nsec ? x.nsec < y.nsec : a < b;
    };
    const up = (i: number): void => {
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!less(heap[i], heap[p])) break;
        [heap[i], heap[p]] = [heap[p], heap[i]];
        i = p;
      }
    };
    const down = (i: number): void => {
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l], heap[m])) m = l;
        if (r < heap.length && less(heap[r], heap[m])) m = r;
        if (m === i) return;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    };
    heads.forEach((h, i) => { if (h !== null) { heap.push(i); up(heap.length - 1); } });
    let n = 0;
    while (heap.length > 0) {
      const i = heap[0];
      writer.writePacket(heads[i]!);
      n++;
      heads[i] = readers[i].next();
      if (heads[i] === null) {
        const last = heap.pop()!;
        if (heap.length > 0) { heap[0] = last; down(0); }
      } else {
        down(0);
      }
    }
    const st = sumStatistics([...last.values()]);
    if (st !== undefined) writer.writeStatistics(st);
    writer.close();
    return n;
  } finally {
    for (const r of readers) r.close();
  }
}

/** Sums the last statistics block of each input (fields present in any). */
function sumStatistics(all: readonly WriterStatistics[]): WriterStatistics | undefined {
  if (all.length === 0) return undefined;
  const sum = (k: 'received' | 'dropped' | 'delivered'): number | undefined =>
    all.some((s) => s[k] !== undefined) ? all.reduce((x, s) => x + (s[k] ?? 0), 0) : undefined;
  const st: WriterStatistics = {};
  const rcv = sum('received'), drp = sum('dropped'), del = sum('delivered');
  if (rcv !== undefined) st.received = rcv;
  if (drp !== undefined) st.dropped = drp;
  if (del !== undefined) st.delivered = del;
  return st;
}

interface Followed { worker: number; f: PcapngFollower; head: FileRecord | null }

/**
 * The timestamp merge of a multi-worker capture, while it runs: follows
 * each worker's file (pcapng, written block by block by the worker) and
 * writes, in timestamp order, every record older than all workers'
 * watermarks (a worker's watermark: every packet it writes later is at or
 * after it; see {@link WriterWorkerData.watermark}). Memory: one read
 * buffer per worker file. Records with equal timestamps keep worker order.
 */
export class StreamMerge {
  /** Records written to the merged output. */
  written = 0;
  /** Records in the output as of the last successful flush (all of them, unless a write failed). */
  committed = 0;
  /** Set once writing the output failed: the file was cut back to its last whole record and nothing more is written. */
  failed: Error | null = null;
  private okPath = '';
  private okBytes = 0;
  private readonly followed: Followed[] = [];
  private readonly gens: number[];
  private readonly opened: Int32Array;
  private readonly wm: Float64Array;

  /**
   * @param paths each worker's file (generation 0; a restarted worker writes {@link generationPath})
   * @param out the merged output
   */
  constructor(private readonly paths: readonly string[], opened: SharedArrayBuffer, watermark: SharedArrayBuffer, private readonly out: RotatingWriter) {
    this.opened = new Int32Array(opened);
    this.wm = new Float64Array(watermark);
    this.gens = paths.map(() => 0);
  }

  /** True when every worker opened its first file (or failed to). */
  get allOpened(): boolean { return allOpened(this.opened, this.paths.length); }

  /** Follows the files opened since the last call (first files, and those of restarted workers). */
  private discover(): void {
    for (let i = 0; i < this.paths.length; i++) {
      const upTo = Atomics.load(this.opened, i);
      for (; this.gens[i] < upTo; this.gens[i]++) {
        const p = generationPath(this.paths[i], this.gens[i]);
        if (existsSync(p)) this.followed.push({ worker: i, f: new PcapngFollower(p), head: null });
      }
    }
  }

  /**
   * Writes what may be written now: records older than every watermark
   * (with `final`, once the workers finished: everything). Flushes, so the
   * merged file holds whole records only. Returns false once the output is
   * finished (-G with -W).
   */
  pump(final = false): boolean {
    if (this.failed !== null) return false;
    let w = Infinity;
    if (!final) for (let i = 0; i < this.wm.length; i++) if (this.wm[i] < w) w = this.wm[i];
    this.discover(); // after the watermarks: a file behind a watermark is already open
    const fl = this.followed;
    for (const s of fl) if (s.head === null) s.head = s.f.next();
    let ok = true;
    try {
      for (;;) {
        let best: Followed | null = null;
        for (const s of fl) {
          const h = s.head;
          if (h === null) continue;
          if (best === null) { best = s; continue; }
          const b = best.head!;
          if (h.sec < b.sec || (h.sec === b.sec && (h.nsec < b.nsec || (h.nsec === b.nsec && s.worker < best.worker)))) best = s;
        }
        if (best === null) break;
        const h = best.head!;
        if (!final && h.sec * 1e6 + Math.floor(h.nsec / 1000) >= w) break;
        if (!this.out.before()) { ok = false; break; }
        this.out.writer.writePacket(h);
        this.written++;
        best.head = best.f.next();
      }
      if (!this.out.writer.closed) this.out.writer.flush();
    } catch (e) {
      this.fail(e);
      return false;
    }
    this.committed = this.written;
    this.okPath = this.out.files[this.out.files.length - 1];
    this.okBytes = this.out.writer.bytes;
    return ok;
  }

  /** A write of the output failed: cut the file back to what the last flush left whole, write nothing more. */
  private fail(e: unknown): void {
    const path = this.out.files[this.out.files.length - 1];
    this.failed = (e as Error).name === 'CaptureFileError' ? e as Error : fileError(path, e);
    try {
      if (statSync(path).isFile()) truncateSync(path, path === this.okPath ? this.okBytes : 0);
    } catch { /* best effort */ }
    this.written = this.committed;
  }

  /** The workers' final statistics blocks, summed (kernel counts of the whole group). */
  statistics(): WriterStatistics | undefined {
    return sumStatistics(this.followed.map((s) => s.f.statistics).filter((x): x is WriterStatistics => x !== null));
  }

  /** Closes the followed files. */
  close(): void {
    for (const s of this.followed) s.f.close();
  }
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * Live status: one line per worker (packets, packet rate since `prev`, kernel
 * drops, share of the traffic so far) and a total line.
 */
export function formatStatus(now: GroupStats, prev: GroupStats | null): string[] {
  const dt = prev === null ? 0 : (now.at - prev.at) / 1000;
  const total = now.packets;
  const lines = now.workers.map((w, i) => {
    const rate = dt > 0 ? (w.packets - prev!.workers[i].packets) / dt / 1e6 : 0;
    const share = total > 0 ? (100 * w.packets) / total : 0;
    const cpu = w.cpu >= 0 ? `cpu${w.cpu}` : 'cpu?';
    const extra = w.state === 'running' ? '' : `  [${w.state}${w.restarts ? `, ${w.restarts} restarts` : ''}]`;
    return `w${i} ${cpu.padEnd(5)} ${fmtInt(w.packets).padStart(14)} pkts ${rate.toFixed(3).padStart(8)} Mpps  drops ${fmtInt(w.drops).padStart(9)}  share ${share.toFixed(1).padStart(5)}%${extra}`;
  });
  const rate = dt > 0 ? (now.packets - prev!.packets) / dt / 1e6 : 0;
  lines.push(`${'all'.padEnd(9)} ${fmtInt(total).padStart(14)} pkts ${rate.toFixed(3).padStart(8)} Mpps  drops ${fmtInt(now.drops).padStart(9)}`);
  return lines;
}

/** The final balance report. */
export interface BalanceReport {
  /** Share of the packets per worker (0..1). */
  shares: number[];
  /** Expected share per worker (from weights; equal otherwise). */
  expected: number[];
  /** Largest |share - expected| (0..1). */
  maxDeviation: number;
  /** Busiest worker's packets over the mean (1 = perfect balance for equal weights). */
  peakToMean: number;
  /** Coefficient of variation of packets per worker. */
  cv: number;
  lines: string[];
}

/** Expected shares of a fan-out: from the weights of a one-plan steering, else equal. */
export function expectedShares(fanout: GroupFanout | undefined, workers: number): number[] {
  const eq = new Array<number>(workers).fill(1 / workers);
  if (fanout === undefined) return eq;
  const f = typeof fanout === 'string' ? parseFanout(fanout) : fanout;
  if (!('steering' in f)) return eq;
  const cls = toClasses(f.steering);
  if (cls.length !== 1 || cls[0].match !== undefined || cls[0].weights === undefined) return eq;
  const members = cls[0].members ?? Array.from({ length: workers }, (_, i) => i);
  const w = new Array<number>(workers).fill(0);
  members.forEach((m, i) => { w[m] += cls[0].weights![i]; });
  const sum = w.reduce((x, y) => x + y, 0);
  return sum > 0 ? w.map((x) => x / sum) : eq;
}

/** Balance of the final counters against the expected shares. */
export function balanceReport(stats: GroupStats, expected?: number[]): BalanceReport {
  const n = stats.workers.length;
  const total = stats.packets;
  const exp = expected ?? new Array<number>(n).fill(1 / n);
  const shares = stats.workers.map((w) => (total > 0 ? w.packets / total : 0));
  const mean = total / n;
  const sd = Math.sqrt(stats.workers.reduce((x, w) => x + (w.packets - mean) ** 2, 0) / n);
  const maxDeviation = shares.reduce((x, s, i) => Math.max(x, Math.abs(s - exp[i])), 0);
  const peakToMean = mean > 0 ? Math.max(...stats.workers.map((w) => w.packets)) / mean : 0;
  const cv = mean > 0 ? sd / mean : 0;
  const lost = stats.lost > 0 ? `, ${fmtInt(stats.lost)} lost with workers that died` : '';
  const lines = [`balance over ${n} workers (${stats.fanout}), ${fmtInt(total)} packets, ${fmtInt(stats.drops)} dropped by the kernel${lost}:`];
  stats.workers.forEach((w, i) => {
    lines.push(`  w${i} ${fmtInt(w.packets).padStart(14)} pkts  ${(100 * shares[i]).toFixed(1).padStart(5)}% (expected ${(100 * exp[i]).toFixed(1)}%)  drops ${fmtInt(w.drops)}`
      + `${w.lost ? `  lost with worker ${i} ${fmtInt(w.lost)}` : ''}${w.restarts ? `  restarts ${w.restarts}` : ''}`);
  });
  lines.push(`  largest deviation ${(100 * maxDeviation).toFixed(2)} points, peak/mean ${peakToMean.toFixed(3)}, cv ${(100 * cv).toFixed(2)}%`);
  return { shares, expected: exp, maxDeviation, peakToMean, cv, lines };
}

/** Options of {@link runFanoutCapture} (what `netring capture --workers` maps its flags onto). */
export interface FanoutCaptureOptions {
  iface: string;
  workers: number;
  /** --fanout: a kernel mode or steering function with +flags, or any GroupFanout (default 'hash'). */
  fanout?: string | GroupFanout;
  /** --weights 1,3 (with a steering function). */
  weights?: number[];
  /** -w: `out.%w.pcapng` = one file per worker; otherwise one file merged in timestamp order. Omit to count only. */
  write?: string;
  format?: CaptureFormat;
  /** -c: stop after this many packets in total. */
  count?: number;
  /** Stop after this many seconds. */
  seconds?: number;
  /** Per-worker capture options (snaplen, filter, direction, ring geometry, ...). */
  capture?: Omit<CaptureOptions, 'iface' | 'fanout' | 'fanoutArg'>;
  /**
   * --xdp: one AF_XDP socket per RX queue instead of a fan-out group (the
   * NIC's RSS spreads; `workers` must equal the queue count), with these
   * socket options and the filter run in XDP. `fanout` and `capture` do not apply.
   */
  xdp?: GroupXdpOptions;
  cpus?: readonly number[] | 'auto';
  id?: number;
  restart?: boolean;
  /** Status line interval (default 1000 ms; 0 = none). */
  statusMs?: number;
  /** Where status and report lines go (default: stderr). */
  log?: (line: string) => void;
  /** Stops the capture when aborted (SIGINT/SIGTERM also stop it). */
  signal?: AbortSignal;
  /** Called once every worker joined (e.g. to watch g.stats()). */
  onStart?: (g: FanoutGroup) => void;
  /** -C/-G/-W: rotation of the merged file (not with one file per worker). */
  rotate?: RotationOptions;
  /** Called with each merged file once it is closed complete (compression, -z). */
  onFileClosed?: (path: string) => void;
  /** -Z: become this user once every worker's socket and first file are open. */
  relinquish?: string;
}

/** What {@link runFanoutCapture} returns. */
export interface FanoutCaptureResult {
  stats: GroupStats;
  workers: Array<WriterWorkerResult | undefined>;
  /** Files written: one per worker, or the merged file. */
  files: string[];
  report: BalanceReport;
  /** Records in the output file(s). */
  written: number;
  /** The first write error of a worker (its file is valid up to its last complete block). */
  error?: string;
  /** Set when a fault ended the capture early ("interface eth0 went away"). */
  fault?: string;
}

/**
 * Where the per-worker parts of a merged file live: a hidden directory next
 * to the output (same file system, so a killed run leaves its parts where
 * the user looks, readable); the system temp directory for outputs like
 * /dev/null.
 */
function mergeDir(output: string): string {
  const abs = resolve(output);
  let regular = true;
  try { regular = statSync(abs).isFile(); } catch { /* does not exist yet: a file */ }
  const parent = regular ? dirname(abs) : tmpdir();
  return mkdtempSync(join(parent, `.${basename(abs)}.netring-parts-`));
}

/** Run a multi-worker capture until count, time, signal or abort; print status and the balance report. */
export async function runFanoutCapture(o: FanoutCaptureOptions): Promise<FanoutCaptureResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  if (o.xdp !== undefined && (o.fanout !== undefined || o.weights !== undefined))
    throw new UsageError("--fanout and --weights go with AF_PACKET workers; with --xdp the NIC's RSS spreads packets over the RX queues, one worker each");
  const fanout: GroupFanout | undefined = o.xdp !== undefined ? undefined
    : typeof o.fanout === 'string' || o.fanout === undefined ? parseFanout(o.fanout ?? 'hash', o.weights) : o.fanout;
  const perWorker = o.write !== undefined && isPerWorkerPattern(o.write);
  const rotating = o.rotate !== undefined && ((o.rotate.sizeBytes ?? 0) > 0 || (o.rotate.seconds ?? 0) > 0);
  if (perWorker && rotating) throw new UsageError('-C and -G rotate the merged file: with one file per worker (%w) they are not supported');
  if (o.write === '-' && (rotating || o.onFileClosed !== undefined)) throw new UsageError('-C, -G, -z and --compress need a file name, not -w -');
  const user = o.relinquish !== undefined ? lookupUser(o.relinquish) : undefined; // an unknown user fails before anything is opened
  const tmp = o.write !== undefined && !perWorker ? mergeDir(o.write) : null;
  const paths = o.write === undefined ? undefined
    : Array.from({ length: o.workers }, (_, i) => (perWorker ? workerFileName(o.write!, i) : join(tmp!, workerFileName(basename(o.write!), i))));
  const budget = o.count !== undefined ? new SharedArrayBuffer(4) : undefined;
  const failed = new SharedArrayBuffer(4);
  const opened = new SharedArrayBuffer(4 * o.workers);
  const watermark = tmp !== null ? new SharedArrayBuffer(8 * o.workers) : undefined;
  const data: WriterWorkerData = {
    paths, format: tmp !== null ? 'pcapng' : o.format, snaplen: o.capture?.snaplen, budget, limit: o.count, failed, opened, watermark,
  };
  let g: FanoutGroup | null = null;
  let out: RotatingWriter | null = null;
  let merge: StreamMerge | null = null;
  let finalStats = false;
  let tmpKeep = false;
  const stopSignals = ['SIGINT', 'SIGTERM'] as const;
  let wake: () => void = () => {};
  const stopRequested = new Promise<void>((r) => { wake = r; });
  const onSignal = (): void => wake();
  // every worker sees each link change: report each change once
  let link = 'up';
  let fault: string | undefined;
  const onLink = (c: GroupLinkChange): void => {
    if (c.state === link) return;
    link = c.state;
    if (c.state === 'down') log(`netring: ${o.iface}: link went down; capturing resumes when it comes back`);
    else if (c.state === 'up') log(`netring: ${o.iface}: link is up again`);
    else { fault = `interface ${o.iface} went away`; wake(); }
  };
  try {
    if (tmp !== null) {
      // the merged output opens first (as root with -Z); each rotated file ends with the group's counters so far
      const stats = (): WriterStatistics | undefined => {
        if (finalStats) return merge?.statistics();
        if (g === null) return undefined;
        const s = g.stats();
        return { received: s.kernelPackets, dropped: s.drops, delivered: s.packets };
      };
      out = new RotatingWriter({
        path: o.write!, rotate: o.rotate, onFileClosed: o.onFileClosed, statistics: stats,
        open: (p) => {
          try { return openCaptureWriter(p, { format: o.format, name: o.iface, snaplen: o.capture?.snaplen }); } catch (e) { throw fileError(p, e); }
        },
      });
      merge = new StreamMerge(paths!, opened, watermark!, out);
    }
    g = await group<WriterWorkerData>({
      iface: o.iface, workers: o.workers, fanout, worker: new URL('./fanout-writer-worker.js', import.meta.url),
      ...(o.xdp !== undefined ? { backend: 'xdp' as const, queues: 'all' as const, xdp: o.xdp } : {}),
      data, capture: o.capture, cpus: o.cpus, id: o.id, restart: o.restart,
      onLinkChange: onLink,
      onStall: (st) => log(`netring: worker ${st.index} stalled: its capture loop made no progress for ${(st.stalledMs / 1000).toFixed(1)} s; terminating it`),
      onCrash: (c) => log(`worker ${c.index} ${c.stalledMs !== undefined ? 'terminated after stalling' : `crashed${c.error ? `: ${c.error.message}` : ' (terminated)'}`}`
        + `${c.lost > 0 ? `, ${fmtInt(c.lost)} packets lost with worker ${c.index}` : ''}${c.restarting ? ', restarting' : ''}`),
    });
    if (user !== undefined) await relinquish(o.relinquish!, user, opened, o.workers, tmp, paths, out, rotating);
    else if (paths !== undefined && !await filesOpened(opened, o.workers)) throw new Error('the workers did not open their files within 60 s');
    log(o.xdp !== undefined
      ? `capturing on ${o.iface} with ${o.workers} workers, XDP ${g.xdpMode}: ${g.plan.describe}`
      : `capturing on ${o.iface} with ${o.workers} workers, fanout group ${g.id}: ${g.plan.describe}`);
    o.onStart?.(g);
    for (const s of stopSignals) process.on(s, onSignal);
    o.signal?.addEventListener('abort', onSignal, { once: true });
    if (o.signal?.aborted) wake();
    const started = Date.now();
    let prev: GroupStats | null = g.stats();
    let nextStatus = started + (o.statusMs ?? 1000);
    for (;;) {
      const stop = await Promise.race([stopRequested.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 50))]);
      if (stop) break;
      // the merged file grows as blocks retire (a -G/-W output that reached its last file ends the run)
      if (merge !== null && (!merge.pump() || (out!.tick(), out!.finished))) break; // also when writing the output failed
      const now = Date.now();
      if (o.seconds !== undefined && now - started >= o.seconds * 1000) break;
      if (budget !== undefined && Atomics.load(new Int32Array(budget), 0) >= o.count!) break;
      if (Atomics.load(new Int32Array(failed), 0) !== 0) break; // a worker's file failed: stop, report, exit 1
      if ((o.statusMs ?? 1000) > 0 && now >= nextStatus) {
        const s = g.stats();
        for (const l of formatStatus(s, prev)) log(l);
        prev = s;
        nextStatus = now + (o.statusMs ?? 1000);
      }
    }
    const res = await g.stop<WriterWorkerResult>();
    let files = paths?.filter((p): p is string => p !== null) ?? [];
    let mergeError: string | undefined;
    let written = res.results.reduce((n, r) => n + (r?.written ?? 0), 0);
    let keepParts = false;
    if (merge !== null && out !== null) {
      // the workers closed their files (final statistics blocks): write the rest, end with the summed counters
      if (!out.finished) merge.pump(true);
      finalStats = true;
      if (merge.failed === null) {
        try { out.close(); } catch (e) { merge.failed = fileError(out.files[out.files.length - 1], e); }
      }
      merge.close();
      written = merge.written;
      files = out.files;
      if (merge.failed !== null) {
        // nothing is lost: every packet is still in the workers' files
        keepParts = true;
        mergeError = merge.failed.message;
        log(`netring: the workers' files (every packet, valid) are kept in ${tmp}`);
      } else {
        log(`merged ${o.workers} workers into ${out.files.length === 1 ? o.write : `${out.files.length} files (${o.write}...)`} (${fmtInt(written)} packets, timestamp order)`);
      }
    }
    if (keepParts) tmpKeep = true;
    // the packets the workers kept (the budget may have cut the last batches)
    const stats: GroupStats = { ...res.stats };
    if (budget !== undefined) {
      stats.workers = stats.workers.map((w, i) => ({ ...w, packets: res.results[i]?.packets ?? w.packets }));
      stats.packets = stats.workers.reduce((x, w) => x + w.packets, 0);
    }
    const report = balanceReport(stats, expectedShares(fanout, o.workers));
    for (const l of report.lines) log(l);
    const error = res.results.find((r) => r?.error !== undefined)?.error ?? mergeError;
    return { stats, workers: res.results, files, report, written, ...(error !== undefined ? { error } : {}), ...(fault !== undefined ? { fault } : {}) };
  } finally {
    for (const s of stopSignals) process.off(s, onSignal);
    o.signal?.removeEventListener('abort', onSignal);
    if (g !== null) await g.stop();
    merge?.close();
    try { out?.close(); } catch { /* already failing */ }
    if (tmp !== null && !tmpKeep) {
      try { rmSync(tmp, { recursive: true, force: true }); } catch (e) { log(`netring: could not remove ${tmp}: ${(e as Error).message}`); }
    }
  }
}

/**
 * -Z with workers: the workers are threads of this process, so once every
 * worker's socket and first file are open, the process (every thread)
 * becomes the user. The parts directory of a merged file is handed to the
 * user first (the merge removes it at the end; a restarted worker creates
 * its file there).
 */
/**
 * Waits until every worker has opened its first file (or failed to), so the
 * files exist with their headers written before the capture is announced.
 * False when that took longer than 60 s.
 */
async function filesOpened(opened: SharedArrayBuffer, workers: number): Promise<boolean> {
  const op = new Int32Array(opened);
  const until = Date.now() + 60_000;
  while (!allOpened(op, workers)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** True when each of the first `workers` slots says its worker opened its first file (or failed to). */
function allOpened(opened: Int32Array, workers: number): boolean {
  for (let i = 0; i < workers; i++) if (Atomics.load(opened, i) === 0) return false;
  return true;
}

async function relinquish(
  name: string, user: { uid: number; gid: number }, opened: SharedArrayBuffer, workers: number,
  tmp: string | null, paths: readonly string[] | undefined, out: RotatingWriter | null, rotating: boolean,
): Promise<void> {
  // workers without a file have nothing to open
  if (paths !== undefined && !await filesOpened(opened, workers)) throw new Error(`-Z ${name}: the workers did not open their files within 60 s`);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root && tmp !== null) {
    chownSync(tmp, user.uid, user.gid);
    for (const f of readdirSync(tmp)) chownSync(join(tmp, f), user.uid, user.gid);
  }
  dropPrivileges(name);
  if (rotating && out !== null) {
    const dir = dirname(resolve(out.files[0]));
    try { accessSync(dir, fsc.W_OK | fsc.X_OK); } catch {
      throw new Error(`-Z ${name}: the user cannot create files in ${dir}, which rotation (-C/-G) needs`);
    }
  }
}
