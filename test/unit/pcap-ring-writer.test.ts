/**
 * The ring writer (block tables + one writev per block) against the
 * per-packet copying writers on the same ring image: identical bytes for
 * pcap and pcapng, nano and micro, snaplen cuts, VLAN tags re-inserted
 * (incl. frames shorter than the tag position and tags cut by the snaplen),
 * direction flags; the native writev's input checks; rotation naming.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RingReader } from '../../src/index.js';
import { buildRingImage, rearmImage, type ImageFrame } from '../helpers/ring-image.js';
import { openCaptureWriter, openCaptureReader } from '../../src/pcap/index.js';
import { RingFileWriter } from '../../src/pcap/ring-writer.js';
import { countWidth, Rotation, rotationName, strftime } from '../../src/pcap/rotation.js';
import { native } from '../../src/native.js';
import { rng, randomBytes } from './pcap-craft.js';
import { BLK_NUM_PKTS, BLK_OFFSET_TO_FIRST, PKT_MAC, PKT_NEXT_OFFSET, PKT_SNAPLEN, SLL_PKTTYPE } from '../../src/ring/layout.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netring-ring-writer-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string): string => path.join(dir, name);

const G = { blockSize: 1 << 16, blockCount: 64 };

function frames(n: number, seed: number): ImageFrame[] {
  const r = rng(seed);
  const out: ImageFrame[] = [];
  const sizes = [1, 3, 11, 12, 13, 14, 15, 16, 17, 60, 64, 191, 192, 193, 1514, 9000];
  for (let i = 0; i < n; i++) {
    const len = i < sizes.length ? sizes[i] : 1 + Math.floor(r() * 1600);
    const vlan = r() < 0.3;
    out.push({
      bytes: randomBytes(len, r),
      wireLen: len + (r() < 0.2 ? Math.floor(r() * 100) : 0),
      // a new second every record, then every 16 records (the loops' timestamp base held over several records)
      sec: 1_700_000_000 + (i < n / 2 ? i : n / 2 + ((i - n / 2) >> 4)), nsec: Math.floor(r() * 1e9),
      vlanTci: vlan ? Math.floor(r() * 65536) : undefined,
      vlanTpid: vlan && r() < 0.5 ? 0x88a8 : undefined,
      pktType: Math.floor(r() * 6),
    });
  }
  return out;
}

interface Case { format: 'pcap' | 'pcapng'; snaplen: number; precision: 'nano' | 'micro'; bigEndian?: boolean; directionFromPktType?: boolean }

function oldWriter(img: ArrayBuffer, c: Case, file: string): number {
  const w = openCaptureWriter(file, { format: c.format, snaplen: c.snaplen, precision: c.precision, bigEndian: c.bigEndian, directionFromPktType: c.directionFromPktType, name: 'veth0' });
  const r = new RingReader(img, G);
  let n = 0;
  for (let b = r.acquire(); b !== null; b = r.acquire())
    for (let p = b.next(); p !== null; p = b.next()) { w.writePacket(p); n++; }
  w.close();
  return n;
}

function newWriter(img: ArrayBuffer, c: Case, file: string, async = false): Promise<number> | number {
  const w = new RingFileWriter(img, { ...c, path: file, linkType: 1, name: 'veth0', blockSize: G.blockSize });
  const r = new RingReader(img, G);
  if (!async) {
    for (let b = r.acquire(); b !== null; b = r.acquire()) w.writeBlock(b);
    w.close();
    return w.written;
  }
  return (async () => {
    for (let b = r.acquire(); b !== null; b = r.acquire()) await w.writeBlockAsync(b);
    w.close();
    return w.written;
  })();
}

const cases: Case[] = [];
for (const format of ['pcap', 'pcapng'] as const)
  for (const snaplen of [262144, 96, 14, 13])
    for (const precision of ['nano', 'micro'] as const) cases.push({ format, snaplen, precision });
for (const format of ['pcap', 'pcapng'] as const) cases.push({ format, snaplen: 96, precision: 'nano', bigEndian: true });
cases.push({ format: 'pcapng', snaplen: 0, precision: 'nano', directionFromPktType: false }, { format: 'pcapng', snaplen: 13, precision: 'micro', directionFromPktType: false });

/** Every packet of the image's first `blocks` blocks: start of its tpacket3_hdr. */
function packetStarts(img: ArrayBuffer, blocks: number): number[] {
  const dv = new DataView(img);
  const out: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const base = b * G.blockSize;
    let h = base + dv.getUint32(base + BLK_OFFSET_TO_FIRST, true);
    for (let i = dv.getUint32(base + BLK_NUM_PKTS, true); i > 0; i--) {
      out.push(h);
      h += dv.getUint32(h + PKT_NEXT_OFFSET, true);
    }
  }
  return out;
}

/** Sets sll_halen of every packet: 6 (Ethernet), and 8 for every 7th (how much of sockaddr_ll a reader sees). */
function setHalen(img: ArrayBuffer, blocks: number): void {
  const u8 = new Uint8Array(img);
  packetStarts(img, blocks).forEach((h, i) => { u8[h + SLL_PKTTYPE + 1] = i % 7 === 3 ? 8 : 6; });
}

test('ring writer output is byte-identical to the copying writers (pcap/pcapng, nano/micro, snaplen, VLAN, direction)', async () => {
  const fr = frames(3000, 7);
  const img = buildRingImage(fr, G);
  assert.ok(img.blocksUsed > 10, 'many blocks');
  setHalen(img.buffer, img.blocksUsed);
  for (const c of cases) {
    const tag = `${c.format}-${c.snaplen}-${c.precision}${c.bigEndian ? '-be' : ''}${c.directionFromPktType === false ? '-noflags' : ''}`;
    const a = tmp(`old-${tag}`), b = tmp(`new-${tag}`), d = tmp(`async-${tag}`);
    const n1 = oldWriter(img.buffer, c, a);
    rearmImage(img.buffer, G, img.blocksUsed);
    const n2 = await newWriter(img.buffer, c, b);
    rearmImage(img.buffer, G, img.blocksUsed);
    const n3 = await newWriter(img.buffer, c, d, true);
    rearmImage(img.buffer, G, img.blocksUsed);
    assert.equal(n1, fr.length);
    assert.equal(n2, fr.length);
    assert.equal(n3, fr.length);
    const old = fs.readFileSync(a), neu = fs.readFileSync(b), as = fs.readFileSync(d);
    assert.ok(old.equals(neu), `${tag}: sync output differs (${old.length} vs ${neu.length} bytes)`);
    assert.ok(old.equals(as), `${tag}: async output differs`);
  }
});

test('writing a block changes no byte a reader sees: packet headers, sockaddr_ll up to its address length, frames', () => {
  const fr = frames(1500, 11);
  const img = buildRingImage(fr, G);
  setHalen(img.buffer, img.blocksUsed);
  const u8 = new Uint8Array(img.buffer);
  const dv = new DataView(img.buffer);
  const starts = packetStarts(img.buffer, img.blocksUsed);
  assert.equal(starts.length, fr.length);
  // what a reader can see of each packet: tpacket3_hdr, sockaddr_ll through sll_addr[halen], the frame
  const seen = (): Buffer[] => starts.map((h) => {
    const mac = h + dv.getUint16(h + PKT_MAC, true);
    const sllEnd = h + SLL_PKTTYPE + 2 + u8[h + SLL_PKTTYPE + 1];
    return Buffer.concat([u8.subarray(h, sllEnd), u8.subarray(mac, mac + dv.getUint32(h + PKT_SNAPLEN, true))]);
  });
  const before = seen();
  for (const c of cases) {
    const w = new RingFileWriter(img.buffer, { ...c, path: '/dev/null', linkType: 1, name: 'veth0', blockSize: G.blockSize });
    const r = new RingReader(img.buffer, G);
    const fields: string[] = [];
    for (let b = r.acquire(); b !== null; b = r.acquire()) {
      w.writeBlock(b);
      // the batch is still readable after its table was built and written
      for (let p = b.next(); p !== null; p = b.next()) fields.push(`${p.sec}.${p.nsec} ${p.caplen}/${p.wireLen} ${p.pktType} ${p.ifindex} ${p.vlanTci}`);
    }
    w.close();
    rearmImage(img.buffer, G, img.blocksUsed);
    assert.equal(w.written, fr.length);
    assert.deepEqual(fields, fr.map((f) => `${f.sec}.${f.nsec} ${f.bytes.length}/${f.wireLen ?? f.bytes.length} ${f.pktType} ${f.ifindex ?? 1} ${f.vlanTci ?? 0}`));
    const after = seen();
    for (let i = 0; i < starts.length; i++) assert.ok(after[i].equals(before[i]), `${c.format}: packet ${i} changed`);
  }
});

test('VLAN re-insertion puts TPID/TCI after the MAC addresses, read back by the reader', () => {
  const bytes = new Uint8Array(60).map((_, i) => i);
  const img = buildRingImage([{ bytes, vlanTci: 0x2064, vlanTpid: 0x88a8 }, { bytes, vlanTci: 5 }], G);
  const file = tmp('vlan.pcap');
  const w = new RingFileWriter(img.buffer, { path: file, format: 'pcap', linkType: 1, snaplen: 262144, blockSize: G.blockSize });
  const r = new RingReader(img.buffer, G);
  for (let b = r.acquire(); b !== null; b = r.acquire()) w.writeBlock(b);
  w.close();
  const got: number[][] = [];
  const rd = openCaptureReader(file);
  for (const rec of rd) got.push([...rec.bytes.subarray(10, 20)], [rec.caplen, rec.wireLen]);
  rd.close();
  assert.deepEqual(got, [
    [10, 11, 0x88, 0xa8, 0x20, 0x64, 12, 13, 14, 15], [64, 64],
    [10, 11, 0x81, 0x00, 0x00, 0x05, 12, 13, 14, 15], [64, 64],
  ]);
});

test('a record budget and a predicate cut the table; the rest of the block is written by later parts', () => {
  const fr = Array.from({ length: 50 }, (_, i) => ({ bytes: new Uint8Array(100).fill(i), sec: i }));
  const img = buildRingImage(fr, G);
  const file = tmp('parts.pcapng');
  const w = new RingFileWriter(img.buffer, { path: file, format: 'pcapng', linkType: 1, snaplen: 0, blockSize: G.blockSize });
  const r = new RingReader(img.buffer, G);
  const b = r.acquire()!;
  assert.equal(w.writeBlock(b, 7, (p) => p.sec % 2 === 0), 7);
  assert.equal(w.walked, 13, 'walked 13 packets to find 7 even ones');
  w.close();
  const rd = openCaptureReader(file);
  const secs: number[] = [];
  for (const rec of rd) secs.push(rec.sec);
  rd.close();
  assert.deepEqual(secs, [0, 2, 4, 6, 8, 10, 12]);
});

test('native writev checks every piece against its buffer before writing, and joins adjacent pieces', () => {
  const fd = fs.openSync(tmp('wv.bin'), 'w');
  try {
    const a = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer, b = new Uint8Array([9, 9]).buffer;
    // (offset, buffer << 29 | length) pairs: a[0..2), b[0..2), a[2..8)
    const B1 = 1 << 29;
    const t = new Uint32Array([0, 2, 0, B1 | 2, 2, 6]);
    assert.equal(native.writev(fd, [a, b], t, 3), 10);
    assert.throws(() => native.writev(fd, [a, b], new Uint32Array([0, 1, 1, B1 | 2]), 2), /outside its buffer/);
    assert.throws(() => native.writev(fd, [a, b], new Uint32Array([0, (2 << 29) | 1]), 1), /outside its buffer/);
    assert.throws(() => native.writev(fd, [a], new Uint32Array([0xffffffff, 2]), 1), /outside its buffer/);
    assert.throws(() => native.writev(fd, [a], new Uint32Array([0, 1]), 2), /count must be/);
    assert.throws(() => native.writev(fd, [a], new Uint8Array(2) as unknown as Uint32Array, 1), /Uint32Array/);
    assert.throws(() => native.writev(fd, [], new Uint32Array(2), 0), /1\.\.8 buffers/);
    // adjacent pieces a[0..1) a[1..3) a[3..4): the bytes of a[0..4) once
    const joined = new Uint32Array([0, 1, 1, 2, 3, 1]);
    assert.equal(native.writev(fd, [a], joined, 3), 4);
    // more pieces than IOV_MAX, none adjacent (every other byte)
    const big = new Uint8Array(5000).map((_, i) => i & 0xff).buffer;
    const tt = new Uint32Array(2500 * 2);
    for (let i = 0; i < 2500; i++) { tt[2 * i] = 2 * i; tt[2 * i + 1] = 1; }
    assert.equal(native.writev(fd, [big], tt, 2500), 2500);
  } finally { fs.closeSync(fd); }
  const got = fs.readFileSync(tmp('wv.bin'));
  assert.deepEqual([...got.subarray(0, 14)], [1, 2, 9, 9, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4]);
  assert.equal(got.length, 2514);
  assert.ok([...got.subarray(14)].every((v, i) => v === ((2 * i) & 0xff)));
  const e = (() => { try { native.writev(9999, [new ArrayBuffer(4)], new Uint32Array([0, 4]), 1); } catch (x) { return x as NodeJS.ErrnoException; } return null; })();
  assert.equal(e?.code, 'EBADF');
});

test('tcpdump file naming: -C numbering, -W width and ring, -G strftime and stop', () => {
  assert.equal(countWidth(1), 0);
  assert.equal(countWidth(3), 1);
  assert.equal(countWidth(10), 1);
  assert.equal(countWidth(11), 2);
  assert.equal(rotationName('f.pcap', 0, 0, false, 0), 'f.pcap');
  assert.equal(rotationName('f.pcap', 3, 2, false, 0), 'f.pcap03');
  const t = new Date(2024, 2, 5, 7, 8, 9).getTime() / 1000;
  assert.equal(strftime('cap-%Y%m%d-%H%M%S-%j-%%.pcap', t), 'cap-20240305-070809-065-%.pcap');
  // -C alone: f, f1, f2 ...
  const c = new Rotation('f', { sizeBytes: 100 });
  assert.equal(c.firstName(), 'f');
  assert.equal(c.due(100, 0), 'none');
  assert.equal(c.due(101, 0), 'size');
  assert.deepEqual([c.next('size', 0), c.next('size', 0)], ['f1', 'f2']);
  // -C with -W 3: f0 f1 f2 f0
  const w = new Rotation('f', { sizeBytes: 100, count: 3 });
  assert.equal(w.firstName(), 'f0');
  assert.deepEqual([1, 2, 3].map(() => w.next('size', 0)), ['f1', 'f2', 'f0']);
  // -G 10 -W 2: one rotation, then stop
  const g = new Rotation('g-%s', { seconds: 10, count: 2 }, 1000);
  assert.equal(g.firstName(), 'g-1000');
  assert.equal(g.due(0, 1009), 'none');
  assert.equal(g.due(0, 1010), 'time');
  assert.equal(g.next('time', 1010), 'g-1010');
  assert.equal(g.due(0, 1020), 'stop');
});

test('Rotation.step: no clock read without rotation; closes then opens the next file; on stop closes and returns false', () => {
  const log: string[] = [];
  const files = { close: () => log.push('close'), open: (n: string) => log.push(`open ${n}`) };
  let reads = 0;
  const plain = new Rotation('p');
  assert.equal(plain.step(1e9, () => { reads++; return 0; }, files), true);
  assert.equal(reads, 0);
  assert.deepEqual(log, []);
  let now = 1000;
  const g = new Rotation('g-%s', { seconds: 10, count: 2 }, now);
  assert.equal(g.step(0, () => now, files), true);
  assert.deepEqual(log, []);
  now = 1010;
  assert.equal(g.step(0, () => now, files), true);
  assert.deepEqual(log, ['close', 'open g-1010']);
  now = 1020;
  assert.equal(g.step(0, () => now, files), false);
  assert.deepEqual(log, ['close', 'open g-1010', 'close']);
  log.length = 0;
  const c = new Rotation('f', { sizeBytes: 100, count: 2 });
  assert.equal(c.step(100, () => 0, files), true);
  assert.equal(c.step(101, () => 0, files), true);
  assert.equal(c.step(101, () => 0, files), true);
  assert.deepEqual(log, ['close', 'open f1', 'close', 'open f0']);
});

test('size rotation splits inside a block at the record that crosses the limit; every file is valid alone', () => {
  const fr = Array.from({ length: 200 }, (_, i) => ({ bytes: new Uint8Array(1000).fill(i & 0xff), sec: 100 + i }));
  const img = buildRingImage(fr, G);
  const base = tmp('rot.pcapng');
  const closed: string[] = [];
  const w = new RingFileWriter(img.buffer, {
    path: base, format: 'pcapng', linkType: 1, snaplen: 262144, blockSize: G.blockSize,
    rotate: { sizeBytes: 50_000 }, onFileClosed: (p) => closed.push(p),
    statistics: () => ({ received: 200, dropped: 3 }),
  });
  const r = new RingReader(img.buffer, G);
  for (let b = r.acquire(); b !== null; b = r.acquire()) w.writeBlock(b);
  w.close();
  assert.deepEqual(closed, w.files);
  assert.equal(w.files[0], base);
  assert.equal(w.files[1], `${base}1`);
  let total = 0;
  for (const f of w.files) {
    const size = fs.statSync(f).size;
    const rd = openCaptureReader(f, { onStatistics: (s) => assert.equal(s.dropped, 3) });
    let n = 0;
    for (const rec of rd) { assert.equal(rec.sec, 100 + total + n); n++; }
    rd.close();
    total += n;
    // tcpdump's rule: a file ends with the record that first took it past the limit
    if (f !== w.files[w.files.length - 1]) assert.ok(size > 50_000 && size < 50_000 + 1100 + 100, `${f}: ${size} bytes`);
  }
  assert.equal(total, 200);
});
