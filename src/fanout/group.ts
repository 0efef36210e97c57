/**
 * Worker groups: N worker threads, each with its own socket and RX ring in one
 * PACKET_FANOUT group on the same device.
 *
 * ```ts
 * const g = await group({ iface: 'eth0', workers: 4, fanout: 'flow', worker: new URL('./my-worker.js', import.meta.url) });
 * setInterval(() => console.log(g.stats().packets), 1000);       // shared memory, no messages
 * g.on('crash', (c) => console.error(`worker ${c.index} crashed: ${c.error?.message}`));
 * const { results, reduced } = await g.stop({ reduce: (acc, r) => acc + r.count, initial: 0 });
 * ```
 *
 * Members join one after another, so the kernel's slot order is known
 * (slots.ts); steered groups get their program regenerated when a member
 * leaves or comes back. A crashed worker's socket is closed (it leaves the
 * group, the kernel spreads its traffic over the rest), the crash is reported
 * with the 'crash' event, and the worker is restarted when `restart` allows.
 *
 * A watchdog on the main thread reads each worker's progress word (bumped on
 * every turn of its capture loop, at least once per `pollMs` while it is
 * healthy): a worker whose word has not moved for `stallMs` is reported with
 * the 'stall' event and terminated, which makes it a crash like any other
 * (socket closed, restarted when `restart` allows). Whatever a dead worker's
 * socket had queued and nobody took (the batch it died in, what was left in
 * its ring) is counted as lost with that worker (`lost` in the stats), read
 * from the socket's kernel counters when it closes, so that for every
 * worker kernel packets = packets + drops + lost.
 *
 * `backend: 'xdp'` groups have one worker per RX queue, each with its own
 * AF_XDP socket; the NIC's RSS spreads the traffic over the queues. The
 * group attaches one XDP program (the filter, then a redirect into an
 * XSKMAP indexed by RX queue) before the workers start; each worker puts its
 * socket into the map at its queue. Nothing joins a fan-out group, so
 * `fanout` and steering do not apply.
 */
import { EventEmitter } from 'node:events';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { native } from '../native.js';
import { NetringError } from '../errors.js';
import type { CaptureOptions } from '../ring/capture.js';
import type { FanoutJoin } from '../ring/fanout-join.js';
import type { LinkState } from '../ring/link.js';
import { planFanout, programFor, type FanoutPlan, type GroupFanout } from './plan.js';
import {
  F_BATCHES, F_DROPS, F_FREEZES, F_KPACKETS, F_LOST, F_PACKETS, F_STARTED, F_UPDATED, SharedCounters, STATE_NAMES, USER_COUNTERS, WState,
  type WorkerStateName,
} from './shared.js';
import { PACKET_STATISTICS, SOL_PACKET } from '../constants.js';
import { SlotTable } from './slots.js';
import { cbpfToEbpf } from '../bpf/translate.js';
import { progLoad, PROG_TYPE } from '../bpf/loader.js';
import { SteerTableMap } from './table-map.js';
import { tableProgram, tableValues, type TableAlloc } from '../lang/steer/codegen.js';
import { toClasses, type Steering } from '../lang/steer/spec.js';
import type { CtrlMessage, GroupXdpOptions, WorkerBoot, WorkerMessage } from './worker-main.js';
import { XdpAttachment } from '../xsk/attach.js';
import { rxQueueCount, xskRxTotals } from '../xsk/socket.js';

export type { GroupXdpOptions } from './worker-main.js';

/** Options of {@link group}. */
export interface GroupOptions<D = unknown> {
  /** Interface to capture on. */
  iface: string;
  /**
   * Number of workers (1..256). Required with the packet backend; with
   * `backend: 'xdp'` it defaults to the number of queues and must equal it.
   */
  workers?: number;
  /**
   * 'packet' (default): a TPACKET_V3 ring per worker in one PACKET_FANOUT
   * group. 'xdp': an AF_XDP socket per worker, one worker per RX queue, the
   * NIC's RSS doing the spreading (worker i reads `queues[i]`).
   */
  backend?: 'packet' | 'xdp';
  /** With `backend: 'xdp'`: 'all' (default, every RX queue of the interface) or a list of RX queues. */
  queues?: 'all' | readonly number[];
  /** With `backend: 'xdp'`: the sockets' options and the filter the XDP program runs (`capture` is for the packet backend). */
  xdp?: GroupXdpOptions;
  /** The worker module: a URL, or a path resolved against the current directory. See worker-api.ts. */
  worker: string | URL;
  /** How packets are spread (default 'hash'). See {@link GroupFanout}. */
  fanout?: GroupFanout;
  /** Fan-out group id; default: the kernel picks an unused one (uniqueId). */
  id?: number;
  /** Passed to every worker as ctx.data (structured clone). */
  data?: D;
  /** Pin worker i to CPU cpus[i % cpus.length]; 'auto' = the CPUs this process may use, in order. */
  cpus?: readonly number[] | 'auto';
  /** Capture options of every worker's socket (ring geometry, snaplen, filter, direction, ...). */
  capture?: Omit<CaptureOptions, 'iface' | 'fanout' | 'fanoutArg'>;
  /** Restart crashed workers (default false); `{ max }` limits restarts per worker (default 3). */
  restart?: boolean | { max?: number };
  /** Longest a worker blocks in poll before checking for stop or control messages (default 100 ms). */
  pollMs?: number;
  /** How often workers refresh kernel counters (drops) and call tick() (default 250 ms). */
  statsMs?: number;
  /** Longest a worker drains its ring on stop (default 2000 ms). */
  drainMs?: number;
  /** Longest start() waits for workers to load and join (default 20000 ms). */
  startTimeoutMs?: number;
  /**
   * A capturing worker whose loop has not turned for this long (a batch()
   * that never returns) is reported ('stall' event) and terminated, then
   * restarted when `restart` allows (default 5000 ms; 0 = no watchdog).
   */
  stallMs?: number;
  /** Member limit of a new group (kernel >= 5.8). */
  maxMembers?: number;
  /** Listener for ctx.post() messages, attached before the workers start (so setup() messages are not missed). */
  onMessage?: (message: unknown, index: number) => void;
  /** Listener for crashes, attached before the workers start. */
  onCrash?: (info: CrashInfo) => void;
  /** Listener for link changes seen by the workers ('link' event), attached before the workers start. */
  onLinkChange?: (change: GroupLinkChange) => void;
  /** Listener for stalled workers ('stall' event), attached before the workers start. */
  onStall?: (info: StallInfo) => void;
}

/** A worker the watchdog found stuck (it is terminated next; its exit is reported as a crash). */
export interface StallInfo {
  index: number;
  generation: number;
  /** How long its capture loop had not turned. */
  stalledMs: number;
  at: number;
}

/**
 * The interface went down, came back up, or was deleted, as one worker saw it
 * (every worker's socket sees the same change, so each change arrives once per
 * worker). After 'gone' the workers drain their rings and finish by themselves.
 */
export interface GroupLinkChange {
  iface: string;
  state: LinkState;
  /** The worker that reported it. */
  index: number;
}

/** One worker's counters, read from shared memory. */
export interface WorkerStats {
  index: number;
  state: WorkerStateName;
  /** Packets handed to the worker's batch() (cumulative over restarts). */
  packets: number;
  batches: number;
  /** Packets the kernel queued for this worker's sockets (tp_packets, drops included). */
  kernelPackets: number;
  /** Packets the kernel dropped because this worker's ring was full. */
  drops: number;
  /**
   * Packets lost with the worker: queued to its socket by the kernel but never
   * handed to a batch() that returned, because the worker died or was stopped
   * with them still in its ring (counted when its socket closed).
   */
  lost: number;
  freezes: number;
  restarts: number;
  /** CPU the worker last ran on, and its kernel thread id. */
  cpu: number;
  tid: number;
  /** The worker's ctx.counters. */
  user: number[];
  /** When the worker joined (ms since the epoch) and last refreshed its kernel counters. */
  startedMs: number;
  updatedMs: number;
}

/** A snapshot of the whole group. */
export interface GroupStats {
  at: number;
  fanoutId: number;
  /** How packets are spread, in words. */
  fanout: string;
  workers: WorkerStats[];
  packets: number;
  drops: number;
  /** Packets lost with workers (see WorkerStats.lost). */
  lost: number;
  kernelPackets: number;
}

/** A worker that died without finishing. */
export interface CrashInfo {
  index: number;
  generation: number;
  exitCode: number;
  /** The error it threw (absent when it was terminated). */
  error?: { message: string; code?: string; stack?: string };
  /** What it was doing: setup, join, run or finish (absent when terminated). */
  phase?: string;
  /** A replacement is being started. */
  restarting: boolean;
  /** Set when the watchdog terminated it: how long it had been stuck. */
  stalledMs?: number;
  /** Packets lost with this life of the worker (its last batch, what was left in its ring). */
  lost: number;
  at: number;
}

/** What stop() returns. */
export interface GroupResult<R = unknown, A = undefined> {
  /** Each worker's finish() value (undefined for workers that crashed and were not restarted). */
  results: Array<R | undefined>;
  /** The results folded with stop()'s `reduce`. */
  reduced: A;
  stats: GroupStats;
  crashes: CrashInfo[];
}

interface Member {
  worker: Worker | null;
  ctrl: MessagePort | null;
  generation: number;
  restarts: number;
  joined: boolean;
  result: { value: unknown } | null;
  failure: Extract<WorkerMessage, { t: 'failed' }> | null;
  waiters: Array<{ t: WorkerMessage['t']; ok: (m: WorkerMessage) => void; fail: (e: Error) => void }>;
  exited: Promise<number>;
  onExit: (code: number) => void;
  /** Set when the watchdog terminated it. */
  stalledMs: number | null;
  /** Lost count (shared F_LOST) when this life started. */
  lostBefore: number;
  /** Kernel counters (shared F_KPACKETS, F_DROPS, F_FREEZES) when this life started (AF_XDP: settled from its socket's totals). */
  kernelBefore: { k: number; d: number; z: number };
}

const MAX_WORKERS = 256;

function moduleHref(w: string | URL): string {
  if (w instanceof URL) return w.href;
  if (/^(file|data):/.test(w)) return w;
  return pathToFileURL(resolvePath(w)).href;
}

function num(v: number | undefined, dflt: number, name: string, min = 0): number {
  const x = v ?? dflt;
  if (!Number.isFinite(x) || x < min) throw new NetringError(`group: ${name} must be a number >= ${min} (got ${String(v)})`, 'EINVAL');
  return x;
}

/**
 * A running worker group. Events:
 * - 'crash' (info: CrashInfo): a worker died (threw, or was terminated)
 * - 'stall' (info: StallInfo): the watchdog found a worker stuck (it is terminated, then reported as a crash)
 * - 'restart' ({ index, generation }): a replacement joined the group
 * - 'message' (message, index): a worker called ctx.post(message)
 * - 'link' (change: GroupLinkChange): a worker saw the interface go down, up, or away
 */
export class FanoutGroup extends EventEmitter {
  readonly iface: string;
  readonly size: number;
  /** How packets are spread (its steering changes with setWeights()). */
  plan: FanoutPlan;
  private readonly opts: GroupOptions;
  private ebpf: { table: TableAlloc; map: SteerTableMap; prog: number } | null = null;
  private weightOverrides: Array<number[] | undefined> = [];
  private programSeq = 0;
  private readonly shared: SharedCounters;
  private readonly members: Member[] = [];
  private readonly slotTable = new SlotTable();
  private readonly crashes: CrashInfo[] = [];
  private readonly href: string;
  private readonly maxRestarts: number;
  private readonly pollMs: number;
  private readonly statsMs: number;
  private readonly drainMs: number;
  private readonly startTimeoutMs: number;
  private readonly stallMs: number;
  private watchdog: NodeJS.Timeout | null = null;
  private readonly beats: Array<{ beat: number; since: number }> = [];
  private groupId: number;
  /** backend 'xdp': worker i's RX queue, and the program + XSKMAP every worker's socket goes into. */
  private readonly queues: number[] | null = null;
  private xdpAtt: XdpAttachment | null = null;
  private started = false;
  private stopping = false;
  private stopped: Promise<GroupResult<unknown, unknown>> | null = null;

  /** @internal use group() */
  constructor(opts: GroupOptions) {
    super();
    if (!opts || typeof opts.iface !== 'string' || opts.iface.length === 0) throw new NetringError('group: `iface` is required', 'EINVAL');
    const backend = opts.backend ?? 'packet';
    if (backend !== 'packet' && backend !== 'xdp') throw new NetringError(`group: backend must be 'packet' or 'xdp' (got ${String(backend)})`, 'EINVAL');
    let workers = opts.workers;
    if (backend === 'xdp') {
      this.queues = xdpQueues(opts);
      workers ??= this.queues.length;
      if (workers !== this.queues.length)
        throw new NetringError(`group: backend 'xdp' runs one worker per RX queue: ${opts.iface} has ${this.queues.length} queue${this.queues.length === 1 ? '' : 's'} to capture, not ${String(workers)} workers`, 'EINVAL');
    } else if (opts.queues !== undefined || opts.xdp !== undefined) {
      throw new NetringError("group: `queues` and `xdp` go with backend 'xdp'", 'EINVAL');
    }
    if (!Number.isInteger(workers) || workers! < 1 || workers! > MAX_WORKERS)
      throw new NetringError(`group: workers must be an integer in 1..${MAX_WORKERS} (got ${String(workers)})`, 'EINVAL');
    if (opts.worker === undefined) throw new NetringError('group: `worker` (the worker module) is required', 'EINVAL');
    if (opts.id !== undefined && (!Number.isInteger(opts.id) || opts.id < 0 || opts.id > 0xffff))
      throw new NetringError(`group: id must be an integer in 0..65535 (got ${String(opts.id)})`, 'EINVAL');
    this.opts = opts;
    this.iface = opts.iface;
    this.size = workers!;
    this.plan = planFanout(opts.fanout);
    if (this.queues !== null) this.plan = { ...this.plan, describe: `AF_XDP, one worker per RX queue (${this.queues.join(',')}), spread by the NIC's RSS` };
    this.shared = new SharedCounters(this.size);
    this.href = moduleHref(opts.worker);
    this.maxRestarts = opts.restart === true ? 3 : opts.restart ? num(opts.restart.max, 3, 'restart.max') : 0;
    this.pollMs = num(opts.pollMs, 100, 'pollMs', 1);
    this.statsMs = num(opts.statsMs, 250, 'statsMs', 1);
    this.drainMs = num(opts.drainMs, 2000, 'drainMs');
    this.startTimeoutMs = num(opts.startTimeoutMs, 20000, 'startTimeoutMs', 1);
    this.stallMs = num(opts.stallMs, 5000, 'stallMs');
    this.groupId = opts.id ?? -1;
    this.shared.fanoutId = this.groupId;
    if (opts.onMessage) this.on('message', opts.onMessage);
    if (opts.onCrash) this.on('crash', opts.onCrash);
    if (opts.onLinkChange) this.on('link', opts.onLinkChange);
    if (opts.onStall) this.on('stall', opts.onStall);
  }

  /** The fan-out group id (the kernel's pick unless `id` was given); -1 before the first member joined. */
  get id(): number { return this.groupId; }

  /** @internal */
  async start(): Promise<this> {
    if (this.plan.table !== undefined && this.plan.steering !== undefined) this.loadEbpf(this.plan.steering, this.plan.table.entries);
    if (this.queues !== null) this.attachXdp();
    for (let i = 0; i < this.size; i++) this.spawn(i, 0);
    try {
      await this.withTimeout(Promise.all(this.members.map((_, i) => this.waitFor(i, 'ready'))), 'load and set up');
      for (let i = 0; i < this.size; i++) await this.withTimeout(this.join(i), 'join the group');
    } catch (e) {
      this.stopping = true;
      this.shared.requestStop();
      await Promise.all(this.members.map((m) => { void m.worker?.terminate(); return m.exited; }));
      this.cleanupFds();
      this.unloadEbpf();
      this.detachXdp();
      throw e;
    }
    this.started = true;
    this.startWatchdog();
    return this;
  }

  /** Check every worker's progress word a few times per `stallMs`. */
  private startWatchdog(): void {
    if (this.stallMs <= 0) return;
    const now = Date.now();
    for (let i = 0; i < this.size; i++) this.beats[i] = { beat: this.shared.beat(i), since: now };
    this.watchdog = setInterval(() => this.checkStalls(), Math.max(10, Math.min(500, this.stallMs / 4)));
    this.watchdog.unref();
  }

  private checkStalls(): void {
    const now = Date.now();
    for (let i = 0; i < this.size; i++) {
      const m = this.members[i];
      const b = this.beats[i];
      const beat = this.shared.beat(i);
      const st = this.shared.state(i);
      // only a capture loop is watched: setup() and finish() may take as long as they like
      if (beat !== b.beat || (st !== WState.Running && st !== WState.Draining) || m.worker === null || m.stalledMs !== null) {
        b.beat = beat;
        b.since = now;
        continue;
      }
      const stalledMs = now - b.since;
      if (stalledMs < this.stallMs) continue;
      m.stalledMs = stalledMs;
      this.emit('stall', { index: i, generation: m.generation, stalledMs, at: now } satisfies StallInfo);
      void m.worker.terminate();
    }
  }

  /** eBPF table mode: one program for the group's life, a table map that follows the layout and the weights. */
  private loadEbpf(steering: Steering, entries: number): void {
    const { program, table } = tableProgram(steering, this.size, entries);
    const map = new SteerTableMap(table.size);
    try {
      map.write(tableValues(table, Array.from({ length: this.size }, (_, i) => i)));
      const prog = progLoad(PROG_TYPE.SOCKET_FILTER, cbpfToEbpf(program, { tableFd: map.fd }), { what: 'the eBPF steering program' }).fd;
      this.ebpf = { table, map, prog };
    } catch (e) {
      map.close();
      throw e;
    }
  }

  /** backend 'xdp': the XDP program (filter, redirect by RX queue) and its XSKMAP, attached through a BPF link. */
  private attachXdp(): void {
    const x = this.opts.xdp ?? {};
    const ifindex = native.ifindex(this.iface);
    const queues = Math.max(rxQueueCount(this.iface), ...this.queues!.map((q) => q + 1));
    this.xdpAtt = XdpAttachment.attach({ iface: this.iface, ifindex, queues, mode: x.xdpMode, filter: x.filter });
  }

  /** Detach the XDP program (closes its link); the workers' sockets are out of the map by now. */
  private detachXdp(): void {
    if (this.xdpAtt === null) return;
    this.xdpAtt.leave();
    this.xdpAtt = null;
  }

  /** Where the program runs ('native' or 'generic'); null for the packet backend. */
  get xdpMode(): 'native' | 'generic' | null { return this.xdpAtt?.mode ?? null; }

  private unloadEbpf(): void {
    if (this.ebpf === null) return;
    native.close(this.ebpf.prog);
    this.ebpf.map.close();
    this.ebpf = null;
  }

  /**
   * Change the weights of class `cls` (0 for a single plan) while packets
   * flow. eBPF groups rewrite their table map in place; classic BPF groups get
   * a new program, set by one worker (within `pollMs`). Resolves once the new
   * weights are in force. Kernel-mode groups have no weights.
   */
  async setWeights(weights: readonly number[], cls = 0): Promise<void> {
    const st = this.plan.steering;
    if (st === undefined) throw new NetringError(`group: ${this.plan.describe} has no weights (use a steering function)`, 'EINVAL');
    const classes = toClasses(st);
    if (!Number.isInteger(cls) || cls < 0 || cls >= classes.length) throw new NetringError(`group: no class ${cls}`, 'EINVAL');
    const c = classes[cls];
    const n = (c.members ?? this.members).length;
    if (weights.length !== n) throw new NetringError(`group: class ${cls} has ${n} members, got ${weights.length} weights`, 'EINVAL');
    if (this.ebpf !== null) {
      const over = [...this.weightOverrides];
      over[cls] = [...weights];
      this.ebpf.map.write(tableValues(this.ebpf.table, this.slotTable.slots(this.size), over)); // validates first
      this.weightOverrides = over;
      return;
    }
    classes[cls] = { ...c, weights: [...weights] };
    const next: Steering = classes.length === 1 && classes[0].match === undefined ? { ...classes[0] } : { classes };
    programFor({ ...this.plan, steering: next }, this.size, this.slotTable.slots(this.size)); // validates
    this.plan = { ...this.plan, steering: next };
    await this.reprogram();
  }

  private withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => {
      t = setTimeout(() => rej(new NetringError(`group: workers did not ${what} within ${this.startTimeoutMs} ms`, 'ETIMEDOUT')), this.startTimeoutMs);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(t));
  }

  private cpusFor(i: number): number[] | undefined {
    const c = this.opts.cpus;
    if (c === undefined) return undefined;
    const list = c === 'auto' ? native.getAffinity() : c;
    if (list.length === 0) throw new NetringError('group: cpus is empty', 'EINVAL');
    return [list[i % list.length]];
  }

  private spawn(i: number, generation: number): void {
    const { port1, port2 } = new MessageChannel();
    const boot: WorkerBoot = {
      module: this.href, index: i, workers: this.size, iface: this.iface, data: this.opts.data,
      shared: this.shared.sab, ctrl: port2, capture: this.opts.capture ?? {}, cpus: this.cpusFor(i),
      pollMs: this.pollMs, statsMs: this.statsMs, drainMs: this.drainMs, generation,
    };
    if (this.queues !== null && this.xdpAtt !== null) boot.xdp = { queue: this.queues[i], mapFd: this.xdpAtt.mapFd, options: this.opts.xdp ?? {} };
    const worker = new Worker(new URL('./worker-main.js', import.meta.url), { workerData: boot, transferList: [port2] });
    let onExit!: (code: number) => void;
    const exited = new Promise<number>((r) => { onExit = r; });
    const prev = this.members[i];
    const m: Member = {
      worker, ctrl: port1, generation, restarts: prev?.restarts ?? 0, joined: false, result: null, failure: null,
      waiters: [], exited, onExit, stalledMs: null, lostBefore: this.shared.get(i, F_LOST),
      kernelBefore: { k: this.shared.get(i, F_KPACKETS), d: this.shared.get(i, F_DROPS), z: this.shared.get(i, F_FREEZES) },
    };
    this.members[i] = m;
    this.shared.setState(i, WState.Starting);
    worker.on('message', (msg: WorkerMessage) => this.onMessage(i, generation, msg));
    worker.on('error', (err) => {
      // an error outside the worker's own try (e.g. its entry failed to load)
      if (m.failure === null) m.failure = { t: 'failed', phase: 'setup', error: { message: err.message, stack: err.stack } };
    });
    worker.on('exit', (code) => this.onExited(i, generation, code));
  }

  private waitFor(i: number, t: WorkerMessage['t']): Promise<WorkerMessage> {
    return new Promise((ok, fail) => this.members[i].waiters.push({ t, ok, fail }));
  }

  private send(i: number, msg: CtrlMessage): void {
    const m = this.members[i];
    m.ctrl?.postMessage(msg);
    this.shared.bumpMail(i);
  }

  private onMessage(i: number, gen: number, msg: WorkerMessage): void {
    const m = this.members[i];
    if (m.generation !== gen) return;
    if (msg.t === 'user') { this.emit('message', msg.message, i); return; }
    if (msg.t === 'link') { this.emit('link', { iface: this.iface, state: msg.state, index: i } satisfies GroupLinkChange); return; }
    if (msg.t === 'result') m.result = { value: msg.value };
    if (msg.t === 'failed') m.failure = msg;
    const still: Member['waiters'] = [];
    for (const w of m.waiters) {
      if (w.t === msg.t) w.ok(msg);
      else if (msg.t === 'failed') w.fail(this.failureError(i, msg));
      else still.push(w);
    }
    m.waiters = msg.t === 'failed' ? [] : still;
  }

  private failureError(i: number, f: Extract<WorkerMessage, { t: 'failed' }>): NetringError {
    return new NetringError(`group: worker ${i} failed in ${f.phase}: ${f.error.message}`, f.error.code ?? 'EWORKER');
  }

  /** Join member i (it is waiting in its mailbox) with the program for the layout it creates. */
  private async join(i: number): Promise<void> {
    if (this.queues !== null) {
      // AF_XDP: the worker binds its queue and enters the XSKMAP; no fan-out group
      const joined = this.waitFor(i, 'joined');
      this.send(i, { t: 'join', join: null });
      await joined;
      this.members[i].joined = true;
      return;
    }
    const first = this.groupId < 0;
    const j: FanoutJoin = { id: first ? 0 : this.groupId, mode: this.plan.mode, ...this.plan.flags, uniqueId: first };
    if (this.opts.maxMembers !== undefined) j.maxMembers = this.opts.maxMembers;
    const slots = this.slotTable.slots(this.size);
    slots[i] = this.slotTable.size; // it will take the next slot
    const program = programFor(this.plan, this.size, slots);
    if (program !== undefined) j.program = program;
    if (this.plan.ebpfFd !== undefined) j.ebpfFd = this.plan.ebpfFd;
    if (this.ebpf !== null) j.ebpfFd = this.ebpf.prog;
    const joined = this.waitFor(i, 'joined');
    this.send(i, { t: 'join', join: j });
    const msg = (await joined) as Extract<WorkerMessage, { t: 'joined' }>;
    if (first) { this.groupId = msg.id; this.shared.fanoutId = msg.id; }
    this.slotTable.join(i);
    this.members[i].joined = true;
    if (this.ebpf !== null) void this.reprogram();
  }

  /** Follow the current layout: rewrite the eBPF table, or send a new program to one live member (steered groups only). */
  private reprogram(): Promise<void> {
    if (this.ebpf !== null) {
      this.ebpf.map.write(tableValues(this.ebpf.table, this.slotTable.slots(this.size), this.weightOverrides));
      return Promise.resolve();
    }
    if (this.plan.steering === undefined || this.slotTable.size === 0) return Promise.resolve();
    const live = this.members.findIndex((m) => m.joined && m.worker !== null);
    if (live < 0) return Promise.resolve();
    const seq = ++this.programSeq;
    const done = this.waitFor(live, 'programmed').then(() => undefined);
    this.send(live, { t: 'program', seq, program: programFor(this.plan, this.size, this.slotTable.slots(this.size))! });
    return done;
  }

  private onExited(i: number, gen: number, code: number): void {
    const m = this.members[i];
    if (m.generation !== gen) return;
    const fd = this.shared.takeFd(i);
    if (fd >= 0) this.closeDeadSocket(i, fd);
    if (m.joined) { if (this.queues === null) this.slotTable.leave(i); m.joined = false; }
    m.worker = null;
    m.ctrl?.close();
    m.ctrl = null;
    const crashed = m.failure !== null || code !== 0 || (!this.stopping && m.result === null);
    if (crashed) {
      this.shared.setState(i, WState.Crashed);
      const restarting = this.started && !this.stopping && m.restarts < this.maxRestarts;
      const lost = this.shared.get(i, F_LOST) - m.lostBefore;
      const info: CrashInfo = { index: i, generation: gen, exitCode: code, restarting, lost, at: Date.now() };
      if (m.failure !== null) { info.error = m.failure.error; info.phase = m.failure.phase; }
      if (m.stalledMs !== null) info.stalledMs = m.stalledMs;
      this.crashes.push(info);
      const err = m.failure !== null ? this.failureError(i, m.failure) : new NetringError(`group: worker ${i} exited (code ${code})`, 'EWORKER');
      for (const w of m.waiters) w.fail(err);
      m.waiters = [];
      m.onExit(code);
      this.emit('crash', info);
      if (restarting) {
        m.restarts++;
        void this.respawn(i, gen + 1);
      } else {
        this.reprogram().catch(() => { /* that worker died too: its exit reprograms again */ });
      }
      return;
    }
    for (const w of m.waiters) w.fail(new NetringError(`group: worker ${i} exited`, 'EWORKER'));
    m.waiters = [];
    m.onExit(code);
  }

  /**
   * The socket of a worker that died without closing it: fold the kernel
   * counters it gathered since the worker last read them into the worker's
   * counters, close it (it leaves the fan-out group), and count what it had
   * queued that nobody took as lost.
   */
  private closeDeadSocket(i: number, fd: number): void {
    if (this.queues !== null) {
      // AF_XDP: out of the map first (its queue's frames go up the stack from now on), then its totals
      // for this life: every descriptor the kernel put on its RX ring (the ring's producer index) plus
      // what XDP_STATISTICS says it dropped; what no batch() returned from is lost with the worker
      if (this.xdpAtt !== null) this.xdpAtt.removeSocket(this.queues[i]);
      const t = xskRxTotals(fd);
      try { native.close(fd); } catch { /* already gone */ }
      if (t !== null) {
        const base = this.members[i].kernelBefore;
        const drops = t.stats.rxDropped + t.stats.rxRingFull + t.stats.rxInvalidDescs;
        this.shared.set(i, F_KPACKETS, base.k + t.delivered + drops);
        this.shared.set(i, F_DROPS, base.d + drops);
        this.shared.set(i, F_FREEZES, base.z + t.stats.rxFillRingEmptyDescs);
      }
      this.shared.settleLost(i);
      return;
    }
    const b = new Uint32Array(3);
    let read = false;
    try { native.getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, b); read = true; } catch { /* not a packet socket any more */ }
    try { native.close(fd); } catch { /* already gone */ }
    if (!read) return;
    this.shared.add(i, F_KPACKETS, b[0]);
    this.shared.add(i, F_DROPS, b[1]);
    this.shared.add(i, F_FREEZES, b[2]);
    this.shared.settleLost(i);
  }

  private async respawn(i: number, generation: number): Promise<void> {
    this.spawn(i, generation);
    try {
      await this.withTimeout(this.waitFor(i, 'ready'), 'load and set up');
      if (this.stopping) return;
      await this.withTimeout(this.join(i), 'join the group');
      this.emit('restart', { index: i, generation });
    } catch {
      // its exit is reported as another crash (and restarted while restarts remain)
      void this.members[i].worker?.terminate();
    }
  }

  /**
   * Terminate worker i as if it had been killed (its socket is closed, the
   * crash is reported, and it restarts when `restart` allows). Resolves when it exited.
   */
  async kill(i: number): Promise<void> {
    const m = this.members[i];
    if (m === undefined) throw new NetringError(`group: no worker ${i}`, 'EINVAL');
    if (m.worker === null) return;
    const exited = m.exited;
    await m.worker.terminate();
    await exited;
  }

  /** Counters of every worker, read from shared memory (no messages). */
  stats(): GroupStats {
    const sh = this.shared;
    const workers: WorkerStats[] = [];
    let packets = 0, drops = 0, lost = 0, kernelPackets = 0;
    for (let i = 0; i < this.size; i++) {
      const w: WorkerStats = {
        index: i, state: STATE_NAMES[sh.state(i)] ?? 'starting',
        packets: sh.get(i, F_PACKETS), batches: sh.get(i, F_BATCHES), kernelPackets: sh.get(i, F_KPACKETS),
        drops: sh.get(i, F_DROPS), lost: sh.get(i, F_LOST), freezes: sh.get(i, F_FREEZES), restarts: this.members[i]?.restarts ?? 0,
        cpu: sh.cpu(i), tid: sh.tid(i), user: Array.from(sh.userCounters(i)),
        startedMs: sh.get(i, F_STARTED), updatedMs: sh.get(i, F_UPDATED),
      };
      packets += w.packets; drops += w.drops; lost += w.lost; kernelPackets += w.kernelPackets;
      workers.push(w);
    }
    return { at: Date.now(), fanoutId: this.groupId, fanout: this.plan.describe, workers, packets, drops, lost, kernelPackets };
  }

  /** Number of user counters per worker (ctx.counters). */
  static readonly userCounters = USER_COUNTERS;

  /**
   * Stop: every worker drains its ring (until no block retires within two
   * block timeouts, at most drainMs), runs finish(), and exits. Workers still
   * alive `timeoutMs` later (default drainMs + 5 s) are terminated. Idempotent.
   */
  stop<R = unknown, A = undefined>(opts: { reduce?: (acc: A, result: R, index: number) => A; initial?: A; timeoutMs?: number } = {}): Promise<GroupResult<R, A>> {
    if (this.stopped === null) this.stopped = this.doStop(opts as { timeoutMs?: number });
    return this.stopped.then((r) => {
      let acc = opts.initial as A;
      if (opts.reduce) r.results.forEach((v, i) => { if (v !== undefined) acc = opts.reduce!(acc, v as R, i); });
      return { ...r, results: r.results as Array<R | undefined>, reduced: acc };
    });
  }

  private async doStop(opts: { timeoutMs?: number }): Promise<GroupResult<unknown, unknown>> {
    this.stopping = true;
    this.shared.requestStop();
    for (let i = 0; i < this.size; i++) this.shared.bumpMail(i);
    const limit = opts.timeoutMs ?? this.drainMs + this.pollMs + 5000;
    const all = Promise.all(this.members.map((m) => m.exited));
    let t: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((r) => { t = setTimeout(() => r(true), limit); })]);
    clearTimeout(t);
    if (timedOut) {
      await Promise.all(this.members.map((m) => { void m.worker?.terminate(); return m.exited; }));
    }
    await new Promise((r) => setImmediate(r)); // let late messages land
    if (this.watchdog !== null) { clearInterval(this.watchdog); this.watchdog = null; }
    this.cleanupFds();
    this.unloadEbpf();
    this.detachXdp();
    return {
      results: this.members.map((m) => m.result?.value),
      reduced: undefined,
      stats: this.stats(),
      crashes: [...this.crashes],
    };
  }

  private cleanupFds(): void {
    for (let i = 0; i < this.size; i++) {
      const fd = this.shared.takeFd(i);
      if (fd >= 0) this.closeDeadSocket(i, fd);
      this.members[i]?.ctrl?.close();
    }
  }
}

/** RX queues of a `backend: 'xdp'` group: every queue of the interface, or the list given (checked). */
function xdpQueues(opts: GroupOptions): number[] {
  if (opts.fanout !== undefined) throw new NetringError("group: fanout goes with the packet backend; with backend 'xdp' the NIC's RSS spreads packets over the RX queues", 'EINVAL');
  const q = opts.queues ?? 'all';
  if (q === 'all') {
    const n = rxQueueCount(opts.iface);
    if (n === 0) throw new NetringError(`group: ${opts.iface} has no RX queues listed in /sys/class/net/${opts.iface}/queues (no such interface?)`, 'ENODEV');
    return Array.from({ length: n }, (_, i) => i);
  }
  if (!Array.isArray(q) || q.length === 0 || q.some((x) => !Number.isInteger(x) || x < 0 || x > 0xffff) || new Set(q).size !== q.length)
    throw new NetringError(`group: queues must be 'all' or a list of distinct RX queue numbers (got ${JSON.stringify(q)})`, 'EINVAL');
  return [...q];
}

/** Start a worker group and resolve once every worker joined the fan-out group (AF_XDP: bound its queue). */
export async function group<D = unknown>(opts: GroupOptions<D>): Promise<FanoutGroup> {
  const g = new FanoutGroup(opts as GroupOptions);
  return g.start();
}
