import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  PcapWriter, PcapngWriter, PcapReader, PcapngReader, openCaptureReader, openCaptureWriter, chooseFormat,
  FileRecord, EpbFlags, PcapngFollower, type PacketLike, type CaptureWriter,
} from '../../src/pcap/index.js';
import { rng, randomBytes } from './pcap-craft.js';
import { copyBytes, copyWords4, writeFrame } from '../../src/pcap/frame-copy.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netring-pcap-rt-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string): string => path.join(dir, name);

interface Pkt { data: Uint8Array; wire: number; sec: number; nsec: number }

function makePackets(n: number, seed: number): Pkt[] {
  const r = rng(seed);
  const out: Pkt[] = [];
  for (let i = 0; i < n; i++) {
    // sizes around the word-copy/memcpy threshold and the 4-byte padding
    const len = i < 15 ? [0, 1, 3, 4, 5, 11, 12, 13, 15, 16, 17, 191, 192, 193, 1514][i] : 1 + Math.floor(r() * 1600);
    out.push({
      data: randomBytes(len, r), wire: len + Math.floor(r() * 3),
      sec: 1_600_000_000 + Math.floor(r() * 200_000_000), nsec: Math.floor(r() * 1e9),
    });
  }
  return out;
}

/** Writes packets from inside one big backing buffer at odd offsets, as a ring would hold them. */
function writeAll(w: CaptureWriter, pkts: Pkt[]): void {
  const store = new Uint8Array(pkts.reduce((n, p) => n + p.data.length + 7, 0));
  let off = 3;
  for (const p of pkts) {
    store.set(p.data, off);
    w.write(store, off, p.data.length, p.wire, p.sec, p.nsec);
    off += p.data.length + 7;
  }
}

function readAll(file: string): { recs: FileRecord[]; format: string } {
  const r = openCaptureReader(file, { bufferSize: 4096 });
  const recs: FileRecord[] = [];
  for (const rec of r) recs.push(rec.copy());
  r.close();
  return { recs, format: r.format };
}

for (const bigEndian of [false, true]) {
  for (const precision of ['nano', 'micro'] as const) {
    test(`pcap round trip (${bigEndian ? 'big' : 'little'}-endian, ${precision})`, () => {
      const pkts = makePackets(300, bigEndian ? 1 : 2);
      const f = tmp(`rt-${bigEndian}-${precision}.pcap`);
      const w = new PcapWriter(f, { bigEndian, precision, bufferSize: 8192, linkType: 1 });
      writeAll(w, pkts);
      assert.equal(w.packets, pkts.length);
      w.close();
      w.close(); // idempotent
      assert.equal(fs.statSync(f).size, 24 + pkts.reduce((n, p) => n + 16 + p.data.length, 0));
      const r = new PcapReader(f);
      assert.equal(r.bigEndian, bigEndian);
      assert.equal(r.precision, precision);
      assert.equal(r.linkType, 1);
      let i = 0;
      for (const rec of r) {
        const p = pkts[i++];
        assert.deepEqual(rec.bytes, p.data);
        assert.equal(rec.wireLen, p.wire);
        assert.equal(rec.sec, p.sec);
        assert.equal(rec.nsec, precision === 'nano' ? p.nsec : Math.floor(p.nsec / 1000) * 1000);
      }
      assert.equal(i, pkts.length);
    });

    test(`pcapng round trip (${bigEndian ? 'big' : 'little'}-endian, ${precision})`, () => {
      const pkts = makePackets(300, bigEndian ? 3 : 4);
      const f = tmp(`rt-${bigEndian}-${precision}.pcapng`);
      const w = new PcapngWriter(f, { bigEndian, precision, bufferSize: 8192, name: 'eth7', description: 'test port' });
      writeAll(w, pkts);
      w.close();
      const r = new PcapngReader(f);
      assert.equal(r.bigEndian, bigEndian);
      assert.equal(r.sections[0].application, 'netring');
      assert.equal(r.interfaces.length, 1);
      assert.equal(r.interfaces[0].name, 'eth7');
      assert.equal(r.interfaces[0].description, 'test port');
      assert.equal(r.interfaces[0].tsresol.toString(), precision === 'nano' ? 'ns' : 'us');
      let i = 0;
      r.forEach((rec) => {
        const p = pkts[i++];
        assert.deepEqual(rec.bytes, p.data);
        assert.equal(rec.wireLen, p.wire);
        assert.equal(rec.sec, p.sec);
        assert.equal(rec.nsec, precision === 'nano' ? p.nsec : Math.floor(p.nsec / 1000) * 1000);
        assert.equal(rec.epbFlags, -1);
      });
      assert.equal(i, pkts.length);
    });
  }
}

test('pcapng: several interfaces with their own link types, flags and statistics', () => {
  const f = tmp('multi.pcapng');
  const w = new PcapngWriter(f, {
    interfaces: [{ linkType: 1, name: 'eth0' }, { linkType: 113, name: 'any', snaplen: 100 }, { linkType: 101, precision: 'micro' }],
  });
  const late = w.addInterface({ linkType: 276, name: 'sll2' });
  assert.equal(late, 3);
  const data = randomBytes(300, rng(9));
  w.write(data, 0, 60, 60, 10, 5, -1, 0, 0, EpbFlags.INBOUND | EpbFlags.BROADCAST);
  w.write(data, 10, 200, 250, 11, 6, -1, 0, 1, EpbFlags.OUTBOUND); // cut to snaplen 100
  w.write(data, 20, 40, 40, 12, 7_000, -1, 0, 2);
  w.write(data, 30, 50, 50, 13, 8, -1, 0, 3);
  assert.throws(() => w.write(data, 0, 10, 10, 0, 0, -1, 0, 4), RangeError);
  w.writeStatistics({ received: 1000, dropped: 7 }, 1);
  w.setStatisticsSource(() => ({ received: 5, dropped: 2, osDrop: 1, startSec: 9, startNsec: 1, endSec: 20, endNsec: 2 }), 0);
  w.close();
  assert.throws(() => w.write(data, 0, 10, 10, 0, 0), /closed/);

  const seen: number[] = [];
  const r = new PcapngReader(f, { onStatistics: (s) => seen.push(s.interfaceId) });
  const recs = [...r].length; // iterator drains (the record is shared)
  assert.equal(recs, 4);
  assert.deepEqual(r.interfaces.map((i) => i.linkType), [1, 113, 101, 276]);
  assert.deepEqual(seen, [1, 0]);
  assert.equal(r.statistics[1]?.received, 1000);
  assert.equal(r.statistics[1]?.dropped, 7);
  assert.equal(r.statistics[1]?.startSec, 11); // first packet on interface 1
  assert.equal(r.statistics[0]?.received, 5);
  assert.equal(r.statistics[0]?.dropped, 2);
  assert.equal(r.statistics[0]?.osDrop, 1);
  assert.equal(r.statistics[0]?.startNsec, 1);
  assert.equal(r.statistics[0]?.endSec, 20);
  assert.equal(r.statistics[2], undefined);

  const r2 = new PcapngReader(f);
  const a = r2.next()!;
  assert.deepEqual([a.linkType, a.ifindex, a.pktType, a.epbFlags], [1, 0, 1, EpbFlags.INBOUND | EpbFlags.BROADCAST]);
  const b = r2.next()!;
  assert.deepEqual([b.linkType, b.ifindex, b.caplen, b.wireLen, b.pktType], [113, 1, 100, 250, 4]);
  assert.deepEqual(b.bytes, data.subarray(10, 110));
  const c = r2.next()!;
  assert.deepEqual([c.linkType, c.ifindex, c.sec, c.nsec], [101, 2, 12, 7000]);
  const d = r2.next()!;
  assert.deepEqual([d.linkType, d.ifindex, d.sec, d.nsec], [276, 3, 13, 8]);
  assert.equal(r2.next(), null);
  assert.equal(r2.next(), null);
});

/** A PacketLike as the ring presents it. */
function slot(data: Uint8Array, over: Partial<PacketLike> = {}): PacketLike {
  return {
    data, offset: 0, caplen: data.length, wireLen: data.length, sec: 1, nsec: 2, vlanValid: false, vlanTci: 0,
    vlanTpid: 0, ifindex: 3, pktType: 0, linkType: 1, ...over,
  };
}

for (const format of ['pcap', 'pcapng'] as const) {
  test(`${format}: VLAN tag from metadata is re-inserted like libpcap`, () => {
    const frame = randomBytes(80, rng(5));
    const f = tmp(`vlan.${format}`);
    const w = openCaptureWriter(f, { snaplen: 82 });
    assert.equal(w.format, format);
    w.writePacket(slot(frame, { vlanValid: true, vlanTci: 0x2064, vlanTpid: 0 })); // 0 = unknown -> 0x8100
    w.writePacket(slot(frame, { vlanValid: true, vlanTci: 0x0005, vlanTpid: 0x88a8, caplen: 40, wireLen: 60 }));
    w.writePacket(slot(frame, { vlanValid: true, vlanTci: 7, caplen: 11, wireLen: 11 })); // too short for the tag
    w.writePacket(slot(frame, { vlanValid: false, vlanTci: 9 }));
    w.close();
    const r = openCaptureReader(f);
    const a = r.next()!;
    assert.equal(a.caplen, 82); // 84 cut to snaplen
    assert.equal(a.wireLen, 84);
    assert.deepEqual(a.bytes.subarray(0, 12), frame.subarray(0, 12));
    assert.deepEqual([...a.bytes.subarray(12, 16)], [0x81, 0x00, 0x20, 0x64]);
    assert.deepEqual(a.bytes.subarray(16), frame.subarray(12, 78));
    const b = r.next()!;
    assert.deepEqual([b.caplen, b.wireLen], [44, 64]);
    assert.deepEqual([...b.bytes.subarray(12, 16)], [0x88, 0xa8, 0x00, 0x05]);
    assert.deepEqual(b.bytes.subarray(16), frame.subarray(12, 40));
    const c = r.next()!;
    assert.deepEqual(c.bytes, frame.subarray(0, 11));
    const d = r.next()!;
    assert.deepEqual(d.bytes, frame.subarray(0, 80));
    assert.equal(r.next(), null);
  });
}

test('VLAN re-insertion offset follows the link type (SLL 14, raw IP none)', () => {
  const frame = randomBytes(64, rng(6));
  const f = tmp('vlan-sll.pcapng');
  const w = new PcapngWriter(f, { interfaces: [{ linkType: 113 }, { linkType: 101 }] });
  w.writePacket(slot(frame, { vlanValid: true, vlanTci: 0x123, linkType: 113 }), 0);
  w.writePacket(slot(frame, { vlanValid: true, vlanTci: 0x123, linkType: 101 }), 1);
  w.close();
  const r = new PcapngReader(f);
  const a = r.next()!;
  assert.equal(a.caplen, 68);
  assert.deepEqual(a.bytes.subarray(0, 14), frame.subarray(0, 14));
  assert.deepEqual([...a.bytes.subarray(14, 18)], [0x81, 0x00, 0x01, 0x23]);
  assert.deepEqual(a.bytes.subarray(18), frame.subarray(14));
  const b = r.next()!;
  assert.deepEqual(b.bytes, frame);
});

test('pcapng direction flags from pktType, and kept when copying file to file', () => {
  const frame = randomBytes(60, rng(7));
  const f = tmp('dir.pcapng');
  const w = new PcapngWriter(f);
  for (const t of [0, 1, 2, 3, 4]) w.writePacket(slot(frame, { pktType: t }));
  w.close();
  const expected = [
    EpbFlags.INBOUND | EpbFlags.UNICAST, EpbFlags.INBOUND | EpbFlags.BROADCAST, EpbFlags.INBOUND | EpbFlags.MULTICAST,
    EpbFlags.INBOUND | EpbFlags.PROMISCUOUS, EpbFlags.OUTBOUND,
  ];
  const flags: number[] = [];
  const types: number[] = [];
  const f2 = tmp('dir2.pcapng');
  const w2 = new PcapngWriter(f2);
  for (const rec of new PcapngReader(f)) { flags.push(rec.epbFlags); types.push(rec.pktType); w2.writePacket(rec); }
  w2.close();
  assert.deepEqual(flags, expected);
  assert.deepEqual(types, [0, 1, 2, 3, 4]);
  assert.deepEqual([...new PcapngReader(f2)].length, 5);
  const again: number[] = [];
  new PcapngReader(f2).forEach((rec) => { again.push(rec.epbFlags); });
  assert.deepEqual(again, expected);

  // A pcap source has no direction: nothing is invented when converting.
  const f3 = tmp('nodir.pcap');
  const w3 = new PcapWriter(f3);
  w3.writePacket(slot(frame, { pktType: 4 }));
  w3.close();
  const f4 = tmp('nodir.pcapng');
  const w4 = new PcapngWriter(f4);
  for (const rec of new PcapReader(f3)) w4.writePacket(rec);
  w4.close();
  assert.equal(new PcapngReader(f4).next()!.epbFlags, -1);
  // ... and the option can be turned off for ring packets too.
  const f5 = tmp('nodir2.pcapng');
  const w5 = new PcapngWriter(f5, { directionFromPktType: false });
  w5.writePacket(slot(frame, { pktType: 4 }));
  w5.close();
  assert.equal(new PcapngReader(f5).next()!.epbFlags, -1);
});

test('link types 1, 113, 276, 101, 228, 229 are written and reported', () => {
  for (const lt of [1, 113, 276, 101, 228, 229]) {
    for (const fmt of ['pcap', 'pcapng']) {
      const f = tmp(`lt${lt}.${fmt}`);
      const w = openCaptureWriter(f, { linkType: lt });
      w.write(Uint8Array.of(0x45, 0, 0, 20), 0, 4, 4, 1, 1);
      w.close();
      const r = openCaptureReader(f);
      assert.equal(r.linkType, lt);
      assert.equal(r.next()!.linkType, lt);
    }
  }
});

test('format chooser: extension, explicit --format, default pcapng', () => {
  assert.equal(chooseFormat('x.pcap'), 'pcap');
  assert.equal(chooseFormat('/a/b/X.PCAP'), 'pcap');
  assert.equal(chooseFormat('x.cap'), 'pcap');
  assert.equal(chooseFormat('x.pcapng'), 'pcapng');
  assert.equal(chooseFormat('x.bin'), 'pcapng');
  assert.equal(chooseFormat('-'), 'pcapng');
  assert.equal(chooseFormat(5), 'pcapng');
  assert.equal(chooseFormat('x.pcapng', 'pcap'), 'pcap');
  assert.equal(chooseFormat('x.pcap', 'PCAPNG'), 'pcapng');
  assert.throws(() => chooseFormat('x', 'erf'), /unknown capture format/);
});

test('copy() is independent of the shared record', () => {
  const f = tmp('copy.pcap');
  const w = new PcapWriter(f);
  w.write(Uint8Array.of(1, 2, 3), 0, 3, 3, 5, 6);
  w.write(Uint8Array.of(4, 5, 6, 7), 0, 4, 4, 8, 9);
  w.close();
  const r = new PcapReader(f);
  const first = r.next()!;
  const kept = first.copy();
  const second = r.next()!;
  assert.equal(first, second); // one reused object
  assert.deepEqual([...kept.bytes], [1, 2, 3]);
  assert.deepEqual([kept.sec, kept.nsec, kept.caplen, kept.offset], [5, 6, 3, 0]);
  assert.deepEqual([...second.bytes], [4, 5, 6, 7]);
  assert.equal(kept.timestampNs, 5_000_000_006n);
});

test('writers accept an fd and produce identical bytes; empty captures are valid files', () => {
  const pkts = makePackets(20, 11);
  const a = tmp('fd-a.pcapng');
  const b = tmp('fd-b.pcapng');
  const fd = fs.openSync(b, 'w');
  const wa = new PcapngWriter(a, { os: 'x', hardware: 'y' });
  const wb = new PcapngWriter(fd, { os: 'x', hardware: 'y' });
  writeAll(wa, pkts);
  writeAll(wb, pkts);
  wa.close();
  wb.close();
  fs.writeSync(fd, new Uint8Array(0)); // fd still open: the writer did not own it
  fs.closeSync(fd);
  assert.deepEqual(fs.readFileSync(a), fs.readFileSync(b));

  for (const fmt of ['pcap', 'pcapng']) {
    const e = tmp(`empty.${fmt}`);
    const w = openCaptureWriter(e);
    // Valid before close: the header is flushed at once.
    const r = openCaptureReader(e);
    assert.equal(r.next(), null);
    w.close();
    assert.equal(readAll(e).recs.length, 0);
  }
});

test('buffering: flush() makes buffered records visible; reads work with a tiny buffer over big records', () => {
  const f = tmp('flush.pcapng');
  const w = new PcapngWriter(f, { bufferSize: 1 << 20 });
  const big = randomBytes(60000, rng(12));
  w.write(big, 0, 60000, 60000, 1, 1);
  assert.equal(readAll(f).recs.length, 0);
  w.flush();
  const got = readAll(f).recs; // bufferSize 4096 < record: the reader grows once
  assert.equal(got.length, 1);
  assert.deepEqual(got[0].bytes, big);
  w.close();
});

test('pcapng timestamps: runs within one second, alternating ns/us interfaces, 32-bit carries', () => {
  const f = tmp('ts.pcapng');
  const w = new PcapngWriter(f, { interfaces: [{ precision: 'nano' }, { precision: 'micro' }] });
  const r0 = rng(31);
  const want: Array<[number, number, number]> = [];
  const d = Uint8Array.of(1, 2, 3, 4);
  // sec * 1e9 for these seconds has low words close to 2^32, so adding nsec carries.
  for (let i = 0; i < 4000; i++) {
    const sec = [4294967295, 1700000000, 1700000000, 3, 0][Math.floor(i / 800)] + (i % 3 === 0 ? 0 : 1);
    const nsec = i % 7 === 0 ? 999_999_999 : Math.floor(r0() * 1e9);
    const ifc = i % 2;
    w.write(d, 0, 4, 4, sec, nsec, -1, 0, ifc);
    want.push([sec, ifc === 0 ? nsec : Math.floor(nsec / 1000) * 1000, ifc]);
  }
  w.close();
  const got: Array<[number, number, number]> = [];
  for (const rec of new PcapngReader(f)) got.push([rec.sec, rec.nsec, rec.ifindex]);
  assert.deepEqual(got, want);
});

test('pcapng follower: a file appended in odd pieces gives every packet once complete (null before), blocks over the first buffer, the last ISB', () => {
  const whole = tmp('follow-src.pcapng');
  const pkts = makePackets(40, 31);
  pkts.splice(20, 0, { data: randomBytes(150_000, rng(32)), wire: 150_000, sec: 1_700_000_000, nsec: 5 });
  const w = new PcapngWriter(whole, { snaplen: 262144, precision: 'nano' });
  writeAll(w, pkts);
  w.writeStatistics({ received: 77, dropped: 3, delivered: 41 });
  w.close();
  const bytes = fs.readFileSync(whole);
  const grown = tmp('follow.pcapng');
  fs.writeFileSync(grown, new Uint8Array(0));
  const f = new PcapngFollower(grown);
  const got: Pkt[] = [];
  let nulls = 0;
  for (let at = 0; at < bytes.length;) {
    const n = Math.min(7001, bytes.length - at);
    fs.appendFileSync(grown, bytes.subarray(at, at + n));
    at += n;
    for (let r = f.next(); ; r = f.next()) {
      if (r === null) { nulls++; break; }
      got.push({ data: r.bytes.slice(), wire: r.wireLen, sec: r.sec, nsec: r.nsec });
    }
  }
  assert.equal(f.next(), null);
  f.close();
  assert.equal(got.length, pkts.length);
  assert.equal(f.count, pkts.length);
  got.forEach((g, i) => assert.deepEqual(g, pkts[i], `packet ${i}`));
  assert.ok(nulls > pkts.length / 2, `waited at incomplete blocks (${nulls})`);
  assert.deepEqual(f.statistics, { received: 77, dropped: 3, delivered: 41 });
});

test('frame copies into the writers are exact at every length and alignment, NaN bit patterns and VLAN re-insertion included, before and after the copy loop is optimized', () => {
  // Source bytes: every 8-byte word at every alignment is a float64 NaN (quiet, signalling, with
  // payloads, both signs) or random bytes; a copy through float64 words must keep them all.
  const src = new Uint8Array(8192);
  const sv = new DataView(src.buffer);
  const next = rng(7);
  for (let i = 0; i + 8 <= src.length; i += 8) {
    if ((i >> 3) % 3 === 2) { for (let k = 0; k < 8; k++) src[i + k] = (next() * 256) | 0; continue; }
    const hi = [0x7ff00000, 0x7ff40000, 0x7ff80000, 0xfff00000, 0xfff80000, 0x7fffffff][(i >> 3) % 6] | ((next() * 0x80000) | 0);
    sv.setUint32(i + 4, hi, true);
    sv.setUint32(i, (i >> 3) % 5 === 0 ? 1 : (next() * 4294967296) >>> 0, true);
  }
  const dst = new Uint8Array(4096);
  const dv = new DataView(dst.buffer);
  const lengths = [...Array.from({ length: 200 }, (_, n) => n), 255, 256, 257, 511, 512, 513, 1000, 1514, 1518, 2047];
  for (let round = 0; round < 60; round++) { // the first round runs in the interpreter, later ones optimized
    for (const n of lengths) {
      const so = 1 + ((round * 13 + n) % 4000), d = 1 + ((round * 7 + n * 3) % 600);
      for (const words4 of [false, true]) { // the float64 copy, and the 4-byte fallback for engines that rewrite NaNs
        if (words4 && n < 8) continue;
        dst.fill(0xee);
        if (words4) copyWords4(dv, d, sv, so, n); else copyBytes(dst, dv, d, src, so, n);
        if (round === 0 || round === 59 || n % 17 === 0) {
          assert.deepEqual(dst.subarray(d, d + n), src.subarray(so, so + n), `copy of ${n} bytes from ${so} to ${d} (round ${round}${words4 ? ', 4-byte words' : ''})`);
          assert.equal(dst[d - 1], 0xee, 'nothing written before');
          assert.equal(dst[d + n], 0xee, 'nothing written after');
        }
      }
    }
  }
  // a source that starts inside its buffer (the aligned word loads go by the buffer's own alignment)
  for (const base of [1, 4, 5, 8]) {
    const inner = new Uint8Array(src.buffer, base, src.length - base);
    for (const n of [127, 128, 129, 1514, 2047]) {
      for (const so of [0, 1, 2, 3, 6, 7, 10]) {
        dst.fill(0xee);
        copyBytes(dst, dv, 9, inner, so, n);
        assert.deepEqual(dst.subarray(9, 9 + n), inner.subarray(so, so + n), `copy of ${n} bytes from ${so} in a view at ${base}`);
        assert.equal(dst[8], 0xee);
        assert.equal(dst[9 + n], 0xee);
      }
    }
  }
  // with a VLAN tag re-inserted at 12, and cut to a length inside and after the tag
  for (const outLen of [10, 12, 14, 16, 64, 1518]) {
    dst.fill(0xee);
    writeFrame(dst, dv, 5, src, 3, outLen, 12, 0x8100, 0x0123);
    const want = new Uint8Array([...src.subarray(3, 15), 0x81, 0x00, 0x01, 0x23, ...src.subarray(15, 3 + outLen)]).subarray(0, outLen);
    assert.deepEqual(dst.subarray(5, 5 + outLen), want, `tagged frame cut to ${outLen}`);
    assert.equal(dst[5 + outLen], 0xee);
  }
});
