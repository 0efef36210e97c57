/**
 * npm run bench:ring-writer: the capture-to-file writer's own per-packet
 * cost, no capture involved.
 *
 * TPACKET_V3 ring images of 64-byte and 1514-byte frames (a few 1 MiB
 * blocks, so the image stays in the cache: the pure per-record cost) are
 * written again and again (re-armed between passes) by RingFileWriter to
 * /dev/null, pcap and pcapng: `table` is BlockTable.fill alone (the record
 * headers and the (buffer, offset, length) table), `writev` adds the native
 * gathered write (one per block, synchronous), `async` the same on a pool
 * thread as `netring capture -w` does it. Prints the best process CPU time
 * per packet over the trials (user + system, all threads), in ns.
 *
 * Environment: WRITER_SIZES="64 1514" WRITER_TRIALS=40 WRITER_BLOCKS=5
 */
import { RingReader } from '../src/ring/index.js';
import { RingFileWriter } from '../src/pcap/ring-writer.js';
import { buildRingImage, rearmImage, type ImageFrame } from '../test/helpers/ring-image.js';

const sizes = (process.env.WRITER_SIZES ?? '64 1514').split(/\s+/).filter(Boolean).map(Number);
const trials = Number(process.env.WRITER_TRIALS ?? 40);
const blocks = Number(process.env.WRITER_BLOCKS ?? 5);
const blockSize = 1 << 20;

/** Best CPU ns per packet of `pass` (which returns the packets it handled) over the trials. */
async function best(pass: () => number | Promise<number>): Promise<number> {
  await pass();
  let b = Infinity;
  for (let k = 0; k < trials; k++) {
    const t0 = process.cpuUsage();
    let n = 0;
    for (let j = 0; j < 5; j++) n += await pass();
    const u = process.cpuUsage(t0);
    b = Math.min(b, ((u.user + u.system) * 1000) / n);
  }
  return b;
}

console.log('size  format  table ns/pkt  writev ns/pkt  async ns/pkt');
for (const size of sizes) {
  const g = { blockSize, blockCount: blocks };
  const slot = Math.ceil((82 + size) / 8) * 8;
  const count = Math.floor(((blockSize - 64) / slot)) * (blocks - 1);
  const f = new Uint8Array(size);
  f[12] = 8;
  const frames: ImageFrame[] = [];
  for (let i = 0; i < count; i++) frames.push({ bytes: f, sec: 1_700_000_000 + (i >> 12), nsec: i, pktType: 3 });
  const img = buildRingImage(frames, g);
  const r = new RingReader(img.buffer, g);
  const rewind = (): void => { rearmImage(img.buffer, g, img.blocksUsed); r.cursor = 0; };
  for (const format of ['pcap', 'pcapng'] as const) {
    const w = new RingFileWriter(img.buffer, { path: '/dev/null', format, linkType: 1, snaplen: 262144, blockSize });
    const t = w.table;
    const table = (): number => {
      let n = 0;
      for (let b = r.acquire(); b !== null; b = r.acquire()) { t.begin(b); while (t.remaining > 0) n += t.fill(); }
      rewind();
      return n;
    };
    const sync = (): number => {
      let n = 0;
      for (let b = r.acquire(); b !== null; b = r.acquire()) n += w.writeBlock(b);
      rewind();
      return n;
    };
    const async = async (): Promise<number> => {
      let n = 0;
      for (let b = r.acquire(); b !== null; b = r.acquire()) n += await w.writeBlockAsync(b);
      rewind();
      return n;
    };
    const a = await best(table), s = await best(sync), as = await best(async);
    w.close();
    console.log(`${String(size).padStart(4)}  ${format.padEnd(6)}  ${a.toFixed(1).padStart(12)}  ${s.toFixed(1).padStart(13)}  ${as.toFixed(1).padStart(12)}`);
  }
}
