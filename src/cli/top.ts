/**
 * `netring top -i IF`: a terminal view of the traffic, refreshed every second:
 * rates, kernel drops and freezes, top flows / talkers / ports / protocols by
 * bytes or packets. Plain ANSI (alternate screen), sized to the terminal
 * (80x24 works); keys: b (sort by bytes), p (packets), q or Ctrl-C (quit).
 */
import type { Command } from 'commander';
import { openCapture } from '../ring/capture.js';
import type { Batch } from '../ring/batch.js';
import { FlowTable } from '../flow/table.js';
import { renderTop, type TopSort } from '../flow/top.js';
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
    .option('--workers <n>', 'not supported yet by top (use netring flows --workers)', intArg('--workers', 1, 64))
    .option('--seconds <n>', 'quit after n seconds', numArg('--seconds', 0))
    .action(async (opts: TopOptions) => { await runTop(opts); });
}

async function runTop(opts: TopOptions): Promise<void> {
  if (opts.interface === undefined) throw new UsageError('top needs -i IFACE');
  if (opts.workers !== undefined) throw new UsageError('top --workers is not implemented yet; run top without --workers');
  const plan = packetFilter({ filter: opts.filter, netmask: interfaceNetmask(opts.interface!) }, 'kernel');
  if (plan.residual !== null) throw new UsageError('this filter needs user-space matching, which top does not do');
  const cap = openCapture({ iface: opts.interface, filter: plan.kernel });
  const table = new FlowTable({ maxFlows: opts.maxFlows, idleTimeout: opts.idle, activeTimeout: 1e9 });
  let sort: TopSort = 'bytes';
  const out = process.stdout;
  const tty = out.isTTY === true;
  if (tty) out.write('\x1b[?1049h\x1b[?25l');
  let lastT = performance.now();
  let lastP = 0;
  let lastB = 0;
  const draw = (): void => {
    const now = performance.now();
    const dt = (now - lastT) / 1000 || 1;
    const pk = table.packets + table.ignored;
    const st = cap.stats();
    table.expire(Date.now() * 1e6);
    const lines = renderTop({
      iface: opts.interface!, pps: (pk - lastP) / dt, bps: (table.wireBytes - lastB) / dt, drops: st.drops, freezes: st.freezes,
      flows: table.active, evicted: table.evicted,
    }, table, sort, out.columns ?? 80, out.rows ?? 24);
    lastT = now; lastP = pk; lastB = table.wireBytes;
    out.write(`${tty ? '\x1b[H\x1b[2J' : ''}${lines.join('\n')}\n`);
  };
  await new Promise<void>((resolve) => {
    const finish = stopOnce(() => {
      clearInterval(timer);
      if (process.stdin.isTTY) { process.stdin.setRawMode(false); process.stdin.pause(); }
      cap.stop();
      cap.close();
      if (tty) out.write('\x1b[?25h\x1b[?1049l');
      resolve();
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
    cap.start((batch: Batch) => {
      table.addBatch(batch);
    });
    draw();
  });
}
