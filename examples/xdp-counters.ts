// examples/xdp-counters.ts: a combinator program as an XDP program, its counters read live from the maps (as root: node xdp-counters.js IFACE)
import { generateProgram, loadHookProgram } from 'netring/lang';
const iface = process.argv[2] ?? 'eth0';
const code = generateProgram('udp >-> count udp >-> count_by src >-> when "dst port 9" drop', { hook: 'xdp' });
const prog = loadHookProgram(code); // maps created, program verified and loaded
prog.attach(iface);                 // through a BPF link: detached when this process ends, however it ends
const timer = setInterval(() => {
  const s = prog.counters();        // the program keeps running
  for (const c of s.counters) console.log(c.name, c.packets, 'packets', c.bytes, 'bytes');
  for (const e of s.keyed[0].entries.slice(0, 5)) console.log('  from', e.key, e.packets, e.bytes);
}, 1000);
process.once('SIGINT', () => { clearInterval(timer); prog.close(); });
