/**
 * npm run bench:flows-engine: flow-table updates per second on one core, no
 * kernel involved. A TPACKET_V3 ring image (src/ring/image.ts, laid out as
 * the kernel does) full of 64-byte Ethernet/IPv4/UDP frames from F flows is
 * walked again and again by the batch walker, every packet metered by a
 * FlowTable (lookup, counters, timestamps; the table holds all F flows).
 * Two traffic mixes over the same F live flows: "uniform" (the image cycles
 * through all F flows in order, so every packet is a different flow: the
 * worst case for caches and the stated figure) and "zipf" (each packet's flow
 * drawn from a Zipf(1) law over the F flows, popular flows scattered over the
 * table: closer to real traffic, where a few flows carry most packets). The
 * table is filled with all F flows (two uniform passes) before either is timed.
 * A third mix, "shuffled" (not in the default list), is the uniform one in a
 * random order of the flows: every packet a different flow as in uniform, but
 * the flow blocks (made in the uniform fill's order) are read in random order,
 * as the Zipf tail reads them; beside uniform it shows what reading the
 * blocks in creation order is worth.
 * Prints Mpps (median and range of trials) for F = 10k, 100k and 1M, by
 * wall clock and by the process's CPU time (user + system, from
 * process.cpuUsage: on a shared machine the CPU-time rate is the fairer
 * per-core figure, the wall-clock one shows the contention).
 *
 * Environment: FLOWS_ENGINE_FLOWS="10000 100000 1000000" FLOWS_ENGINE_MIX="uniform zipf" (or any of uniform zipf shuffled) FLOWS_ENGINE_PACKETS=10000000 (per trial)
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
type Mix = 'uniform' | 'zipf' | 'shuffled';
const MIXES = (process.env.FLOWS_ENGINE_MIX ?? 'uniform zipf').trim().split(/\s+/).map((m): Mix => {
  if (m !== 'uniform' && m !== 'zipf' && m !== 'shuffled') throw new Error(`FLOWS_ENGINE_MIX: unknown mix ${m} (uniform, zipf, shuffled)`);
  return m;
});
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

/**
 * Flow index of packet n: uniform cycles through the flows; shuffled cycles
 * through them in a fixed random order (Fisher-Yates, deterministic); zipf
 * draws rank r with P ~ 1/r (deterministic), rank r -> flow r * P mod F.
 */
function flowPicker(flows: number, mix: Mix): (n: number) => number {
  if (mix === 'uniform') return (n) => n % flows;
  if (mix === 'shuffled') {
    const perm = new Int32Array(flows);
    for (let i = 0; i < flows; i++) perm[i] = i;
    let sd = 0x2545f491;
    for (let i = flows - 1; i > 0; i--) {
      sd = (Math.imul(sd, 1664525) + 1013904223) >>> 0;
      const j = Math.floor((sd / 2 ** 32) * (i + 1));
      const x = perm[i]; perm[i] = perm[j]; perm[j] = x;
    }
    return (n) => perm[n % flows];
  }
  const cdf = new Float64Array(flows);
  let sum = 0;
  for (let r = 0; r < flows; r++) { sum += 1 / (r + 1); cdf[r] = sum; }
  let seed = 0x2545f491;
  return () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const u = (seed / 2 ** 32) * sum;
    let lo = 0, hi = flows - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cdf[mid] < u) lo = mid + 1; else hi = mid; }
    return Number((BigInt(lo) * 1000003n) % BigInt(flows)); // 1000003 is prime: a permutation of the ranks
  };
}

function image(flows: number, mix: Mix = 'uniform'): { buffer: ArrayBuffer; blockSize: number; blockCount: number; packets: number } {
  const blocks = Math.max(64, Math.ceil(flows / PER_BLOCK));
  const total = blocks * PER_BLOCK;
  const bytes = new Uint8Array(64);
  const fr: ImageFrame = { bytes, sec: 1_700_000_000, nsec: 0 };
  function* frames(): Generator<ImageFrame> {
    const pick = flowPicker(flows, mix);
    for (let n = 0; n < total; n++) { frame(bytes, pick(n)); fr.nsec = n % 1e9; yield fr; }
  }
  const img = buildRingImage(frames(), { blockSize: BLOCK, blockCount: blocks });
  if (img.packets !== total) throw new Error(`image holds ${img.packets} packets, expected ${total}`);
  return { buffer: img.buffer, blockSize: BLOCK, blockCount: blocks, packets: total };
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };

function main(): void {
  console.log(`# flow-table engine benchmark: node ${process.version}, ${cpus()[0]?.model ?? '?'} x ${cpus().length}`);
  console.log('\n| active flows | mix | image | packets/trial | Mpps per CPU-second median [min–max] | CPU ns/pkt | wall-clock Mpps median | table flows | evicted |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  const rows: Array<Record<string, unknown>> = [];
  for (const flows of FLOWS) {
    const table = new FlowTable({ maxFlows: flows * 2, activeTimeout: 1e9, idleTimeout: 1e9 });
    const row: Record<string, unknown> = { flows };
    const passOver = (img: ReturnType<typeof image>, reader: RingReader): void => {
      rearmImage(img.buffer, img, img.blockCount);
      reader.cursor = 0;
      for (let b = reader.acquire(); b !== null; b = reader.acquire()) table.addBatch(b);
    };
    if (!MIXES.includes('uniform')) { // the flows are made in the uniform order whatever the mixes
      const u = image(flows);
      const r = new RingReader(u.buffer, u);
      passOver(u, r); passOver(u, r);
    }
    for (const mix of MIXES) {
      const img = image(flows, mix);
      const reader = new RingReader(img.buffer, img);
      const pass = (): void => passOver(img, reader);
      if (mix === 'uniform') for (let i = 0; i < 2; i++) pass(); // fill the table, warm the JIT
      else pass();
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
      console.log(`| ${flows} | ${mix} | ${img.blockCount} MiB | ${(passes * img.packets / 1e6).toFixed(1)} M | ${m.toFixed(1)} [${Math.min(...cpuMpps).toFixed(1)}–${Math.max(...cpuMpps).toFixed(1)}] | ` +
        `${(1e3 / m).toFixed(1)} | ${median(mpps).toFixed(1)} | ${table.active} | ${table.evicted} |`);
      if (mix === 'uniform') Object.assign(row, { mpps, cpuMpps, packetsPerTrial: passes * img.packets });
      else Object.assign(row, { [`${mix}Mpps`]: mpps, [`${mix}CpuMpps`]: cpuMpps, [`${mix}PacketsPerTrial`]: passes * img.packets });
    }
    row.evicted = table.evicted;
    rows.push(row);
  }
  if (process.env.FLOWS_ENGINE_JSON) writeFileSync(process.env.FLOWS_ENGINE_JSON, JSON.stringify({ trials: TRIALS, rows }, null, 2));
}

main();
