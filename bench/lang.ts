/**
 * Packet-language throughput on one core: the generated JavaScript vs the
 * same classic BPF run by a JS interpreter, over an in-memory batch of
 * 64-byte frames walked with one reused packet view (as a ring batch is).
 * Programs: a simple filter, a 10-clause filter, a steering program
 * (symmetric flow hash modulo 8, returned as the verdict), and a combinator
 * pipeline with counters. Then the compile time and peak RSS of
 * `port 1 or ... port N` for N = 100, 1,000 and 10,000 (each size in its own
 * process, see lang-huge.ts). Run: node dist/bench/lang.js [packets]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compileFilter } from '../src/lang/filter.js';
import { compileProgram, type PipelineResult } from '../src/lang/pfq/compile.js';
import { runBpf } from '../src/bpf/index.js';
import { genCbpf } from '../src/lang/cbpf/codegen.js';
import { genJs, instantiate } from '../src/lang/js/codegen.js';
import { buildDag, optimize, ret } from '../src/lang/ir/dag.js';
import { and, or, test } from '../src/lang/ir/pred.js';
import { Values } from '../src/lang/ir/value.js';
import type { BpfInsn as Insn } from '../src/bpf/index.js';
import type { PacketLike } from '../src/packet-like.js';
import { Rng } from '../src/util/random.js';

const N = Number(process.argv[2] ?? 1 << 20);
const SIZE = 64;
const buf = new Uint8Array(N * SIZE);
const rng = new Rng(12345);
const rnd = (): number => rng.u32() >>> 16;
for (let i = 0; i < N; i++) {
  const o = i * SIZE;
  buf.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00], o);
  const udp = rnd() % 3 !== 0;
  buf.set([0x45, 0, 0, 50, 0, 1, 0, 0, 64, udp ? 17 : 6, 0, 0, 10, 0, rnd() & 3, rnd() & 255, 192, 168, rnd() & 7, rnd() & 255], o + 14);
  const sport = 1024 + (rnd() % 60000);
  const dport = [53, 80, 443, 8080, 1234, 5353][rnd() % 6];
  buf.set([sport >> 8, sport & 255, dport >> 8, dport & 255], o + 34);
  if (!udp) buf[o + 47] = [0x02, 0x10, 0x12, 0x18][rnd() & 3];
}

/** One reused, mutable packet view over the batch (like a ring batch's view). */
const view = { data: buf, offset: 0, caplen: SIZE, wireLen: SIZE, sec: 0, nsec: 0, vlanValid: false, vlanTci: 0, vlanTpid: 0, ifindex: 0, pktType: 0, linkType: 1 };
const p = view as PacketLike;

function timeIt(_name: string, fn: () => number): { mpps: number; sum: number } {
  fn(); // warm up
  const rounds = 3;
  let best = Infinity;
  let sum = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    sum = fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    best = Math.min(best, dt);
  }
  const mpps = N / best / 1e6;
  return { mpps, sum };
}

function runJs(f: (p: PacketLike) => number): () => number {
  return () => {
    let acc = 0;
    for (let i = 0; i < N; i++) {
      view.offset = i * SIZE;
      acc += f(p) !== 0 ? 1 : 0;
    }
    return acc;
  };
}
function runInterp(prog: Insn[]): () => number {
  return () => {
    let acc = 0;
    for (let i = 0; i < N; i++) acc += runBpf(prog, buf, i * SIZE, SIZE, SIZE) !== 0 ? 1 : 0;
    return acc;
  };
}

const rows: string[] = [];
function compare(name: string, insns: Insn[], js: (p: PacketLike) => number): void {
  const a = timeIt(`${name} js`, runJs(js));
  const b = timeIt(`${name} interp`, runInterp(insns));
  if (a.sum !== b.sum) throw new Error(`${name}: JS and interpreter disagree (${a.sum} vs ${b.sum})`);
  rows.push(`| ${name} | ${insns.length} | ${a.mpps.toFixed(1)} | ${b.mpps.toFixed(1)} | ${(a.mpps / b.mpps).toFixed(1)}x | ${((100 * a.sum) / N).toFixed(0)}% |`);
}

const simple = compileFilter('udp port 53');
compare('simple: `udp port 53`', simple.insns, simple.match);
const ten = compileFilter(
  'tcp port 80 or tcp port 443 or udp port 53 or host 10.0.0.1 or net 192.168.7.0/24 or icmp or vlan 10 or tcp[13] & 2 != 0 or port 8080 or ip6',
);
compare('10 clauses', ten.insns, ten.match);

// Steering: symmetric flow hash of TCP/UDP over IPv4, modulo 8 (returned value = socket index + 1).
const V = new Values();
const ip = test(V, V.ld(2, null, 12), 'jeq', 0x800);
const l4 = or(test(V, V.ld(1, null, 23), 'jeq', 6), test(V, V.ld(1, null, 23), 'jeq', 17));
const hl = V.msh(null, 14);
const addrs = V.alu('add', V.ld(4, null, 26), V.ld(4, null, 30));
const ports = V.alu('add', V.ld(2, hl, 14), V.ld(2, hl, 16));
const mix = V.alu('mul', V.alu('xor', addrs, ports), V.k(0x9e3779b1));
const hash = V.alu('add', V.alu('mod', V.alu('xor', mix, V.alu('rsh', mix, V.k(16))), V.k(8)), V.k(1));
const steerDag = optimize(buildDag(and(ip, l4), ret(0, hash), ret(1)));
const steerInsns = genCbpf(steerDag, { target: 'kernel' });
const steerJs = instantiate(genJs(steerDag));
{
  const a = timeIt('steer js', () => {
    let acc = 0;
    for (let i = 0; i < N; i++) {
      view.offset = i * SIZE;
      acc += steerJs(p);
    }
    return acc;
  });
  const b = timeIt('steer interp', () => {
    let acc = 0;
    for (let i = 0; i < N; i++) acc += runBpf(steerInsns, buf, i * SIZE, SIZE, SIZE);
    return acc;
  });
  if (a.sum !== b.sum) throw new Error('steering: JS and interpreter disagree');
  rows.push(`| steering: flow hash % 8 | ${steerInsns.length} | ${a.mpps.toFixed(1)} | ${b.mpps.toFixed(1)} | ${(a.mpps / b.mpps).toFixed(1)}x | - |`);
}

// A combinator pipeline run entirely in JS (counters, marks).
const prog = compileProgram('ip >-> when is_udp (inc udp) >-> when (has_port 53) (inc dns) >-> conditional (tcp_flags == 2) (mark 1) (mark 0)');
const r: PipelineResult = { verdict: 0, mark: 0, cls: 0, log: 0 };
const pipeRun = timeIt('pipeline', () => {
  let acc = 0;
  for (let i = 0; i < N; i++) {
    view.offset = i * SIZE;
    acc += prog.full.run(p, r);
  }
  return acc;
});

console.log(`${N} frames of ${SIZE} bytes, one reused view, best of 3 runs, one core (node ${process.version})\n`);
console.log('| program | BPF insns | generated JS (Mpps) | BPF interpreter (Mpps) | speed-up | matched |');
console.log('|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
console.log(`\ncombinator pipeline (4 stages, 2 counters, marks), all in JS: ${pipeRun.mpps.toFixed(1)} Mpps`);

// Huge filters: compile time and peak RSS per size, one process each.
console.log('\n| `port 1 or ... port N` | expression | compile (ms) | peak RSS (MB) | placed as |');
console.log('|---|---|---|---|---|');
for (const terms of [100, 1000, 10000]) {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('./lang-huge.js', import.meta.url)), String(terms)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`lang-huge ${terms}: ${r.stderr.trim()}`);
  const j = JSON.parse(r.stdout) as { terms: number; chars: number; ms: number; peakRssMB: number; result: string };
  console.log(`| ${j.terms.toLocaleString('en')} terms | ${(j.chars / 1024).toFixed(0)} KB | ${j.ms} | ${j.peakRssMB} | ${j.result} |`);
}
