/**
 * A generator job: the plain, structured-cloneable description of what to
 * send (so it can cross into worker threads), validated up front so bad
 * input fails with a clear message before anything is opened, and turned
 * into a PacketSource per worker.
 */
import { readFileSync } from 'node:fs';
import { native } from '../native.js';
import { NetringError, sys } from '../errors.js';
import type { PacketSpec, L4Proto } from '../build/index.js';
import { RealtimeClock } from './clock.js';
import { makeFlows, type FlowFields, type FlowSet } from './flows.js';
import { parseRate, type Rate } from './rate.js';
import { openReplay, type ReplayOptions } from './replay.js';
import { parseSize, type SizeSeq } from './size.js';
import type { PacketSource } from '../tx/index.js';
import { minimumFrame, TemplateStream } from './stream.js';

/** Everything `generate()` accepts. */
export interface GenerateOptions {
  /** Interface to send on (required). */
  iface: string;
  /** Header fields other than the flow fields (MACs, protocol, TTL, TOS, TCP flags, payload pattern...). */
  packet?: Omit<PacketSpec, 'src' | 'dst' | 'sport' | 'dport' | 'size'>;
  /** Source address: one, a range a-b, a prefix a/n or a list a,b (default 10.0.0.1). */
  src?: string;
  /** Destination address (same forms; default 10.0.0.2). */
  dst?: string;
  /** Source port or range (default 10000). */
  sport?: string | number;
  /** Destination port or range (default 5001). */
  dport?: string | number;
  /** VLAN id or range (default: untagged). */
  vlan?: string | number;
  /** Transport (default udp). */
  proto?: L4Proto;
  /** Number of distinct flows (default: every combination of the ranges). */
  flows?: number;
  /** Draw flows at random (seeded) rather than in order. */
  randomFlows?: boolean;
  /** Frame size: 64, imix, 100-1500, 64,128 (default: the smallest that fits the headers, at least 60). */
  size?: string | number;
  /** Rate: "1Mpps", "500Mbps", a number (pps), or "max"/undefined for as fast as possible. */
  rate?: string | number | Rate | null;
  /** Token bucket size (packets or bits). */
  burst?: number;
  /** Total packets (split over the workers). */
  count?: number;
  /** Duration in seconds. */
  seconds?: number;
  /** Parallel senders, each with its own socket and ring (default 1). */
  workers?: number;
  /** Latency mode: stamp sequence number and send time into every payload. */
  stamp?: boolean;
  /** Stamp stream id of worker 0 (worker w uses base + w; default 0). */
  streamBase?: number;
  /** Seed for random flows, sizes and payload (default 1). */
  seed?: number;
  /** Replay a capture file instead of building packets. */
  replay?: ReplayOptions;
  /** Most frames per kick (default 256). */
  batch?: number;
  /** TX ring slots per worker (default: about 1 MiB of ring). */
  frameCount?: number;
  /** Skip the qdisc (default true). */
  qdiscBypass?: boolean;
  /** Linear skbs through a virtio_net_hdr per slot (default true; see TxRing). */
  linear?: boolean;
  /**
   * Send through AF_XDP TX rings instead of PACKET_TX_RING: worker w binds
   * TX queue `queue + w` (default queue 0). `frameCount` is then the TX
   * frames per worker (a power of two, default 2048).
   */
  xdp?: { queue?: number; copyMode?: 'copy' | 'zerocopy' | 'auto' };
}

/** A validated job. */
export interface Job {
  opts: GenerateOptions;
  workers: number;
  rate: Rate | null;
  /** Largest frame (ring slot sizing). */
  maxLength: number;
  /** Packets per worker (undefined: no count limit) and each worker's first index. */
  counts: Array<number | undefined>;
  starts: number[];
  /** Flows (built once in the main thread for the summary; workers rebuild their own). */
  flowCount: number;
  /** Mean frame length (for bit-rate summaries before any frame is sent). */
  meanLength: number;
}

function positiveInt(v: number | undefined, what: string, min = 1): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new NetringError(`${what} must be an integer >= ${min} (got ${String(v)})`, 'EINVAL');
}

/** Flows of a job (deterministic). */
export function jobFlows(o: GenerateOptions): FlowSet {
  const fields: FlowFields = { src: o.src, dst: o.dst, sport: o.sport, dport: o.dport, vlan: o.vlan };
  return makeFlows(fields, { flows: o.flows, random: o.randomFlows, seed: o.seed, ports: (o.proto ?? 'udp') !== 'icmp' });
}

/** Sizes of a job: without a size, the smallest frame the headers fit in (60 bytes for IPv4 UDP). */
export function jobSizes(o: GenerateOptions, flows: FlowSet = jobFlows(o)): SizeSeq {
  if (o.size === undefined) return parseSize(minimumFrame(streamPacket(o), flows, o.stamp === true), o.seed ?? 1);
  return parseSize(o.size, o.seed ?? 1);
}

/**
 * Check a job and work out the per-worker split. Throws NetringError for an
 * unknown interface, sizes below the headers, bad rates, ranges or files.
 */
export function prepareJob(opts: GenerateOptions): Job {
  if (!opts || typeof opts.iface !== 'string' || opts.iface === '') throw new NetringError('an interface is required (-i IFACE)', 'EINVAL');
  sys({ op: `send on ${opts.iface}`, iface: opts.iface }, () => native.ifindex(opts.iface));
  const workers = opts.workers ?? 1;
  positiveInt(workers, 'workers');
  if (workers > 64) throw new NetringError(`workers must be at most 64 (got ${workers})`, 'EINVAL');
  positiveInt(opts.count, 'count', 0);
  positiveInt(opts.batch, 'batch');
  positiveInt(opts.frameCount, 'frameCount');
  if (opts.seconds !== undefined && !(opts.seconds > 0)) throw new NetringError(`seconds must be above zero (got ${String(opts.seconds)})`, 'EINVAL');
  if (opts.streamBase !== undefined && (!Number.isInteger(opts.streamBase) || opts.streamBase < 0 || opts.streamBase + workers > 65536))
    throw new NetringError(`streamBase must leave room for one stream id per worker in 0..65535 (got ${String(opts.streamBase)})`, 'EINVAL');
  const rate = opts.rate === null || typeof opts.rate === 'object' ? (opts.rate ?? null) : parseRate(opts.rate);
  if (opts.burst !== undefined && !(opts.burst > 0)) throw new NetringError(`burst must be above zero (got ${String(opts.burst)})`, 'EINVAL');
  let maxLength: number;
  let flowCount = 0;
  let meanLength: number;
  if (opts.replay !== undefined) {
    if (workers !== 1) throw new NetringError('replay runs in one worker (drop --workers)', 'EINVAL');
    if (opts.stamp) throw new NetringError('replay sends the file as recorded: --stamp cannot be combined with it', 'EINVAL');
    const r = openReplay(opts.replay);
    maxLength = r.maxLength;
    meanLength = r.meanLength;
    r.close();
  } else {
    const flows = jobFlows(opts);
    const sizes = jobSizes(opts, flows);
    // Building worker 0's stream checks sizes against the headers and the payload pattern.
    const s = streamFor(opts, flows, sizes, 0, 0);
    maxLength = s.maxLength;
    flowCount = flows.count;
    meanLength = sizes.mean;
    checkMtu(opts.iface, maxLength, opts.packet?.vlan !== undefined);
  }
  const counts: Array<number | undefined> = [];
  const starts: number[] = [];
  let at = 0;
  for (let w = 0; w < workers; w++) {
    if (opts.count === undefined) {
      counts.push(undefined);
      starts.push(flowCount > 0 ? Math.floor((w * flowCount) / workers) : 0);
    } else {
      const c = Math.floor(opts.count / workers) + (w < opts.count % workers ? 1 : 0);
      counts.push(c);
      starts.push(at);
      at += c;
    }
  }
  return { opts, workers, rate, maxLength, counts, starts, flowCount, meanLength };
}

/** Frames longer than the device takes would all fail in the kernel: refuse them up front with the reason. */
function checkMtu(iface: string, maxLength: number, tagged: boolean): void {
  let mtu: number;
  try { mtu = Number(readFileSync(`/sys/class/net/${iface}/mtu`, 'utf8')); } catch { return; }
  if (!Number.isFinite(mtu)) return;
  const limit = mtu + 14 + (tagged ? 4 : 0);
  if (maxLength > limit) {
    throw new NetringError(`frames of up to ${maxLength} bytes do not fit ${iface}'s MTU ${mtu} (at most ${limit} bytes per frame${tagged ? ' with the VLAN tag' : ''}): use a smaller --size or raise the MTU (ip link set ${iface} mtu ${maxLength - 14})`, 'EMSGSIZE');
  }
}

function streamPacket(o: GenerateOptions): PacketSpec {
  return { ...(o.packet ?? {}), proto: o.proto ?? o.packet?.proto ?? 'udp', seed: o.seed ?? o.packet?.seed };
}

function streamFor(o: GenerateOptions, flows: FlowSet, sizes: SizeSeq, start: number, w: number): TemplateStream {
  return new TemplateStream({
    packet: streamPacket(o), flows, sizes, start,
    stamp: o.stamp ? { stream: (o.streamBase ?? 0) + w, clock: new RealtimeClock() } : null,
  });
}

/** The packet source of worker w. */
export function makeSource(job: Job, w: number): PacketSource {
  const o = job.opts;
  if (o.replay !== undefined) return openReplay(o.replay);
  const flows = jobFlows(o);
  return streamFor(o, flows, jobSizes(o, flows), job.starts[w], w);
}
