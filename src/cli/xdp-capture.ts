/**
 * `netring capture --xdp`: the live capture's packet source over AF_XDP. One
 * socket per RX queue (--queue N, or --queues all), all in this thread, all
 * feeding the same callback (with --workers N: one worker thread per queue,
 * see xdpWorkerOptions); the filter (-f EXPR) is compiled by the filter
 * language into the XDP program, so frames it rejects never reach user space
 * and go up the stack.
 */
import { openCapture } from '../ring/index.js';
import type { BatchLike } from '../ring/batch-like.js';
import type { BpfProgram } from '../bpf/classic.js';
import { XskCapture, rxQueueCount, type CopyMode } from '../xsk/index.js';
import type { GroupXdpOptions } from '../fanout/index.js';
import { UsageError } from './args.js';

/** What the capture command needs from a live source (AF_PACKET ring or AF_XDP sockets). */
export interface LiveSource {
  start(fn: (batch: BatchLike) => void): void;
  stop(): void;
  stats(): { kernelPackets: number; drops: number; freezes: number };
  close(): void;
  /** The "listening on" line's tail. */
  describe: string;
  snaplen: number;
}

/** --xdp options. */
export interface XdpCliOptions {
  iface: string;
  queue?: number;
  queues?: string;
  zerocopy?: boolean;
  copy?: boolean;
  snaplen?: number;
  filter?: string;
  filterBpf?: BpfProgram;
  program?: string;
}

/** The expression the XDP program filters with, or undefined (every frame). */
export function xdpFilter(o: Pick<XdpCliOptions, 'filter' | 'filterBpf' | 'program'>): string | undefined {
  if (o.program !== undefined) throw new UsageError('--program with --xdp: not yet (use -f EXPR)');
  if (o.filterBpf !== undefined) throw new UsageError('--filter-bpf with --xdp: XDP runs eBPF the filter language generates from -f EXPR, not classic BPF (use -f EXPR, or drop --xdp)');
  return o.filter;
}

/** Open the AF_XDP sockets the options ask for. */
export function openXdpSource(o: XdpCliOptions): LiveSource {
  if (o.zerocopy && o.copy) throw new UsageError('use only one of --zerocopy and --copy');
  if (o.queue !== undefined && o.queues !== undefined) throw new UsageError('use only one of --queue N and --queues all');
  if (o.queues !== undefined && o.queues !== 'all') throw new UsageError(`--queues takes "all" (got "${o.queues}"); one queue: --queue N`);
  const copyMode: CopyMode = o.zerocopy ? 'zerocopy' : o.copy ? 'copy' : 'auto';
  const filter = xdpFilter(o);
  let queues = [o.queue ?? 0];
  if (o.queues === 'all') {
    const n = rxQueueCount(o.iface);
    queues = Array.from({ length: Math.max(1, n) }, (_, i) => i);
  }
  const caps: XskCapture[] = [];
  try {
    for (const queue of queues) caps.push(openCapture({ backend: 'xdp', iface: o.iface, queue, filter, copyMode, snaplen: o.snaplen }));
  } catch (e) {
    for (const c of caps) c.close();
    throw e;
  }
  const c0 = caps[0];
  return {
    snaplen: c0.snaplen,
    describe: `AF_XDP ${c0.zeroCopy ? 'zero-copy' : 'copy'} mode, XDP ${c0.xdpMode}, queue${caps.length > 1 ? 's' : ''} ${queues.join(',')}`,
    start: (fn) => { for (const c of caps) c.start(fn); },
    stop: () => { for (const c of caps) c.stop(); },
    stats: () => {
      let kernelPackets = 0, drops = 0, freezes = 0;
      for (const c of caps) { const s = c.stats(); kernelPackets += s.kernelPackets; drops += s.drops; freezes += s.freezes; }
      return { kernelPackets, drops, freezes };
    },
    close: () => { for (const c of caps) c.close(); },
  };
}

/**
 * `--workers N --xdp`: the AF_XDP options of a worker group with one worker
 * per RX queue (the NIC's RSS spreads the traffic; a queue without a worker
 * would send its frames up the stack unseen, so N must be the queue count).
 */
export function xdpWorkerOptions(o: XdpCliOptions, iface: string, workers: number): GroupXdpOptions {
  if (o.zerocopy && o.copy) throw new UsageError('use only one of --zerocopy and --copy');
  if (o.queue !== undefined) throw new UsageError('--queue with --workers: each worker takes one RX queue (--workers N --xdp covers all N queues)');
  if (o.queues !== undefined && o.queues !== 'all') throw new UsageError(`--queues takes "all" (got "${o.queues}")`);
  const filter = xdpFilter(o);
  const n = rxQueueCount(iface);
  if (n === 0) throw new UsageError(`${iface}: no RX queues listed in /sys/class/net/${iface}/queues (no such interface?)`);
  if (n !== workers)
    throw new UsageError(`--workers ${workers} with --xdp: ${iface} has ${n} RX queue${n === 1 ? '' : 's'}, one worker per queue (--workers ${n})`);
  const copyMode: CopyMode = o.zerocopy ? 'zerocopy' : o.copy ? 'copy' : 'auto';
  return { copyMode, ...(filter !== undefined ? { filter } : {}), ...(o.snaplen !== undefined ? { snaplen: o.snaplen } : {}) };
}
