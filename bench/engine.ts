/**
 * npm run bench:engine: netring's own per-packet cost, no kernel involved.
 *
 * TPACKET_V3 ring images full of 64-byte UDP frames from 1024 flows are
 * walked again and again (re-armed between passes) by the JS batch walker
 * (RingReader -> Batch -> the one reused PacketView): alone, with a 5-tuple
 * read + filter, and with the full decoder; the same loops in C
 * (bench/engine.c, gcc -O2) walk the very same bytes. Two image sizes: 2
 * blocks of 1 MiB (stays in the L2 cache: the pure per-packet cost) and 64
 * blocks of 1 MiB (the default live ring: memory bandwidth comes in). Prints
 * Mpps on one core (median of trials) and the proof that the walk allocates
 * nothing per packet: GC count and heap growth over a multi-million-packet
 * walk, in-process and from a `node --trace-gc` child.
 *
 * Environment: ENGINE_IMAGES="2 64" (blocks per image) ENGINE_BLOCK_SIZE=1048576
 *   ENGINE_PACKETS=10000000 (per trial) ENGINE_TRIALS=5 ENGINE_CC=gcc
 *   ENGINE_JSON=file (also write the results as JSON)
 *   ENGINE_WALKS="tuple+filter,decode+filter" (only these loops; C and the
 *   allocation proof still run for them) ENGINE_C=0 (skip the C loops)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { RingReader } from '../src/ring/index.js';
import { rearmImage } from '../test/helpers/ring-image.js';
import { buildEngineImage, type EngineImage } from './engine-image.js';
import { WALKS as ALL_WALKS, type PassResult, type Walk } from './engine-walks.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const env = (k: string, d: number): number => (process.env[k] !== undefined ? Number(process.env[k]) : d);
const BLOCK_SIZE = env('ENGINE_BLOCK_SIZE', 1 << 20);
const IMAGES = (process.env.ENGINE_IMAGES ?? '2 64').trim().split(/\s+/).map(Number);
const PACKETS = env('ENGINE_PACKETS', 10_000_000);
const TRIALS = env('ENGINE_TRIALS', 5);
const ONLY = process.env.ENGINE_WALKS?.split(',').map((s) => s.trim());
const WALKS = ONLY ? ALL_WALKS.filter(([n]) => ONLY.includes(n)) : ALL_WALKS;
const HERE = fileURLToPath(new URL('.', import.meta.url));
const SRC_DIR = join(HERE, '..', '..', 'bench'); // dist/bench -> bench

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

/** One pass over the whole image: re-arm every block, walk them all. */
function pass(img: EngineImage, reader: RingReader, walk: Walk, out: PassResult): void {
  rearmImage(img.buffer, img, img.blockCount);
  walk(reader, out);
}

interface Timing { name: string; mpps: number[]; packets: number; matches: number; sink: number }

function timeWalk(img: EngineImage, name: string, walk: Walk, passes: number): Timing {
  const reader = new RingReader(img.buffer, img);
  const out: PassResult = { packets: 0, matches: 0, sink: 0 };
  for (let i = 0; i < 3; i++) pass(img, reader, walk, out); // warm up the JIT
  if (out.packets !== img.packets) throw new Error(`${name}: walked ${out.packets} packets, image has ${img.packets}`);
  if (name.includes('filter') && out.matches !== img.matching) throw new Error(`${name}: ${out.matches} matches, expected ${img.matching}`);
  const mpps: number[] = [];
  for (let t = 0; t < TRIALS; t++) {
    const t0 = process.hrtime.bigint();
    for (let p = 0; p < passes; p++) pass(img, reader, walk, out);
    const ns = Number(process.hrtime.bigint() - t0);
    mpps.push((passes * img.packets) / ns * 1e3);
  }
  return { name, mpps, packets: out.packets, matches: out.matches, sink: out.sink >>> 0 };
}

interface HeapProof { name: string; packets: number; gcs: number; heapGrowth: number; bytesPerPacket: number; external: number }

/** Walk `passes` times with nothing else going on: count GCs and heap growth. */
async function heapProof(img: EngineImage, name: string, walk: Walk, passes: number): Promise<HeapProof> {
  const reader = new RingReader(img.buffer, img);
  const out: PassResult = { packets: 0, matches: 0, sink: 0 };
  pass(img, reader, walk, out);
  let gcs = 0;
  const obs = new PerformanceObserver((list) => { gcs += list.getEntries().length; });
  obs.observe({ entryTypes: ['gc'] });
  gc();
  await new Promise((r) => setTimeout(r, 20)); // the forced GC's entry arrives before we start counting
  gcs = 0;
  const m0 = process.memoryUsage();
  let n = 0;
  for (let p = 0; p < passes; p++) { pass(img, reader, walk, out); n += out.packets; }
  const m1 = process.memoryUsage();
  await new Promise((r) => setTimeout(r, 20)); // let the observer deliver
  obs.disconnect();
  const growth = m1.heapUsed - m0.heapUsed;
  return { name, packets: n, gcs, heapGrowth: growth, bytesPerPacket: growth / n, external: m1.external - m0.external };
}

/** Child mode (--gc-child): walk under --trace-gc between two markers. */
function gcChild(): void {
  const img = buildEngineImage(BLOCK_SIZE, IMAGES[IMAGES.length - 1]);
  const passes = Math.ceil(PACKETS / img.packets);
  for (const [name, walk] of WALKS) {
    const reader = new RingReader(img.buffer, img);
    const out: PassResult = { packets: 0, matches: 0, sink: 0 };
    pass(img, reader, walk, out);
    gc();
    process.stdout.write(`BEGIN ${name}\n`);
    let n = 0;
    for (let p = 0; p < passes; p++) { pass(img, reader, walk, out); n += out.packets; }
    process.stdout.write(`END ${name} ${n}\n`);
  }
}

/** Run ourselves under --trace-gc and count the GC lines printed during each walk. */
function traceGc(): Array<{ name: string; packets: number; gcLines: number }> {
  const r = spawnSync(process.execPath, ['--trace-gc', fileURLToPath(import.meta.url), '--gc-child'],
    { encoding: 'utf8', env: process.env, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`--trace-gc child failed: ${r.stderr}`);
  const res: Array<{ name: string; packets: number; gcLines: number }> = [];
  let cur: string | null = null;
  let lines = 0;
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('BEGIN ')) { cur = line.slice(6); lines = 0; continue; }
    if (line.startsWith('END ') && cur !== null) {
      res.push({ name: cur, packets: Number(line.split(' ').pop()), gcLines: lines });
      cur = null;
      continue;
    }
    if (cur !== null && /Scavenge|Mark-Compact|Mark-sweep|Minor/.test(line)) lines++;
  }
  return res;
}

interface CResult { name: string; ns: number[]; packets: number; matches: number; passSink: number }

function runC(img: EngineImage, passes: number): CResult[] | string {
  if (process.env.ENGINE_C === '0') return 'C loops skipped (ENGINE_C=0)';
  const cc = process.env.ENGINE_CC ?? 'gcc';
  const dir = mkdtempSync(join(tmpdir(), 'netring-engine-'));
  try {
    const bin = join(dir, 'engine');
    execFileSync(cc, ['-O2', '-Wall', '-o', bin, join(SRC_DIR, 'engine.c')], { stdio: ['ignore', 'ignore', 'inherit'] });
    const image = join(dir, 'image.bin');
    writeFileSync(image, new Uint8Array(img.buffer));
    const out = execFileSync(bin, [image, String(img.blockSize), String(img.blockCount), String(passes), String(TRIALS)], { encoding: 'utf8' });
    return out.trim().split('\n').map((l) => JSON.parse(l) as CResult);
  } catch (e) {
    return `C engine unavailable: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Benchmark one image size; returns the rows for the JSON output. */
function benchImage(blocks: number): Array<Record<string, unknown>> {
  const img = buildEngineImage(BLOCK_SIZE, blocks);
  const passes = Math.max(1, Math.ceil(PACKETS / img.packets));
  const perTrial = passes * img.packets;
  console.log(`\n### Image of ${img.blockCount} blocks x ${img.blockSize} bytes = ${(img.blockCount * img.blockSize / 2 ** 20).toFixed(0)} MiB\n`);
  console.log(`${img.packets} packets of 64 bytes (${img.packets / img.blockCount} per block), ${img.matching} match udp dport 5001; ` +
    `${passes} passes = ${(perTrial / 1e6).toFixed(1)} M packets per trial, ${TRIALS} trials\n`);
  const js = WALKS.map(([name, walk]) => timeWalk(img, name, walk, passes));
  const c = runC(img, passes);
  console.log('| loop | JS Mpps median [min–max] | C Mpps median [min–max] | JS / C | JS ns/pkt | C ns/pkt |');
  console.log('|---|---|---|---|---|---|');
  const rows: Array<Record<string, unknown>> = [];
  for (const t of js) {
    const m = median(t.mpps);
    const cr = typeof c === 'string' ? undefined : c.find((x) => x.name === t.name || `forEach ${x.name}` === t.name);
    const cmpps = cr ? cr.ns.map((ns) => (cr.packets / ns) * 1e3) : [];
    const cm = cr ? median(cmpps) : undefined;
    if (cr && t.name === cr.name && (cr.passSink >>> 0) !== t.sink)
      throw new Error(`${t.name}: JS read checksum ${t.sink} differs from C's ${cr.passSink}`);
    const range = (xs: number[]): string => `[${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}]`;
    console.log(`| ${t.name} | ${m.toFixed(1)} ${range(t.mpps)} | ${cm !== undefined ? `${cm.toFixed(1)} ${range(cmpps)}` : '–'} | ` +
      `${cm !== undefined ? (m / cm).toFixed(2) : '–'} | ${(1e3 / m).toFixed(2)} | ${cm !== undefined ? (1e3 / cm).toFixed(2) : '–'} |`);
    rows.push({ image: blocks, name: t.name, jsMpps: t.mpps, cMpps: cmpps });
  }
  if (typeof c === 'string') console.log(`\n(${c})`);
  else console.log('\nJS and C read the same bytes: the per-pass checksums of what they read are equal.');
  return rows;
}

async function main(): Promise<void> {
  if (process.argv.includes('--gc-child')) { gcChild(); return; }
  console.log(`# netring engine benchmark: node ${process.version}, ${cpus()[0]?.model ?? '?'} x ${cpus().length}`);
  const rows = IMAGES.flatMap((b) => benchImage(b));

  const img = buildEngineImage(BLOCK_SIZE, IMAGES[IMAGES.length - 1]);
  const passes = Math.max(1, Math.ceil(PACKETS / img.packets));
  console.log(`\n### No allocation per packet (image of ${img.blockCount} MiB, ${(passes * img.packets / 1e6).toFixed(1)} M packets per loop)\n`);
  console.log('| loop | packets | GCs during walk (PerformanceObserver) | heapUsed growth (bytes) | bytes/packet | `--trace-gc` lines during walk |');
  console.log('|---|---|---|---|---|---|');
  const traced = traceGc();
  const proofs: HeapProof[] = [];
  for (const [name, walk] of WALKS) {
    const h = await heapProof(img, name, walk, passes);
    proofs.push(h);
    const tr = traced.find((x) => x.name === name);
    console.log(`| ${name} | ${h.packets} | ${h.gcs} | ${h.heapGrowth} | ${h.bytesPerPacket.toFixed(4)} | ${tr ? tr.gcLines : '–'} |`);
  }
  const hs = v8.getHeapStatistics();
  console.log(`\nv8 heap after the runs: used ${hs.used_heap_size} of ${hs.total_heap_size} bytes, ` +
    `malloced ${hs.malloced_memory}, external ${hs.external_memory} (the ring images are ArrayBuffers outside the JS heap).`);
  const jsonOut = process.env.ENGINE_JSON;
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ packetsPerTrial: PACKETS, trials: TRIALS, rows, proofs, traced }, null, 2));
}

main().catch((e: unknown) => { console.error(e); process.exit(1); });
