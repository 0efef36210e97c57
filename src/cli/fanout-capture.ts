/**
 * The pieces of `netring capture --workers N --fanout MODE`: per-worker file
 * names (`out.%w.pcapng`), a merge of per-worker files in timestamp order,
 * live per-worker status lines, the final balance report, and
 * {@link runFanoutCapture} which puts them together (the CLI maps its options
 * onto it).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { group, parseFanout, toClasses, type FanoutGroup, type GroupFanout, type GroupLinkChange, type GroupStats } from '../fanout/index.js';
import type { CaptureOptions } from '../ring/index.js';
import {
  openCaptureReader, openCaptureWriter, type CaptureFormat, type CaptureReader, type FileRecord, type FileStatistics, type WriterStatistics,
} from '../pcap/index.js';
import type { WriterWorkerData, WriterWorkerResult } from './fanout-writer-worker.js';

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
    if (last.size > 0) {
      const sum = (k: 'received' | 'dropped' | 'delivered'): number | undefined =>
        [...last.values()].some((s) => s[k] !== undefined) ? [...last.values()].reduce((x, s) => x + (s[k] ?? 0), 0) : undefined;
      const st: WriterStatistics = {};
      const rcv = sum('received'), drp = sum('dropped'), del = sum('delivered');
      if (rcv !== undefined) st.received = rcv;
      if (drp !== undefined) st.dropped = drp;
      if (del !== undefined) st.delivered = del;
      writer.writeStatistics(st);
    }
    writer.close();
    return n;
  } finally {
    for (const r of readers) r.close();
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
  const fanout: GroupFanout = typeof o.fanout === 'string' || o.fanout === undefined ? parseFanout(o.fanout ?? 'hash', o.weights) : o.fanout;
  const perWorker = o.write !== undefined && isPerWorkerPattern(o.write);
  const tmp = o.write !== undefined && !perWorker ? mergeDir(o.write) : null;
  const paths = o.write === undefined ? undefined
    : Array.from({ length: o.workers }, (_, i) => (perWorker ? workerFileName(o.write!, i) : join(tmp!, workerFileName(basename(o.write!), i))));
  const budget = o.count !== undefined ? new SharedArrayBuffer(4) : undefined;
  const failed = new SharedArrayBuffer(4);
  const data: WriterWorkerData = { paths, format: o.format, snaplen: o.capture?.snaplen, budget, limit: o.count, failed };
  let g: FanoutGroup | null = null;
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
    g = await group<WriterWorkerData>({
      iface: o.iface, workers: o.workers, fanout, worker: new URL('./fanout-writer-worker.js', import.meta.url),
      data, capture: o.capture, cpus: o.cpus, id: o.id, restart: o.restart,
      onLinkChange: onLink,
      onStall: (st) => log(`netring: worker ${st.index} stalled: its capture loop made no progress for ${(st.stalledMs / 1000).toFixed(1)} s; terminating it`),
      onCrash: (c) => log(`worker ${c.index} ${c.stalledMs !== undefined ? 'terminated after stalling' : `crashed${c.error ? `: ${c.error.message}` : ' (terminated)'}`}`
        + `${c.lost > 0 ? `, ${fmtInt(c.lost)} packets lost with worker ${c.index}` : ''}${c.restarting ? ', restarting' : ''}`),
    });
    log(`capturing on ${o.iface} with ${o.workers} workers, fanout group ${g.id}: ${g.plan.describe}`);
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
    const error = res.results.find((r) => r?.error !== undefined)?.error;
    let written = res.results.reduce((n, r) => n + (r?.written ?? 0), 0);
    if (tmp !== null && o.write !== undefined) {
      const parts = res.results.filter((r): r is WriterWorkerResult => r?.path != null).map((r) => r.path!);
      written = mergeCaptureFiles(parts, o.write, { format: o.format, name: o.iface, snaplen: o.capture?.snaplen });
      log(`merged ${parts.length} worker files into ${o.write} (${fmtInt(written)} packets, timestamp order)`);
      files = [o.write];
    }
    // the packets the workers kept (the budget may have cut the last batches)
    const stats: GroupStats = { ...res.stats };
    if (budget !== undefined) {
      stats.workers = stats.workers.map((w, i) => ({ ...w, packets: res.results[i]?.packets ?? w.packets }));
      stats.packets = stats.workers.reduce((x, w) => x + w.packets, 0);
    }
    const report = balanceReport(stats, expectedShares(fanout, o.workers));
    for (const l of report.lines) log(l);
    return { stats, workers: res.results, files, report, written, ...(error !== undefined ? { error } : {}), ...(fault !== undefined ? { fault } : {}) };
  } finally {
    for (const s of stopSignals) process.off(s, onSignal);
    o.signal?.removeEventListener('abort', onSignal);
    if (g !== null) await g.stop();
    if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
  }
}
