import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openCaptureReader, PcapFormatError, PcapReader, PcapngReader, type CaptureReader } from '../../src/pcap/index.js';
import { Bytes, concat, craftPcap, shb, idb, epb, isb, block, opt, spb, pb, rng, randomBytes } from './pcap-craft.js';

/** Reads everything; returns the records delivered and the error that ended it (null = clean end). */
function drain(bytes: Uint8Array, options = {}): { n: number; err: PcapFormatError | null; reader: CaptureReader | null } {
  let reader: CaptureReader | null = null;
  let n = 0;
  try {
    reader = openCaptureReader(bytes, options);
    for (let r = reader.next(); r !== null; r = reader.next()) {
      n++;
      if (n > bytes.length) throw new Error('more records than bytes: reader loops');
    }
    return { n, err: null, reader };
  } catch (err) {
    if (err instanceof PcapFormatError) return { n, err, reader };
    throw err;
  }
}

function expectError(bytes: Uint8Array, code: string, offset?: number, options = {}): PcapFormatError {
  const { err } = drain(bytes, options);
  assert.ok(err, `expected ${code}`);
  assert.equal(err.code, code, err.message);
  if (offset !== undefined) assert.equal(err.offset, offset, err.message);
  assert.match(err.message, /byte offset \d+/);
  return err;
}

const pcapRecords = [5, 0, 17, 64].map((n, i) => ({ sec: 100 + i, sub: i, data: randomBytes(n, rng(i)) }));
const smallPcap = craftPcap({ be: false, nano: true, records: pcapRecords });
const pcapEnds: number[] = [];
{
  let p = 24;
  for (const r of pcapRecords) { p += 16 + r.data.length; pcapEnds.push(p); }
}

const ngBlocks = [
  shb(false, [[4, new TextEncoder().encode('x')]]),
  idb(false, 1, 0, [[9, opt.u8(9)]]),
  epb(false, 0, 1n, randomBytes(5, rng(1)), undefined, [[2, opt.u32(false, 1)]]),
  block(false, 0x0bad, new Uint8Array(8)),
  epb(false, 0, 2n, randomBytes(0, rng(2))),
  isb(false, 0, 3n, [[5, opt.u64(false, 1n)]]),
  epb(false, 0, 3n, randomBytes(13, rng(3))),
];
const smallNg = concat(...ngBlocks);
const ngStarts: number[] = [];
{
  let p = 0;
  for (const b of ngBlocks) { ngStarts.push(p); p += b.length; }
}
const ngPacketEnds = [2, 4, 6].map((i) => ngStarts[i] + ngBlocks[i].length);

test('pcap truncated at every byte: complete records first, then TRUNCATED at the partial record', () => {
  for (let cut = 0; cut < smallPcap.length; cut++) {
    const { n, err } = drain(smallPcap.subarray(0, cut));
    const complete = pcapEnds.filter((e) => e <= cut).length;
    assert.equal(n, complete, `cut ${cut}`);
    const boundary = cut === 24 || pcapEnds.includes(cut);
    if (boundary) { assert.equal(err, null, `cut ${cut}`); continue; }
    assert.ok(err, `cut ${cut}`);
    assert.equal(err.code, 'TRUNCATED', `cut ${cut}: ${err.message}`);
    assert.equal(err.offset, cut < 24 ? 0 : (complete === 0 ? 24 : pcapEnds[complete - 1]), `cut ${cut}`);
  }
});

test('pcapng truncated at every byte: complete packets first, then TRUNCATED at the partial block', () => {
  for (let cut = 0; cut < smallNg.length; cut++) {
    const { n, err } = drain(smallNg.subarray(0, cut));
    const complete = ngPacketEnds.filter((e) => e <= cut).length;
    assert.equal(n, complete, `cut ${cut}`);
    const boundary = ngStarts.includes(cut) && cut >= ngBlocks[0].length;
    if (boundary) { assert.equal(err, null, `cut ${cut}`); continue; }
    assert.ok(err, `cut ${cut}`);
    assert.equal(err.code, 'TRUNCATED', `cut ${cut}: ${err.message}`);
    const blockStart = Math.max(...ngStarts.filter((s) => s <= cut));
    assert.equal(err.offset, blockStart, `cut ${cut}`);
  }
});

test("onTruncated: 'end' stops quietly and sets truncated", () => {
  const cut = pcapEnds[1] + 7;
  const { n, err, reader } = drain(smallPcap.subarray(0, cut), { onTruncated: 'end' });
  assert.equal(err, null);
  assert.equal(n, 2);
  assert.equal(reader!.truncated, true);
  const whole = drain(smallPcap, { onTruncated: 'end' });
  assert.equal(whole.reader!.truncated, false);
});

test('the error is sticky: next() keeps throwing it, never loops', () => {
  const r = openCaptureReader(smallPcap.subarray(0, pcapEnds[0] + 3));
  assert.ok(r.next());
  const e1 = (() => { try { r.next(); } catch (e) { return e; } })();
  const e2 = (() => { try { r.next(); } catch (e) { return e; } })();
  assert.ok(e1 instanceof PcapFormatError);
  assert.equal(e1, e2);
  assert.throws(() => [...r], PcapFormatError);
});

test('bad magic and empty files', () => {
  expectError(new Uint8Array(0), 'TRUNCATED', 0);
  expectError(Uint8Array.of(0xa1, 0xb2), 'TRUNCATED', 0);
  expectError(new TextEncoder().encode('hello world, not a capture file at all'), 'BAD_MAGIC', 0);
  assert.throws(() => new PcapReader(smallNg), (e: unknown) => e instanceof PcapFormatError && e.code === 'BAD_MAGIC');
  assert.throws(() => new PcapngReader(smallPcap), (e: unknown) => e instanceof PcapFormatError && e.code === 'BAD_MAGIC');
  const badBom = smallNg.slice();
  badBom[8] ^= 0xff;
  expectError(badBom, 'BAD_MAGIC', 8);
});

test('versions', () => {
  expectError(craftPcap({ be: true, nano: false, version: [3, 0], records: [] }), 'BAD_VERSION', 4);
  expectError(concat(shb(false, [], [2, 0]), idb(false, 1, 0)), 'BAD_VERSION', 12);
});

test('pcap caplen: above snaplen (strict mode refuses, default reads), above the hard limit', () => {
  const big = craftPcap({ be: false, nano: false, snaplen: 64, records: [{ sec: 1, sub: 0, data: new Uint8Array(10) }, { sec: 1, sub: 0, data: new Uint8Array(65) }] });
  expectError(big, 'CAPLEN_EXCEEDS_SNAPLEN', 24 + 26, { strictSnaplen: true });
  const ok = drain(big);
  assert.equal(ok.err, null);
  assert.equal(ok.n, 2);
  // A header claiming a 2 GB record must not be believed (and nothing allocated for it).
  const absurd = craftPcap({ be: true, nano: true, records: [{ sec: 1, sub: 0, data: new Uint8Array(4), caplen: 0x7fffffff }] });
  expectError(absurd, 'BAD_CAPLEN', 24);
  expectError(absurd, 'BAD_CAPLEN', 24, { strictSnaplen: false });
  // snaplen 0 in the header (seen in the wild): only the hard limit applies.
  const zero = craftPcap({ be: false, nano: true, snaplen: 0, records: [{ sec: 1, sub: 0, data: new Uint8Array(3000) }] });
  assert.equal(drain(zero).n, 1);
  // wireLen below caplen is kept as the file says (libpcap hands it on too: BPF `len` sees it).
  const shortWire = drain(craftPcap({ be: false, nano: true, records: [{ sec: 1, sub: 0, data: new Uint8Array(30), orig: 2 }] }));
  assert.equal(shortWire.reader!.interfaces.length, 1);
  const r = openCaptureReader(craftPcap({ be: false, nano: true, records: [{ sec: 1, sub: 0, data: new Uint8Array(30), orig: 2 }] }));
  assert.equal(r.next()!.wireLen, 2);
});

test('pcapng block lengths: not a multiple of 4, too small, trailer differs, too large', () => {
  const head = concat(shb(false), idb(false, 1, 0));
  const at = head.length;
  const body = new Bytes(false).u32(0).hiLo(1n).u32(4).u32(4).u32(0).build();
  expectError(concat(head, block(false, 6, body, 34, 34)), 'BAD_BLOCK_LENGTH', at + 4);
  expectError(concat(head, block(false, 6, body, 8, 8)), 'BAD_BLOCK_LENGTH', at + 4);
  expectError(concat(head, block(false, 6, body, 0, 0)), 'BAD_BLOCK_LENGTH', at + 4);
  expectError(concat(head, block(false, 6, body, undefined, 40)), 'BAD_BLOCK_LENGTH', at + 36 - 4);
  expectError(concat(head, block(false, 6, body, 0xfffffffc, 0xfffffffc)), 'BAD_BLOCK_LENGTH', at + 4);
  // A length that fits the limit but runs past the end of the file is a truncation.
  expectError(concat(head, block(false, 6, body, 4096, 4096)), 'TRUNCATED', at);
  // An EPB shorter than its fixed fields.
  expectError(concat(head, block(false, 6, new Uint8Array(8))), 'BAD_BLOCK_LENGTH', at + 4);
  expectError(concat(shb(false), block(false, 1, new Uint8Array(4))), 'BAD_BLOCK_LENGTH');
  expectError(concat(head, block(false, 5, new Uint8Array(8))), 'BAD_BLOCK_LENGTH');
  expectError(concat(head, block(false, 3, new Uint8Array(0))), 'BAD_BLOCK_LENGTH');
  expectError(concat(head, block(false, 2, new Uint8Array(8))), 'BAD_BLOCK_LENGTH');
  // SHB claiming to be shorter than its fixed part.
  const s = shb(false).slice();
  new DataView(s.buffer).setUint32(4, 12, true);
  expectError(s, 'BAD_BLOCK_LENGTH', 4);
});

test('pcapng packet fields: caplen vs block, snaplen, hard limit; unknown interface; bad option', () => {
  const head = concat(shb(true), idb(true, 1, 32));
  const at = head.length;
  expectError(concat(head, epb(true, 0, 1n, new Uint8Array(8), undefined, [], 9)), 'BAD_CAPLEN', at);
  expectError(concat(head, epb(true, 0, 1n, new Uint8Array(33))), 'CAPLEN_EXCEEDS_SNAPLEN', at, { strictSnaplen: true });
  assert.equal(drain(concat(head, epb(true, 0, 1n, new Uint8Array(33)))).n, 1);
  expectError(concat(shb(true), idb(true, 1, 0), epb(true, 0, 1n, new Uint8Array(300))), 'BAD_CAPLEN', undefined, { maxCaplen: 256 });
  expectError(concat(head, epb(true, 1, 1n, new Uint8Array(8))), 'BAD_INTERFACE', at);
  expectError(concat(shb(true), epb(true, 0, 1n, new Uint8Array(8))), 'BAD_INTERFACE');
  expectError(concat(shb(true), spb(true, 4, new Uint8Array(4))), 'BAD_INTERFACE');
  expectError(concat(head, pb(true, 3, 0, 1n, new Uint8Array(4))), 'BAD_INTERFACE');
  expectError(concat(head, isb(true, 2, 1n, [])), 'BAD_INTERFACE');
  // Interfaces do not leak from one section into the next.
  expectError(concat(head, shb(false), epb(false, 0, 1n, new Uint8Array(4))), 'BAD_INTERFACE');
  // An option whose length runs past its block.
  const bad = epb(true, 0, 1n, new Uint8Array(4), undefined, [[2, opt.u32(true, 1)]]).slice();
  new DataView(bad.buffer).setUint16(28 + 4 + 2, 200, false);
  expectError(concat(head, bad), 'BAD_OPTION', at);
  const badIdb = idb(false, 1, 0, [[2, new TextEncoder().encode('eth0')]]).slice();
  new DataView(badIdb.buffer).setUint16(16 + 2, 100, true);
  expectError(concat(shb(false), badIdb), 'BAD_OPTION');
});

test('a maxBlockLength bound keeps memory bounded', () => {
  const head = concat(shb(false), idb(false, 1, 0));
  const big = block(false, 0x0bad, new Uint8Array(70000));
  expectError(concat(head, big), 'BAD_BLOCK_LENGTH', head.length + 4, { maxBlockLength: 65536 });
  assert.equal(drain(concat(head, big)).err, null);
});

test('fuzz: 100k mutations of valid files raise only PcapFormatError and always terminate', (t) => {
  const r = rng(20240601);
  const seeds = [
    smallPcap,
    craftPcap({ be: true, nano: false, snaplen: 100, linkType: 101, records: pcapRecords }),
    smallNg,
    concat(shb(true), idb(true, 113, 64, [[9, opt.u8(0x80 | 10)], [14, opt.u64(true, 5n)]]), epb(true, 0, 99n, randomBytes(20, r)),
      pb(true, 0, 1, 5n, randomBytes(7, r)), spb(true, 30, randomBytes(30, r)), isb(true, 0, 1n, [[4, opt.u64(true, 9n)], [2, opt.hiLo(true, 3n)]]),
      shb(false), idb(false, 1, 0), epb(false, 0, 1n, randomBytes(9, r))),
  ];
  const interesting = [0, 1, 4, 8, 12, 16, 28, 32, 0x7fffffff, 0xffffffff, 0x80000000, 0xfffffffc, 0x0a0d0d0a, 0x1a2b3c4d, 0xa1b2c3d4, 0xa1b23c4d];
  const counts: Record<string, number> = {};
  for (let i = 0; i < 100000; i++) {
    const base = seeds[i % seeds.length];
    let m: Uint8Array = base.slice();
    const kind = Math.floor(r() * 5);
    const nMut = 1 + Math.floor(r() * 4);
    for (let k = 0; k < nMut; k++) {
      const pos = Math.floor(r() * m.length);
      if (kind === 0) m[pos] = Math.floor(r() * 256);
      else if (kind === 1) m[pos] ^= 1 << Math.floor(r() * 8);
      else if (kind === 2 && pos + 4 <= m.length) {
        new DataView(m.buffer).setUint32(pos & ~3, interesting[Math.floor(r() * interesting.length)], r() < 0.5);
      } else if (kind === 3) m = m.subarray(0, pos);
      else {
        const ins = randomBytes(1 + Math.floor(r() * 12), r);
        m = concat(m.subarray(0, pos), ins, m.subarray(pos));
      }
    }
    let out: ReturnType<typeof drain>;
    try {
      out = drain(m, { bufferSize: 4096 });
    } catch (err) {
      assert.fail(`mutation ${i} threw a non-format error: ${(err as Error).stack}`);
    }
    const key = out.err ? out.err.code : 'ok';
    counts[key] = (counts[key] ?? 0) + 1;
    if (out.err) assert.ok(out.err.offset >= 0 && out.err.offset <= m.length, `offset ${out.err.offset} outside the file`);
  }
  t.diagnostic(`fuzz outcomes: ${JSON.stringify(counts)}`);
  // The mutations really exercised the error paths.
  for (const code of ['ok', 'TRUNCATED', 'BAD_MAGIC', 'BAD_BLOCK_LENGTH', 'BAD_CAPLEN']) assert.ok((counts[code] ?? 0) > 0, `${code} never seen: ${JSON.stringify(counts)}`);
});
