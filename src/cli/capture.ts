/**
 * `netring capture`: live capture from an interface (-i) or offline from a
 * file (-r), to a pcap/pcapng file (-w), to one summary line per packet on
 * stdout, or just counting (-q). Always ends with a summary on stderr
 * (received, dropped by kernel, freezes, written) and, with --json, a JSON
 * object on stdout.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { openCapture, parseProgram, type Batch, type BatchLike, type BpfProgram, type Capture, type CaptureOptions } from '../ring/index.js';
import { assertClassic } from '../bpf/index.js';
import { chooseFormat, RotatingWriter,
  openCaptureReader, openCaptureWriter, PcapFormatError, PcapngWriter, PcapWriter, type CaptureWriter, type FileInterface, type FileRecord,
} from '../pcap/index.js';
import type { PacketLike } from '../packet-like.js';
import { choiceArg, intArg, numArg, sizeArg, UsageError } from './args.js';
import { cookedFilter } from './cooked-filter.js';
import { StatusLine } from './status.js';
import { interfaceNetmask } from './netmask.js';
import { packetFilter, type FilterPlan, type PacketPredicate } from './filters.js';
import { isPerWorkerPattern, runFanoutCapture, type FanoutCaptureOptions } from './fanout-capture.js';
import { AfterClose, captureToFile, checkWriteOptions, dropPrivileges, fileSizeArg, type WriteCliOptions } from './capture-write.js';
import { compileProgram } from '../lang/index.js';
import type { GroupFanout } from '../fanout/index.js';
import { onStdoutClosed, stdoutClosed, writeOut } from './stdout.js';
import { openXdpSource, xdpWorkerOptions } from './xdp-capture.js';
import { lastGood, startCliMetrics, type CounterSink } from './metrics-option.js';
import { stopOnce } from './stop.js';
import type { PacketSource } from '../metrics/server.js';
import { PacketPrinter, type PrintOptions } from './print.js';
import { addTcpdumpFlags, checkLinkType, direction, interfaceList, linkTypeList, printOptions, type TcpdumpFlagValues } from './tcpdump-flags.js';

/** Options of `netring capture` as commander parses them. */
export interface CaptureCliOptions {
  interface?: string;
  read?: string;
  write?: string;
  format?: string;
  count?: number;
  seconds?: number;
  snaplen?: number;
  filterBpf?: string;
  filter?: string;
  filterFile?: string;
  program?: string;
  blockSize?: number;
  blockCount?: number;
  frameSize?: number;
  blockTimeout?: number;
  promisc: boolean;
  direction?: 'in' | 'out' | 'both';
  timestamp?: 'software' | 'hardware' | 'auto';
  quiet?: boolean;
  json?: boolean;
  /** How packet lines are printed (tcpdump's -t, -e, -x, -X, -A, -S). */
  print?: PrintOptions;
  /** tcpdump --count: print only the number of matching packets. */
  countOnly?: boolean;
  workers?: number;
  /** -C, -G, -W, -z, --compress, -Z, -U (see capture-write.ts). */
  fileSize?: number;
  rotateSeconds?: number;
  fileCount?: number;
  postRotate?: string;
  compress?: 'zstd' | 'gzip';
  relinquishPrivileges?: string;
  packetBuffered?: boolean;
  fanout?: string;
  weights?: string;
  cpus?: string;
  xdp?: boolean;
  queue?: number;
  queues?: string;
  zerocopy?: boolean;
  copy?: boolean;
  /** --metrics [ADDR:]PORT: serve Prometheus metrics while capturing live. */
  metrics?: string;
  /** Where a live path registers its counters for --metrics (set by the command; no-op when absent). */
  onCounters?: CounterSink;
}

/** The final summary; `--json` prints exactly these keys. */
export interface CaptureSummary {
  /** Interface or file read. */
  source: string;
  /** Packets that reached netring (after the kernel filter) and were processed. */
  received: number;
  /** Packets that matched the user-space part of the filter (== received without one). */
  matched: number;
  /** Packets the kernel dropped because the ring was full (0 offline). */
  dropped: number;
  /** Times the kernel froze the queue for lack of a free block (0 offline). */
  freezes: number;
  /** Packet records written to -w (0 without -w). */
  written: number;
  /** Bytes on the wire of the matched packets. */
  bytes: number;
  /** Wall-clock duration of the capture in seconds. */
  seconds: number;
  /** Counters of a --program (only when it counts). */
  counters?: Record<string, number>;
  /** Matched packets taken from the ring that are in no file because writing failed (only then). */
  unwritten?: number;
  /** Files written, when rotating (-C/-G). */
  files?: string[];
  /** The write error, when writing failed. */
  error?: string;
  /** Why the capture ended early, when a fault ended it (e.g. "interface eth0 went away"); the exit status is then 1. */
  fault?: string;
  /** Per-worker packets, drops (kernel drops plus packets lost with the worker) and share of the traffic (only with --workers). */
  workers?: Array<{ packets: number; drops: number; share: number }>;
}

/** Register `capture` on the program. */
export function registerCapture(program: Command): void {
  const cmd = program
    .command('capture')
    .description('capture packets from an interface (-i) or a file (-r) to a pcap/pcapng file (-w), the terminal, or a counter (-q)')
    .option('-i, --interface <iface>', 'interface to capture on')
    .option('-r, --read <file>', 'read packets from a pcap/pcapng file instead (like tcpdump -r)')
    .option('-w, --write <file>', "write packets to a file ('-' = stdout); format from the extension (.pcap or .pcapng)")
    .option('--format <fmt>', 'output format: pcap or pcapng (overrides the extension)', choiceArg('--format', ['pcap', 'pcapng'] as const))
    .option('-C, --file-size <size>', 'with -w: start a new file once one exceeds SIZE million bytes (k/m/g suffix: KiB/MiB/GiB); files FILE, FILE1, FILE2 ... (tcpdump -C)', fileSizeArg)
    .option('-G, --rotate-seconds <n>', 'with -w: start a new file every n seconds, FILE through strftime (tcpdump -G)', intArg('-G', 1))
    .option('-W, --file-count <n>', 'with -C: keep a ring of n files; with -G alone: stop after n files (tcpdump -W)', intArg('-W', 1))
    .option('-z, --post-rotate <cmd>', 'with -w: run CMD FILE on each closed file (tcpdump -z)')
    .option('--compress <algo>', 'with -w: compress each closed file with zstd or gzip', choiceArg('--compress', ['zstd', 'gzip'] as const))
    .option('-Z, --relinquish-privileges <user>', 'become USER once the capture and the first file are open (tcpdump -Z)')
    .option('-U, --packet-buffered', 'with -w: write as packets come (netring always writes each ring block as it retires)')
    .option('-c <n>', 'stop after n packets', intArg('-c', 1))
    .option('--seconds <n>', 'stop after n seconds', numArg('--seconds', 0))
    .option('-s, --snaplen <n>', 'bytes kept per packet (default and 0: 262144, the maximum)', intArg('-s', 0, 262144))
    .argument('[expression...]', "tcpdump filter expression as the remaining words, as tcpdump takes it (e.g. tcp port 80)")
    .option('-f, --filter <expr>', 'tcpdump filter expression as one argument (same as trailing words)')
    .option('-F, --filter-file <file>', 'read the filter expression from a file (# starts a comment), like tcpdump -F')
    .option('--program <text>', "PFQ-style program, e.g. 'ip >-> udp >-> steer_flow'")
    .option('--filter-bpf <file|json>', 'classic BPF program: a file or inline JSON / `tcpdump -ddd` text')
    .option('--block-size <bytes>', 'ring block size (multiple of 4096; default 1M)', sizeArg('--block-size'))
    .option('--block-count <n>', 'ring blocks (default 64)', intArg('--block-count', 1))
    .option('--frame-size <bytes>', 'ring frame size hint (default 2048)', sizeArg('--frame-size'))
    .option('--block-timeout <ms>', 'block retire timeout in ms (default 10)', intArg('--block-timeout', 0))
    .option('--no-promisc', 'do not put the interface in promiscuous mode')
    .option('--direction <dir>', 'in, out or both (default both)', choiceArg('--direction', ['in', 'out', 'both'] as const))
    .option('--timestamp <src>', 'software, hardware or auto (default software)', choiceArg('--timestamp', ['software', 'hardware', 'auto'] as const))
    .option('--workers <n>', 'capture with n worker threads in one PACKET_FANOUT group, or with --xdp one AF_XDP worker per RX queue (n = the queue count); -w out.%w.pcapng = one file each, else one merged file', intArg('--workers', 1, 64))
    .option('--fanout <mode>', 'with --workers: hash, lb, cpu, qm, rollover, rnd, or a steering function flow, ip, mac, vlan, rrobin; flags +defrag, +rollover, +ignore-outgoing, +ebpf (default hash)')
    .option('--weights <w>', 'with --workers and a steering function: per-worker weights, e.g. 1,3')
    .option('--cpus <list>', "with --workers: pin worker i to the i-th CPU of the list (e.g. 0,1) or 'auto'")
    .option('--xdp', 'capture through AF_XDP (an XDP program redirects frames of one RX queue into UMEM; -f runs in XDP)')
    .option('--queue <n>', 'with --xdp: RX queue to capture (default 0)', intArg('--queue', 0, 65535))
    .option('--queues <all>', "with --xdp: 'all' = one AF_XDP socket per RX queue")
    .option('--zerocopy', 'with --xdp: require zero-copy (fails on drivers without it)')
    .option('--copy', 'with --xdp: force copy mode (default: zero-copy when the driver has it)')
    .option('-q, --quiet', 'do not print packets (count only)')
    .option('--json', 'print the final summary as JSON on stdout')
    .option('--metrics <[addr:]port>', 'serve Prometheus metrics (received, dropped, freezes per worker) on this address while capturing live');
  addTcpdumpFlags(cmd)
    .action(async (words: string[], raw: CaptureCliOptions & TcpdumpFlagValues & { c?: number }) => {
      if (raw.D) { writeOut(interfaceList()); return; }
      if (raw.L) {
        if (raw.interface === undefined) throw new UsageError('-L needs -i IFACE');
        process.stderr.write(linkTypeList(raw.interface)); // tcpdump -L writes the list to stderr too
        return;
      }
      checkLinkType(raw);
      const opts: CaptureCliOptions = {
        ...raw, count: raw.c, countOnly: raw.count === true, print: printOptions(raw),
        snaplen: raw.snaplen === 0 ? undefined : raw.snaplen, promisc: raw.promisc && raw.p !== true,
        direction: direction(raw, raw.direction),
      };
      opts.filter = filterExpression(words, opts);
      if (opts.metrics !== undefined && opts.read !== undefined) throw new UsageError('--metrics goes with a live capture (-i IFACE), not -r');
      const metrics = await startCliMetrics(opts.metrics);
      if (metrics !== null) opts.onCounters = (read) => metrics.addPacketSource(read);
      let s: CaptureSummary;
      try {
        s = await runCapture(opts);
      } finally {
        await metrics?.close();
      }
      if (s.error !== undefined) {
        process.stderr.write(`netring: ${s.error}\n`);
        process.exitCode = 1;
      }
      report(s, opts);
      if (s.fault !== undefined) {
        process.stderr.write(`netring: ${s.fault}\n`);
        process.exitCode = 1;
      }
    });
}

/**
 * The filter expression from exactly one of: trailing words, -f EXPR, -F FILE
 * (tcpdump strips `#` comments from the file). Undefined when none is given.
 */
export function filterExpression(words: string[], opts: { filter?: string; filterFile?: string }): string | undefined {
  const given = [words.length > 0, opts.filter !== undefined, opts.filterFile !== undefined].filter(Boolean).length;
  if (given > 1) {
    throw new UsageError(`filter given twice: use one of trailing words (${JSON.stringify(words.join(' '))}), -f EXPR or -F FILE`);
  }
  if (words.length > 0) return words.join(' ');
  if (opts.filterFile === undefined) return opts.filter;
  let text: string;
  try {
    text = readFileSync(opts.filterFile, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read filter file ${opts.filterFile}: ${(e as Error).message}`);
  }
  return text.replace(/#[^\n]*/g, ' ').replace(/\s+/g, ' ').trim();
}

function loadBpf(arg: string): BpfProgram {
  const t = arg.trim();
  const text = t.startsWith('[') || t.startsWith('{') || /^\d+\s*[\n,]/.test(t) ? t : readFileSync(t, 'utf8');
  const prog = parseProgram(text);
  // the kernel's rules in both modes: offline runs the program in netring's interpreter, which must not accept what a socket refuses
  assertClassic(prog, '--filter-bpf program');
  return prog;
}

function filterPlan(opts: CaptureCliOptions, mode: 'kernel' | 'file'): FilterPlan {
  return packetFilter({
    filter: opts.filter, program: opts.program, snaplen: opts.snaplen,
    netmask: mode === 'kernel' && opts.interface !== undefined ? interfaceNetmask(opts.interface) : 0,
    filterBpf: opts.filterBpf !== undefined ? loadBpf(opts.filterBpf) : undefined,
  }, mode);
}

/** Run a capture per the options; resolves with the summary when it ends (count, seconds, Ctrl-C, end of file). */
export async function runCapture(opts: CaptureCliOptions): Promise<CaptureSummary> {
  if ((opts.interface === undefined) === (opts.read === undefined))
    throw new UsageError('capture needs exactly one of -i IFACE or -r FILE');
  const filterCount = [opts.filter, opts.program, opts.filterBpf].filter((x) => x !== undefined).length;
  if (filterCount > 1) throw new UsageError('use only one of -f, --program and --filter-bpf');
  checkWriteOptions(writeOptions(opts));
  if (opts.xdp) {
    if (opts.read !== undefined) throw new UsageError('--xdp captures live: use it with -i IFACE, not -r');
    if (opts.workers !== undefined) return runWorkers(opts);
    return runXdpLive(opts);
  } else if (opts.queue !== undefined || opts.queues !== undefined || opts.zerocopy || opts.copy) {
    throw new UsageError('--queue, --queues, --zerocopy and --copy go with --xdp');
  }
  if (opts.workers !== undefined) return runWorkers(opts);
  if (opts.fanout !== undefined || opts.weights !== undefined || opts.cpus !== undefined)
    throw new UsageError('--fanout, --weights and --cpus go with --workers N');
  return opts.read !== undefined ? runOffline(opts) : runLive(opts);
}

/** --workers N: one ring per worker thread in one fan-out group (src/fanout), files per worker or merged. */
async function runWorkers(opts: CaptureCliOptions): Promise<CaptureSummary> {
  if (opts.interface === undefined) throw new UsageError('--workers needs -i IFACE');
  const rotate = checkWriteOptions(writeOptions(opts));
  if (opts.write !== undefined && isPerWorkerPattern(opts.write) && (rotate !== undefined || opts.postRotate !== undefined || opts.compress !== undefined))
    throw new UsageError('-C, -G, -z and --compress go with the merged file of --workers, not with one file per worker (%w)');
  const after = new AfterClose(opts.compress, opts.postRotate, (l) => process.stderr.write(`${l}\n`));
  const list = (v: string, name: string): number[] => v.split(',').map((x) => intArg(name, 0, 1 << 16)(x.trim()));
  let fanout: GroupFanout | undefined = opts.fanout;
  let filter: BpfProgram | undefined;
  let xdp: FanoutCaptureOptions['xdp'];
  if (opts.xdp) {
    xdp = xdpWorkerOptions({
      iface: opts.interface, queue: opts.queue, queues: opts.queues, zerocopy: opts.zerocopy, copy: opts.copy, snaplen: opts.snaplen,
      filter: opts.filter, program: opts.program, filterBpf: opts.filterBpf !== undefined ? loadBpf(opts.filterBpf) : undefined,
    }, opts.interface, opts.workers!);
  } else if (opts.program !== undefined) {
    const prog = compileProgram(opts.program, { snaplen: opts.snaplen });
    if (prog.residual !== null)
      throw new UsageError('with --workers the CLI runs kernel stages only (socket filter and steering); user-space stages need the group() API with a worker script');
    if (prog.steering !== null) {
      if (opts.fanout !== undefined) throw new UsageError('--program already steers: drop --fanout');
      fanout = { steering: prog.steering };
    }
    filter = prog.socketFilter?.insns;
  } else {
    filter = filterPlan(opts, 'kernel').kernel;
  }
  const t0 = performance.now();
  let r;
  try { r = await runFanoutCapture({
    rotate, relinquish: opts.relinquishPrivileges, ...(after.active ? { onFileClosed: (p: string) => after.closed(p) } : {}),
    iface: opts.interface, workers: opts.workers!, fanout, weights: opts.weights ? list(opts.weights, '--weights') : undefined,
    write: opts.write, format: opts.format as 'pcap' | 'pcapng' | undefined, count: opts.count, seconds: opts.seconds,
    cpus: opts.cpus === undefined ? undefined : opts.cpus === 'auto' ? 'auto' : list(opts.cpus, '--cpus'),
    statusMs: process.stderr.isTTY ? 1000 : 0,
    onStart: (g) => opts.onCounters?.(lastGood<PacketSource>(() => {
      const ws = g.stats().workers;
      return { received: ws.map((w) => w.packets), dropped: ws.map((w) => w.drops), freezes: ws.map((w) => w.freezes) };
    }, {})),
    capture: {
      snaplen: opts.snaplen, promisc: opts.promisc, direction: opts.direction, timestamp: opts.timestamp, filter,
      blockSize: opts.blockSize, blockCount: opts.blockCount, frameSize: opts.frameSize, blockTimeoutMs: opts.blockTimeout,
    },
    ...(xdp !== undefined ? { xdp } : {}),
  }); } finally { await after.settle(); }
  const written = opts.write === undefined ? 0 : r.written;
  const bytes = r.workers.reduce((n, w) => n + (w?.bytes ?? 0), 0);
  const freezes = r.stats.workers.reduce((n, w) => n + w.freezes, 0);
  return {
    // packets lost with a worker that died count as dropped (the balance report names the worker)
    source: opts.interface, received: r.stats.packets, matched: r.stats.packets, dropped: r.stats.drops + r.stats.lost, freezes,
    written, bytes, seconds: (performance.now() - t0) / 1000,
    ...(r.error !== undefined ? { error: r.error, unwritten: Math.max(0, r.stats.packets - written) } : {}),
    workers: r.stats.workers.map((w, i) => ({ packets: w.packets, drops: w.drops + w.lost, share: r.report.shares[i] })),
    ...(rotate !== undefined ? { files: r.files } : {}),
    ...(r.fault !== undefined ? { fault: r.fault } : {}),
  };
}

function writeOptions(opts: CaptureCliOptions): WriteCliOptions {
  return {
    write: opts.write, format: opts.format, snaplen: opts.snaplen, fileSize: opts.fileSize, rotateSeconds: opts.rotateSeconds,
    fileCount: opts.fileCount, postRotate: opts.postRotate, compress: opts.compress, relinquish: opts.relinquishPrivileges,
    packetBuffered: opts.packetBuffered,
  };
}

/** Per-packet sink shared by the live and offline paths. */
class Sink {
  received = 0;
  matched = 0;
  bytes = 0;
  private lines: string[] = [];
  private readonly printer: PacketPrinter | null;
  /** Output interface of the packets taken next (pcapng: one per input interface). */
  ifaceId = 0;

  private readonly lineBuffered: boolean;

  /** Set when `prepare` refused a packet: why the output ends there. */
  stopped: string | null = null;

  /**
   * @param writer where matched packets go (null: print or count)
   * @param prepare called for each matched packet before it is written (file rotation, output interface); may
   *   replace `writer`; returns null to go on, or why the output ends (the packet is not written or counted)
   */
  constructor(
    public writer: CaptureWriter | null, print: PrintOptions | null, private readonly match: PacketPredicate | null,
    private readonly prepare: ((p: PacketLike) => string | null) | null = null,
  ) {
    this.printer = print === null ? null : new PacketPrinter(print);
    this.lineBuffered = print?.lineBuffered === true;
  }

  /** Handle one packet; returns false when it did not match (or the output ended: see `stopped`). */
  take(p: PacketLike): boolean {
    this.received++;
    if (this.match !== null && !this.match(p)) return false;
    if (this.prepare !== null) {
      const why = this.prepare(p);
      if (why !== null) { this.stopped = why; this.received--; return false; } // not taken: the run ends before it
    }
    this.matched++;
    this.bytes += p.wireLen;
    if (this.writer !== null) this.writer.writePacket(p, this.ifaceId);
    else if (this.printer !== null) {
      this.lines.push(this.printer.format(p));
      if (this.lineBuffered) this.flushLines(); // -l
    }
    return true;
  }

  flushLines(): void {
    if (this.lines.length > 0) {
      writeOut(this.lines.join('\n') + '\n');
      this.lines = [];
    }
  }
}

/** Print options when packets are printed (not with -w, -q, --json or --count). */
function printing(opts: CaptureCliOptions, writer: CaptureWriter | null): PrintOptions | null {
  return opts.quiet !== true && writer === null && opts.json !== true && opts.countOnly !== true ? opts.print ?? {} : null;
}

function openWriter(opts: CaptureCliOptions, name: string, linkType = 1, precision?: 'nano' | 'micro'): CaptureWriter | null {
  if (opts.write === undefined) return null;
  return openWriterAt(opts, opts.write, name, linkType, precision);
}

/** The -w writer for one file (a rotated output opens several). */
function openWriterAt(opts: CaptureCliOptions, path: string, name: string, linkType = 1, precision?: 'nano' | 'micro'): CaptureWriter {
  // a rotated file is named after the -w pattern, so its format is the pattern's
  return openCaptureWriter(path, { format: opts.format ?? chooseFormat(opts.write!), snaplen: opts.snaplen ?? 262144, name, linkType, ...(precision ? { precision } : {}) });
}

async function runLive(opts: CaptureCliOptions): Promise<CaptureSummary> {
  const iface = opts.interface!;
  if (iface === 'any') return runAny(opts);
  const plan = filterPlan(opts, 'kernel');
  const capOpts: CaptureOptions = {
    iface, snaplen: opts.snaplen, promisc: opts.promisc, direction: opts.direction, timestamp: opts.timestamp,
    blockSize: opts.blockSize, blockCount: opts.blockCount, frameSize: opts.frameSize, blockTimeoutMs: opts.blockTimeout,
    filter: plan.kernel,
    onLinkChange: (c) => {
      if (c.state === 'down') process.stderr.write(`netring: ${iface}: link went down; capturing resumes when it comes back\n`);
      else if (c.state === 'up') process.stderr.write(`netring: ${iface}: link is up again\n`);
      else { fault = `interface ${iface} went away`; onGone(); }
    },
  };
  let fault: string | undefined;
  let onGone = (): void => {};
  const cap: Capture = openCapture(capOpts);
  opts.onCounters?.(ringCounters(() => cap.stats()));
  if (opts.write !== undefined) return runLiveWrite(opts, cap, plan);
  if (opts.relinquishPrivileges !== undefined) {
    try { dropPrivileges(opts.relinquishPrivileges); } catch (e) { cap.close(); throw e; }
  }
  const sink = new Sink(null, printing(opts, null), plan.residual);
  const limit = opts.count ?? Infinity;
  process.stderr.write(`listening on ${iface}, link-type EN10MB (Ethernet), snapshot length ${cap.snaplen} bytes, ring ${cap.geometry.blockCount} x ${cap.geometry.blockSize} bytes\n`);
  const t0 = performance.now();
  const status = new StatusLine(() => ({ packets: sink.matched, bytes: sink.bytes, drops: cap.stats().drops })).start();

  return new Promise<CaptureSummary>((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      status.stop();
      clearTimeout(timer);
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, finish);
      offClosed();
      cap.stop();
      sink.flushLines();
      const st = cap.stats();
      cap.close();
      resolve({
        source: iface, received: sink.received, matched: sink.matched, dropped: st.drops, freezes: st.freezes,
        written: 0, bytes: sink.bytes, seconds: (performance.now() - t0) / 1000,
        ...(plan.counters ? { counters: plan.counters() } : {}),
        ...(fault !== undefined ? { fault } : {}),
      });
    };
    onGone = finish;
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, finish);
    const offClosed = onStdoutClosed(finish); // `| head`: the reader went away, end like a Ctrl-C
    const timer = opts.seconds !== undefined ? setTimeout(finish, opts.seconds * 1000) : undefined;
    cap.start((batch: Batch) => {
      for (let p = batch.next(); p !== null; p = batch.next()) {
        if (sink.take(p) && sink.matched >= limit) { finish(); return; }
      }
      sink.flushLines();
    });
  });
}

/**
 * -i any: every interface at once, cooked (LINKTYPE_LINUX_SLL2, as tcpdump -i
 * any): the ring's packets carry the SLL2 header the capture builds from each
 * slot's sockaddr_ll, lines start with the interface and direction, and -w
 * writes them packet by packet (an SLL2 file). The filter runs in the kernel,
 * rewritten for packets without a link header (cooked-filter.ts).
 */
async function runAny(opts: CaptureCliOptions): Promise<CaptureSummary> {
  if (opts.fileSize !== undefined || opts.rotateSeconds !== undefined || opts.postRotate !== undefined || opts.compress !== undefined || opts.relinquishPrivileges !== undefined)
    throw new UsageError('-i any with -C, -G, -z, --compress or -Z: not yet (capture one interface, or write one file)');
  if (opts.direction === 'out') throw new UsageError('-i any with -Q out / --direction out: not yet');
  const expression = opts.filter ?? opts.program ?? '';
  const plan = packetFilter({
    filter: opts.filter, program: opts.program, snaplen: opts.snaplen, netmask: 0,
    filterBpf: opts.filterBpf !== undefined ? loadBpf(opts.filterBpf) : undefined,
  }, 'kernel');
  if (plan.residual !== null) throw new UsageError('-i any runs the filter in the kernel only; this program has stages that run in JavaScript (capture one interface)');
  const cap: Capture = openCapture({
    iface: 'any', snaplen: opts.snaplen, direction: opts.direction, timestamp: opts.timestamp,
    blockSize: opts.blockSize, blockCount: opts.blockCount, frameSize: opts.frameSize, blockTimeoutMs: opts.blockTimeout,
    filter: opts.filterBpf !== undefined ? plan.kernel : cookedFilter(plan.kernel, expression),
  });
  return runPerPacket(opts, cap, 'any', LINKTYPE_SLL2,
    `listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length ${cap.snaplen} bytes, ring ${cap.geometry.blockCount} x ${cap.geometry.blockSize} bytes`);
}

const LINKTYPE_SLL2 = 276;

/** --metrics counters of one live source (one worker): received, dropped and freezes, readable after close. */
function ringCounters(read: () => { received: number; drops: number; freezes: number }): () => PacketSource {
  return lastGood<PacketSource>(() => { const st = read(); return { received: [st.received], dropped: [st.drops], freezes: [st.freezes] }; }, {});
}

/** -w on a live capture: ring blocks straight to the file(s), see capture-write.ts. */
async function runLiveWrite(opts: CaptureCliOptions, cap: Capture, plan: FilterPlan): Promise<CaptureSummary> {
  const iface = opts.interface!;
  const t0 = performance.now();
  let status: StatusLine | null = null;
  let matched = 0;
  const r = await captureToFile(cap, {
    ...writeOptions(opts), write: opts.write!, iface, count: opts.count, seconds: opts.seconds, match: plan.residual,
    onReady: () => {
      process.stderr.write(`listening on ${iface}, link-type EN10MB (Ethernet), snapshot length ${cap.snaplen} bytes, ring ${cap.geometry.blockCount} x ${cap.geometry.blockSize} bytes\n`);
      status = new StatusLine(() => ({ packets: matched, bytes: 0, drops: cap.isOpen ? cap.stats().drops : 0 })).start();
    },
  }).finally(() => (status as StatusLine | null)?.stop());
  matched = r.matched;
  const st = cap.stats();
  return {
    source: iface, received: r.received, matched: r.matched, dropped: st.drops, freezes: st.freezes,
    written: r.written, bytes: r.bytes, seconds: (performance.now() - t0) / 1000,
    ...(r.files.length > 1 || opts.fileSize !== undefined || opts.rotateSeconds !== undefined ? { files: r.files } : {}),
    ...(r.error !== undefined || r.unwritten > 0 ? { unwritten: r.unwritten } : {}),
    ...(r.error !== undefined ? { error: r.error } : {}),
    ...(plan.counters ? { counters: plan.counters() } : {}),
    ...(r.fault !== undefined ? { fault: r.fault } : {}),
  };
}

/**
 * --xdp: AF_XDP sockets (src/cli/xdp-capture.ts) as the live source; the filter
 * runs in XDP. -w writes packet by packet through the capture writer (the
 * block-table writer is for TPACKET rings), rotated by -C/-G/-W like tcpdump.
 */
async function runXdpLive(opts: CaptureCliOptions): Promise<CaptureSummary> {
  const iface = opts.interface!;
  if (opts.write === '-') throw new UsageError('--xdp with -w -: not yet (write to a file)');
  if (opts.relinquishPrivileges !== undefined) throw new UsageError('--xdp with -Z: not yet (with --workers N it works)');
  const cap = openXdpSource({
    iface, queue: opts.queue, queues: opts.queues, zerocopy: opts.zerocopy, copy: opts.copy, snaplen: opts.snaplen,
    filter: opts.filter, program: opts.program, filterBpf: opts.filterBpf !== undefined ? loadBpf(opts.filterBpf) : undefined,
  });
  return runPerPacket(opts, cap, iface, 1,
    `listening on ${iface}, link-type EN10MB (Ethernet), snapshot length ${cap.snaplen} bytes, ${cap.describe}`);
}

/** What runPerPacket needs of a live source: the ring of -i any, or the AF_XDP sockets of --xdp. */
interface PerPacketSource {
  start(fn: (batch: BatchLike) => void): unknown;
  stop(): unknown;
  stats(): { kernelPackets: number; drops: number; freezes: number };
  close(): void;
}

/**
 * -i any and --xdp: print or write packet by packet (the capture writer; the
 * ring-to-file writer is for one interface's TPACKET ring) until -c, --seconds,
 * a signal or a closed stdout. Closes the source when it ends.
 */
function runPerPacket(opts: CaptureCliOptions, cap: PerPacketSource, source: string, linkType: number, listening: string): Promise<CaptureSummary> {
  let writer: CaptureWriter | null = null;
  // -C/-G/-W, -z, --compress: tcpdump's rotation over the record writer, each file with its own header (and ISB)
  const rotate = checkWriteOptions(writeOptions(opts));
  const after = new AfterClose(opts.compress, opts.postRotate, (l) => process.stderr.write(`${l}\n`));
  const kernelStats = (): { received: number; dropped: number } => { const st = cap.stats(); return { received: st.kernelPackets, dropped: st.drops }; };
  let out: RotatingWriter | null = null;
  try {
    if (opts.write !== undefined && (rotate !== undefined || after.active)) {
      out = new RotatingWriter({
        path: opts.write, rotate, open: (p) => openWriterAt(opts, p, source, linkType), statistics: kernelStats,
        ...(after.active ? { onFileClosed: (p: string) => after.closed(p) } : {}),
      });
      writer = out.writer;
    } else {
      writer = openWriter(opts, source, linkType);
    }
  } catch (e) {
    cap.close();
    throw e;
  }
  if (writer !== null && out === null) writer.setStatisticsSource(kernelStats);
  const rot = out;
  const sink: Sink = new Sink(writer, printing(opts, writer), null, rot === null ? null : () => {
    if (!rot.before()) return 'finished';
    sink.writer = writer = rot.writer;
    return null;
  });
  opts.onCounters?.(ringCounters(() => ({ ...cap.stats(), received: sink.received })));
  const limit = opts.count ?? Infinity;
  process.stderr.write(`${listening}\n`);
  const t0 = performance.now();
  const status = new StatusLine(() => ({ packets: sink.matched, bytes: sink.bytes, drops: cap.stats().drops })).start();
  return new Promise<CaptureSummary>((resolve) => {
    const finish = stopOnce(() => {
      status.stop();
      offClosed();
      if (ticker !== null) clearInterval(ticker);
      cap.stop();
      sink.flushLines();
      const st = cap.stats();
      const written = rot !== null ? (rot.close(), rot.written) : (writer?.close(), writer?.packets ?? 0);
      cap.close();
      void after.settle().then(() => resolve({
        source, received: sink.received, matched: sink.matched, dropped: st.drops, freezes: st.freezes,
        written, bytes: sink.bytes, seconds: (performance.now() - t0) / 1000,
        ...(rot !== null && rotate !== undefined ? { files: rot.files } : {}),
      }));
    }, opts.seconds);
    const offClosed = onStdoutClosed(finish);
    // -G: a new file when its time comes even while no packet arrives; -W with -G ends the run
    const ticker = rot !== null && rot.rotating ? setInterval(() => {
      rot.tick();
      if (rot.finished) finish();
      else sink.writer = writer = rot.writer;
    }, 100) : null;
    cap.start((batch: BatchLike) => {
      for (let p = batch.next(); p !== null; p = batch.next()) {
        if (sink.take(p) && sink.matched >= limit) { finish(); return; }
        if (sink.stopped !== null) { finish(); return; }
      }
      sink.flushLines();
      sink.writer?.flush(); // every batch reaches the file as it comes
    });
  });
}

async function runOffline(opts: CaptureCliOptions): Promise<CaptureSummary> {
  const rotate = checkWriteOptions(writeOptions(opts));
  if (opts.relinquishPrivileges !== undefined) throw new UsageError('-Z goes with a live capture (-i IFACE), not -r');
  const plan = filterPlan(opts, 'file'); // bad filters fail before the file is opened
  const match = plan.residual;
  const file = opts.read!;
  const reader = openCaptureReader(file, { onWarning: (w) => process.stderr.write(`netring: warning: ${file}: ${w.message}\n`) });
  const after = new AfterClose(opts.compress, opts.postRotate, (l) => process.stderr.write(`${l}\n`));
  // -C/-G/-W, -z, --compress: the output goes through tcpdump's rotation, each file with its own header
  let out: RotatingWriter | null = null;
  let writer: CaptureWriter | null = null;
  const t0 = performance.now();
  const limit = opts.count ?? Infinity;
  let stop = false;
  const onSig = (): void => { stop = true; };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  try {
    let sink: Sink | null = null;
    let n = 0;
    // a file that turns bad midway keeps everything before the bad record (as tcpdump does)
    let fault: string | undefined;
    try {
      for (const rec of reader) {
        // the filter is compiled for Ethernet frames: on another link type it would silently match nothing
        if (match !== null && rec.linkType !== 1) {
          throw new UsageError(`${file}: filters on link type ${rec.linkType} (not Ethernet) are not supported yet; read it without a filter`);
        }
        if (sink === null) {
          // a pcap input keeps its timestamp precision, so records copy exactly
          const precision = reader.format === 'pcap' ? reader.precision : undefined;
          if (opts.write !== undefined && (rotate !== undefined || after.active)) {
            const link = rec.linkType;
            out = new RotatingWriter({
              path: opts.write, rotate, open: (p) => openWriterAt(opts, p, file, link, precision)!,
              ...(after.active ? { onFileClosed: (p: string) => after.closed(p) } : {}),
            });
            writer = out.writer;
          } else {
            writer = openWriter(opts, file, rec.linkType, precision);
          }
          const ifaces = reader.interfaces;
          const rot = out;
          sink = new Sink(writer, printing(opts, writer), match, writer === null ? null : (p: PacketLike) => {
            if (rot !== null) {
              if (!rot.before()) return 'finished';
              sink!.writer = writer = rot.writer;
            }
            const r = p as FileRecord;
            return route(writer!, r, ifaces[r.interfaceIndex], sink!);
          });
        }
        if (sink.take(rec) && sink.matched >= limit) break;
        if (sink.stopped !== null) {
          if (sink.stopped !== 'finished') fault = `${file}: ${sink.stopped}`;
          break;
        }
        if ((++n & 0xfff) === 0) {
          sink.flushLines();
          await new Promise((r) => setImmediate(r)); // let Ctrl-C (and a closed stdout's EPIPE) in
          if (stop || stdoutClosed()) break;
        }
      }
    } catch (e) {
      if (!(e instanceof PcapFormatError)) { sink?.flushLines(); writer?.close(); throw e; }
      fault = `${file}: ${e.message}, after ${reader.count} packets`;
    }
    sink?.flushLines();
    // an empty input still makes a valid (empty) output file, replacing any old one
    if (writer === null && opts.write !== undefined) writer = openWriter(opts, opts.read!, reader.linkType >= 0 ? reader.linkType : 1);
    let written = writer?.packets ?? 0;
    if (out !== null) { out.close(); written = out.written; } else writer?.close();
    await after.settle();
    return {
      source: file, received: sink?.received ?? 0, matched: sink?.matched ?? 0, dropped: 0, freezes: 0,
      written, bytes: sink?.bytes ?? 0, seconds: (performance.now() - t0) / 1000,
      ...(out !== null && rotate !== undefined ? { files: out.files } : {}),
      ...(plan.counters ? { counters: plan.counters() } : {}),
      ...(fault !== undefined ? { fault } : {}),
    };
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
    reader.close();
  }
}

/**
 * Keep each record's interface in the output: a pcapng writer gets one
 * interface (IDB) per input interface, declared when its first packet comes;
 * a pcap file holds one link type, so a packet of another link type ends the
 * run with the reason (what came before is kept). Called for each matched packet
 * before it is written (counted as received already). Returns why it cannot, or null.
 */
function route(writer: CaptureWriter, rec: FileRecord, ifc: FileInterface | undefined, sink: Sink): string | null {
  const key = rec.interfaceIndex;
  if (writer instanceof PcapngWriter) {
    let id = outIface.get(writer)?.get(key);
    if (id === undefined) {
      let m = outIface.get(writer);
      if (m === undefined) { m = new Map(); outIface.set(writer, m); }
      // the writer opened with the first packet's interface: that is id 0
      id = m.size === 0 ? 0 : writer.addInterface({ linkType: rec.linkType, snaplen: ifc?.snaplen ?? 0, name: ifc?.name, precision: ifc?.tsresol.perSec === 1e6 ? 'micro' : 'nano' });
      m.set(key, id);
    }
    sink.ifaceId = id;
    return null;
  }
  if (writer instanceof PcapWriter && rec.linkType !== writer.linkType) {
    return `packet ${sink.received} (byte offset ${rec.fileOffset}) has link type ${rec.linkType}, but a pcap file holds one link type (${writer.linkType}, from the first packet): write pcapng instead (-w FILE.pcapng); stopped after ${sink.received - 1} packets`;
  }
  return null;
}
const outIface = new WeakMap<PcapngWriter, Map<number, number>>();

function report(s: CaptureSummary, opts: CaptureCliOptions): void {
  s.seconds = Math.round(s.seconds * 1e9) / 1e9; // no float noise in JSON (ns resolution)
  const live = opts.read === undefined; // reading a file, the kernel drops nothing
  const lines = [
    `${s.received} packets received${s.matched !== s.received ? `, ${s.matched} matched` : ''}`,
    ...(live ? [`${s.dropped} packets dropped by kernel`, `${s.freezes} queue freezes`] : []),
    `${s.written} packets written${opts.write !== undefined ? ` to ${s.files !== undefined ? `${s.files.length} file${s.files.length === 1 ? '' : 's'} (${opts.write}...)` : opts.write}` : ''}`,
    ...(s.unwritten !== undefined ? [`${s.unwritten} packets captured but not written`] : []),
    ...Object.entries(s.counters ?? {}).map(([k, v]) => `counter ${k}: ${v}`),
  ];
  process.stderr.write(lines.join('\n') + '\n');
  if (opts.countOnly) writeOut(`${s.matched} packets\n`);
  if (opts.json) writeOut(JSON.stringify(s) + '\n');
}
