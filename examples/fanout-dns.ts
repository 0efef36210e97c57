// examples/fanout-dns.ts: four workers share eth0 (flow steering) and count DNS packets until Ctrl-C
import { group } from 'netring/fanout';
const g = await group({
  iface: process.argv[2] ?? 'eth0', workers: 4, fanout: 'flow',   // symmetric 5-tuple steering
  worker: new URL('./count-dns.js', import.meta.url),
  cpus: 'auto',                                   // pin worker i to the i-th allowed CPU
  onCrash: (c) => console.error(`worker ${c.index} died: ${c.error?.message ?? 'killed'}`),
});
const t = setInterval(() => { const s = g.stats(); console.log(s.packets, s.workers.map((w) => w.user[0])); }, 1000);
process.once('SIGINT', async () => {
  clearInterval(t);
  const { reduced } = await g.stop({ reduce: (acc: number, r: { dns: number }) => acc + r.dns, initial: 0 });
  console.log('DNS packets:', reduced);
});
