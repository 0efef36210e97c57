/**
 * `netring top -i IF [--workers N]`: a terminal view of the traffic, refreshed
 * every second: rates, kernel drops and freezes, top flows / talkers / ports /
 * protocols by bytes or packets. With --workers, each fan-out worker meters its
 * own flows and posts its heaviest rows once a second; the view merges them. Plain ANSI (alternate screen), sized to the terminal
 * (80x24 works); keys: b (sort by bytes), p (packets), q or Ctrl-C (quit).
 */
import type { Command } from 'commander';
import { openCapture } from '../ring/capture.js';
import { group } from '../fanout/group.js';
import type { BpfProgram } from '../bpf/index.js';
import type { TopWorkerData, TopWorkerMessage } from '../flow/top-worker.js';
import type { Batch } from '../ring/batch.js';
import { FlowTable } from '../flow/table.js';
import { mergeTopRows, renderTop, type TopRows, type TopSort } from '../flow/top.js';
import { intArg, numArg, UsageError } from './args.js';
import { packetFilter } from './filters.js';
import { stopOnce } from './stop.js';
import { interfaceNetmask } from './netmask.js';

interface TopOptions { interface?: string; filter?: string; idle: number; maxFlows: number; workers?: number; seconds?: number }

/** Register `top` on the program. */
export function registerTop(program: Command): void {
  program
    .command('top')
    .description('live terminal view of an interface: rates, drops, top flows, talkers, ports and protocols (q quits)')
    .option('-i, --interface <iface>', 'interface to watch')
    .option('-f, --filter <expr>', 'tcpdump filter expression (kernel)')
    .option('--idle <s>', 'forget flows idle this long', numArg('--idle', 0.001), 15)
    .option('--max-flows <n>', 'flows tracked at once', intArg('--max-flows', 1, 1 << 24), 65536)
    .option('--workers <n>', 'meter in N fan-out workers (one socket each, symmetric flow steering); the view merges them', intArg('--workers', 1, 64))
    .option('--seconds <n>', 'quit after n seconds', numArg('--seconds', 0))
    .action(async (opts: TopOptions) => { await runTop(opts); });
}

/** Where the view's numbers come from: one capture and table, or a fan-out group of metering workers. */
interface TopSource {
  /** Packets offered, their wire bytes, kernel drops and freezes, flows active and evicted, now. */
  counters(): { packets: number; bytes: number; drops: number; freezes: number; flows: number; evicted: number };
  /** The rows to draw (the table's, or the workers' latest, merged). */
  rows(): FlowTable | TopRows;
  stop(): Promise<void>;
}

function singleSource(opts: TopOptions, filter: BpfProgram | undefined): TopSource {
  const cap = openCapture({ iface: opts.interface!, filter });
  const table = new FlowTable({ maxFlows: opts.maxFlows, idleTimeout: opts.idle, activeTimeout: 1e9 });
  cap.start((batch: Batch) => { table.addBatch(batch); });
  return {
    counters: () => {
      const st = cap.stats();
      return { packets: table.packets + table.ignored, bytes: table.wireBytes, drops: st.drops, freezes: st.freezes, flows: table.active, evicted: table.evicted };
    },
    rows: () => { table.expire(Date.now() * 1e6); return table; },
    stop: async () => { cap.stop(); cap.close(); },
  };
}

async function workerSource(opts: TopOptions, filter: BpfProgram | undefined): Promise<TopSource> {
  const latest: TopRows[] = [];
  const data: TopWorkerData = { table: { maxFlows: opts.maxFlows, idleTimeout: opts.idle, activeTimeout: 1e9 } };
  const g = await group<TopWorkerData>({
    iface: opts.interface!, workers: opts.workers!, worker: new URL('../flow/top-worker.js', import.meta.url), data,
    capture: { filter },
    onMessage: (m, i) => { const msg = m as TopWorkerMessage; if (msg.t === 'top') latest[i] = msg.rows; },
  });
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  return {
    counters: () => {
      const st = g.stats();
      return {
        packets: sum(st.workers.map((w) => w.user[0])), bytes: sum(st.workers.map((w) => w.user[1])),
        drops: st.drops, freezes: sum(st.workers.map((w) => w.freezes)),
        flows: sum(st.workers.map((w) => w.user[2])), evicted: sum(st.workers.map((w) => w.user[3])),
      };
    },
    rows: () => mergeTopRows(latest.filter((r) => r !== undefined)),
    stop: async () => { await g.stop(); },
  };
}

async function runTop(opts: TopOptions): Promise<void> {
  if (opts.interface === undefined) throw new UsageError('top needs -i IFACE');
  const plan = packetFilter({ filter: opts.filter, netmask: interfaceNetmask(opts.interface!) }, 'kernel');
  if (plan.residual !== null) throw new UsageError('this filter needs user-space matching, which top does not do');
  const src = opts.workers !== undefined ? await workerSource(opts, plan.kernel) : singleSource(opts, plan.kernel);
  let sort: TopSort = 'bytes';
  const out = process.stdout;
  const tty = out.isTTY === true;
  if (tty) out.write('\x1b[?1049h\x1b[?25l');
  let lastT = performance.now();
  let last = src.counters();
  const draw = (): void => {
    const now = performance.now();
    const dt = (now - lastT) / 1000 || 1;
    const c = src.counters();
    const lines = renderTop({
      iface: opts.interface!, workers: opts.workers, pps: (c.packets - last.packets) / dt, bps: (c.bytes - last.bytes) / dt, drops: c.drops, freezes: c.freezes,
      flows: c.flows, evicted: c.evicted,
    }, src.rows(), sort, out.columns ?? 80, out.rows ?? 24);
    lastT = now; last = c;
    out.write(`${tty ? '\x1b[H\x1b[2J' : ''}${lines.join('\n')}\n`);
  };
  await new Promise<void>((resolve, reject) => {
    const finish = stopOnce(() => {
      clearInterval(timer);
      if (process.stdin.isTTY) { process.stdin.setRawMode(false); process.stdin.pause(); }
      src.stop().then(() => {
        if (tty) out.write('\x1b[?25h\x1b[?1049l');
        resolve();
      }, reject);
    }, opts.seconds);
    if (process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      process.stdin.resume();
      process.stdin.on('data', (d: Buffer) => {
        const k = d.toString();
        if (k === 'q' || k === '\x03') finish();
        else if (k === 'b' || k === 'p') { sort = k === 'b' ? 'bytes' : 'packets'; draw(); }
      });
    }
    const timer = setInterval(draw, 1000);
    draw();
  });
}
