/**
 * `netring ping`: a one-way latency and loss run between two interfaces.
 *
 *   netring ping --from veth0 --to veth1 --rate 10kpps -c 50000
 *   netring ping --listen -i eth1 --seconds 30        (receive side only; the
 *                                                      sender runs `netring gen --stamp`)
 *   netring ping --read rx.pcapng                     (analyse a capture of stamped traffic)
 *
 * The sender stamps a sequence number and its send time into every payload;
 * the receiver captures with kernel software RX timestamps (the same clock as
 * the send stamps; hardware stamps are refused) and reports loss,
 * duplicates, reordering and latency percentiles.
 */
import type { Command } from 'commander';
import { openCapture, type Capture } from '../ring/index.js';
import { NetringError } from '../errors.js';
import { choiceArg, intArg, numArg, UsageError } from './args.js';
import { genOptionsFrom, type GenCliOptions } from './gen.js';
import { generate, formatSummary, type GenSummary } from '../gen/index.js';
import { LatencyAnalyser, analyseCapture, analyseFile, formatLatency, type LatencyReport } from '../latency/index.js';
import type { L4Proto } from '../build/index.js';

/** Options as commander parses them. */
export interface PingCliOptions {
  from?: string;
  to?: string;
  listen?: boolean;
  read?: string;
  interface?: string;
  src?: string;
  dst?: string;
  sport?: string;
  dport?: string;
  proto?: L4Proto;
  size?: string;
  vlan?: string;
  dstMac?: string;
  flows?: number;
  rate?: string;
  count?: number;
  seconds?: number;
  workers?: number;
  timestamp?: 'software' | 'hardware' | 'auto';
  wait?: number;
  json?: boolean;
}

/** Result of a ping run. */
export interface PingResult {
  report: LatencyReport;
  sender?: GenSummary;
  timestamps: 'software' | 'hardware';
}

/**
 * The sender writes its send time from CLOCK_REALTIME into each payload, so the
 * receive side must stamp with the same clock: a NIC's hardware clock would make
 * every latency the difference of two unrelated clocks. `hardware` is refused,
 * `auto` means software here.
 */
export function pingTimestamps(ts: PingCliOptions['timestamp']): 'software' {
  if (ts === 'hardware')
    throw new UsageError("ping: --timestamp hardware would compare the NIC's clock with the sender's CLOCK_REALTIME send stamps (netring stamps packets in software when it sends them); use --timestamp software");
  return 'software';
}

function openRx(iface: string, ts: PingCliOptions['timestamp']): Capture {
  return openCapture({ iface, direction: 'in', timestamp: pingTimestamps(ts), blockSize: 1 << 20, blockCount: 32, blockTimeoutMs: 5 });
}

/** Run a ping (both sides, or --listen). Prints the report; returns it. */
export async function runPing(o: PingCliOptions): Promise<PingResult> {
  if (o.read !== undefined) {
    if (o.listen || o.from || o.to) throw new UsageError('ping: --read analyses a file; it cannot be combined with --listen, --from or --to');
    const report = analyseFile(o.read);
    if (o.json) process.stdout.write(`${JSON.stringify({ report })}\n`);
    else process.stdout.write(`${formatLatency(report, 'file')}\n`);
    return { report, timestamps: 'software' };
  }
  if (o.listen) return listen(o);
  if (!o.from || !o.to) throw new UsageError('ping: give --from IFACE (sender) and --to IFACE (receiver), or --listen -i IFACE');
  const cli: GenCliOptions = {
    interface: o.from, src: o.src, dst: o.dst, sport: o.sport, dport: o.dport, proto: o.proto, size: o.size, vlan: o.vlan,
    dstMac: o.dstMac, flows: o.flows, rate: o.rate ?? '1kpps', count: o.count ?? (o.seconds === undefined ? 1000 : undefined),
    seconds: o.seconds, workers: o.workers, stamp: true,
  };
  const opts = genOptionsFrom(cli);
  const cap = openRx(o.to, o.timestamp);
  let gen;
  try {
    gen = generate(opts);
  } catch (e) {
    cap.close();
    if (e instanceof NetringError && e.code === 'EINVAL') throw new UsageError(`ping: ${e.message}`);
    throw e;
  }
  const g = gen;
  const a = new LatencyAnalyser();
  let finished = false;
  let sender: GenSummary | undefined;
  let failure: unknown = null;
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts === 1) g.stop();
    else process.exit(130);
  };
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, onSignal);
  g.done.then((s) => { sender = s; }, (e: unknown) => { failure = e; }).finally(() => {
    // stragglers: give the last packets time to arrive
    setTimeout(() => { finished = true; }, o.wait ?? 200);
  });
  try {
    await analyseCapture(cap, a, () => finished);
  } finally {
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.off(s, onSignal);
    cap.close();
  }
  if (failure !== null) throw failure;
  const base = opts.streamBase ?? 0;
  sender!.workers.forEach((w, i) => a.expect(base + i, w.sent));
  const report = a.report();
  const res: PingResult = { report, sender, timestamps: cap.timestampSource };
  if (o.json) process.stdout.write(`${JSON.stringify({ report, sender })}\n`);
  else process.stdout.write(`${o.from} -> ${o.to}: ${formatSummary(sender!).split('\n')[0]}\n${formatLatency(report, cap.timestampSource)}\n`);
  return res;
}

async function listen(o: PingCliOptions): Promise<PingResult> {
  const iface = o.interface ?? o.to;
  if (!iface) throw new UsageError('ping --listen: give the interface to receive on (-i IFACE)');
  const cap = openRx(iface, o.timestamp);
  const a = new LatencyAnalyser();
  let stop = false;
  const onSignal = (): void => { stop = true; };
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, onSignal);
  const end = o.seconds === undefined ? Infinity : Date.now() + o.seconds * 1000;
  process.stderr.write(`listening on ${iface} for stamped packets (Ctrl-C to stop)\n`);
  try {
    await analyseCapture(cap, a, () => stop || Date.now() >= end || (o.count !== undefined && a.stamped >= o.count));
  } finally {
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.off(s, onSignal);
    cap.close();
  }
  const report = a.report();
  if (o.json) process.stdout.write(`${JSON.stringify({ report })}\n`);
  else process.stdout.write(`${formatLatency(report, cap.timestampSource)}\n`);
  return { report, timestamps: cap.timestampSource };
}

/** Register `netring ping` on a commander program. */
export function registerPing(program: Command): void {
  program
    .command('ping')
    .description('one-way latency and loss between two interfaces (stamped packets, kernel RX timestamps)')
    .option('--from <iface>', 'interface to send from')
    .option('--to <iface>', 'interface to receive on')
    .option('--listen', 'receive side only: analyse stamped packets sent by `netring gen --stamp`')
    .option('-i, --interface <iface>', 'interface to listen on (with --listen)')
    .option('-r, --read <file>', 'analyse a pcap/pcapng capture of stamped packets (its timestamps are the receive times)')
    .option('--rate <rate>', 'send rate (default 1kpps)')
    .option('-c, --count <n>', 'packets to send (default 1000 unless --seconds); with --listen: stop after n', intArg('-c', 1))
    .option('--seconds <n>', 'send (or listen) for n seconds', numArg('--seconds', 0))
    .option('--size <size>', 'frame bytes: 64, imix, 64-1500 ... (default 60)')
    .option('--proto <proto>', 'udp, tcp or icmp (default udp)', choiceArg('--proto', ['udp', 'tcp', 'icmp'] as const))
    .option('--src <addr>', 'source IP (default 10.0.0.1)')
    .option('--dst <addr>', 'destination IP (default 10.0.0.2)')
    .option('--sport <port>', 'source port or range')
    .option('--dport <port>', 'destination port or range')
    .option('--vlan <id>', '802.1Q tag id')
    .option('--dst-mac <mac>', 'destination MAC (default 02:00:00:00:00:02)')
    .option('--flows <n>', 'distinct flows', intArg('--flows', 1))
    .option('--workers <n>', 'parallel senders (one stamp stream each)', intArg('--workers', 1, 64))
    .option('--timestamp <src>', 'receive timestamps: software (default; auto means software; hardware is refused: the send stamps are CLOCK_REALTIME)', choiceArg('--timestamp', ['software', 'hardware', 'auto'] as const))
    .option('--wait <ms>', 'wait for late packets after the last send (default 200)', intArg('--wait', 0))
    .option('--json', 'print the report as JSON on stdout')
    .action(async (o: PingCliOptions) => {
      await runPing(o);
    });
}
