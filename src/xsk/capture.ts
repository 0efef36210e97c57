/**
 * XskCapture: live capture through an AF_XDP socket on one RX queue, behind
 * the same batch/view API as the TPACKET_V3 Capture:
 *
 *   for await (const batch of capture) { ... }     async iterator
 *   capture.start((batch) => { ... })              callback, time-sliced
 *   capture.nextBatch(timeoutMs)                    blocking, for worker threads
 *   capture.takeBatch()                             a batch you release yourself, in any order
 *
 * Set-up: the AF_XDP socket (socket.ts) with its fill ring stocked, then the
 * XDP program (attach.ts: filter, redirect to the XSKMAP, else XDP_PASS)
 * attached through a BPF link, then the socket put in the map. Close runs
 * the other way: the socket leaves the map, the last socket on the
 * interface detaches the program, then the socket closes.
 *
 * Kicks: the kernel is woken (recvfrom) only when the fill ring's
 * need-wakeup flag asks for it, and only when the RX ring is empty.
 */
import { native } from '../native.js';
import { POLLERR, POLLIN } from '../constants.js';
import { NetringError, sys } from '../errors.js';
import { XdpAttachment, type XdpMode } from './attach.js';
import { XskPacketView, type XskBatch } from './batch.js';
import { XskReader } from './reader.js';
import { checkCaptureOptions, Receiver } from '../ring/receiver.js';
import type { CaptureStats } from '../ring/capture.js';
import { rxQueueCount, XskSocket, type BusyPoll, type CopyMode, type XskKernelStats } from './socket.js';

/** Options of an AF_XDP capture (`openCapture({ backend: 'xdp', ... })`). */
export interface XdpCaptureOptions {
  /** Selects this backend. */
  backend: 'xdp';
  /** Interface name (required). */
  iface: string;
  /** RX queue (default 0). One socket per queue: open one capture per queue, or use a fan-out group. */
  queue?: number;
  /**
   * tcpdump expression, compiled by the filter language for the XDP hook and
   * run in the XDP program before any copy: matching frames are redirected to
   * the socket, the others continue up the stack untouched.
   */
  filter?: string;
  /** Bytes of each frame the view exposes (default 262144, i.e. whole frames). */
  snaplen?: number;
  /** Descriptors per batch at most (default 256). */
  budget?: number;
  /**
   * RX ring entries (power of two, default 8192): how many frames may wait
   * for the reader before the kernel drops (`rx_ring_full`).
   */
  rxSize?: number;
  /** Fill ring entries (power of two, default 8192): free frames the kernel can take while the reader is away. */
  fillSize?: number;
  /** UMEM frame size, 2048 or 4096 (default 4096). */
  frameSize?: number;
  /**
   * UMEM frames for RX (default fillSize + rxSize: the frames beyond the
   * fill ring's size restock it once it is down to half, while the RX ring
   * or held batches keep frames). With the defaults the UMEM is 16384
   * frames of 4 KiB (64 MiB, locked memory).
   */
  frames?: number;
  /** copy, zerocopy or auto (default auto: zero-copy when the driver has it, else copy; see `zeroCopy`). */
  copyMode?: CopyMode;
  /** XDP in the driver (native), on the skb (generic), or auto (native when the driver has it). Default auto. */
  xdpMode?: XdpMode;
  /** Busy polling (SO_PREFER_BUSY_POLL / SO_BUSY_POLL / SO_BUSY_POLL_BUDGET); off by default. */
  busyPoll?: BusyPoll | boolean;
  /** Batches that may be held at once with takeBatch() (default 16). */
  maxHeldBatches?: number;
  /**
   * Use this XSKMAP (fd) instead of attaching a program: a fan-out group's
   * parent attached one for every queue. The capture only registers its socket.
   */
  xskMapFd?: number;
}

/**
 * Statistics in the shape of the AF_PACKET capture's: `kernelPackets` is
 * received + waiting on the RX ring (or left there at close) + drops, `drops` is rx_dropped + rx_ring_full +
 * rx_invalid_descs, `freezes` is rx_fill_ring_empty_descs (frames dropped
 * because the fill ring was empty, counted in drops too); plus the raw
 * AF_XDP counters.
 */
export interface XdpCaptureStats extends CaptureStats {
  /** The raw XDP_STATISTICS counters. */
  xdp: XskKernelStats;
}

/** A live AF_XDP capture on one RX queue. Create with openCapture({ backend: 'xdp', ... }). */
export class XskCapture extends Receiver<XskBatch> {
  readonly backend = 'xdp' as const;
  readonly iface: string;
  readonly ifindex: number;
  readonly queue: number;
  readonly snaplen: number;
  /** The socket (rings, UMEM). */
  readonly socket: XskSocket;
  /** True when the kernel bound the socket in zero-copy mode (false: copy mode). */
  readonly zeroCopy: boolean;
  /** Where the XDP program runs ('native' or 'generic'); null when a group's parent attached it. */
  readonly xdpMode: 'native' | 'generic' | null;
  private readonly reader: XskReader;
  private readonly attachment: XdpAttachment | null;
  private readonly mapFd: number;
  private final: XskKernelStats | null = null;
  /** Descriptors left on the RX ring when the capture closed (counted in kernelPackets, never received). */
  private finalWaiting = 0;
  /** Kicks issued (wakeup syscalls). */
  kicks = 0;

  /** @internal use openCapture({ backend: 'xdp', ... }) */
  constructor(o: XdpCaptureOptions) {
    super();
    const snaplen = checkCaptureOptions(o);
    const budget = o.budget ?? 256;
    if (!Number.isInteger(budget) || budget < 1 || budget > 65536) throw new NetringError(`budget must be an integer in 1..65536 (got ${String(budget)})`, 'EINVAL');
    const maxHeld = o.maxHeldBatches ?? 16;
    if (!Number.isInteger(maxHeld) || maxHeld < 1) throw new NetringError(`maxHeldBatches must be a positive integer (got ${String(maxHeld)})`, 'EINVAL');
    this.iface = o.iface;
    this.snaplen = snaplen;
    const sock = new XskSocket({
      iface: o.iface, queue: o.queue, rxSize: o.rxSize, fillSize: o.fillSize, frameSize: o.frameSize, rxFrames: o.frames,
      copyMode: o.copyMode, busyPoll: o.busyPoll,
    });
    this.socket = sock;
    this.ifindex = sock.ifindex;
    this.queue = sock.queue;
    this.zeroCopy = sock.zeroCopy;
    let att: XdpAttachment | null = null;
    try {
      const fs = sock.umem.frameSize;
      this.reader = new XskReader(sock.rx!, sock.fill!, {
        budget, frameSize: fs, firstAddr: sock.frameAddr(sock.rxFrames.first), frames: sock.rxFrames.count, maxBatches: maxHeld,
        view: () => new XskPacketView(sock.umem.bytes, sock.ifindex, snaplen),
      });
      if (o.xskMapFd !== undefined) {
        this.mapFd = o.xskMapFd;
      } else {
        att = XdpAttachment.attach({ iface: o.iface, ifindex: sock.ifindex, queues: Math.max(sock.queue + 1, rxQueueCount(o.iface)), mode: o.xdpMode, filter: o.filter });
        this.mapFd = att.mapFd;
      }
      this.attachment = att;
      this.xdpMode = att?.mode ?? null;
      if (att !== null) att.addSocket(sock.queue, sock.fd);
      else registerInMap(this.mapFd, sock.queue, sock.fd, o.iface);
    } catch (e) {
      att?.leave();
      sock.close();
      throw e;
    }
  }

  /** A batch of the RX descriptors ready now, or null (never blocks). Releases the previous such batch. */
  tryBatch(): XskBatch | null {
    this.ensureOpen();
    const b = this.reader.acquire(false);
    if (b === null) this.wakeIfAsked();
    return b;
  }

  /**
   * A batch that stays yours until you call its release(), in any order with
   * other held batches (at most maxHeldBatches at once). Null when none is ready.
   */
  takeBatch(): XskBatch | null {
    this.ensureOpen();
    const b = this.reader.acquire(true);
    if (b === null) this.wakeIfAsked();
    return b;
  }

  /** The next batch, blocking in poll(2) up to timeoutMs (-1 = forever). For worker threads. Null on timeout. */
  nextBatch(timeoutMs = -1): XskBatch | null {
    this.ensureOpen();
    const b = this.reader.acquire(false);
    if (b !== null || timeoutMs === 0) return b;
    const deadline = timeoutMs < 0 ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      this.wakeIfAsked();
      const left = deadline === Infinity ? -1 : Math.max(0, deadline - Date.now());
      const rev = native.poll(this.socket.fd, POLLIN | POLLERR, left > 0x7fffffff ? -1 : left);
      if (this.closed) return null;
      const got = this.reader.acquire(false);
      if (got !== null) return got;
      if (rev === 0 && Date.now() >= deadline) return null;
    }
  }

  /** recvfrom() kick when the kernel flagged the fill ring (need_wakeup) and nothing is waiting. */
  private wakeIfAsked(): void {
    if (this.socket.needWakeup && this.socket.fill!.needWakeup()) {
      this.kicks++;
      this.socket.kickRx();
    }
  }

  protected get pollFd(): number { return this.socket.fd; }
  protected acquireNext(): XskBatch | null { return this.reader.acquire(false); }
  protected hasReady(): boolean { return this.reader.ready() > 0; }
  protected releaseCurrent(): void { this.reader.releaseCurrent(); }
  protected get label(): string { return `${this.iface} queue ${this.queue}`; }
  protected override idle(): void { this.wakeIfAsked(); }

  /** Running totals (XDP_STATISTICS is cumulative in the kernel). */
  stats(): XdpCaptureStats {
    const x = this.closed ? this.final ?? this.socket.kernelStats() : this.socket.kernelStats();
    const drops = x.rxDropped + x.rxRingFull + x.rxInvalidDescs;
    const waiting = this.closed ? this.finalWaiting : this.reader.waiting();
    return {
      received: this.reader.packets, kernelPackets: this.reader.packets + waiting + drops, drops,
      freezes: x.rxFillRingEmptyDescs, batches: this.reader.batches, xdp: x,
    };
  }

  /**
   * Close: the socket leaves the XSKMAP, the program is detached (link closed)
   * when this was the interface's last AF_XDP capture in this thread, then
   * the socket closes. Idempotent; safe inside a batch handler.
   */
  close(): void {
    if (this.closed) return;
    // out of the map first, so the final counters (and the frames left waiting) are the socket's last
    if (this.attachment !== null) {
      this.attachment.removeSocket(this.queue);
      this.attachment.leave();
    } else {
      unregisterFromMap(this.mapFd, this.queue);
    }
    try { this.final = this.socket.kernelStats(); } catch { /* best effort */ }
    this.finalWaiting = this.reader.waiting();
    this.beginClose();
    this.socket.close();
    this.resolveWaiter(false);
  }
}

function registerInMap(mapFd: number, queue: number, fd: number, iface: string): void {
  sys({ op: `register the AF_XDP socket of ${iface} queue ${queue} in the XSKMAP`, iface },
    () => native.bpfMapUpdate(mapFd, new Uint32Array([queue]), new Uint32Array([fd]), 0));
}

function unregisterFromMap(mapFd: number, queue: number): void {
  try { native.bpfMapDelete(mapFd, new Uint32Array([queue])); } catch { /* gone */ }
}

/** Open an AF_XDP capture on one queue of an interface. */
export function openXdpCapture(o: XdpCaptureOptions): XskCapture {
  return new XskCapture(o);
}
