/**
 * `netring gen`: send traffic from TX rings (PACKET_TX_RING, or AF_XDP with --xdp).
 *
 *   netring gen -i veth0 --dst 10.0.0.2 --size 64 --rate 1Mpps --seconds 10
 *   netring gen -i veth0 --src 10.0.0.0/24 --sport 1000-1999 --flows 10000 --size imix -c 1000000
 *   netring gen -i veth0 --replay trace.pcapng --speed 2 --loop 3
 *   netring gen -i veth0 --stamp --rate 10kpps --seconds 5        (then netring ping --listen on the peer)
 *
 * A status line on stderr (when it is a TTY), a summary at the end; Ctrl-C
 * stops cleanly (in-flight frames complete) and still prints the summary.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { NetringError } from '../errors.js';
import { writeOut } from './stdout.js';
import { startCliMetrics } from './metrics-option.js';
import type { MetricsServer } from '../metrics/server.js';
import { choiceArg, intArg, numArg, UsageError } from './args.js';
import { generate, formatSummary, statusLine, MAX_FLOWS, type GenSummary, type GenerateOptions } from '../gen/index.js';
import type { L4Proto, PacketSpec } from '../build/index.js';

/** Options as commander parses them. */
export interface GenCliOptions {
  interface?: string;
  /** --metrics [ADDR:]PORT: serve Prometheus metrics while sending. */
  metrics?: string;
  src?: string;
  dst?: string;
  sport?: string;
  dport?: string;
  proto?: L4Proto;
  size?: string;
  vlan?: string;
  srcMac?: string;
  dstMac?: string;
  ttl?: number;
  tos?: number;
  tcpFlags?: string;
  payload?: string;
  flows?: number;
  randomFlows?: boolean;
  rate?: string;
  burst?: number;
  count?: number;
  seconds?: number;
  workers?: number;
  replay?: string;
  speed?: string;
  loop?: number;
  stamp?: boolean;
  streamId?: number;
  seed?: number;
  batch?: number;
  ringFrames?: number;
  qdiscBypass?: boolean;
  linear?: boolean;
  /** --xdp: send through AF_XDP TX rings. */
  xdp?: boolean;
  queue?: number;
  zerocopy?: boolean;
  copy?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** The interface's own MAC address (default source MAC), or undefined. */
export function ifaceMac(iface: string): string | undefined {
  try {
    const m = readFileSync(`/sys/class/net/${iface}/address`, 'utf8').trim();
    return /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(m) && m !== '00:00:00:00:00:00' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Map CLI options to generate() options (no I/O besides reading the interface MAC). */
export function genOptionsFrom(o: GenCliOptions): GenerateOptions {
  if (!o.interface) throw new UsageError('gen: an interface is required (-i IFACE)');
  const packet: PacketSpec = {};
  if (o.srcMac !== undefined) packet.srcMac = o.srcMac;
  else {
    const m = ifaceMac(o.interface);
    if (m !== undefined) packet.srcMac = m;
  }
  if (o.dstMac !== undefined) packet.dstMac = o.dstMac;
  if (o.ttl !== undefined) packet.ttl = o.ttl;
  if (o.tos !== undefined) packet.tos = o.tos;
  if (o.tcpFlags !== undefined) packet.tcpFlags = o.tcpFlags;
  if (o.payload !== undefined) packet.payload = o.payload;
  const g: GenerateOptions = {
    iface: o.interface, packet, src: o.src, dst: o.dst, sport: o.sport, dport: o.dport, vlan: o.vlan, proto: o.proto,
    flows: o.flows, randomFlows: o.randomFlows, size: o.size, rate: o.rate, burst: o.burst, count: o.count, seconds: o.seconds,
    workers: o.workers, stamp: o.stamp, streamBase: o.streamId, seed: o.seed, batch: o.batch, frameCount: o.ringFrames,
    qdiscBypass: o.qdiscBypass, linear: o.linear,
  };
  if (o.xdp) {
    if (o.zerocopy && o.copy) throw new UsageError('gen: use only one of --zerocopy and --copy');
    if (o.linear === false || o.qdiscBypass === false) throw new UsageError('gen: --no-linear and --no-qdisc-bypass are AF_PACKET options; AF_XDP has no qdisc and no skb layout to choose');
    if (o.ringFrames !== undefined && (o.ringFrames & (o.ringFrames - 1)) !== 0) throw new UsageError(`gen: --ring-frames with --xdp must be a power of two (got ${o.ringFrames})`);
    g.xdp = { queue: o.queue, copyMode: o.zerocopy ? 'zerocopy' : o.copy ? 'copy' : 'auto' };
  } else if (o.queue !== undefined || o.zerocopy || o.copy) {
    throw new UsageError('gen: --queue, --zerocopy and --copy go with --xdp');
  }
  if (o.replay !== undefined) {
    for (const [k, v] of Object.entries({ '--src': o.src, '--dst': o.dst, '--sport': o.sport, '--dport': o.dport, '--vlan': o.vlan, '--proto': o.proto, '--size': o.size, '--flows': o.flows, '--payload': o.payload })) {
      if (v !== undefined) throw new UsageError(`gen: ${k} builds packets; it cannot be combined with --replay`);
    }
    const max = o.speed === 'max';
    const speed = o.speed === undefined || max ? undefined : Number(o.speed);
    if (speed !== undefined && !(speed > 0)) throw new UsageError(`gen: --speed must be a positive number or max (got "${o.speed}")`);
    g.replay = { file: o.replay, speed, loop: o.loop, ignoreTiming: max || o.rate !== undefined };
  } else if (o.speed !== undefined || o.loop !== undefined) {
    throw new UsageError('gen: --speed and --loop apply to --replay');
  }
  return g;
}

/** Run `netring gen` with parsed options: status line, Ctrl-C, summary. Returns the summary. */
export async function runGen(o: GenCliOptions): Promise<GenSummary> {
  const opts = genOptionsFrom(o);
  const metrics = await startCliMetrics(o.metrics);
  try {
    return await runGenWith(o, opts, metrics);
  } finally {
    await metrics?.close();
  }
}

async function runGenWith(o: GenCliOptions, opts: GenerateOptions, metrics: MetricsServer | null): Promise<GenSummary> {
  let g;
  try {
    g = generate(opts);
  } catch (e) {
    if (e instanceof NetringError && e.code === 'EINVAL') throw new UsageError(`gen: ${e.message}`);
    throw e;
  }
  const gen = g;
  // frames vary in size: bytes sent are the queued bytes in the proportion of frames sent (as in the summary)
  metrics?.addPacketSource(() => {
    const ws = gen.workerProgress();
    return {
      sent: ws.map((w) => w.sent), sendFailed: ws.map((w) => w.failed),
      sentBytes: ws.map((w) => (w.queued > 0 ? Math.round((w.bytes * w.sent) / w.queued) : 0)),
    };
  });
  const tty = process.stderr.isTTY === true && !o.quiet;
  let prev = gen.progress();
  const timer = tty ? setInterval(() => {
    const p = gen.progress();
    process.stderr.write(`\r\x1b[K${statusLine(p, prev)}`);
    prev = p;
  }, 500) : null;
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts === 1) gen.stop();
    else process.exit(130);
  };
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, onSignal);
  try {
    const summary = await gen.done;
    if (timer !== null) { clearInterval(timer); process.stderr.write('\r\x1b[K'); }
    if (o.json) writeOut(`${JSON.stringify(summary)}\n`);
    else process.stdout.write(`${formatSummary(summary)}\n`);
    return summary;
  } finally {
    if (timer !== null) clearInterval(timer);
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.off(s, onSignal);
  }
}

/** Register `netring gen` on a commander program. */
export function registerGen(program: Command): void {
  program
    .command('gen')
    .description('send traffic from a TX ring: packet templates, flows, rates, IMIX, pcap replay, latency stamps')
    .option('-i, --interface <iface>', 'interface to send on')
    .option('--src <addr>', 'source IP: address, range a-b, prefix a/n or list a,b (default 10.0.0.1)')
    .option('--dst <addr>', 'destination IP, same forms (default 10.0.0.2; IPv6 addresses make IPv6 packets)')
    .option('--sport <port>', 'source port or range (default 10000)')
    .option('--dport <port>', 'destination port or range (default 5001)')
    .option('--proto <proto>', 'udp, tcp or icmp (default udp)', choiceArg('--proto', ['udp', 'tcp', 'icmp'] as const))
    .option('--size <size>', 'frame bytes without FCS: 64, imix, a range 64-1500 or a list 64,512 (default: the smallest frame the headers fit, at least 60)')
    .option('--vlan <id>', 'add an 802.1Q tag; an id or a range of ids')
    .option('--src-mac <mac>', "source MAC (default: the interface's)")
    .option('--dst-mac <mac>', 'destination MAC (default 02:00:00:00:00:02)')
    .option('--ttl <n>', 'IP TTL / hop limit (default 64)', intArg('--ttl', 0, 255))
    .option('--tos <n>', 'IP TOS / traffic class (default 0)', intArg('--tos', 0, 255))
    .option('--tcp-flags <flags>', 'TCP flags as letters FSRPAUEC (default S)')
    .option('--payload <pattern>', 'payload fill: zero, inc, random, 0x5a, hex:..., text:... (default zero)')
    .option('--flows <n>', 'number of distinct flows (5-tuples) to cycle through', intArg('--flows', 1, MAX_FLOWS))
    .option('--random-flows', 'draw the flows at random (seeded) rather than in order')
    .option('--rate <rate>', 'packets/s or bits/s: 50kpps, 1Mpps, 500Mbps, or max (default max; 0, 0pps, 0Mbps also mean max)')
    .option('--burst <n>', 'token bucket size in packets (pps) or bits (bps) (default 20 ms of traffic)', numArg('--burst', 1))
    .option('-c, --count <n>', 'stop after n packets', intArg('-c', 0))
    .option('--seconds <n>', 'stop after n seconds', numArg('--seconds', 0))
    .option('--workers <n>', 'parallel senders, each with its own socket and ring (default 1)', intArg('--workers', 1, 64))
    .option('--replay <file>', 'send the packets of a pcap/pcapng file')
    .option('--speed <x>', 'replay at x times the recorded speed, or max (default 1)')
    .option('--loop <n>', 'play the file n times (0 = until stopped; default 1)', intArg('--loop', 0))
    .option('--stamp', 'latency mode: sequence number and send time in every payload (see netring ping)')
    .option('--stream-id <n>', 'stamp stream id of the first worker (default 0)', intArg('--stream-id', 0, 65535))
    .option('--seed <n>', 'seed for random flows, sizes and payload (default 1)', intArg('--seed', 0, 0xffffffff))
    .option('--batch <n>', 'most frames per kick (default 256)', intArg('--batch', 1, 65536))
    .option('--ring-frames <n>', 'TX ring slots per worker', intArg('--ring-frames', 1, 1 << 20))
    .option('--no-qdisc-bypass', 'go through the qdisc layer (default: bypass it, as trafgen does)')
    .option('--no-linear', 'let the kernel attach ring pages to skbs instead of copying frames into linear skbs')
    .option('--xdp', 'send through AF_XDP TX rings (worker w on TX queue --queue + w) instead of PACKET_TX_RING')
    .option('--queue <n>', 'with --xdp: TX queue of the first worker (default 0)', intArg('--queue', 0, 65535))
    .option('--zerocopy', 'with --xdp: require zero-copy (fails on drivers without it)')
    .option('--copy', 'with --xdp: force copy mode (default: zero-copy when the driver has it)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('-q, --quiet', 'no status line')
    .option('--metrics <[addr:]port>', 'serve Prometheus metrics (packets and bytes sent, send failures per worker) on this address')
    .action(async (o: GenCliOptions) => {
      await runGen(o);
    });
}
