/**
 * Kernel filtering at work: trafgen blasts UDP frames (destination port
 * cycling 0..9) into a veth pair; a capture on the other end runs with no
 * filter, then with our compiled classic BPF for `udp dst port 1` (drops 90%
 * in the kernel). Reports what reached user space, ring drops and the
 * consumer's CPU time. Needs root and trafgen. Run: node dist/bench/lang-capture.js [packets]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCapture } from '../src/index.js';
import { compileFilter } from '../src/lang/filter.js';
import { sleep, withVeth } from '../test/helpers/lab.js';

const N = Number(process.argv[2] ?? 2_000_000);
const dir = mkdtempSync(join(tmpdir(), 'netring-lang-cap-'));
const cfg = join(dir, 'tg.cfg');
writeFileSync(cfg, '{ eth(da=02:00:00:00:00:02, sa=02:00:00:00:00:01), ipv4(saddr=10.0.0.1, daddr=10.0.0.2), udp(sp=1234, dp=dinc(0, 9)), fill(0x00, 18) }\n');

interface Result {
  label: string;
  received: number;
  drops: number;
  seconds: number;
  cpuMs: number;
}

async function once(label: string, filter: string | null): Promise<Result> {
  return withVeth(async ({ a, b }) => {
    const f = filter ? compileFilter(filter, { target: 'kernel' }) : null;
    const cap = openCapture({ iface: b, filter: f?.insns, blockSize: 1 << 20, blockCount: 64, blockTimeoutMs: 10 });
    let received = 0;
    let sum = 0;
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    const tg = spawn('trafgen', ['--dev', a, '--conf', cfg, '--num', String(N), '-q'], { stdio: 'ignore' });
    let done = false;
    tg.on('exit', () => {
      done = true;
    });
    let idleSince = 0;
    for (;;) {
      const batch = cap.tryBatch();
      if (batch === null) {
        if (done) {
          if (!idleSince) idleSince = Date.now();
          if (Date.now() - idleSince > 200) break;
        }
        await sleep(1);
        continue;
      }
      idleSince = 0;
      for (let p = batch.next(); p !== null; p = batch.next()) {
        received++;
        sum += p.data[p.offset + 37]; // touch the packet (UDP destination port, low byte)
      }
    }
    const seconds = (Date.now() - t0 - 200) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const st = cap.stats();
    cap.close();
    if (sum < 0) console.log(sum);
    return { label, received, drops: st.drops, seconds, cpuMs: (cpu.user + cpu.system) / 1000 };
  });
}

const results = [await once('no filter', null), await once('`udp dst port 1` (classic BPF, 90% dropped in the kernel)', 'udp dst port 1')];
rmSync(dir, { recursive: true, force: true });
console.log(`${N} UDP frames of 60 bytes from trafgen over a veth pair\n`);
console.log('| capture | delivered to user space | ring drops | consumer CPU (ms) | offered rate (Mpps) |');
console.log('|---|---|---|---|---|');
for (const r of results) console.log(`| ${r.label} | ${r.received} | ${r.drops} | ${r.cpuMs.toFixed(0)} | ${(N / r.seconds / 1e6).toFixed(2)} |`);
