/**
 * rx-netring: the netring receiver of bench/capture.sh, written against the
 * public capture API (openCapture + batches + the reused PacketView).
 *
 *   node dist/bench/rx-netring.js IFACE [count|touch|pcapng] [--form callback|iter] [--out FILE] [--backend packet|xdp]
 *                                 [--rx-ring N] [--fill-ring N]
 *
 * --backend xdp receives through AF_XDP (queue 0, copy mode, the XDP program
 * redirecting every frame) instead of the TPACKET_V3 ring; --rx-ring and
 * --fill-ring set its ring sizes (default: the library's), and the raw
 * XDP_STATISTICS counters are printed on stderr at the end.
 *
 * Modes (every one walks every packet, like the C loop):
 *   count   reads each packet's wire length (the C loop's count-only work)
 *   touch   also reads the IPv4/UDP 5-tuple bytes of the frame
 *   pcapng  writes every packet with PcapngWriter (default to /dev/null)
 *
 * Contract of bench/capture.sh: "READY" on stderr once the ring is bound; on
 * SIGINT/SIGTERM one line on stdout, then exit 0:
 *   RESULT packets=N bytes=N kernel_packets=N kernel_drops=N freezes=N batches=N gcs=N heap_growth=N
 * gcs / heap_growth: garbage collections and heap growth (bytes) between READY
 * and the signal: the allocation cost of the receive path under load.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { openCapture, type BatchLike } from '../src/index.js';
import { PcapngWriter } from '../src/pcap/index.js';

const args = process.argv.slice(2);
const iface = args[0];
const mode = args[1] ?? 'count';
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const form = opt('--form', 'callback');
const backend = opt('--backend', 'packet');
if (!iface || !['count', 'touch', 'pcapng'].includes(mode) || !['callback', 'iter'].includes(form) || !['packet', 'xdp'].includes(backend)) {
  process.stderr.write('usage: rx-netring IFACE [count|touch|pcapng] [--form callback|iter] [--out FILE] [--backend packet|xdp]\n');
  process.exit(2);
}

const ringOpt = (name: string): number | undefined => (args.includes(name) ? Number(opt(name, '')) : undefined);
const cap = backend === 'xdp'
  ? openCapture({ backend: 'xdp', iface, copyMode: 'copy', rxSize: ringOpt('--rx-ring'), fillSize: ringOpt('--fill-ring') })
  : openCapture({ iface });
const writer = mode === 'pcapng' ? new PcapngWriter(opt('--out', '/dev/null'), { name: iface }) : null;
if (writer !== null) writer.setStatisticsSource(() => { const s = cap.stats(); return { received: s.kernelPackets, dropped: s.drops }; });

let bytes = 0;
let sink = 0;

/** count: the per-packet work of the C loop (read tp_len, follow tp_next_offset). */
function walkCount(b: BatchLike): void {
  let n = 0;
  for (let p = b.next(); p !== null; p = b.next()) n += p.wireLen;
  bytes += n;
}

/** touch: also read saddr, daddr, ports and protocol of an IPv4/UDP frame. */
function walkTouch(b: BatchLike): void {
  let n = 0;
  let x = sink;
  for (let p = b.next(); p !== null; p = b.next()) {
    n += p.wireLen;
    if (p.caplen >= 42) {
      const d = p.data;
      const o = p.offset;
      x ^= ((d[o + 26] << 24) | (d[o + 27] << 16) | (d[o + 28] << 8) | d[o + 29]); // saddr
      x ^= ((d[o + 30] << 24) | (d[o + 31] << 16) | (d[o + 32] << 8) | d[o + 33]); // daddr
      x ^= ((d[o + 34] << 24) | (d[o + 35] << 16) | (d[o + 36] << 8) | d[o + 37]); // ports
      x ^= d[o + 23]; // protocol
    }
  }
  sink = x;
  bytes += n;
}

/** pcapng: one Enhanced Packet Block per packet into the writer's buffer. */
function walkWrite(b: BatchLike): void {
  const w = writer!;
  let n = 0;
  for (let p = b.next(); p !== null; p = b.next()) {
    n += p.wireLen;
    w.writePacket(p);
  }
  bytes += n;
}

const walk = mode === 'count' ? walkCount : mode === 'touch' ? walkTouch : walkWrite;

let gcs = 0;
const obs = new PerformanceObserver((list) => { gcs += list.getEntries().length; });
obs.observe({ entryTypes: ['gc'] });
let heap0 = 0;

let done = false;
function finish(): void {
  if (done) return;
  done = true;
  const heapGrowth = process.memoryUsage().heapUsed - heap0;
  const g = gcs;
  cap.stop();
  const s = cap.stats();
  cap.close();
  if (writer !== null) writer.close();
  obs.disconnect();
  process.stderr.write(`sink=${sink} form=${form} mode=${mode}\n`);
  if ('xdp' in s) process.stderr.write(`xdp_statistics ${JSON.stringify(s.xdp)}\n`);
  process.stdout.write(
    `RESULT packets=${s.received} bytes=${bytes} kernel_packets=${s.kernelPackets} kernel_drops=${s.drops} ` +
    `freezes=${s.freezes} batches=${s.batches} gcs=${g} heap_growth=${heapGrowth}\n`,
    () => process.exit(0));
}
process.on('SIGINT', finish);
process.on('SIGTERM', finish);

heap0 = process.memoryUsage().heapUsed;
if (form === 'callback') {
  cap.start(walk);
  process.stderr.write(`READY rx-netring ${iface} ${mode} ${form}\n`);
} else {
  process.stderr.write(`READY rx-netring ${iface} ${mode} ${form}\n`);
  (async () => {
    for await (const b of cap) walk(b);
  })().catch((e: unknown) => { if (!done) { process.stderr.write(`${String(e)}\n`); process.exit(1); } });
}
