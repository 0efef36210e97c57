/**
 * Micro-benchmark of `Layers.decode()` over an in-memory array of 64-byte
 * Ethernet/IPv4/UDP frames (many flows), one core, no kernel involved.
 *
 *   npx tsc -p . && node dist/bench/decode.js [frames=65536] [seconds=2]
 *
 * Prints Mpps for decode alone, decode + symmetric flow hash, and a mixed
 * corpus (VLAN, IPv6 + extension headers, TCP with options), plus the number
 * of garbage collections seen during the timed loops (0 = no per-packet
 * allocation).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { Layers, flowHashSymmetric } from '../src/decode/index.js';

const FRAME = 64;
const frames = Number(process.argv[2] ?? 65536);
const seconds = Number(process.argv[3] ?? 2);

function udpFrame(buf: Uint8Array, off: number, i: number): void {
  const f = buf.subarray(off, off + FRAME);
  f.fill(0);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00], 0);
  const ip = [0x45, 0, 0, 50, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, (i >> 8) & 255, i & 255, 10, 1, 0, 1];
  f.set(ip, 14);
  f.set([(i >> 8) & 255, i & 255, 0x13, 0x89, 0, 30, 0, 0], 34);
}

function mixedFrame(buf: Uint8Array, off: number, i: number): void {
  const f = buf.subarray(off, off + 128);
  f.fill(0);
  switch (i % 3) {
    case 0: // VLAN + IPv4 + TCP SYN with options
      f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0, 100, 0x08, 0x00], 0);
      f.set([0x45, 0, 0, 60, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, i & 255, 10, 1, 0, 1], 18);
      f.set([i >> 8, i & 255, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0xa0, 0x02, 0xff, 0xff, 0, 0, 0, 0,
        2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7], 38);
      break;
    case 1: // IPv6 + hop-by-hop + UDP
      f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd], 0);
      f.set([0x60, 0, 0, 0, 0, 24, 0, 64], 14);
      f[14 + 23] = i & 255;
      f[14 + 39] = 1;
      f.set([17, 0, 1, 4, 0, 0, 0, 0], 54);
      f.set([i >> 8, i & 255, 0, 53, 0, 16, 0, 0], 62);
      break;
    default: // QinQ + IPv4 + UDP
      f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20, 0x08, 0x00], 0);
      f.set([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 192, 168, 0, i & 255, 192, 168, 1, 1], 22);
      f.set([i >> 8, i & 255, 0, 53, 0, 8, 0, 0], 42);
  }
}

let gcs = 0;
const obs = new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
});
obs.observe({ entryTypes: ['gc'] });

function run(name: string, buf: Uint8Array, stride: number, caplen: number, hash: boolean): void {
  const l = new Layers();
  let sink = 0;
  // Warm up (lets the JIT optimise the loop).
  for (let r = 0; r < 20; r++) for (let i = 0; i < frames; i++) sink += l.decode(buf, i * stride, caplen, 1) + l.dstPort;
  const gcBefore = gcs;
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(seconds * 1e9));
  let n = 0;
  let now = t0;
  while (now < deadline) {
    if (hash) {
      for (let i = 0; i < frames; i++) {
        l.decode(buf, i * stride, caplen, 1);
        sink ^= flowHashSymmetric(l);
      }
    } else {
      for (let i = 0; i < frames; i++) sink += l.decode(buf, i * stride, caplen, 1) + l.dstPort;
    }
    n += frames;
    now = process.hrtime.bigint();
  }
  const ns = Number(now - t0);
  // Let pending GC entries arrive before reading the count.
  setImmediate(() => {
    const mpps = n / ns * 1e3;
    console.log(`${name.padEnd(34)} ${mpps.toFixed(1).padStart(6)} Mpps  ${(ns / n).toFixed(1).padStart(5)} ns/pkt  gcs=${gcs - gcBefore}  (sink ${sink & 1})`);
  });
}

const udp = new Uint8Array(frames * FRAME);
for (let i = 0; i < frames; i++) udpFrame(udp, i * FRAME, i);
const mixed = new Uint8Array(frames * 128);
for (let i = 0; i < frames; i++) mixedFrame(mixed, i * 128, i);

console.log(`node ${process.version}, ${frames} frames, ${seconds}s per case`);
const cases: [string, () => void][] = [
  ['decode 64B UDP', () => run('decode 64B UDP', udp, FRAME, FRAME, false)],
  ['decode + flowHashSymmetric 64B UDP', () => run('decode + flowHashSymmetric 64B UDP', udp, FRAME, FRAME, true)],
  ['decode mixed (VLAN/QinQ/TCP opts/IPv6 ext)', () => run('decode mixed (VLAN/QinQ/v6 ext)', mixed, 128, 128, false)],
];
let k = 0;
function next(): void {
  const c = cases[k++];
  if (c === undefined) {
    setTimeout(() => obs.disconnect(), 50);
    return;
  }
  c[1]();
  setTimeout(next, 20);
}
next();
