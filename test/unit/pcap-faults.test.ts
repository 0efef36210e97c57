/**
 * Hostile and irregular capture files, read the way libpcap/tcpdump read
 * them: records longer than the file's snapshot length are read whole (one
 * warning; strict mode refuses them), a file that turns bad midway keeps every
 * packet before the bad record (printed, written, counted) and then fails with
 * the file name and the count, and records round-trip exactly as the file
 * says (original length 0, a microsecond field >= 1,000,000).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCaptureReader, PcapFormatError, type ReaderWarning } from '../../src/pcap/index.js';
import { concat, craftPcap, epb, idb, shb } from './pcap-craft.js';
import { udpFrame, seqPayload } from '../helpers/netns.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function withDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'netring-pcapfault-'));
  try { return fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

const frame = (i: number): Uint8Array => udpFrame({ payload: seqPayload(i, 30) });

/** pcap with snaplen 40 whose records are 72 bytes: every record is over the snaplen. */
function overSnaplenPcap(n: number): Uint8Array {
  return craftPcap({ be: false, nano: false, snaplen: 40, records: Array.from({ length: n }, (_, i) => ({ sec: 10 + i, sub: i, data: frame(i) })) });
}

function readAll(bytes: Uint8Array | string, opts = {}): { recs: Array<{ caplen: number; wireLen: number; sec: number; nsec: number; linkType: number }>; warnings: ReaderWarning[] } {
  const warnings: ReaderWarning[] = [];
  const r = openCaptureReader(bytes, { ...opts, onWarning: (w) => warnings.push(w) });
  const recs = [];
  try { for (const x of r) recs.push({ caplen: x.caplen, wireLen: x.wireLen, sec: x.sec, nsec: x.nsec, linkType: x.linkType }); } finally { r.close(); }
  return { recs, warnings };
}

test('caplen > snaplen: read whole by default with exactly one warning; strictSnaplen refuses (pcap and pcapng)', () => {
  const pcap = overSnaplenPcap(3);
  const { recs, warnings } = readAll(pcap);
  assert.equal(recs.length, 3);
  assert.ok(recs.every((r) => r.caplen === frame(0).length));
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0].code, 'CAPLEN_EXCEEDS_SNAPLEN');
  assert.equal(warnings[0].offset, 24);
  assert.throws(() => readAll(pcap, { strictSnaplen: true }), (e: unknown) => e instanceof PcapFormatError && e.code === 'CAPLEN_EXCEEDS_SNAPLEN');

  const ng = concat(shb(false), idb(false, 1, 40), epb(false, 0, 1n, frame(0)), epb(false, 0, 2n, frame(1)));
  const n = readAll(ng);
  assert.equal(n.recs.length, 2);
  assert.equal(n.warnings.length, 1);
  assert.throws(() => readAll(ng, { strictSnaplen: true }), (e: unknown) => e instanceof PcapFormatError && e.code === 'CAPLEN_EXCEEDS_SNAPLEN');
});

test('capture -r of a caplen > snaplen file: every packet printed, one warning line naming the file, exit 0', () => withDir((dir) => {
  const f = join(dir, 'over.pcap');
  writeFileSync(f, overSnaplenPcap(5));
  const r = cli(['capture', '-r', f]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 5);
  const warn = r.stderr.split('\n').filter((l) => l.includes('warning'));
  assert.equal(warn.length, 1, r.stderr);
  assert.ok(warn[0].includes(f) && warn[0].includes('exceeds the file snaplen 40'), warn[0]);
  assert.match(r.stderr, /^5 packets received$/m);
}));

/** 5 records; the file is cut inside the 4th record's data. */
function truncatedPcap(): Uint8Array {
  const whole = craftPcap({ be: false, nano: false, records: Array.from({ length: 5 }, (_, i) => ({ sec: 10 + i, sub: i, data: frame(i) })) });
  const rec = 16 + frame(0).length;
  return whole.subarray(0, 24 + 3 * rec + 16 + 10);
}

test('capture -r of a file truncated midway: the packets before are printed and counted, error names the file and count, exit 1', () => withDir((dir) => {
  const f = join(dir, 'cut.pcap');
  writeFileSync(f, truncatedPcap());
  const r = cli(['capture', '-r', f]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 3, r.stdout);
  assert.match(r.stderr, /^3 packets received$/m);
  const last = r.stderr.trim().split('\n').at(-1)!;
  assert.ok(last.startsWith(`netring: ${f}: truncated capture file`), last);
  assert.match(last, /after 3 packets$/);
}));

test('capture -r truncated -w out: the packets before the truncation are written to a valid file (and in --json)', () => withDir((dir) => {
  const f = join(dir, 'cut.pcap');
  const out = join(dir, 'out.pcapng');
  writeFileSync(f, truncatedPcap());
  const r = cli(['capture', '-r', f, '-w', out, '--json']);
  assert.equal(r.code, 1, r.stderr);
  const s = JSON.parse(r.stdout.trim());
  assert.equal(s.written, 3);
  assert.match(s.fault, /truncated capture file/);
  assert.equal(readAll(out).recs.length, 3);
  const info = spawnSync('capinfos', ['-c', out], { encoding: 'utf8' });
  if (info.status !== null && !info.error) assert.match(info.stdout, /Number of packets:\s+3\b/);
}));

test('capture -r in.pcap -w out.pcap keeps every record as the file says: original length 0, usec >= 1e6, caplen > snaplen', () => withDir((dir) => {
  const f = join(dir, 'odd.pcap');
  const out = join(dir, 'out.pcap');
  const bytes = craftPcap({
    be: false, nano: false, snaplen: 65535, records: [
      { sec: 100, sub: 5, data: frame(0), orig: 0 },
      { sec: 101, sub: 1_500_000, data: frame(1) },
      { sec: 102, sub: 999_999, data: frame(2), orig: 1514 },
    ],
  });
  writeFileSync(f, bytes);
  const r = cli(['capture', '-r', f, '-w', out]);
  assert.equal(r.code, 0, r.stderr);
  const back = readFileSync(out);
  // the records (after the 24-byte file header) are byte-identical
  assert.deepEqual(Buffer.from(back.subarray(24)), Buffer.from(bytes.subarray(24)));
  const { recs } = readAll(bytes);
  assert.deepEqual(recs.map((x) => [x.sec, x.nsec, x.wireLen]), [[100, 5000, 0], [101, 1_500_000_000, frame(1).length], [102, 999_999_000, 1514]]);
}));

test('pcapng: original length 0 survives a pcapng -> pcapng copy', () => withDir((dir) => {
  const f = join(dir, 'zero.pcapng');
  const out = join(dir, 'out.pcapng');
  writeFileSync(f, concat(shb(false), idb(false, 1, 0), epb(false, 0, 7n, frame(0), 0)));
  const r = cli(['capture', '-r', f, '-w', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readAll(out).recs.map((x) => [x.caplen, x.wireLen]), [[frame(0).length, 0]]);
}));

/** pcapng with an Ethernet interface and a Linux cooked (SLL, 113) one, packets alternating. */
function twoLinkTypes(): Uint8Array {
  const sll = (i: number): Uint8Array => { const b = new Uint8Array(16 + 20); b[1] = 4; b[15] = 8; b[16] = 0x45; b[35] = i; return b; };
  return concat(shb(false), idb(false, 1, 0), idb(false, 113, 0),
    epb(false, 0, 1n, frame(0)), epb(false, 1, 2n, sll(1)), epb(false, 0, 3n, frame(2)), epb(false, 1, 4n, sll(3)));
}

test('pcapng with two link types -> pcapng: each packet keeps its interface and link type (one IDB per interface)', () => withDir((dir) => {
  const f = join(dir, 'two.pcapng');
  const out = join(dir, 'out.pcapng');
  writeFileSync(f, twoLinkTypes());
  const r = cli(['capture', '-r', f, '-w', out]);
  assert.equal(r.code, 0, r.stderr);
  const reader = openCaptureReader(out);
  const got: number[] = [];
  try { for (const x of reader) got.push(x.linkType); } finally { reader.close(); }
  assert.deepEqual(got, [1, 113, 1, 113]);
  assert.deepEqual(reader.interfaces.map((i) => i.linkType), [1, 113]);
  const ts = spawnSync('tshark', ['-r', out, '-T', 'fields', '-e', 'frame.encap_type'], { encoding: 'utf8' });
  if (ts.status === 0) assert.equal(ts.stdout.trim().split('\n').length, 4);
}));

test('pcapng with two link types -> pcap: refused at the first packet of the other link type with the reason, what came before kept, exit 1', () => withDir((dir) => {
  const f = join(dir, 'two.pcapng');
  const out = join(dir, 'out.pcap');
  writeFileSync(f, twoLinkTypes());
  const r = cli(['capture', '-r', f, '-w', out]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /packet 2 \(byte offset \d+\) has link type 113, but a pcap file holds one link type \(1, from the first packet\): write pcapng instead/);
  assert.deepEqual(readAll(out).recs.map((x) => x.linkType), [1]);
}));
