/**
 * Benchmark receiver: a worker group counting packets.
 *   node dist/bench/fanout-rx.js IFACE WORKERS FANOUT|JSON [CPUS|none] [touch|-] [WORK]
 * Prints READY on stderr once every worker joined; on SIGINT/SIGTERM it stops
 * (drains), then prints
 *   RESULT packets=N kernel_packets=N kernel_drops=N per_worker=a,b,...
 * on stdout (the peerbench receiver contract).
 */
import { group } from '../src/fanout/group.js';

const [iface, workersArg, fanout = 'hash', cpusArg = 'none', touch = '', workArg = '0'] = process.argv.slice(2);
if (!iface || !workersArg) {
  process.stderr.write('usage: fanout-rx IFACE WORKERS FANOUT [CPUS|none] [touch|-] [WORK]\n');
  process.exit(2);
}
const fan = fanout.startsWith('{') ? JSON.parse(fanout) : fanout; // a JSON GroupFanout, e.g. weights
const cpus = cpusArg === 'none' ? undefined : cpusArg.split(',').map(Number);
const g = await group({
  iface, workers: Number(workersArg), fanout: fan, cpus, worker: new URL('./fanout-count-worker.js', import.meta.url),
  data: { touch: touch === 'touch', work: Number(workArg) },
  capture: { blockSize: 1 << 20, blockCount: 64, blockTimeoutMs: 10, snaplen: 128 },
  onCrash: (c) => process.stderr.write(`worker ${c.index} crashed: ${c.error?.message ?? 'terminated'}\n`),
});
process.stderr.write(`READY group ${g.id} ${g.plan.describe}\n`);
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  const r = await g.stop();
  const s = r.stats;
  process.stdout.write(`RESULT packets=${s.packets} kernel_packets=${s.kernelPackets} kernel_drops=${s.drops} per_worker=${s.workers.map((w) => w.packets).join(',')}\n`);
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
