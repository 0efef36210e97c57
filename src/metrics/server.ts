/**
 * `--metrics [ADDR:]PORT`: a Prometheus endpoint (GET /metrics) built with
 * prom-client. Values are read from their sources at scrape time (shared
 * counters of the ring, the workers, the flow tables, the exporters), so
 * nothing is counted twice and the hot path is untouched.
 *
 * Names follow the Prometheus conventions: `netring_` prefix, `_total` on
 * counters, base units, a `worker` label per fan-out worker.
 */
import * as http from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { FlowTableStats } from '../flow/table.js';
import type { ExporterStats } from '../export/collector.js';

/** Packet counters of a capture or generator, one entry per worker (index = worker). */
export interface PacketSource {
  received?: number[];
  dropped?: number[];
  freezes?: number[];
  /** Packets sent (generators). */
  sent?: number[];
  /** Bytes sent (generators). */
  sentBytes?: number[];
  /** Packets the kernel refused to send (generators). */
  sendFailed?: number[];
}

/** Flow metering counters: packet counters plus one table per worker and the exporters. */
export interface FlowSource extends PacketSource {
  tables: FlowTableStats[];
  exporters: ExporterStats[];
}

/** Counters of one XDP/tc program, read from its maps (names as the program gives them). */
export interface HookSource {
  /** Interface the program is attached to. */
  interface: string;
  /** Named counters (count NAME, the filter's passed/dropped, forward's NAME). */
  counters: Array<{ name: string; packets: bigint; bytes: bigint }>;
  /** Per-key counters (count_by KEY): one entry per key value seen. */
  keyed: Array<{ key: string; entries: Array<{ key: string; packets: bigint; bytes: bigint }> }>;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The address it listens on ("host:port"). */
  readonly address: string;
  readonly registry: Registry;
  /** Read packet counters from `fn` at each scrape. */
  addPacketSource(fn: () => PacketSource): void;
  /** Read flow counters from `fn` at each scrape. */
  addFlowSource(fn: () => FlowSource): void;
  /** Read the counter maps of XDP/tc programs from `fn` at each scrape. */
  addHookSource(fn: () => HookSource[]): void;
  close(): Promise<void>;
}

/** Parse "[ADDR:]PORT" ("9100", "127.0.0.1:9100", "[::1]:9100"). */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]:|([^:[\]]+):)?(\d+)$/.exec(s.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port > 65535) throw new Error(`--metrics wants [ADDR:]PORT, e.g. 9100 or 127.0.0.1:9100 (got "${s}")`);
  return { host: m[1] ?? m[2] ?? '0.0.0.0', port };
}

type Labels = Record<string, string>;

/** Start the endpoint. Rejects with a one-line message when the port is taken. */
export async function startMetrics(listen: string): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  const registry = new Registry();
  // no prom-client default metrics: three of them (nodejs_active_*_total gauges) fail `promtool check metrics`
  const packetSources: Array<() => PacketSource> = [];
  const flowSources: Array<() => FlowSource> = [];
  const hookSources: Array<() => HookSource[]> = [];

  const perWorker = (name: string, help: string, kind: 'counter' | 'gauge', pick: (s: PacketSource) => number[] | undefined): void => {
    const collect = function (this: Counter | Gauge): void {
      this.reset();
      for (const s of [...packetSources.map((f) => f()), ...flowSources.map((f) => f())]) {
        const v = pick(s);
        if (v === undefined) continue;
        v.forEach((x, i) => (this as Gauge).set ? (this as Gauge).set({ worker: String(i) }, x) : (this as Counter).inc({ worker: String(i) }, x));
      }
    };
    if (kind === 'counter') new Counter({ name, help, labelNames: ['worker'], registers: [registry], collect });
    else new Gauge({ name, help, labelNames: ['worker'], registers: [registry], collect });
  };
  perWorker('netring_packets_received_total', 'Packets that reached netring from the ring (after the kernel filter).', 'counter', (s) => s.received);
  perWorker('netring_packets_dropped_total', 'Packets the kernel dropped because the ring was full.', 'counter', (s) => s.dropped);
  perWorker('netring_ring_freezes_total', 'Times the kernel froze the ring queue for lack of a free block.', 'counter', (s) => s.freezes);
  perWorker('netring_packets_sent_total', 'Packets sent by the generator.', 'counter', (s) => s.sent);
  perWorker('netring_sent_bytes_total', 'Bytes sent by the generator.', 'counter', (s) => s.sentBytes);
  perWorker('netring_packets_send_failed_total', 'Packets the kernel refused to send (generator).', 'counter', (s) => s.sendFailed);
  const flows = (k: keyof FlowTableStats) => (s: PacketSource): number[] | undefined => (s as FlowSource).tables?.map((t) => t[k]);
  perWorker('netring_flow_packets_total', 'Packets metered into flows.', 'counter', flows('packets'));
  perWorker('netring_flow_packets_ignored_total', 'Packets not metered (not IP, or too short).', 'counter', flows('ignored'));
  perWorker('netring_flows_active', 'Flows in the flow table now.', 'gauge', flows('active'));
  perWorker('netring_flows_exported_total', 'Flow records finished (idle, active timeout, TCP end, eviction, shutdown).', 'counter', flows('records'));
  perWorker('netring_flows_evicted_total', 'Flows evicted because the flow table was full.', 'counter', flows('evicted'));

  const perExporter = (name: string, help: string, pick: (e: ExporterStats) => number): void => {
    new Counter({
      name, help, labelNames: ['format', 'collector'], registers: [registry],
      collect(this: Counter) {
        this.reset();
        for (const s of flowSources.map((f) => f())) {
          for (const e of s.exporters) { const l: Labels = { format: e.format, collector: e.collector }; this.inc(l, pick(e)); }
        }
      },
    });
  };
  perExporter('netring_export_records_total', 'Flow records encoded for a collector.', (e) => e.records);
  perExporter('netring_export_messages_total', 'Export messages handed to the kernel.', (e) => e.messages);
  perExporter('netring_export_bytes_total', 'Export bytes handed to the kernel.', (e) => e.bytes);
  perExporter('netring_export_errors_total', 'Export messages whose send failed.', (e) => e.errors);
  perExporter('netring_export_socket_errors_total', 'Errors reported on the export socket outside a send (UDP: collector port unreachable; TCP: connection failed or broken).', (e) => e.socketErrors);
  perExporter('netring_export_dropped_total', 'Export messages dropped without being sent (queue full, shutdown).', (e) => e.dropped);

  // XDP/tc programs: one sample per counter (label counter) and per key of a count_by map (labels by, key)
  const perHook = (name: string, help: string, labelNames: string[], pick: (h: HookSource, add: (l: Labels, v: bigint) => void) => void): void => {
    new Counter({
      name, help, labelNames, registers: [registry],
      collect(this: Counter) {
        this.reset();
        for (const h of hookSources.flatMap((f) => f())) pick(h, (l, v) => this.inc({ interface: h.interface, ...l }, Number(v)));
      },
    });
  };
  perHook('netring_xdp_packets_total', 'Packets counted by a named counter of an XDP/tc program.', ['interface', 'counter'],
    (h, add) => { for (const c of h.counters) add({ counter: c.name }, c.packets); });
  perHook('netring_xdp_bytes_total', 'Bytes counted by a named counter of an XDP/tc program.', ['interface', 'counter'],
    (h, add) => { for (const c of h.counters) add({ counter: c.name }, c.bytes); });
  perHook('netring_xdp_keyed_packets_total', 'Packets per key value of a count_by map of an XDP/tc program.', ['interface', 'by', 'key'],
    (h, add) => { for (const k of h.keyed) for (const e of k.entries) add({ by: k.key, key: e.key }, e.packets); });
  perHook('netring_xdp_keyed_bytes_total', 'Bytes per key value of a count_by map of an XDP/tc program.', ['interface', 'by', 'key'],
    (h, add) => { for (const k of h.keyed) for (const e of k.entries) add({ by: k.key, key: e.key }, e.bytes); });

  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics' && req.url !== '/') { res.writeHead(404).end('not found: try /metrics\n'); return; }
    registry.metrics().then((body) => {
      res.writeHead(200, { 'Content-Type': registry.contentType });
      res.end(body);
    }, (e: Error) => { res.writeHead(500).end(`${e.message}\n`); });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(new Error(e.code === 'EADDRINUSE' ? `--metrics: ${host}:${port} is already in use` :
        e.code === 'EADDRNOTAVAIL' ? `--metrics: cannot listen on ${host} (no such local address)` : `--metrics: ${e.message}`));
    });
    server.listen(port, host, () => resolve());
  });
  server.unref();
  const a = server.address();
  const address = typeof a === 'object' && a !== null ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : String(a);
  return {
    address, registry,
    addPacketSource(fn) { packetSources.push(fn); },
    addFlowSource(fn) { flowSources.push(fn); },
    addHookSource(fn) { hookSources.push(fn); },
    close: () => new Promise<void>((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}
