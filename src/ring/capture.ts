/**
 * Capture: an AF_PACKET socket with a TPACKET_V3 RX ring, mapped once and
 * read in place. Set-up order matters and follows the kernel's rules:
 *
 *   socket(AF_PACKET, SOCK_RAW, 0)      protocol 0: nothing is queued yet
 *   PACKET_VERSION = TPACKET_V3
 *   SO_ATTACH_FILTER                    filter (and snaplen) before any packet
 *   PACKET_TIMESTAMP, PACKET_IGNORE_OUTGOING
 *   PACKET_RX_RING + mmap               the one mapping JS reads
 *   bind(ifindex, ETH_P_ALL)            packets start to flow, already filtered
 *   PACKET_ADD_MEMBERSHIP (promisc)
 *
 * Three ways to receive, all batch-at-a-time (one retired block per batch):
 *   for await (const batch of capture) { ... }     async iterator
 *   capture.start((batch) => { ... })              callback, time-sliced
 *   capture.nextBatch(timeoutMs)                    blocking, for worker threads
 *
 * Link faults (link.ts): opening on an interface that is down fails (ENETDOWN).
 * When the interface goes down during a capture the kernel flags the socket
 * (POLLERR, SO_ERROR = ENETDOWN) and hooks it again when the link comes back:
 * every receive form clears the error, reports 'down' then 'up' through
 * `onLinkChange` and keeps receiving. When the interface is deleted the
 * capture delivers what its ring still holds, reports 'gone', and then the
 * iterator and nextBatch() throw ENODEV ("interface X went away").
 */
import { native } from '../native.js';
import {
  AF_PACKET, ETH_P_ALL, PACKET_ADD_MEMBERSHIP, PACKET_FANOUT,
  PACKET_IGNORE_OUTGOING, PACKET_MR_PROMISC, PACKET_RX_RING, PACKET_STATISTICS, PACKET_TIMESTAMP, PACKET_VERSION,
  POLLERR, POLLIN, SOCK_DGRAM, SOCK_RAW, SOF_TIMESTAMPING_RAW_HARDWARE, SOF_TIMESTAMPING_SOFTWARE,
  SOL_PACKET, TPACKET_V3,
} from '../constants.js';
import { NetringError, sys } from '../errors.js';
import type { Batch } from './batch.js';
import { type BpfProgram, encodeProgram, outgoingOnly, REJECT_ALL, withSnaplen } from '../bpf/classic.js';
import { type RingGeometry, resolveGeometry, tpacketReq3 } from './geometry.js';
import { RingReader } from './reader.js';
import { claimHardwareRx, type HwStampClaim } from './hwtstamp.js';
import { type FanoutJoin, joinFanout } from './fanout-join.js';
import { XskCapture, type XdpCaptureOptions } from '../xsk/capture.js';
import { type LinkChange, type LinkState, linkState, takeSocketError } from './link.js';
import { checkCaptureOptions, Receiver } from './receiver.js';
import { LinkType } from '../linktype.js';

/** Length of the SLL2 header the cooked capture of `any` puts in front of each packet. */
const SLL2_HEADER_LEN = 20;
const LINKTYPE_LINUX_SLL2 = LinkType.LinuxSLL2;

/** Which timestamps to ask for. */
export type TimestampSource = 'software' | 'hardware' | 'auto';
/** Which packets to see: received, sent by this host, or both. */
export type Direction = 'in' | 'out' | 'both';

/** Options of {@link openCapture}. */
export interface CaptureOptions extends Partial<RingGeometry> {
  /** Interface name (required). */
  iface: string;
  /** Bytes kept per packet (default 262144, i.e. whole frames up to the frame space). */
  snaplen?: number;
  /** Promiscuous mode (default true, like tcpdump). */
  promisc?: boolean;
  /** Classic BPF program run by the kernel before a packet reaches the ring. */
  filter?: BpfProgram;
  /**
   * Timestamp source (default 'software'). 'hardware' switches the device to stamp every
   * packet (HWTSTAMP_FILTER_ALL) or throws saying why it cannot; 'auto' does the same but
   * falls back to software when the NIC cannot stamp every packet or refuses (ERANGE, EPERM,
   * EOPNOTSUPP). The device's previous setting is restored when the last capture using it closes.
   */
  timestamp?: TimestampSource;
  /** Direction (default 'both'). */
  direction?: Direction;
  /** Pre-fault the ring pages at mmap time (default true). */
  populate?: boolean;
  /** Join a PACKET_FANOUT group right after bind: the raw `id | (mode|flags) << 16` word. */
  fanoutArg?: number;
  /**
   * Join a PACKET_FANOUT group right after bind (typed form of `fanoutArg`), and
   * set its cbpf/ebpf steering program. With direction 'in' the group gets the
   * ignoreOutgoing flag (the per-socket option does not apply inside a group),
   * so every member of such a group must use direction 'in'.
   */
  fanout?: FanoutJoin;
  /**
   * Called when the interface goes down ('down'; the capture resumes by itself
   * when it comes back), comes back ('up'), or is deleted ('gone': called after
   * the blocks the ring still held were delivered; the capture receives nothing
   * more). In a worker thread it runs inside nextBatch().
   */
  onLinkChange?: (change: LinkChange) => void;
}

/** Cumulative statistics (the kernel's counters are read-and-reset; netring sums them). */
export interface CaptureStats {
  /** Packets handed to user code through batches. */
  received: number;
  /** Packets the kernel queued or dropped for this socket (tp_packets, drops included). */
  kernelPackets: number;
  /** Packets the kernel dropped because the ring was full (tp_drops). */
  drops: number;
  /** Times the kernel froze the queue because no block was free (tp_freeze_q_cnt). */
  freezes: number;
  /** Blocks (batches) handed to user code. */
  batches: number;
}

const ENETDOWN = 100;
/** How often the link is looked at while it is down (to see it come back, or be deleted). */
const LINK_CHECK_MS = 100;
const nap = new Int32Array(new SharedArrayBuffer(4));

/** A live capture on one interface. Create with {@link openCapture}. */
export class Capture extends Receiver<Batch> {
  /** Interface name. */
  readonly iface: string;
  /** Interface index (0 for `any`). */
  readonly ifindex: number;
  /** True for the cooked capture of `any`: packets carry an SLL2 header (link type 276). */
  readonly cooked: boolean;
  /** The resolved ring geometry. */
  readonly geometry: RingGeometry;
  /** Snaplen in force. */
  readonly snaplen: number;
  /** Timestamps the kernel was asked for. */
  readonly timestampSource: 'software' | 'hardware';
  /** The ring mapping (the whole ring as one ArrayBuffer, no copy). */
  readonly ring: ArrayBuffer;
  /** The socket's file descriptor (-1 after close). */
  fd: number;
  /** The fan-out group id joined with the `fanout` option (the kernel's pick for uniqueId), else -1. */
  readonly fanoutId: number = -1;
  private readonly reader: RingReader;
  private readonly direction: Direction;
  private hwClaim: HwStampClaim | null = null;
  private readonly totals = { kernelPackets: 0, drops: 0, freezes: 0 };
  private readonly statBuf = new Uint32Array(3);
  private link: LinkState = 'up';
  private readonly onLink: ((change: LinkChange) => void) | null;
  private linkTimer: NodeJS.Timeout | null = null;
  private nextLinkCheck = 0;

  /** @internal use openCapture() */
  constructor(opts: CaptureOptions) {
    super();
    this.snaplen = checkCaptureOptions(opts);
    const iface = opts.iface;
    const ctx = { op: `open capture on ${iface}`, iface };
    this.iface = iface;
    this.geometry = resolveGeometry(opts);
    this.direction = opts.direction ?? 'both';
    this.onLink = opts.onLinkChange ?? null;
    if (!['in', 'out', 'both'].includes(this.direction))
      throw new NetringError(`direction must be in, out or both (got ${String(this.direction)})`, 'EINVAL');
    // `any`: every interface, cooked (SOCK_DGRAM: the kernel strips each device's own link
    // header; the view puts an SLL2 header in front, as libpcap does for tcpdump -i any)
    this.cooked = iface === 'any';
    if (this.cooked && (opts.fanout !== undefined || opts.fanoutArg !== undefined))
      throw new NetringError('openCapture: the cooked capture of `any` cannot join a fan-out group', 'EINVAL');
    this.ifindex = this.cooked ? 0 : sys(ctx, () => native.ifindex(iface));
    const fd = sys(ctx, () => native.socket(AF_PACKET, this.cooked ? SOCK_DGRAM : SOCK_RAW, 0));
    this.fd = fd;
    try {
      sys(ctx, () => native.setsockopt(fd, SOL_PACKET, PACKET_VERSION, new Int32Array([TPACKET_V3])));
      this.attachNow(opts.filter, ctx.op);
      this.timestampSource = this.setTimestamps(opts.timestamp ?? 'software');
      if (this.direction === 'in') sys(ctx, () => native.setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, new Int32Array([1])));
      sys({ ...ctx, op: `${ctx.op}: set up the RX ring (${this.geometry.blockCount} x ${this.geometry.blockSize} bytes)` },
        () => native.setsockopt(fd, SOL_PACKET, PACKET_RX_RING, tpacketReq3(this.geometry)));
      const len = this.geometry.blockSize * this.geometry.blockCount;
      this.ring = sys(ctx, () => native.mmap(fd, len, opts.populate ?? true));
      this.reader = new RingReader(this.ring, this.geometry);
      if (this.cooked) {
        this.reader.batch.packet._pre = SLL2_HEADER_LEN;
        this.reader.batch.packet.linkType = LINKTYPE_LINUX_SLL2;
      }
      sys(ctx, () => native.bindPacket(fd, this.ifindex, ETH_P_ALL));
      if (!this.cooked && takeSocketError(fd) === ENETDOWN) // the kernel binds but does not hook a socket to a device that is down
        throw new NetringError(`${iface}: that device is not up (\`ip link set ${iface} up\`)`, 'ENETDOWN', ENETDOWN, 'bind');
      // `any` has no device to make promiscuous (tcpdump -i any does not either)
      if ((opts.promisc ?? true) && !this.cooked) {
        const mreq = new Int32Array(4); // struct packet_mreq: ifindex, u16 type, u16 alen, u8 addr[8]
        mreq[0] = this.ifindex;
        mreq[1] = PACKET_MR_PROMISC;
        sys(ctx, () => native.setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq));
      }
      if (opts.fanout !== undefined) {
        const j = this.direction === 'in' ? { ...opts.fanout, ignoreOutgoing: true } : opts.fanout;
        this.fanoutId = joinFanout(fd, j, iface);
      } else if (opts.fanoutArg !== undefined) {
        const arg = opts.fanoutArg;
        sys({ ...ctx, op: `${ctx.op}: join fanout group ${arg & 0xffff}` }, () => native.setsockopt(fd, SOL_PACKET, PACKET_FANOUT, new Int32Array([arg])));
      }
    } catch (e) {
      this.closed = true;
      this.fd = -1;
      // a ring already mapped keeps the socket (and its fan-out share) alive until GC: release it now
      const ring = (this as { ring?: ArrayBuffer }).ring;
      if (ring !== undefined) try { native.releaseMapping(ring); } catch { /* the finalizer unmaps it */ }
      this.hwClaim?.release();
      native.close(fd);
      throw e;
    }
  }

  private setTimestamps(src: TimestampSource): 'software' | 'hardware' {
    if (src === 'software') return 'software';
    if (src !== 'hardware' && src !== 'auto') throw new NetringError(`timestamp must be software, hardware or auto (got ${String(src)})`, 'EINVAL');
    const claim = claimHardwareRx(this.iface, src);
    if (claim === null) return 'software'; // auto on a device that cannot stamp every packet
    this.hwClaim = claim;
    sys({ op: `enable hardware timestamps on ${this.iface}`, iface: this.iface }, () => native.setsockopt(this.fd, SOL_PACKET, PACKET_TIMESTAMP,
      new Int32Array([SOF_TIMESTAMPING_RAW_HARDWARE | SOF_TIMESTAMPING_SOFTWARE])));
    return 'hardware';
  }

  private program(filter: BpfProgram | undefined): Uint8Array {
    // cooked: the kernel's length counts from the network header; the SLL2 header comes on top
    let p = withSnaplen(filter, this.cooked ? Math.max(1, this.snaplen - SLL2_HEADER_LEN) : this.snaplen);
    if (this.direction === 'out') p = outgoingOnly(p);
    return encodeProgram(p);
  }

  private attachNow(filter: BpfProgram | undefined, op: string): void {
    const bytes = this.program(filter);
    sys({ op: `${op}: attach the BPF filter`, iface: this.iface }, () => native.attachFilter(this.fd, bytes));
  }

  /**
   * Replace the kernel filter without letting packets of the old filter through
   * afterwards: attach reject-all, discard what the ring already holds, wait one
   * block timeout for the kernel's open block to retire, discard again, attach the
   * new program. Resolves with the number of packets discarded.
   */
  async setFilter(filter: BpfProgram | undefined): Promise<number> {
    this.ensureOpen();
    const bytes = this.program(filter); // validate before touching the socket
    sys({ op: 'replace filter', iface: this.iface }, () => native.attachFilter(this.fd, encodeProgram(REJECT_ALL)));
    let discarded = this.reader.discardReady();
    await new Promise((r) => setTimeout(r, 2 * this.geometry.blockTimeoutMs + 5));
    if (this.closed) return discarded;
    discarded += this.reader.discardReady();
    sys({ op: 'replace filter', iface: this.iface }, () => native.attachFilter(this.fd, bytes));
    return discarded;
  }

  /** The next retired block, or null if none is ready now (never blocks). Releases the previous batch. */
  tryBatch(): Batch | null {
    this.ensureOpen();
    return this.reader.acquire();
  }

  /**
   * The next batch, blocking in poll(2) up to timeoutMs (-1 = forever) when none is
   * ready. For worker threads; never call it on the main thread with a long timeout.
   * Returns null on timeout. Releases the previous batch.
   */
  nextBatch(timeoutMs = -1): Batch | null {
    this.ensureOpen();
    const b = this.reader.acquire();
    if (b !== null || timeoutMs === 0) return b;
    const deadline = timeoutMs < 0 ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      if (this.link === 'gone') throw this.goneError();
      let left = deadline === Infinity ? -1 : Math.max(0, deadline - Date.now());
      if (this.link === 'down') left = left < 0 ? LINK_CHECK_MS : Math.min(left, LINK_CHECK_MS);
      const rev = native.poll(this.fd, POLLIN | POLLERR, left > 0x7fffffff ? -1 : left);
      if (this.closed) return null;
      const got = this.reader.acquire();
      if (got !== null) return got;
      if ((rev & POLLERR) !== 0) {
        const err = takeSocketError(this.fd);
        if (err === 0) Atomics.wait(nap, 0, 0, 10); // an error poll reports but SO_ERROR does not: never spin on it
        this.checkLink(err !== 0);
      } else if (this.link === 'down' && Date.now() >= this.nextLinkCheck) {
        this.checkLink(false);
      }
      if (this.linkState === 'gone') { // (the getter: checkLink() may have changed it)
        // one last block may still retire (the kernel's block timer runs without the device)
        native.poll(this.fd, POLLIN, 2 * this.geometry.blockTimeoutMs + 5);
        const last = this.reader.acquire();
        this.emitLink('gone');
        if (last !== null) return last;
        throw this.goneError();
      }
      if (Date.now() >= deadline) return null;
    }
  }

  /** State of the capture's interface: 'up', 'down' (the capture resumes when it comes back) or 'gone' (deleted). */
  get linkState(): LinkState { return this.link; }

  private goneError(): NetringError {
    return new NetringError(`interface ${this.iface} went away`, 'ENODEV', 19);
  }

  private emitLink(state: LinkState): void {
    if (this.onLink !== null) this.onLink({ iface: this.iface, state });
  }

  /**
   * Look at the link after a socket error (or while it is down) and report any
   * change. A flap too quick to see still reports 'down' then 'up' when the
   * kernel left its ENETDOWN on the socket. 'gone' is reported by the caller
   * once the ring is drained.
   */
  private checkLink(sawError: boolean): void {
    this.nextLinkCheck = Date.now() + LINK_CHECK_MS;
    if (this.cooked) return; // `any` has no one link to go down or away
    const now = linkState(this.ifindex);
    if (now === 'gone') { this.link = 'gone'; return; }
    if (this.link === 'up' && (now === 'down' || sawError)) { this.link = 'down'; this.emitLink('down'); }
    if (this.link === 'down' && now === 'up') { this.link = 'up'; this.emitLink('up'); }
  }

  /** Event-loop forms: libuv stopped the watcher on POLLERR. Clear the error, report, re-arm or end. */
  protected override onPollError(): void {
    const err = takeSocketError(this.fd);
    this.checkLink(err !== 0);
    if (this.link === 'down' && this.linkTimer === null) {
      this.linkTimer = setInterval(() => {
        if (this.closed) return;
        this.checkLink(false);
        if (this.link !== 'down') this.stopLinkTimer();
        if (this.link === 'gone') this.endGone();
      }, LINK_CHECK_MS);
      this.linkTimer.unref(); // the re-armed watcher keeps the process alive
    }
    if (this.link === 'gone') { this.endGone(); return; }
    const rearm = (): void => { if (!this.closed && (this.handler !== null || this.waiter !== null)) this.watch(true); };
    if (err === 0) setTimeout(rearm, 10); // an error SO_ERROR does not explain: do not spin on it
    else rearm();
  }

  private stopLinkTimer(): void {
    if (this.linkTimer !== null) { clearInterval(this.linkTimer); this.linkTimer = null; }
  }

  /** Interface deleted: let the last block retire, deliver what the ring holds, then report 'gone'. */
  private endGone(): void {
    this.stopLinkTimer();
    setTimeout(() => {
      if (this.closed) return;
      while (this.handler !== null && !this.closed && this.reader.ready()) this.deliver();
      if (this.closed) return;
      this.resolveWaiter(this.reader.ready());
      this.emitLink('gone');
    }, 2 * this.geometry.blockTimeoutMs + 5);
  }

  protected get pollFd(): number { return this.fd; }
  protected acquireNext(): Batch | null { return this.reader.acquire(); }
  protected hasReady(): boolean { return this.reader.ready(); }
  protected releaseCurrent(): void { this.reader.batch.release(); }
  protected get label(): string { return this.iface; }
  protected override mayWait(): boolean { return this.link !== 'gone'; }
  protected override endError(): Error | null { return this.link === 'gone' ? this.goneError() : null; }

  /** Read the kernel counters (read-and-reset in the kernel) and return the running totals. */
  stats(): CaptureStats {
    if (!this.closed) {
      const b = this.statBuf;
      b.fill(0);
      sys({ op: 'read statistics', iface: this.iface }, () => native.getsockopt(this.fd, SOL_PACKET, PACKET_STATISTICS, b));
      this.totals.kernelPackets += b[0];
      this.totals.drops += b[1];
      this.totals.freezes += b[2];
    }
    return {
      received: this.reader.packets,
      kernelPackets: this.totals.kernelPackets,
      drops: this.totals.drops,
      freezes: this.totals.freezes,
      batches: this.reader.blocks,
    };
  }

  /**
   * Close the socket. Idempotent and safe from inside a batch handler (the batch
   * loop stops after the current packet). Final kernel counters are folded into
   * stats() first. The socket is released at once (it leaves its fan-out group):
   * the ring's pages are replaced by zero pages, and that memory is unmapped
   * when no JS view of it is reachable any more (garbage collection), so a
   * stray view never touches unmapped memory (it reads zeros).
   */
  close(): void {
    if (this.closed) return;
    this.handler = null;
    this.stopLinkTimer();
    this.reader.batch._drop();
    // Drop the socket's ring mapping now (zero pages take its place for stray views):
    // otherwise the mapping keeps the socket alive until GC, still queueing packets
    // and, in a fan-out group, still taking its share of the group's traffic.
    try { native.releaseMapping(this.ring); } catch { /* the finalizer unmaps it later */ }
    // the last counter read right before the close: the kernel queues nothing after close(2)
    try { this.stats(); } catch { /* counters are best effort at close */ }
    this.beginClose();
    const fd = this.fd;
    this.fd = -1;
    native.close(fd);
    this.hwClaim?.release(); // the device's previous timestamping setting, when the last capture using it closes
    this.resolveWaiter(false);
  }
}

/**
 * Open a live capture: an AF_PACKET TPACKET_V3 ring on `opts.iface`, or with
 * `backend: 'xdp'` an AF_XDP socket on one RX queue (src/xsk). Both hand out
 * batches read through one reused view.
 * Throws NetringError with a helpful message (EPERM: needs root/CAP_NET_RAW;
 * ENODEV: no such interface; EGEOMETRY: which ring constraint was broken).
 */
export function openCapture(opts: XdpCaptureOptions): XskCapture;
export function openCapture(opts: CaptureOptions & { backend?: 'packet' }): Capture;
export function openCapture(opts: (CaptureOptions & { backend?: 'packet' }) | XdpCaptureOptions): Capture | XskCapture {
  if (opts !== null && typeof opts === 'object' && opts.backend === 'xdp') return new XskCapture(opts);
  if (opts !== null && typeof opts === 'object' && opts.backend !== undefined && opts.backend !== 'packet')
    throw new NetringError(`backend must be 'packet' (AF_PACKET ring) or 'xdp' (AF_XDP) (got ${String(opts.backend)})`, 'EINVAL');
  return new Capture(opts as CaptureOptions);
}
