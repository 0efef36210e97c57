import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCaptureReader, PcapReader, PcapngReader, TsResolution, type FileRecord } from '../../src/pcap/index.js';
import { ticksFromTime, timeFromTicks } from '../../src/pcap/time.js';
import {
  Bytes, concat, craftPcap, shb, idb, epb, spb, pb, isb, block, opt, text, rng, randomBytes,
} from './pcap-craft.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netring-pcap-rd-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

function collect(r: Iterable<FileRecord>): FileRecord[] {
  const out: FileRecord[] = [];
  for (const rec of r) out.push(rec.copy());
  return out;
}

for (const be of [false, true]) {
  for (const nano of [false, true]) {
    test(`hand-crafted pcap: ${be ? 'big' : 'little'}-endian ${nano ? 'nanosecond' : 'microsecond'} magic`, () => {
      const p1 = randomBytes(60, rng(1));
      const p2 = randomBytes(3, rng(2));
      const bytes = craftPcap({
        be, nano, snaplen: 128, linkType: 113,
        records: [{ sec: 1700000000, sub: nano ? 999999999 : 999999, data: p1, orig: 1500 }, { sec: 0xfffffffe, sub: 1, data: p2 }],
      });
      // Check the magic really is in the chosen order (the crafted file is the ground truth).
      assert.equal(bytes[0], be ? 0xa1 : (nano ? 0x4d : 0xd4));
      const r = openCaptureReader(bytes);
      assert.ok(r instanceof PcapReader);
      assert.equal(r.bigEndian, be);
      assert.equal(r.precision, nano ? 'nano' : 'micro');
      assert.equal(r.linkType, 113);
      assert.equal(r.snaplen, 128);
      const recs = collect(r);
      assert.equal(recs.length, 2);
      assert.deepEqual(recs[0].bytes, p1);
      assert.deepEqual([recs[0].sec, recs[0].nsec, recs[0].wireLen, recs[0].linkType], [1700000000, nano ? 999999999 : 999999000, 1500, 113]);
      assert.deepEqual(recs[1].bytes, p2);
      assert.deepEqual([recs[1].sec, recs[1].nsec, recs[1].wireLen], [0xfffffffe, nano ? 1 : 1000, 3]);
      assert.equal(recs[1].fileOffset, 24 + 16 + 60);
    });
  }
}

test('pcap link-type field: FCS bits are split off', () => {
  const bytes = craftPcap({ be: false, nano: false, linkType: 0x04000000 | (2 << 28) | 1, records: [] });
  const r = new PcapReader(bytes);
  assert.equal(r.linkType, 1);
  assert.equal(r.interfaces[0].fcsLen, 4);
});

test('pcapng: two sections of different byte order, interfaces with their own link types and resolutions', () => {
  const d = (n: number, seed: number) => randomBytes(n, rng(seed));
  const a1 = d(60, 1), a2 = d(61, 2), a3 = d(62, 3), b1 = d(17, 4), b2 = d(100, 5), b3 = d(33, 6), b4 = d(9, 7);
  const file = concat(
    shb(false, [[4, text('crafted')], [3, text('os')]]),
    idb(false, 1, 65535, [[2, text('eth0')], [9, opt.u8(9)]]),
    block(false, 0x00000bad, new Uint8Array(20)), // unknown block: skipped
    idb(false, 101, 0, [[9, opt.u8(3)]]), // milliseconds, no snaplen
    epb(false, 0, 1_700_000_000_123_456_789n, a1, 1000, [[2, opt.u32(false, 2)], [4, opt.u64(false, 77n)]]),
    epb(false, 1, 1_700_000_000_123n, a2),
    block(false, 0x40000bad, new Uint8Array(8)), // custom-like block: skipped
    block(false, 4, new Uint8Array(4)), // NRB with just an end marker: skipped
    epb(false, 0, 5n, a3),
    isb(false, 0, 1_700_000_001_000_000_000n, [[4, opt.u64(false, 10n)], [5, opt.u64(false, 2n ** 40n + 3n)], [2, opt.hiLo(false, 1_700_000_000_000_000_000n)]]),
    shb(true, [[4, text('big')]]),
    idb(true, 276, 128, [[9, opt.u8(0x80 | 20)], [2, text('sll2')]]), // 2^-20 s
    idb(true, 228, 0, [[14, new Bytes(true).u32(0).u32(100).build()]]), // default us, if_tsoffset 100 s
    idb(true, 229, 0, [[9, opt.u8(0x80 | 3)]]), // 1/8 s
    epb(true, 0, (1_700_000_000n << 20n) + (1n << 19n), b1, undefined, [[2, opt.u32(true, 1 | (2 << 2))]]),
    epb(true, 1, 1_500_000n, b2, 200),
    pb(true, 2, 4, 8n * 10n + 3n, b3),
    spb(true, 9, b4), // interface 0: snaplen 128, caplen = min(orig 9, room)
    isb(true, 2, 16n, [[5, opt.u64(true, 5n)]]),
  );
  const r = openCaptureReader(file, { bufferSize: 4096 });
  assert.ok(r instanceof PcapngReader);
  const recs = collect(r);
  assert.equal(recs.length, 7);
  assert.equal(r.sections.length, 2);
  assert.deepEqual(r.sections.map((s) => [s.bigEndian, s.application]), [[false, 'crafted'], [true, 'big']]);
  assert.equal(r.sections[0].os, 'os');
  assert.deepEqual(r.interfaces.map((i) => [i.section, i.id, i.linkType]), [[0, 0, 1], [0, 1, 101], [1, 0, 276], [1, 1, 228], [1, 2, 229]]);
  assert.equal(r.interfaces[2].name, 'sll2');
  assert.equal(r.interfaces[2].tsresol.toString(), '2^-20 s');
  const want = (rec: FileRecord, sec: number, nsec: number, lt: number, ifid: number, section: number, data: Uint8Array) => {
    assert.deepEqual([rec.sec, rec.nsec, rec.linkType, rec.ifindex, rec.section], [sec, nsec, lt, ifid, section]);
    assert.deepEqual(rec.bytes, data);
  };
  want(recs[0], 1700000000, 123456789, 1, 0, 0, a1);
  assert.deepEqual([recs[0].wireLen, recs[0].epbFlags, recs[0].pktType, recs[0].dropCount], [1000, 2, 4, 77]);
  want(recs[1], 1700000000, 123000000, 101, 1, 0, a2);
  assert.equal(recs[1].epbFlags, -1);
  want(recs[2], 0, 5, 1, 0, 0, a3);
  want(recs[3], 1700000000, 500000000, 276, 0, 1, b1);
  assert.equal(recs[3].pktType, 2); // multicast
  want(recs[4], 101, 500000000, 228, 1, 1, b2); // 1.5 s + 100 s offset
  assert.equal(recs[4].wireLen, 200);
  want(recs[5], 10, 375000000, 229, 2, 1, b3);
  assert.equal(recs[5].dropCount, 4);
  want(recs[6], 0, 0, 276, 0, 1, b4);
  const st0 = r.statistics[0]!;
  assert.deepEqual([st0.received, st0.dropped, st0.sec, st0.startSec, st0.startNsec], [10, 2 ** 40 + 3, 1700000001, 1700000000, 0]);
  const st4 = r.statistics[4]!;
  assert.deepEqual([st4.section, st4.interfaceId, st4.dropped, st4.sec], [1, 2, 5, 2]);
});

test('pcapng: SPB caplen is cut to the interface snaplen', () => {
  const data = randomBytes(40, rng(3));
  const r = openCaptureReader(concat(shb(false), idb(false, 1, 16), spb(false, 40, data)));
  const rec = r.next()!;
  assert.deepEqual([rec.caplen, rec.wireLen], [16, 40]);
  assert.deepEqual(rec.bytes, data.subarray(0, 16));
});

test('timestamp conversion is exact against BigInt for many resolutions', () => {
  const r = rng(42);
  const out = { sec: 0, nsec: 0 };
  for (const raw of [0, 1, 3, 6, 9, 10, 11, 12, 15, 0x80, 0x80 | 1, 0x80 | 10, 0x80 | 20, 0x80 | 30, 0x80 | 32, 0x80 | 40, 0x80 | 64]) {
    const res = new TsResolution(raw);
    const per = raw & 0x80 ? 1n << BigInt(raw & 0x7f) : 10n ** BigInt(raw);
    for (let i = 0; i < 2000; i++) {
      let ticks: bigint;
      if (i < 4) ticks = [0n, 1n, per - 1n, 2n ** 64n - 1n][i];
      else ticks = (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
      if (i % 3 === 0) ticks = BigInt(Math.floor(r() * 2 ** 31)) * per + BigInt(Math.floor(r() * Number(per < 2n ** 50n ? per : 2n ** 50n)));
      ticks &= 2n ** 64n - 1n;
      timeFromTicks(Number(ticks >> 32n), Number(ticks & 0xffffffffn), res, out);
      const sec = ticks / per;
      const nsec = ((ticks % per) * 1_000_000_000n) / per;
      if (sec < 2n ** 53n) assert.equal(out.sec, Number(sec), `raw ${raw} ticks ${ticks}`);
      assert.equal(out.nsec, Number(nsec), `raw ${raw} ticks ${ticks}`);
    }
  }
  const t = { hi: 0, lo: 0 };
  for (let i = 0; i < 20000; i++) {
    const sec = Math.floor(r() * 2 ** 34);
    const scale = i % 2 ? 1e9 : 1e6;
    const sub = Math.floor(r() * scale);
    ticksFromTime(sec, sub, scale, t);
    const want = BigInt(sec) * BigInt(scale) + BigInt(sub);
    assert.equal((BigInt(t.hi) << 32n) | BigInt(t.lo), want);
  }
});

test('streaming from a file: small buffer, many records, constant memory', () => {
  const f = path.join(dir, 'many.pcapng');
  const parts: Uint8Array[] = [shb(false), idb(false, 1, 0)];
  const r0 = rng(77);
  const lens: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const n = Math.floor(r0() * 1500);
    lens.push(n);
    const d = new Uint8Array(n).fill(i & 0xff);
    parts.push(epb(false, 0, BigInt(i), d));
  }
  fs.writeFileSync(f, concat(...parts));
  const r = new PcapngReader(f, { bufferSize: 4096 });
  let i = 0;
  let maxBuf = 0;
  for (let rec = r.next(); rec !== null; rec = r.next()) {
    assert.equal(rec.caplen, lens[i]);
    if (rec.caplen > 0) assert.equal(rec.data[rec.offset + rec.caplen - 1], i & 0xff);
    assert.equal(rec.nsec, i * 1000);
    maxBuf = Math.max(maxBuf, rec.data.length);
    i++;
  }
  assert.equal(i, 3000);
  assert.equal(r.count, 3000);
  assert.equal(maxBuf, 4096); // never grew: records fit in the chunk buffer
  r.close();
  r.close();
});

test('reading from an open file descriptor; forEach can stop early', () => {
  const f = path.join(dir, 'fd.pcap');
  fs.writeFileSync(f, craftPcap({ be: false, nano: true, records: [1, 2, 3, 4].map((i) => ({ sec: i, sub: 0, data: Uint8Array.of(i) })) }));
  const fd = fs.openSync(f, 'r');
  const r = openCaptureReader(fd);
  const seen: number[] = [];
  const n = r.forEach((rec) => { seen.push(rec.sec); return rec.sec < 2; });
  assert.equal(n, 2);
  assert.deepEqual(seen, [1, 2]);
  assert.equal(r.next()!.sec, 3);
  r.close();
  fs.fstatSync(fd); // not closed by the reader: it did not open it
  fs.closeSync(fd);
});

test('pcapng reader: runs of packets in one interface across second and 2^32-tick boundaries', () => {
  const r0 = rng(1234);
  for (const raw of [9, 6, 3, 0, 10, 0x80 | 20, 0x80 | 30, 0x80 | 2, 0x80 | 40]) {
    const per = raw & 0x80 ? 1n << BigInt(raw & 0x7f) : 10n ** BigInt(raw);
    const parts = [shb(false), idb(false, 1, 0, [[9, opt.u8(raw)]])];
    const want: Array<[number, number]> = [];
    // Start just below a 2^32 tick boundary; small and large steps, sometimes backwards.
    let ticks = (BigInt(Math.floor(r0() * 2 ** 20) + 5) << 32n) - 3n * per;
    for (let i = 0; i < 600; i++) {
      const step = i % 50 === 0 ? -per / 2n : BigInt(Math.floor(r0() * Number(per < 1000n ? per : per / 100n))) + 1n;
      ticks += step;
      parts.push(epb(false, 0, ticks, Uint8Array.of(i & 0xff)));
      want.push([Number(ticks / per), Number(((ticks % per) * 1_000_000_000n) / per)]);
    }
    const got: Array<[number, number]> = [];
    for (const rec of openCaptureReader(concat(...parts))) got.push([rec.sec, rec.nsec]);
    assert.deepEqual(got, want, `if_tsresol 0x${raw.toString(16)}`);
  }
});
