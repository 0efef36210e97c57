/**
 * The ring walker over in-memory TPACKET_V3 images: block hand-out and
 * release, packet chaining, metadata fields, misuse detection, geometry
 * validation, and the no-allocation-per-packet property.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RingReader, resolveGeometry, NetringError, parseProgram, encodeProgram, withSnaplen } from '../../src/index.js';
import { buildRingImage, rearmImage } from '../helpers/ring-image.js';

const G = { blockSize: 4096, blockCount: 8 };

function frame(i: number, len: number): Uint8Array {
  const f = new Uint8Array(len);
  for (let k = 0; k < len; k++) f[k] = (i * 31 + k) & 0xff;
  return f;
}

test('walks every packet of every block in order, with exact bytes and metadata', () => {
  const frames = Array.from({ length: 100 }, (_, i) => ({
    bytes: frame(i, 60 + (i % 7) * 50), wireLen: 60 + (i % 7) * 50 + (i % 3), sec: 1000 + i, nsec: i * 10,
    vlanTci: i % 5 === 0 ? 100 + i : undefined, vlanTpid: i % 10 === 0 ? 0x88a8 : undefined, ifindex: 7, pktType: i % 5,
  }));
  const img = buildRingImage(frames, G);
  assert.ok(img.blocksUsed > 1, 'spans several blocks');
  const r = new RingReader(img.buffer, G);
  let i = 0;
  for (let b = r.acquire(); b !== null; b = r.acquire()) {
    for (let p = b.next(); p !== null; p = b.next()) {
      const f = frames[i];
      assert.deepEqual(p.bytes, f.bytes);
      assert.deepEqual(p.copy(), f.bytes);
      assert.equal(p.caplen, f.bytes.length);
      assert.equal(p.wireLen, f.wireLen);
      assert.equal(p.truncated, f.wireLen > f.bytes.length);
      assert.equal(p.sec, f.sec);
      assert.equal(p.nsec, f.nsec);
      assert.equal(p.timestampNs, BigInt(f.sec) * 1_000_000_000n + BigInt(f.nsec));
      assert.equal(p.vlanValid, f.vlanTci !== undefined);
      assert.equal(p.vlanTci, f.vlanTci ?? 0);
      assert.equal(p.vlanTpid, f.vlanTci === undefined ? 0 : (f.vlanTpid ?? 0x8100));
      assert.equal(p.ifindex, 7);
      assert.equal(p.pktType, f.pktType);
      i++;
    }
  }
  assert.equal(i, 100);
  assert.equal(r.packets, 100);
  assert.equal(r.blocks, img.blocksUsed);
  assert.equal(r.cursor, img.blocksUsed % G.blockCount);
});

test('release hands the block back (status 0) and the reader stops at a kernel-owned block', () => {
  const img = buildRingImage(Array.from({ length: 10 }, (_, i) => ({ bytes: frame(i, 1000) })), G);
  const r = new RingReader(img.buffer, G);
  const status = new Uint32Array(img.buffer);
  const b = r.acquire();
  assert.ok(b);
  assert.equal(b.count, 3, 'three 1000-byte frames per 4 KiB block');
  b.release();
  assert.equal(status[8 >>> 2], 0, 'block 0 status is TP_STATUS_KERNEL');
  assert.equal(r.cursor, 1);
  let n = 0;
  for (let x = r.acquire(); x !== null; x = r.acquire()) n += x.count;
  assert.equal(n, 7);
  assert.equal(r.acquire(), null);
  rearmImage(img.buffer, G, img.blocksUsed);
});

test('forEach and the iterator visit the same packets; forEach can resume after next()', () => {
  const img = buildRingImage(Array.from({ length: 30 }, (_, i) => ({ bytes: frame(i, 64), sec: i })), { blockSize: 1 << 16, blockCount: 1 });
  const r = new RingReader(img.buffer, { blockSize: 1 << 16, blockCount: 1 });
  const b = r.acquire()!;
  const a: number[] = [];
  b.next(); a.push(b.packet.sec);
  b.next(); a.push(b.packet.sec);
  b.forEach((p) => a.push(p.sec));
  assert.deepEqual(a, Array.from({ length: 30 }, (_, i) => i));
  rearmImage(img.buffer, { blockSize: 1 << 16 }, 1);
  const r2 = new RingReader(img.buffer, { blockSize: 1 << 16, blockCount: 1 });
  const secs: number[] = [];
  for (const p of r2.acquire()!) secs.push(p.sec);
  assert.deepEqual(secs, a);
});

test('a released batch and its view throw ERELEASED', () => {
  const img = buildRingImage([{ bytes: frame(1, 64) }], G);
  const r = new RingReader(img.buffer, G);
  const b = r.acquire()!;
  const p = b.next()!;
  b.release();
  for (const f of [() => p.caplen, () => p.bytes, () => p.copy(), () => b.next(), () => b.forEach(() => {}), () => b.seq]) {
    assert.throws(f, (e: NetringError) => e instanceof NetringError && e.code === 'ERELEASED');
  }
});

test('geometry validation names the broken constraint', () => {
  const cases: Array<[object, RegExp]> = [
    [{ blockSize: 0 }, /positive multiple of the page size/],
    [{ blockSize: 4097 }, /positive multiple of the page size/],
    [{ blockCount: 0 }, /blockCount must be at least 1/],
    [{ frameSize: 2050 }, /multiple of 16/],
    [{ frameSize: 32 }, /below the minimum 80/],
    [{ blockSize: 4096, frameSize: 4096 }, /cannot hold one frame/],
    [{ blockSize: 1 << 30, blockCount: 8 }, /larger than/],
    [{ blockCount: 1.5 }, /non-negative integer/],
  ];
  for (const [g, re] of cases) {
    assert.throws(() => resolveGeometry(g), (e: NetringError) => e.code === 'EGEOMETRY' && re.test(e.message), JSON.stringify(g));
  }
  assert.deepEqual(resolveGeometry({}), { blockSize: 1 << 20, blockCount: 64, frameSize: 2048, blockTimeoutMs: 10 });
});

test('classic BPF text forms parse to the same program; snaplen caps accepting returns', () => {
  const json = '[{"code":40,"jt":0,"jf":0,"k":12},{"code":21,"jt":0,"jf":1,"k":2048},{"code":6,"jt":0,"jf":0,"k":262144},{"code":6,"jt":0,"jf":0,"k":0}]';
  const ddd = '4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n';
  const dd = '{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 1, 0x00000800 },\n{ 0x6, 0, 0, 0x00040000 },\n{ 0x6, 0, 0, 0x00000000 },';
  const a = parseProgram(json);
  assert.deepEqual(parseProgram(ddd), a);
  assert.deepEqual(parseProgram(dd), a);
  assert.deepEqual(parseProgram('[[40,0,0,12],[21,0,1,2048],[6,0,0,262144],[6,0,0,0]]'), a);
  assert.deepEqual(withSnaplen(a, 96).map((i) => i.k), [12, 2048, 96, 0]);
  assert.equal(encodeProgram(a).length, 32);
  assert.throws(() => parseProgram('[{"code":1}]'), /bad BPF instruction 0/);
  assert.throws(() => parseProgram('3\n1 2 3 4'), /count line/);
  assert.throws(() => parseProgram('[oops'), /not valid JSON/);
  assert.throws(() => encodeProgram([]), /1\.\.4096 instructions/);
});

test('walking millions of packets allocates nothing per packet (no scavenge GC during the walk)', () => {
  const mod = fileURLToPath(new URL('../../src/index.js', import.meta.url));
  const img = fileURLToPath(new URL('../helpers/ring-image.js', import.meta.url));
  // 1 M packets per pass x 4 passes, reading fields and bytes through the reused view.
  const script = `
    const m = { ...(await import(${JSON.stringify(mod)})), ...(await import(${JSON.stringify(img)})) };
    const g = { blockSize: 1 << 20, blockCount: 160 };
    const f = new Uint8Array(64); f[12] = 8; f[23] = 17;
    const frames = { *[Symbol.iterator]() { for (let i = 0; i < 1_000_000; i++) yield { bytes: f }; } };
    const img = m.buildRingImage(frames, g);
    const r = new m.RingReader(img.buffer, g);
    const walk = () => { let n = 0, s = 0;
      for (let b = r.acquire(); b !== null; b = r.acquire())
        for (let p = b.next(); p !== null; p = b.next()) { n++; s += p.caplen + p.data[p.offset + 23] + p.wireLen + p.sec; }
      m.rearmImage(img.buffer, g, img.blocksUsed); r.cursor = 0; return n + (s & 1); };
    walk(); walk();            // warm up (JIT)
    globalThis.gc();
    console.log('WALK-START');
    let total = 0; for (let k = 0; k < 4; k++) total += walk();
    console.log('WALK-END ' + total);
  `;
  const out = execFileSync(process.execPath, ['--expose-gc', '--trace-gc', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const walk = out.slice(out.indexOf('WALK-START'), out.indexOf('WALK-END'));
  assert.match(out, /WALK-END 400000\d/);
  const gcs = walk.split('\n').filter((l) => /Scavenge|Mark-Compact|Mark-sweep/i.test(l));
  assert.deepEqual(gcs, [], 'no garbage collection while walking 4 M packets');
});

test('decoding millions of ring packets with Layers.decodePacket allocates nothing per packet (every corpus frame: one-step and staged paths, metadata VLAN tags)', () => {
  const mod = fileURLToPath(new URL('../../src/index.js', import.meta.url));
  const img = fileURLToPath(new URL('../helpers/ring-image.js', import.meta.url));
  const craft = fileURLToPath(new URL('./decode-craft.js', import.meta.url));
  // Ethernet frames of the decoder corpus (UDP, TCP, VLAN/QinQ, IPv6 + extension headers, ARP, ICMP,
  // tunnels, fragments), every third one with a tag in metadata; 4 passes over 1 M packets.
  const script = `
    const m = { ...(await import(${JSON.stringify(mod)})), ...(await import(${JSON.stringify(img)})), ...(await import(${JSON.stringify(craft)})) };
    const list = m.corpus().filter((c) => c.linkType === 1).map((c) => c.bytes);
    const g = { blockSize: 1 << 20, blockCount: 200 };
    const frames = { *[Symbol.iterator]() { for (let i = 0; i < 1_000_000; i++) yield i % 3 === 0 ? { bytes: list[i % list.length], vlanTci: 5 } : { bytes: list[i % list.length] }; } };
    const img = m.buildRingImage(frames, g);
    const r = new m.RingReader(img.buffer, g);
    const l = new m.Layers();
    const walk = () => { let n = 0, s = 0, ok = 0, staged = 0;
      for (let b = r.acquire(); b !== null; b = r.acquire())
        for (let p = b.next(); p !== null; p = b.next()) {
          n++;
          if (l.decodePacket(p) === 0) ok++;
          s = (s + l.present + l.ipProto + l.dstPort + l.payloadLength + l.tunnelKey + l.vlanCount) | 0; // a Smi: a growing double would be the script's own allocation
          if (l.vlanCount !== 0 || l.ipVersion !== 4) staged++;
        }
      m.rearmImage(img.buffer, g, img.blocksUsed); r.cursor = 0; res[0] = n; res[1] = ok; res[2] = staged; res[3] = s; return n; };
    const res = new Int32Array(4);
    walk(); walk();            // warm up (JIT)
    globalThis.gc();
    console.log('WALK-START');
    let total = 0; for (let k = 0; k < 4; k++) total += walk();
    console.log('WALK-END ' + total + ' ' + res[0] + ' ' + res[1] + ' ' + res[2]);
  `;
  const out = execFileSync(process.execPath, ['--expose-gc', '--trace-gc', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const end = /WALK-END (\d+) (\d+) (\d+) (\d+)/.exec(out);
  assert.ok(end !== null, out.slice(-2000));
  const [total, n, ok, staged] = end.slice(1).map(Number) as [number, number, number, number];
  assert.equal(total, 4_000_000);
  assert.equal(n, 1_000_000);
  // Both paths ran: packets decoded without error, and many that are not Ethernet/IPv4 without a tag.
  assert.ok(ok > 500_000 && staged > 300_000, `decoded ok ${ok}, staged ${staged} of ${n}`);
  const walk = out.slice(out.indexOf('WALK-START'), out.indexOf('WALK-END'));
  const gcs = walk.split('\n').filter((l) => /Scavenge|Mark-Compact|Mark-sweep|Minor/i.test(l));
  assert.deepEqual(gcs, [], 'no garbage collection while decoding 4 M packets');
});

test('writing ring blocks to a file allocates nothing per packet (64 B and 1514 B frames, pcap and pcapng, VLAN tags)', () => {
  const pcap = fileURLToPath(new URL('../../src/pcap/index.js', import.meta.url));
  const mod = fileURLToPath(new URL('../../src/index.js', import.meta.url));
  const img = fileURLToPath(new URL('../helpers/ring-image.js', import.meta.url));
  for (const [size, count] of [[64, 1_000_000], [1514, 100_000]]) {
    // count packets per pass x 4 passes, one writev per block to /dev/null; every 3rd frame has a VLAN tag to re-insert
    const script = `
      const m = { ...(await import(${JSON.stringify(mod)})), ...(await import(${JSON.stringify(img)})), ...(await import(${JSON.stringify(pcap)})) };
      const g = { blockSize: 1 << 20, blockCount: 192 };
      const f = new Uint8Array(${size}); f[12] = 8;
      const frames = { *[Symbol.iterator]() { for (let i = 0; i < ${count}; i++) yield { bytes: f, sec: 1e9 + (i >> 10), nsec: i, vlanTci: i % 3 === 0 ? 7 : undefined }; } };
      const img = m.buildRingImage(frames, g);
      const r = new m.RingReader(img.buffer, g);
      const writers = ['pcap', 'pcapng'].map((format) => new m.RingFileWriter(img.buffer, { path: '/dev/null', format, linkType: 1, snaplen: 262144, blockSize: g.blockSize }));
      const pass = (w) => { let n = 0;
        for (let b = r.acquire(); b !== null; b = r.acquire()) n += w.writeBlock(b);
        m.rearmImage(img.buffer, g, img.blocksUsed); r.cursor = 0; return n; };
      for (const w of writers) { pass(w); pass(w); }   // warm up (JIT)
      globalThis.gc();
      console.log('WRITE-START');
      let total = 0; for (const w of writers) for (let k = 0; k < 4; k++) total += pass(w);
      console.log('WRITE-END ' + total);
    `;
    const out = execFileSync(process.execPath, ['--expose-gc', '--trace-gc', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const part = out.slice(out.indexOf('WRITE-START'), out.indexOf('WRITE-END'));
    assert.match(out, new RegExp(`WRITE-END ${8 * count}\\b`));
    const gcs = part.split('\n').filter((l) => /Scavenge|Mark-Compact|Mark-sweep/i.test(l));
    assert.deepEqual(gcs, [], `no garbage collection while writing ${8 * count} packets of ${size} bytes`);
  }
});

test('writing records allocates nothing per packet (PcapWriter and PcapngWriter, 64 B and 1514 B frames: ring packets with VLAN tags, AF_XDP frames, file records through rotation)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netring-recgc-'));
  try {
    const mods = ['../../src/index.js', '../../src/pcap/index.js', '../helpers/ring-image.js', '../../src/xsk/reader.js', '../../src/xsk/rings.js', '../../src/xsk/batch.js']
      .map((p) => JSON.stringify(fileURLToPath(new URL(p, import.meta.url))));
    const collected: string[] = [];
    for (const [size, count] of [[64, 500_000], [1514, 100_000]]) {
      // Each path writes `count` packets per pass, 4 passes, pcap and pcapng, to /dev/null:
      //  ring: RingReader packet views (-i any, the library), every 3rd with a VLAN tag to re-insert;
      //  xdp: XskReader batches over in-memory AF_XDP rings (the test plays the kernel), one flush per batch (--xdp -w);
      //  file: records read back from a pcap/pcapng file, RotatingWriter.before() per record (-r -w, the --workers merged file).
      const script = `
        const [m, pc, ri, xr, rings, xb] = await Promise.all([${mods.join(', ')}].map((p) => import(p)));
        const size = ${size}, count = ${count};
        const f = new Uint8Array(size); for (let k = 0; k < size; k++) f[k] = (k * 37) & 0xff; f[12] = 8; f[13] = 0;
        const open = (format, path = '/dev/null') => format === 'pcap' ? new pc.PcapWriter(path) : new pc.PcapngWriter(path);
        const formats = ['pcap', 'pcapng'];
        // ring packets
        const g = { blockSize: 1 << 20, blockCount: Math.ceil(count * (size + 200) / (1 << 20)) + 2 };
        const frames = { *[Symbol.iterator]() { for (let i = 0; i < count; i++) yield { bytes: f, sec: 1e9 + (i >> 10), nsec: i, vlanTci: i % 3 === 0 ? 7 : undefined }; } };
        const img = ri.buildRingImage(frames, g);
        const r = new m.RingReader(img.buffer, g);
        const ringWriters = formats.map((x) => open(x));
        const ringPass = (w) => { const n0 = w.packets;
          for (let b = r.acquire(); b !== null; b = r.acquire()) for (let p = b.next(); p !== null; p = b.next()) w.writePacket(p);
          ri.rearmImage(img.buffer, g, img.blocksUsed); r.cursor = 0; w.flush(); return w.packets - n0; };
        // AF_XDP: rx and fill rings in plain memory, 2048 frames of 2048 bytes in UMEM
        const FR = 2048, FS = 2048, HEAD = 256;
        const umem = new Uint8Array(FR * FS);
        for (let i = 0; i < FR; i++) umem.set(f, i * FS + HEAD);
        const off = { producer: 0, consumer: 4, flags: 8, desc: 64 };
        const rxMap = new ArrayBuffer(64 + FR * 16), fillMap = new ArrayBuffer(64 + FR * 8);
        const rx = new rings.ConsumerRing(rxMap, off, FR, 16), fill = new rings.ProducerRing(fillMap, off, FR, 8);
        const rxIdx = new Uint32Array(rxMap, 0, 4), fillIdx = new Uint32Array(fillMap, 0, 4);
        // budget 1024: acquire() stamps each batch with performance.now(), which allocates in Node 20 (once
        // per batch, ~50 bytes: a collection per ~300k batches of 64); the writer's per-packet work is the same
        const xdp = new xr.XskReader(rx, fill, { budget: 1024, frameSize: FS, firstAddr: 0, frames: FR, maxBatches: 4, view: () => new xb.XskPacketView(umem, 1, 262144) });
        const kernel = () => { // move every filled frame to the RX ring, as received
          let fc = fillIdx[1], rp = rxIdx[0], n = 0;
          while (fc !== fillIdx[0] && ((rp - rxIdx[1]) >>> 0) < FR) {
            const a = fill.desc[(fc & (FR - 1)) << 1], j = (rp & (FR - 1)) << 2;
            rx.desc[j] = a + HEAD; rx.desc[j + 1] = 0; rx.desc[j + 2] = size; rx.desc[j + 3] = 0;
            fc = (fc + 1) >>> 0; rp = (rp + 1) >>> 0; n++;
          }
          Atomics.store(fillIdx, 1, fc); Atomics.store(rxIdx, 0, rp); return n; };
        const xdpWriters = formats.map((x) => open(x));
        const xdpPass = (w) => { const n0 = w.packets;
          while (w.packets - n0 < count) {
            if (xdp.ready() === 0) { xdp.refill(); kernel(); }
            const b = xdp.acquire();
            if (b === null) continue;
            const allowed = Math.min(b.count, count - (w.packets - n0)); // the first frames of the last batch, as the CLI's packet limit
            for (let i = 0; i < allowed; i++) w.writePacket(b.next());
            w.flush(); b.release();
          }
          return w.packets - n0; };
        // file records: write the ring's packets to one file per format, read them back through rotation
        for (const x of formats) { const w = open(x, ${JSON.stringify(dir)} + '/in.' + x); ringPass(w); w.close(); }
        const filePass = (x, rw) => { const rd = pc.openCaptureReader(${JSON.stringify(dir)} + '/in.' + x); const n0 = rw.writer.packets;
          for (let rec = rd.next(); rec !== null; rec = rd.next()) { if (!rw.before()) break; rw.writer.writePacket(rec); }
          rd.close(); rw.writer.flush(); return rw.writer.packets - n0; };
        const rotating = formats.map((x) => new pc.RotatingWriter({ path: '/dev/null', rotate: { sizeBytes: 2 ** 52 }, open: (p) => open(x, p) }));
        const paths = [
          ['ring pcap', () => ringPass(ringWriters[0])], ['ring pcapng', () => ringPass(ringWriters[1])],
          ['xdp pcap', () => xdpPass(xdpWriters[0])], ['xdp pcapng', () => xdpPass(xdpWriters[1])],
          ['file pcap', () => filePass('pcap', rotating[0])], ['file pcapng', () => filePass('pcapng', rotating[1])],
        ];
        // warm up (JIT) round-robin: every path's types (ring, UMEM and file buffers) are seen before the
        // last round, so no deoptimized copy loop (which boxes each loaded word) is left to run in a measured part
        for (let round = 0; round < 3; round++) for (const [, pass] of paths) pass();
        for (const [name, pass] of paths) {
          globalThis.gc();
          console.log('WRITE-START ' + name);
          let total = 0; for (let k = 0; k < 4; k++) total += pass();
          console.log('WRITE-END ' + name + ' ' + total);
        }
      `;
      const out = execFileSync(process.execPath, ['--expose-gc', '--trace-gc', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 24 });
      for (const name of ['ring pcap', 'ring pcapng', 'xdp pcap', 'xdp pcapng', 'file pcap', 'file pcapng']) {
        const a = out.indexOf(`WRITE-START ${name}\n`), b = out.indexOf(`WRITE-END ${name} `);
        assert.ok(a >= 0 && b > a, `${name}: ${out.slice(-2000)}`);
        assert.match(out.slice(b), new RegExp(`^WRITE-END ${name} ${4 * count}\\n`));
        const gcs = out.slice(a, b).split('\n').filter((l) => /Scavenge|Mark-Compact|Mark-sweep|Minor/i.test(l));
        // the file paths open a reader per pass (a pcapng reader leaves a few hundred KB of garbage per
        // file, not per record: one scavenge in some runs); a per-record allocation collects many times
        // (the clock read per record, 16 bytes, made 7-11 collections in each path's window)
        const allowed = name.startsWith('file') ? 1 : 0;
        if (gcs.length > allowed) collected.push(`${size} B ${name}: ${gcs.length} collections while writing ${4 * count} records (${gcs[0].trim()})`);
      }
    }
    assert.deepEqual(collected, [], 'no garbage collection on any record writer path');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
