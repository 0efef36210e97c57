/**
 * `netring flows`: meter flows live (-i, optionally with --workers N) or from
 * a file (-r); print finished flow records (table or JSON lines) and/or
 * export them (IPFIX, NetFlow v9, Kafka). Ends with a summary on stderr.
 */
import type { Command } from 'commander';
import { openCapture } from '../ring/capture.js';
import type { Batch } from '../ring/batch.js';
import { openCaptureReader } from '../pcap/index.js';
import { FlowTable, type FlowTableStats } from '../flow/table.js';
import { RecordBuffer } from '../flow/record.js';
import { recordLines, TABLE_HEADER } from '../flow/format.js';
import type { FlowWorkerData, FlowWorkerMessage } from '../flow/worker.js';
import { FlowExporter, type ExporterStats } from '../export/collector.js';
import { KafkaSink, type KafkaStats } from '../export/kafka.js';
import { group } from '../fanout/group.js';
import { intArg, numArg, UsageError } from './args.js';
import { packetFilter } from './filters.js';
import type { MetricsServer } from '../metrics/server.js';
import { startCliMetrics } from './metrics-option.js';
import { stopOnce } from './stop.js';
import { interfaceNetmask } from './netmask.js';

/** Options of `netring flows`. */
export interface FlowsCliOptions {
  interface?: string;
  read?: string;
  workers?: number;
  filter?: string;
  active: number;
  idle: number;
  maxFlows: number;
  json?: boolean;
  quiet?: boolean;
  ipfix?: string[];
  netflow9?: string[];
  tcp?: boolean;
  unidirectional?: boolean;
  domain: number;
  templateRefresh: number;
  mtu: number;
  seconds?: number;
  metrics?: string;
  kafka?: string;
  kafkaTopic: string;
  /** Seconds to wait at the end for the broker to take queued records (default 30). */
  kafkaWait?: number;
}

/** The summary printed at the end (and by --json as the last line, with `summary: true`). */
export interface FlowsSummary {
  source: string;
  packets: number;
  ignored: number;
  flows: number;
  records: number;
  evicted: number;
  dropped: number;
  freezes: number;
  exporters: ExporterStats[];
  kafka?: KafkaStats;
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** Register `flows` on the program. */
export function registerFlows(program: Command): void {
  program
    .command('flows')
    .description('meter flows from an interface (-i) or a file (-r); print them and/or export them (IPFIX, NetFlow v9)')
    .option('-i, --interface <iface>', 'interface to meter')
    .option('-r, --read <file>', 'meter the packets of a pcap/pcapng file')
    .option('--workers <n>', 'meter with n worker threads in one fan-out group (each meters its own flows)', intArg('--workers', 1, 64))
    .option('-f, --filter <expr>', 'tcpdump filter expression: meter only matching packets')
    .option('--active <s>', 'active timeout: a longer flow is exported and continues in a new record', numArg('--active', 0.001), 60)
    .option('--idle <s>', 'idle timeout: a flow with no packet for this long ends', numArg('--idle', 0.001), 15)
    .option('--max-flows <n>', 'flows tracked at once per worker; when full the least recently seen are evicted (counted)', intArg('--max-flows', 1, 1 << 26), 262144)
    .option('--ipfix <host:port>', 'export IPFIX to this collector (repeatable)', collect)
    .option('--netflow9 <host:port>', 'export NetFlow v9 to this collector (repeatable)', collect)
    .option('--tcp', 'export over TCP instead of UDP (reconnects; templates once per connection)')
    .option('--unidirectional', 'one IPFIX record per direction instead of RFC 5103 biflows')
    .option('--domain <n>', 'observation domain id (NetFlow v9 source id) of worker 0; worker i uses n + i', intArg('--domain', 0, 0xffffffff), 1)
    .option('--template-refresh <s>', 'resend templates over UDP every s seconds (also every 100 messages)', numArg('--template-refresh', 0), 30)
    .option('--mtu <bytes>', 'largest export message', intArg('--mtu', 256, 65535), 1400)
    .option('--seconds <n>', 'stop after n seconds (live)', numArg('--seconds', 0))
    .option('--json', 'print records as JSON lines (and the summary as a last JSON line)')
    .option('-q, --quiet', 'do not print records (export and summary only)')
    .option('--metrics <[addr:]port>', 'serve Prometheus metrics on this address')
    .option('--kafka <brokers>', 'send each flow record as JSON to Kafka (brokers host:port,...), keyed by the flow key')
    .option('--kafka-topic <topic>', 'Kafka topic (must exist)', 'flows')
    .option('--kafka-wait <seconds>', 'at the end, wait up to this long for the broker to take the queued records; the rest are counted as dropped', numArg('--kafka-wait', 0), 30)
    .action(async (opts: FlowsCliOptions) => {
      const s = await runFlows(opts);
      report(s, opts);
    });
}

/** Where finished records go: the terminal and the exporters. */
class Outputs {
  readonly exporters: FlowExporter[] = [];
  readonly kafka: KafkaSink | null;
  constructor(private readonly opts: FlowsCliOptions, clock?: () => number) {
    const common = {
      biflow: opts.unidirectional !== true, domain: opts.domain, transport: opts.tcp ? 'tcp' as const : 'udp' as const,
      templateRefreshSeconds: opts.templateRefresh, maxMessage: opts.mtu, clock,
    };
    for (const c of opts.ipfix ?? []) this.exporters.push(new FlowExporter({ ...common, collector: c, format: 'ipfix' }));
    for (const c of opts.netflow9 ?? []) this.exporters.push(new FlowExporter({ ...common, collector: c, format: 'netflow9' }));
    this.kafka = opts.kafka !== undefined
      ? new KafkaSink({
        brokers: opts.kafka, topic: opts.kafkaTopic,
        onState: (error) => process.stderr.write(error !== null
          ? `netring flows: kafka ${opts.kafka}: ${error}; records are queued and retried every 500 ms\n`
          : `netring flows: kafka ${opts.kafka}: sending again\n`),
      })
      : null;
    if (this.print && opts.json !== true) process.stdout.write(TABLE_HEADER + '\n');
  }

  get print(): boolean { return this.opts.quiet !== true; }

  consume = (rb: RecordBuffer): void => {
    if (this.print) process.stdout.write(recordLines(rb, this.opts.json === true));
    for (const e of this.exporters) e.consume(rb);
    this.kafka?.consume(rb);
  };

  async close(): Promise<void> {
    await Promise.all([...this.exporters.map((e) => e.close()), this.kafka?.close((this.opts.kafkaWait ?? 30) * 1000)]);
  }
}

function parseFilter(opts: FlowsCliOptions, mode: 'kernel' | 'file'): ReturnType<typeof packetFilter> {
  // `ip broadcast` uses the interface's netmask live (as pcap_lookupnet) and 0 reading a file (as tcpdump -r)
  return packetFilter({ filter: opts.filter, netmask: mode === 'kernel' && opts.interface !== undefined ? interfaceNetmask(opts.interface) : 0 }, mode);
}

/** Run `flows` per the options; resolves with the summary. */
export async function runFlows(opts: FlowsCliOptions): Promise<FlowsSummary> {
  if ((opts.interface === undefined) === (opts.read === undefined)) throw new UsageError('flows needs exactly one of -i IFACE or -r FILE');
  if (opts.workers !== undefined && opts.interface === undefined) throw new UsageError('--workers needs -i IFACE');
  if (opts.unidirectional && opts.ipfix === undefined) throw new UsageError('--unidirectional goes with --ipfix (NetFlow v9 records are always unidirectional)');
  if (opts.active <= opts.idle) process.stderr.write(`netring: note: --active ${opts.active} <= --idle ${opts.idle}: flows end by the active timeout first\n`);
  const metrics = await startCliMetrics(opts.metrics);
  try {
    if (opts.read !== undefined) return await runFile(opts, metrics);
    if (opts.workers !== undefined) return await runWorkers(opts, metrics);
    return await runLive(opts, metrics);
  } finally {
    await metrics?.close();
  }
}

function tableOptions(opts: FlowsCliOptions): { maxFlows: number; activeTimeout: number; idleTimeout: number } {
  return { maxFlows: opts.maxFlows, activeTimeout: opts.active, idleTimeout: opts.idle };
}

async function runFile(opts: FlowsCliOptions, metrics: MetricsServer | null): Promise<FlowsSummary> {
  const plan = parseFilter(opts, 'file');
  const reader = openCaptureReader(opts.read!);
  let lastMs = 0;
  const out = new Outputs(opts, () => lastMs);
  const table = new FlowTable({ ...tableOptions(opts), onFull: out.consume });
  metrics?.addFlowSource(() => ({ tables: [table.stats()], exporters: out.exporters.map((e) => e.stats()), dropped: [], freezes: [] }));
  let stop = false;
  const onSig = (): void => { stop = true; };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  let nextScan = 0;
  let n = 0;
  try {
    for (const rec of reader) {
      if (plan.residual !== null && !plan.residual(rec)) continue;
      table.add(rec);
      const t = rec.sec * 1e9 + rec.nsec;
      if (t >= nextScan) {
        lastMs = t / 1e6;
        if (nextScan !== 0) { table.expire(t); table.flushRecords(); }
        nextScan = t + 1e9;
      }
      if ((++n & 0xffff) === 0) {
        await new Promise((r) => setImmediate(r));
        if (stop) break;
      }
    }
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
    reader.close();
  }
  table.flushAll();
  await out.close();
  return summary(opts.read!, [table.stats()], 0, 0, out);
}

async function runLive(opts: FlowsCliOptions, metrics: MetricsServer | null): Promise<FlowsSummary> {
  const plan = parseFilter(opts, 'kernel');
  if (plan.residual !== null) throw new UsageError('this filter needs user-space matching, which flows does not do live yet');
  const cap = openCapture({ iface: opts.interface!, filter: plan.kernel });
  const out = new Outputs(opts);
  const table = new FlowTable({ ...tableOptions(opts), onFull: out.consume });
  metrics?.addFlowSource(() => {
    const st = cap.stats();
    return { tables: [table.stats()], exporters: out.exporters.map((e) => e.stats()), dropped: [st.drops], freezes: [st.freezes], received: [table.packets + table.ignored] };
  });
  process.stderr.write(`metering flows on ${opts.interface}\n`);
  return new Promise<FlowsSummary>((resolve, reject) => {
    const scan = (): void => { table.expire(Date.now() * 1e6); table.flushRecords(); };
    const timer = setInterval(scan, 1000);
    stopOnce(() => {
      clearInterval(timer);
      cap.stop();
      const st = cap.stats();
      cap.close();
      table.flushAll();
      out.close().then(() => resolve(summary(opts.interface!, [table.stats()], st.drops, st.freezes, out)), reject);
    }, opts.seconds);
    cap.start((batch: Batch) => {
      table.addBatch(batch);
    });
  });
}

async function runWorkers(opts: FlowsCliOptions, metrics: MetricsServer | null): Promise<FlowsSummary> {
  const plan = parseFilter(opts, 'kernel');
  if (plan.residual !== null) throw new UsageError('this filter needs user-space matching, which flows --workers does not do');
  const out = new Outputs(opts);
  const last: FlowTableStats[] = [];
  const data: FlowWorkerData = { table: tableOptions(opts) };
  const g = await group<FlowWorkerData>({
    iface: opts.interface!, workers: opts.workers!, worker: new URL('../flow/worker.js', import.meta.url), data,
    capture: { filter: plan.kernel },
    onMessage: (m, i) => {
      const msg = m as FlowWorkerMessage;
      if (msg.t !== 'records') return;
      last[i] = msg.stats;
      out.consume(new RecordBuffer(0, msg.buffer, msg.count));
    },
  });
  const tableStats = (): FlowTableStats[] => g.stats().workers.map((w) => ({
    packets: w.user[0], active: w.user[1], records: w.user[2], evicted: w.user[3], ignored: w.user[4], created: w.user[5],
  }));
  metrics?.addFlowSource(() => {
    const st = g.stats();
    return {
      tables: tableStats(), exporters: out.exporters.map((e) => e.stats()),
      dropped: st.workers.map((w) => w.drops), freezes: st.workers.map((w) => w.freezes), received: st.workers.map((w) => w.packets),
    };
  });
  process.stderr.write(`metering flows on ${opts.interface} with ${opts.workers} workers (${g.stats().fanout})\n`);
  await new Promise<void>((resolve) => {
    const finish = (): void => {
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, finish);
      clearTimeout(limit);
      resolve();
    };
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, finish);
    const limit = opts.seconds !== undefined ? setTimeout(finish, opts.seconds * 1000) : undefined;
  });
  const r = await g.stop();
  const tables = r.results.map((x, i) => (x as FlowTableStats | undefined) ?? last[i] ?? { packets: 0, ignored: 0, created: 0, records: 0, evicted: 0, active: 0 });
  await out.close();
  const freezes = r.stats.workers.reduce((n, w) => n + w.freezes, 0);
  return summary(opts.interface!, tables, r.stats.drops, freezes, out);
}

function summary(source: string, tables: FlowTableStats[], dropped: number, freezes: number, out: Outputs): FlowsSummary {
  const sum = (k: keyof FlowTableStats): number => tables.reduce((n, t) => n + t[k], 0);
  return {
    source, packets: sum('packets'), ignored: sum('ignored'), flows: sum('created'), records: sum('records'), evicted: sum('evicted'),
    dropped, freezes, exporters: out.exporters.map((e) => e.stats()),
    ...(out.kafka ? { kafka: { ...out.kafka.stats } } : {}),
  };
}

function report(s: FlowsSummary, opts: FlowsCliOptions): void {
  const lines = [
    `${s.packets} packets metered, ${s.ignored} not IP (not metered)`,
    `${s.flows} flows, ${s.records} records, ${s.evicted} evicted (table full)`,
    `${s.dropped} packets dropped by kernel, ${s.freezes} queue freezes`,
    ...s.exporters.map((e) => `${e.format} to ${e.collector}: ${e.records} records in ${e.messages} messages, ${e.templates} template sends, ` +
      `${e.errors} send errors, ${e.dropped} messages dropped, ${e.socketErrors} socket errors${e.lastError ? ` (last error: ${e.lastError})` : ''}`),
    ...(s.kafka ? [`kafka ${s.kafka.brokers} topic ${s.kafka.topic}: ${s.kafka.sent} records sent, ${s.kafka.failures} failed attempts (retried), ` +
      `${s.kafka.dropped} records dropped${s.kafka.lastError ? ` (last error: ${s.kafka.lastError})` : ''}`] : []),
  ];
  process.stderr.write(lines.join('\n') + '\n');
  if (opts.json) process.stdout.write(JSON.stringify({ summary: true, ...s }) + '\n');
}
