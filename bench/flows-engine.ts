/**
 * npm run bench:flows-engine: flow-table updates per second on one core, no
 * kernel involved. A TPACKET_V3 ring image (src/ring/image.ts, laid out as
 * the kernel does) full of 64-byte Ethernet/IPv4/UDP frames from F flows is
 * walked again and again by the batch walker, every packet metered by a
 * FlowTable (lookup, counters, timestamps; the table holds all F flows).
 * Prints Mpps (median and range of trials) for F = 10k, 100k and 1M, by
 * wall clock and by the process's CPU time (user + system, from
 * process.cpuUsage: on a shared machine the CPU-time rate is the fairer
 * per-core figure, the wall-clock one shows the contention).
 *
 * Environment: FLOWS_ENGINE_FLOWS="10000 100000 1000000" FLOWS_ENGINE_PACKETS=10000000 (per trial)
 *   FLOWS_ENGINE_TRIALS=5 FLOWS_ENGINE_JSON=file (also write the results as JSON)
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { RingReader } from '../src/ring/index.js';
import { buildRingImage, rearmImage, type ImageFrame } from '../test/helpers/ring-image.js';
import { FlowTable } from '../src/flow/index.js';

const env = (k: string, d: number): number => (process.env[k] !== undefined ? Number(process.env[k]) : d);
const FLOWS = (process.env.FLOWS_ENGINE_FLOWS ?? '10000 100000 1000000').trim().split(/\s+/).map(Number);
const PACKETS = env('FLOWS_ENGINE_PACKETS', 10_000_000);
const TRIALS = env('FLOWS_ENGINE_TRIALS', 5);
const BLOCK = 1 << 20;
const PER_BLOCK = 6553; // 64-byte frames per 1 MiB block (as the kernel packs them)

function frame(f: Uint8Array, i: number): void {
  f.fill(0);
  f.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00], 0);
  f.set([0x45, 0, 0, 50, 0, 0, 0x40, 0, 64, 17, 0, 0], 14);
  const s = 0x0a000000 + (i >>> 6);
  f.set([s >>> 24, (s >>> 16) & 255, (s >>> 8) & 255, s & 255, 10, 99, 1, 1], 26);
  const sport = 10000 + (i & 63);
  f.set([sport >> 8, sport & 255, 0x13, 0x89, 0, 30, 0, 0], 34);
}

function image(flows: number): { buffer: ArrayBuffer; blockSize: number; blockCount: number; packets: number } {
  const blocks = Math.max(64, Math.ceil(flows / PER_BLOCK));
  const total = blocks * PER_BLOCK;
  const bytes = new Uint8Array(64);
  const fr: ImageFrame = { bytes, sec: 1_700_000_000, nsec: 0 };
  function* frames(): Generator<ImageFrame> {
    for (let n = 0; n < total; n++) { frame(bytes, n % flows); fr.nsec = n % 1e9; yield fr; }
  }
  const img = buildRingImage(frames(), { blockSize: BLOCK, blockCount: blocks });
  if (img.packets !== total) throw new Error(`image holds ${img.packets} packets, expected ${total}`);
  return { buffer: img.buffer, blockSize: BLOCK, blockCount: blocks, packets: total };
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };

function main(): void {
  console.log(`# flow-table engine benchmark: node ${process.version}, ${cpus()[0]?.model ?? '?'} x ${cpus().length}`);
  console.log('\n| active flows | image | packets/trial | Mpps per CPU-second median [min–max] | CPU ns/pkt | wall-clock Mpps median | table flows | evicted |');
  console.log('|---|---|---|---|---|---|---|---|');
  const rows: Array<Record<string, unknown>> = [];
  for (const flows of FLOWS) {
    const img = image(flows);
    const reader = new RingReader(img.buffer, img);
    const table = new FlowTable({ maxFlows: flows * 2, activeTimeout: 1e9, idleTimeout: 1e9 });
    const pass = (): void => {
      rearmImage(img.buffer, img, img.blockCount);
      reader.cursor = 0;
      for (let b = reader.acquire(); b !== null; b = reader.acquire())
        table.addBatch(b);
    };
    for (let i = 0; i < 2; i++) pass(); // fill the table, warm the JIT
    if (table.active !== flows) throw new Error(`table holds ${table.active} flows, expected ${flows}`);
    const passes = Math.max(1, Math.ceil(PACKETS / img.packets));
    const mpps: number[] = [];
    const cpuMpps: number[] = [];
    for (let t = 0; t < TRIALS; t++) {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (let p = 0; p < passes; p++) pass();
      const ns = Number(process.hrtime.bigint() - t0);
      const c = process.cpuUsage(c0);
      mpps.push((passes * img.packets) / ns * 1e3);
      cpuMpps.push((passes * img.packets) / (c.user + c.system));
    }
    const m = median(cpuMpps);
    console.log(`| ${flows} | ${img.blockCount} MiB | ${(passes * img.packets / 1e6).toFixed(1)} M | ${m.toFixed(1)} [${Math.min(...cpuMpps).toFixed(1)}–${Math.max(...cpuMpps).toFixed(1)}] | ` +
      `${(1e3 / m).toFixed(1)} | ${median(mpps).toFixed(1)} | ${table.active} | ${table.evicted} |`);
    rows.push({ flows, mpps, cpuMpps, packetsPerTrial: passes * img.packets, evicted: table.evicted });
  }
  if (process.env.FLOWS_ENGINE_JSON) writeFileSync(process.env.FLOWS_ENGINE_JSON, JSON.stringify({ trials: TRIALS, rows }, null, 2));
}

main();
