/**
 * Entry point of every group worker thread (started by group.ts; not for
 * direct use). Life of a worker:
 *
 *   import the user module, pin to CPUs, setup()      -> 'ready'
 *   wait for 'join' (the group joins members one at a time, so the kernel's
 *   slot order is known), open the capture in the group -> 'joined'
 *   loop: nextBatch(pollMs) blocks in poll(2); batch(); count into shared memory;
 *         check the mailbox word (program updates) and the stop word
 *   on stop: drain the ring until it stays empty, finish() -> 'result', close
 *
 * Control messages arrive on a dedicated MessagePort read with
 * receiveMessageOnPort, announced by bumping the worker's mailbox word, so a
 * worker blocked in poll never needs its event loop.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort, type TransferListItem } from 'node:worker_threads';
import { native } from '../native.js';
import { openCapture, type Capture, type CaptureOptions } from '../ring/capture.js';
import type { BatchLike } from '../ring/batch-like.js';
import { XskCapture, type XdpCaptureOptions } from '../xsk/capture.js';
import { setFanoutProgram, type FanoutJoin } from '../ring/fanout-join.js';
import { F_BATCHES, F_DROPS, F_FREEZES, F_KPACKETS, F_PACKETS, F_STARTED, F_UPDATED, SharedCounters, WState } from './shared.js';
import type { CaptureStats } from '../ring/capture.js';
import type { WorkerContext, WorkerModule } from './worker-api.js';
import type { BpfProgram } from '../bpf/classic.js';
import type { LinkState } from '../ring/link.js';

/** @internal what group.ts hands a worker */
export interface WorkerBoot {
  module: string;
  index: number;
  workers: number;
  iface: string;
  data: unknown;
  shared: SharedArrayBuffer;
  ctrl: MessagePort;
  capture: Omit<CaptureOptions, 'iface' | 'fanout' | 'fanoutArg'>;
  cpus?: number[];
  pollMs: number;
  statsMs: number;
  drainMs: number;
  generation: number;
  /** `backend: 'xdp'`: this worker's RX queue, the XSKMAP the group's parent attached, and the socket options. */
  xdp?: { queue: number; mapFd: number; options: GroupXdpOptions };
}

/** AF_XDP options of every worker's socket in a `backend: 'xdp'` group (the filter runs in the XDP program). */
export type GroupXdpOptions = Omit<XdpCaptureOptions, 'backend' | 'iface' | 'queue' | 'xskMapFd'>;

/** @internal main -> worker */
export type CtrlMessage = { t: 'join'; join: FanoutJoin | null } | { t: 'program'; program: BpfProgram; seq: number };
/** @internal worker -> main */
export type WorkerMessage =
  | { t: 'ready' }
  | { t: 'joined'; id: number }
  | { t: 'programmed'; seq: number }
  | { t: 'user'; message: unknown }
  | { t: 'link'; state: LinkState }
  | { t: 'result'; value: unknown }
  | { t: 'failed'; phase: 'setup' | 'join' | 'run' | 'finish'; error: { message: string; code?: string; stack?: string } };

const boot = workerData as WorkerBoot;
const port = parentPort!;
const shared = new SharedCounters(boot.workers, boot.shared);
const me = boot.index;
let mailSeen = shared.mail(me);
let cap: Capture | XskCapture | null = null;
/** Kernel counters of `cap` already added to shared memory. */
let last = { k: 0, d: 0, z: 0 };

/** Add the kernel counters read since the last call (of an open or a closed capture) to shared memory. */
function pushStats(s: CaptureStats): void {
  shared.add(me, F_KPACKETS, s.kernelPackets - last.k);
  shared.add(me, F_DROPS, s.drops - last.d);
  shared.add(me, F_FREEZES, s.freezes - last.z);
  last = { k: s.kernelPackets, d: s.drops, z: s.freezes };
}

function send(m: WorkerMessage, transfer?: readonly TransferListItem[]): void {
  port.postMessage(m, transfer);
}

/** Next control message (blocking up to timeoutMs); null on timeout. */
function nextCtrl(timeoutMs: number): CtrlMessage | null {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = receiveMessageOnPort(boot.ctrl);
    if (got !== undefined) return got.message as CtrlMessage;
    const left = deadline - Date.now();
    if (left <= 0) return null;
    const seen = shared.mail(me);
    if (seen === mailSeen) shared.waitMail(me, seen, Math.min(left, 50));
    mailSeen = shared.mail(me);
  }
}

function closeCapture(): void {
  if (cap === null) return;
  const c = cap;
  // whoever takes the fd slot owns the close (the group closes it, and settles the books, if this thread dies first)
  if (shared.takeFd(me) === fdOf(c)) {
    c.close(); // reads the final kernel counters
    pushStats(c.stats());
    shared.settleLost(me);
  }
  cap = null;
}

function fdOf(c: Capture | XskCapture): number {
  return c instanceof XskCapture ? c.socket.fd : c.fd;
}

function errorInfo(e: unknown): { message: string; code?: string; stack?: string } {
  const err = e as { message?: string; code?: string; stack?: string };
  return { message: String(err?.message ?? e), code: typeof err?.code === 'string' ? err.code : undefined, stack: err?.stack };
}

async function main(): Promise<void> {
  let phase: 'setup' | 'join' | 'run' | 'finish' = 'setup';
  try {
    type AnyWorker = WorkerModule<unknown, unknown, BatchLike>;
    const mod = (await import(boot.module)) as { default?: AnyWorker } & AnyWorker;
    const user: AnyWorker = typeof mod.default?.batch === 'function' ? mod.default : mod;
    if (typeof user.batch !== 'function') throw new Error(`worker module ${boot.module} exports no batch(batch, ctx) function (default export or named)`);
    if (boot.cpus !== undefined) native.setAffinity(boot.cpus);
    shared.setTid(me, native.threadId());
    shared.setCpu(me, native.currentCpu());
    shared.setGeneration(me, boot.generation);
    const ctx: WorkerContext = {
      index: me, workers: boot.workers, iface: boot.iface, data: boot.data, generation: boot.generation,
      counters: shared.userCounters(me),
      get fanoutId() { return shared.fanoutId; },
      get capture() { return cap instanceof XskCapture ? null : cap; },
      get xsk() { return cap instanceof XskCapture ? cap : null; },
      get stopping() { return shared.stopping; },
      post: (message: unknown, transfer?: readonly TransferListItem[]) => send({ t: 'user', message }, transfer),
    };
    await user.setup?.(ctx);
    shared.setState(me, WState.Ready);
    send({ t: 'ready' });

    phase = 'join';
    let m: CtrlMessage | null = null;
    while (m === null || m.t !== 'join') {
      if (shared.stopping) { shared.setState(me, WState.Done); send({ t: 'result', value: undefined }); return; }
      m = nextCtrl(1000);
    }
    if (boot.xdp !== undefined) {
      cap = openCapture({ ...boot.xdp.options, backend: 'xdp', iface: boot.iface, queue: boot.xdp.queue, xskMapFd: boot.xdp.mapFd });
    } else {
      cap = openCapture({ ...boot.capture, iface: boot.iface, fanout: m.join ?? undefined, onLinkChange: (lc) => send({ t: 'link', state: lc.state }) });
    }
    shared.setFd(me, fdOf(cap));
    const f = shared.f64;
    const base = shared.base(me);
    f[base + F_STARTED] = Date.now();
    shared.setState(me, WState.Running);
    send({ t: 'joined', id: cap instanceof XskCapture ? -1 : cap.fanoutId });

    phase = 'run';
    const c = cap;
    const pollStats = (): void => {
      pushStats(c.stats());
      f[base + F_UPDATED] = Date.now();
      shared.setCpu(me, native.currentCpu());
    };
    const take = (b: BatchLike): void => {
      user.batch(b, ctx);
      f[base + F_PACKETS] += b.count;
      f[base + F_BATCHES] += 1;
    };
    // a deleted interface ends the capture like a stop (nextBatch delivered what the ring held, then threw)
    const next = (timeoutMs: number): BatchLike | null | 'gone' => {
      try { return c.nextBatch(timeoutMs); } catch (e) { if (!(c instanceof XskCapture) && c.linkState === 'gone') return 'gone'; throw e; }
    };
    let nextStats = Date.now() + boot.statsMs;
    let n = 0;
    let gone = false;
    while (!shared.stopping) {
      shared.bump(me);
      const b = next(boot.pollMs);
      if (b === 'gone') { gone = true; break; }
      if (b !== null) take(b);
      else user.idle?.(ctx);
      if (b === null || (++n & 15) === 0) {
        const now = Date.now();
        if (now >= nextStats) { pollStats(); user.tick?.(ctx); nextStats = now + boot.statsMs; }
      }
      if (shared.mail(me) !== mailSeen) {
        mailSeen = shared.mail(me);
        for (let r = receiveMessageOnPort(boot.ctrl); r !== undefined; r = receiveMessageOnPort(boot.ctrl)) {
          const cm = r.message as CtrlMessage;
          if (cm.t === 'program' && !(c instanceof XskCapture)) { setFanoutProgram(c.fd, cm.program, boot.iface); send({ t: 'programmed', seq: cm.seq }); }
        }
      }
    }

    // graceful drain: take blocks until none retires within two block timeouts (bounded by drainMs);
    // an AF_XDP RX ring has no block timeout: descriptors are there at once
    shared.setState(me, WState.Draining);
    const quiet = c instanceof XskCapture ? 50 : 2 * c.geometry.blockTimeoutMs + 5;
    const until = Date.now() + boot.drainMs;
    for (;;) {
      const left = until - Date.now();
      if (gone || left <= 0) break;
      shared.bump(me);
      const b = next(Math.min(quiet, left));
      if (b === null || b === 'gone') break;
      take(b);
    }
    pollStats();
    phase = 'finish';
    const value = await user.finish?.(ctx);
    closeCapture();
    shared.setState(me, WState.Done);
    send({ t: 'result', value });
  } catch (e) {
    shared.setState(me, WState.Crashed);
    try { closeCapture(); } catch { /* the group closes the fd if this fails */ }
    send({ t: 'failed', phase, error: errorInfo(e) });
    process.exitCode = 1;
  } finally {
    boot.ctrl.close();
  }
}

void main();
