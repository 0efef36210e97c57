/**
 * XskSocket: one AF_XDP socket bound to one RX queue of one interface, with
 * its UMEM (or a share of another socket's) and its rings mapped into JS.
 * Set-up order follows the kernel's rules:
 *
 *   socket(AF_XDP, SOCK_RAW, 0)
 *   XDP_UMEM_REG                      the UMEM: an anonymous mapping JS reads in place
 *   XDP_UMEM_FILL_RING / _COMPLETION_RING, XDP_RX_RING / XDP_TX_RING   sizes (powers of two)
 *   XDP_MMAP_OFFSETS, mmap each ring  producer/consumer/flags/descriptors as JS views
 *   bind(ifindex, queue, XDP_COPY | XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP | XDP_SHARED_UMEM)
 *   XDP_OPTIONS                       which mode the kernel picked (zero-copy or copy)
 *
 * The socket knows nothing about batches or programs: capture.ts walks the
 * rings, attach.ts puts the socket into the XSKMAP.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { native } from '../native.js';
import { NetringError, sys } from '../errors.js';
import { SOCK_RAW, SOL_SOCKET } from '../constants.js';
import {
  AF_XDP, SO_BUSY_POLL, SO_BUSY_POLL_BUDGET, SO_PREFER_BUSY_POLL, SOL_XDP, STAT_FIELDS, XDP_COPY, XDP_MMAP_OFFSETS,
  XDP_OPTIONS, XDP_OPTIONS_ZEROCOPY, XDP_PGOFF_RX_RING, XDP_PGOFF_TX_RING, XDP_RX_RING, XDP_SHARED_UMEM, XDP_STATISTICS,
  XDP_TX_RING, XDP_UMEM_COMPLETION_RING, XDP_UMEM_FILL_RING, XDP_UMEM_PGOFF_COMPLETION_RING, XDP_UMEM_PGOFF_FILL_RING,
  XDP_USE_NEED_WAKEUP, XDP_ZEROCOPY, parseMmapOffsets, type MmapOffsets, type RingOffsets,
} from './abi.js';
import { ADDR_ENTRY, ConsumerRing, DESC_ENTRY, ProducerRing, ringBytes } from './rings.js';

/** copy: always copy into UMEM; zerocopy: the driver DMAs into UMEM or the bind fails; auto: zero-copy when the driver can. */
export type CopyMode = 'copy' | 'zerocopy' | 'auto';

/** Busy polling (SO_PREFER_BUSY_POLL, SO_BUSY_POLL, SO_BUSY_POLL_BUDGET). */
export interface BusyPoll {
  /** Microseconds to busy-poll the device in a syscall (SO_BUSY_POLL). Default 20. */
  usecs?: number;
  /** Packets per busy-poll round (SO_BUSY_POLL_BUDGET). Default 64. */
  budget?: number;
}

/** Geometry and mode of one AF_XDP socket. */
export interface XskOptions {
  /** Interface name. */
  iface: string;
  /** RX queue to bind (default 0). */
  queue?: number;
  /** RX ring entries (power of two, default {@link DEFAULT_RX_RING}; 0 = no RX ring). */
  rxSize?: number;
  /** TX ring entries (power of two, default 0 = no TX ring). */
  txSize?: number;
  /** Fill ring entries (power of two, default {@link DEFAULT_FILL_RING}). */
  fillSize?: number;
  /** Completion ring entries (power of two, default 2048 with TX, else 64). */
  completionSize?: number;
  /** UMEM chunk (frame) size: 2048 or 4096 (default 4096). */
  frameSize?: number;
  /** Frames given to RX (default fillSize + rxSize: the fill ring stays full while a batch is held). */
  rxFrames?: number;
  /** Frames given to TX (default txSize). */
  txFrames?: number;
  /** copy, zerocopy or auto (default auto). */
  copyMode?: CopyMode;
  /** Ask the kernel to flag when it needs a wakeup syscall (default true). */
  needWakeup?: boolean;
  /** Busy polling; off by default. */
  busyPoll?: BusyPoll | boolean;
  /** Frames in the UMEM this socket creates (default rxFrames + txFrames); more leaves room for sockets that share it. */
  umemFrames?: number;
  /** Share the UMEM of this socket (XDP_SHARED_UMEM); this socket gets its own fill/completion rings and its own frames. */
  shareUmemWith?: XskSocket;
}

/** XDP_STATISTICS (cumulative since bind). */
export interface XskKernelStats {
  rxDropped: number;
  rxInvalidDescs: number;
  txInvalidDescs: number;
  rxRingFull: number;
  rxFillRingEmptyDescs: number;
  txRingEmptyDescs: number;
}

/**
 * Default RX ring entries. Frames arriving while the reader is off the CPU
 * wait here: 8192 descriptors are about 9 ms at 0.9 Mpps, so a receiver that
 * is descheduled for a few milliseconds (a busy 2-core machine) drops nothing.
 */
export const DEFAULT_RX_RING = 8192;
/**
 * Default fill ring entries: as many as the RX ring, so the kernel runs out of
 * free frames no sooner than out of RX slots while the reader is away.
 */
export const DEFAULT_FILL_RING = 8192;

const isPow2 = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
const MAX_RING = 1 << 20;
const MAX_UMEM = 4 * 1024 * 1024 * 1024 - 4096;
const CAP_IPC_LOCK = 14;
const CAP_NET_RAW = 13;

function bad(msg: string): NetringError {
  return new NetringError(`bad AF_XDP geometry: ${msg}`, 'EGEOMETRY');
}

/** RX queues of an interface (/sys/class/net/IFACE/queues/rx-*), or 0 when unknown. */
export function rxQueueCount(iface: string): number {
  return queueCount(iface, 'rx');
}

/** RX or TX queues of an interface (/sys/class/net/IFACE/queues/{rx,tx}-*), or 0 when unknown. */
export function queueCount(iface: string, kind: 'rx' | 'tx'): number {
  try {
    return readdirSync(`/sys/class/net/${iface}/queues`).filter((n) => n.startsWith(`${kind}-`)).length;
  } catch {
    return 0;
  }
}

/** This process's soft RLIMIT_MEMLOCK in bytes (Infinity when unlimited) and whether CAP_IPC_LOCK lifts it. */
export function memlockLimit(): { bytes: number; exempt: boolean } {
  let bytes = Infinity;
  let exempt = false;
  try {
    const m = /^Max locked memory\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m && m[1] !== 'unlimited') bytes = Number(m[1]);
    const c = /^CapEff:\s+([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (c) exempt = (BigInt(`0x${c[1]}`) & (1n << BigInt(CAP_IPC_LOCK))) !== 0n;
  } catch { /* not Linux procfs: let the kernel decide */ }
  return { bytes, exempt };
}

function hasCap(bit: number): boolean {
  try {
    const c = /^CapEff:\s+([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return c ? (BigInt(`0x${c[1]}`) & (1n << BigInt(bit))) !== 0n : true;
  } catch { return true; }
}

/** The UMEM: one anonymous area cut into equal frames, registered on its owner socket. */
export class Umem {
  readonly area: ArrayBuffer;
  readonly bytes: Uint8Array;
  readonly frameSize: number;
  readonly frameCount: number;
  /** Frames not yet handed to a socket (sockets sharing the UMEM take disjoint ranges). */
  private nextFrame = 0;

  constructor(area: ArrayBuffer, frameSize: number) {
    this.area = area;
    this.bytes = new Uint8Array(area);
    this.frameSize = frameSize;
    this.frameCount = Math.floor(area.byteLength / frameSize);
  }

  /** Take `n` frames; returns the first frame's index. */
  take(n: number): number {
    if (this.nextFrame + n > this.frameCount)
      throw bad(`the UMEM has ${this.frameCount - this.nextFrame} free frames, ${n} asked (give the first socket more frames)`);
    const first = this.nextFrame;
    this.nextFrame += n;
    return first;
  }
}

export class XskSocket {
  readonly iface: string;
  readonly ifindex: number;
  readonly queue: number;
  fd: number;
  readonly umem: Umem;
  readonly fill: ProducerRing | null;
  readonly completion: ConsumerRing | null;
  readonly rx: ConsumerRing | null;
  readonly tx: ProducerRing | null;
  /** True when the kernel bound the socket in zero-copy mode. */
  readonly zeroCopy: boolean;
  /** XDP_USE_NEED_WAKEUP in force. */
  readonly needWakeup: boolean;
  /** First frame index and count of this socket's RX frames. */
  readonly rxFrames: { first: number; count: number };
  /** First frame index and count of this socket's TX frames. */
  readonly txFrames: { first: number; count: number };
  readonly busyPoll: boolean;
  private readonly maps: ArrayBuffer[] = [];
  private readonly ownsUmem: boolean;
  private readonly statBuf = new BigUint64Array(6);
  private closed = false;

  constructor(o: XskOptions) {
    if (!o || typeof o.iface !== 'string' || o.iface.length === 0) throw new NetringError('AF_XDP: `iface` (an interface name) is required', 'EINVAL');
    const iface = o.iface;
    this.iface = iface;
    const ctx = { op: `open AF_XDP socket on ${iface}`, iface };
    const queue = o.queue ?? 0;
    if (!Number.isInteger(queue) || queue < 0) throw new NetringError(`queue must be a non-negative integer (got ${String(queue)})`, 'EINVAL');
    this.queue = queue;
    const rxSize = o.rxSize ?? DEFAULT_RX_RING;
    const txSize = o.txSize ?? 0;
    const fillSize = o.fillSize ?? DEFAULT_FILL_RING;
    const compSize = o.completionSize ?? (txSize > 0 ? Math.max(txSize, 64) : 64);
    const frameSize = o.frameSize ?? 4096;
    for (const [name, v, zeroOk] of [['rxSize', rxSize, true], ['txSize', txSize, true], ['fillSize', fillSize, false], ['completionSize', compSize, false]] as const) {
      if (!(zeroOk && v === 0) && (!isPow2(v) || v > MAX_RING)) throw bad(`${name} ${String(v)} must be a power of two up to ${MAX_RING}${zeroOk ? ' (or 0)' : ''}`);
    }
    if (rxSize === 0 && txSize === 0) throw bad('a socket needs an RX ring, a TX ring or both');
    if (frameSize !== 2048 && frameSize !== 4096) throw bad(`frameSize ${String(frameSize)} must be 2048 or 4096`);
    const nRx = rxSize === 0 ? 0 : o.rxFrames ?? fillSize + rxSize;
    const nTx = txSize === 0 ? 0 : o.txFrames ?? txSize;
    if (!Number.isInteger(nRx) || nRx < 0 || (rxSize > 0 && nRx < 1)) throw bad(`rxFrames ${String(nRx)} must be a positive integer`);
    if (!Number.isInteger(nTx) || nTx < 0) throw bad(`txFrames ${String(nTx)} must be a non-negative integer`);
    const mode = o.copyMode ?? 'auto';
    if (!['copy', 'zerocopy', 'auto'].includes(mode)) throw new NetringError(`copyMode must be copy, zerocopy or auto (got ${String(mode)})`, 'EINVAL');
    this.ifindex = sys(ctx, () => native.ifindex(iface));
    const kind = rxSize === 0 ? 'TX' : 'RX'; // a transmit-only socket binds a TX queue
    const nq = queueCount(iface, kind === 'TX' ? 'tx' : 'rx');
    if (nq > 0 && queue >= nq)
      throw new NetringError(`queue ${queue} is out of range: ${iface} has ${nq} ${kind} queue${nq === 1 ? '' : 's'} (0..${nq - 1})`, 'ERANGE');

    const owner = o.shareUmemWith;
    this.ownsUmem = owner === undefined;
    if (owner !== undefined) {
      if (owner.closed) throw new NetringError('shareUmemWith: that socket is closed', 'ECLOSED');
      if (owner.umem.frameSize !== frameSize) throw bad(`a shared UMEM keeps its frame size ${owner.umem.frameSize}`);
    } else {
      const frames = o.umemFrames ?? nRx + nTx;
      if (!Number.isInteger(frames) || frames < nRx + nTx) throw bad(`umemFrames ${String(frames)} must be at least rxFrames + txFrames (${nRx + nTx})`);
      const umemBytes = Math.ceil((frames * frameSize) / 4096) * 4096;
      if (umemBytes > MAX_UMEM) throw bad(`the UMEM (${frames} frames of ${frameSize} bytes) must stay below 4 GiB`);
      const lim = memlockLimit();
      if (!lim.exempt && umemBytes > lim.bytes)
        throw new NetringError(`the UMEM (${umemBytes} bytes) is larger than RLIMIT_MEMLOCK (${lim.bytes} bytes): raise it (\`ulimit -l\`, LimitMEMLOCK=) or use fewer frames`, 'ENOBUFS');
    }
    if (!hasCap(CAP_NET_RAW))
      throw new NetringError(`open AF_XDP socket on ${iface}: netring needs root or the CAP_NET_RAW capability (plus CAP_NET_ADMIN and CAP_BPF for the XDP program)`, 'EPERM');

    const fd = sys(ctx, () => native.socket(AF_XDP, SOCK_RAW, 0));
    this.fd = fd;
    try {
      if (owner === undefined) {
        const umemBytes = Math.ceil(((o.umemFrames ?? nRx + nTx) * frameSize) / 4096) * 4096;
        const area = sys(ctx, () => native.xskUmem(umemBytes));
        this.maps.push(area);
        try {
          native.xskUmemReg(fd, area, frameSize, 0, 0);
        } catch (err) {
          const e = err as { code?: string };
          if (e.code === 'ENOBUFS' || e.code === 'ENOMEM' || e.code === 'EPERM')
            throw new NetringError(`register the UMEM (${umemBytes} bytes) on ${iface}: the kernel refused to lock it (${e.code}): it does not fit RLIMIT_MEMLOCK (\`ulimit -l\`) or memory is short; use fewer frames`, e.code ?? 'ENOBUFS');
          throw err;
        }
        this.umem = new Umem(area, frameSize);
      } else {
        this.umem = owner.umem;
      }
      const int = (v: number): Int32Array => new Int32Array([v]);
      const so = (name: number, v: number, what: string): void =>
        sys({ ...ctx, op: `${ctx.op}: ${what}` }, () => native.setsockopt(fd, SOL_XDP, name, int(v)));
      // A socket sharing the UMEM on another queue or device needs its own fill/completion rings.
      const ownFc = owner === undefined || owner.ifindex !== this.ifindex || owner.queue !== queue;
      if (!ownFc) throw new NetringError('shareUmemWith on the same interface and queue is not supported: use one socket per queue', 'EINVAL');
      // the kernel binds a socket only with both UMEM rings, even when it only transmits
      so(XDP_UMEM_FILL_RING, fillSize, `fill ring of ${fillSize}`);
      so(XDP_UMEM_COMPLETION_RING, compSize, `completion ring of ${compSize}`);
      if (rxSize > 0) so(XDP_RX_RING, rxSize, `RX ring of ${rxSize}`);
      if (txSize > 0) so(XDP_TX_RING, txSize, `TX ring of ${txSize}`);
      const raw = new BigUint64Array(16);
      const got = sys(ctx, () => native.getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, raw));
      if (got !== raw.byteLength) throw new NetringError(`${iface}: this kernel's XDP_MMAP_OFFSETS has ${got} bytes (need ${raw.byteLength}: Linux >= 5.4)`, 'ENOTSUP');
      const off: MmapOffsets = parseMmapOffsets(raw);
      const map = (o2: RingOffsets, size: number, entry: number, pgoff: number): ArrayBuffer => {
        const ab = sys(ctx, () => native.xskMmapRing(fd, ringBytes(o2, size, entry), pgoff));
        this.maps.push(ab);
        return ab;
      };
      this.fill = new ProducerRing(map(off.fill, fillSize, ADDR_ENTRY, XDP_UMEM_PGOFF_FILL_RING), off.fill, fillSize, ADDR_ENTRY);
      this.completion = new ConsumerRing(map(off.completion, compSize, ADDR_ENTRY, XDP_UMEM_PGOFF_COMPLETION_RING), off.completion, compSize, ADDR_ENTRY);
      this.rx = rxSize > 0 ? new ConsumerRing(map(off.rx, rxSize, DESC_ENTRY, XDP_PGOFF_RX_RING), off.rx, rxSize, DESC_ENTRY) : null;
      this.tx = txSize > 0 ? new ProducerRing(map(off.tx, txSize, DESC_ENTRY, XDP_PGOFF_TX_RING), off.tx, txSize, DESC_ENTRY) : null;
      this.rxFrames = { first: this.umem.take(nRx), count: nRx };
      this.txFrames = { first: this.umem.take(nTx), count: nTx };
      // a socket sharing a UMEM takes the owner's copy mode and need_wakeup: the kernel refuses those flags with XDP_SHARED_UMEM
      this.needWakeup = owner !== undefined ? owner.needWakeup : o.needWakeup ?? true;
      let flags = 0;
      if (owner !== undefined) {
        flags = XDP_SHARED_UMEM;
        if ((mode === 'copy' && owner.zeroCopy) || (mode === 'zerocopy' && !owner.zeroCopy))
          throw new NetringError(`shareUmemWith: a shared UMEM keeps its owner's mode (${owner.zeroCopy ? 'zero-copy' : 'copy'}), ${mode} was asked`, 'EINVAL');
      } else {
        if (this.needWakeup) flags |= XDP_USE_NEED_WAKEUP;
        if (mode === 'copy') flags |= XDP_COPY;
        if (mode === 'zerocopy') flags |= XDP_ZEROCOPY;
      }
      bindRetrying(fd, this.ifindex, queue, flags, owner?.fd ?? -1, iface, mode);
      const opt = new Uint32Array(1);
      sys(ctx, () => native.getsockopt(fd, SOL_XDP, XDP_OPTIONS, opt));
      this.zeroCopy = (opt[0] & XDP_OPTIONS_ZEROCOPY) !== 0;
      this.busyPoll = o.busyPoll !== undefined && o.busyPoll !== false;
      if (this.busyPoll) {
        const bp = typeof o.busyPoll === 'object' ? o.busyPoll : {};
        const bo = (name: number, v: number, what: string): void =>
          sys({ ...ctx, op: `${ctx.op}: ${what}` }, () => native.setsockopt(fd, SOL_SOCKET, name, int(v)));
        bo(SO_PREFER_BUSY_POLL, 1, 'SO_PREFER_BUSY_POLL');
        bo(SO_BUSY_POLL, bp.usecs ?? 20, 'SO_BUSY_POLL');
        bo(SO_BUSY_POLL_BUDGET, bp.budget ?? 64, 'SO_BUSY_POLL_BUDGET');
      }
    } catch (e) {
      this.closed = true;
      this.fd = -1;
      this.releaseMaps();
      native.close(fd);
      throw e;
    }
  }

  /** Byte address of frame `i` in the UMEM. */
  frameAddr(i: number): number { return i * this.umem.frameSize; }

  /** Wake the kernel for RX (fill ring) work: recvfrom(MSG_DONTWAIT). */
  kickRx(): number { return native.xskKick(this.fd, 0); }

  /** Wake the kernel for TX work: sendto(MSG_DONTWAIT). */
  kickTx(): number { return native.xskKick(this.fd, 1); }

  /** XDP_STATISTICS (the kernel's counters are cumulative). */
  kernelStats(): XskKernelStats {
    const b = this.statBuf;
    b.fill(0n);
    if (!this.closed) sys({ op: 'read AF_XDP statistics', iface: this.iface }, () => native.getsockopt(this.fd, SOL_XDP, XDP_STATISTICS, b));
    const out = {} as Record<(typeof STAT_FIELDS)[number], number>;
    STAT_FIELDS.forEach((k, i) => { out[k] = Number(b[i]); });
    return out;
  }

  get isOpen(): boolean { return !this.closed; }

  private releaseMaps(): void {
    for (const m of this.maps) {
      try { native.releaseMapping(m); } catch { /* the finalizer unmaps it later */ }
    }
  }

  /**
   * Close the socket. The ring mappings are replaced by zero pages first (a
   * mapping keeps the socket alive), so the queue is free again at once; the
   * UMEM stays mapped until no JS view of it is left (or, when shared, until
   * the owner closes).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const fd = this.fd;
    this.fd = -1;
    for (const m of this.maps) {
      if (this.ownsUmem && m === this.umem.area) continue;
      try { native.releaseMapping(m); } catch { /* finalizer */ }
    }
    native.close(fd);
  }
}

/**
 * The RX counters of an AF_XDP socket known only by its fd (the socket of a
 * worker thread that died: its ring mappings went with it). `delivered` is
 * the RX ring's producer index, i.e. every descriptor the kernel ever put on
 * that ring (read through a fresh one-page mapping of the ring), and `stats`
 * is XDP_STATISTICS. Null when the fd is not an AF_XDP socket with an RX ring.
 */
export function xskRxTotals(fd: number): { delivered: number; stats: XskKernelStats } | null {
  try {
    const b = new BigUint64Array(6);
    native.getsockopt(fd, SOL_XDP, XDP_STATISTICS, b);
    const stats = {} as Record<(typeof STAT_FIELDS)[number], number>;
    STAT_FIELDS.forEach((k, i) => { stats[k] = Number(b[i]); });
    const raw = new BigUint64Array(16);
    if (native.getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, raw) !== raw.byteLength) return null;
    const off = parseMmapOffsets(raw).rx;
    const map = native.xskMmapRing(fd, off.producer + 4, XDP_PGOFF_RX_RING);
    try {
      return { delivered: Atomics.load(new Uint32Array(map, off.producer, 1), 0), stats };
    } finally {
      native.releaseMapping(map);
    }
  } catch {
    return null;
  }
}

/**
 * A closed socket frees its queue a few milliseconds later (the kernel
 * releases the buffer pool from a workqueue), so a bind right after a close
 * (a capture reopened, a crashed group worker's replacement) can find the
 * queue still busy: EBUSY is retried for up to BIND_BUSY_MS.
 */
const BIND_BUSY_MS = 1000;
const napWord = new Int32Array(new SharedArrayBuffer(4));

function bindRetrying(fd: number, ifindex: number, queue: number, flags: number, sharedFd: number, iface: string, mode: CopyMode): void {
  const until = Date.now() + BIND_BUSY_MS;
  for (;;) {
    try {
      native.xskBind(fd, ifindex, queue, flags, sharedFd);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EBUSY' || Date.now() >= until) throw bindError(err, iface, queue, mode);
      Atomics.wait(napWord, 0, 0, 2);
    }
  }
}

function bindError(err: unknown, iface: string, queue: number, mode: CopyMode): Error {
  const e = err as { code?: string; errno?: number; message?: string };
  const code = e.code ?? 'EINVAL';
  let msg: string;
  if (mode === 'zerocopy' && (code === 'EOPNOTSUPP' || code === 'EINVAL' || code === 'ENOTSUP'))
    msg = `zero-copy refused: ${iface}'s driver has no AF_XDP zero-copy support for queue ${queue} (use copy or auto mode)`;
  else if (code === 'EBUSY')
    msg = `queue ${queue} of ${iface} already has an AF_XDP socket (one socket per queue, or share its UMEM)`;
  else if (code === 'EINVAL')
    msg = `bind AF_XDP socket to ${iface} queue ${queue}: the kernel refused (queue out of range or bad ring set-up)`;
  else if (code === 'ENETDOWN')
    msg = `bind AF_XDP socket to ${iface}: interface is down (\`ip link set ${iface} up\`)`;
  else
    msg = `bind AF_XDP socket to ${iface} queue ${queue}: ${e.message ?? String(err)}`;
  return new NetringError(msg, code, e.errno ?? 0, 'bind');
}
