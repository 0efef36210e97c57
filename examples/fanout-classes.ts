// examples/fanout-classes.ts: DNS flows to worker 3, the rest spread 1:1:2 over workers 0-2
import { group } from 'netring/fanout';
import { compileFilter } from 'netring/lang';

const dnsFilter = compileFilter('udp port 53').insns;   // offsets from the MAC header, ret #0 = no match
const g = await group({
  iface: process.argv[2] ?? 'eth0', workers: 4,
  worker: new URL('./count-dns.js', import.meta.url),
  fanout: { steering: { classes: [
    { name: 'dns', match: dnsFilter, steer: { kind: 'flow' }, members: [3] },
    { name: 'rest', steer: { kind: 'flow' }, members: [0, 1, 2], weights: [1, 1, 2] },
  ] } },
});
setTimeout(async () => console.log((await g.stop()).stats.workers.map((w) => w.packets)), 10_000);
