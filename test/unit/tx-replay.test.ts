/** Replay sources on crafted files: schedule, speed, loops, sizes, link-type and file errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReplay, scanReplay } from '../../src/gen/replay.js';
import { buildPacket } from '../../src/build/builder.js';
import { PcapWriter, PcapngWriter } from '../../src/pcap/index.js';
import { NetringError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'nrreplay-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** Write frames at the given offsets (ns) from a base time. */
function file(name: string, offsetsNs: number[], sizes: number[], linkType = 1, ng = false): string {
  const p = join(dir, name);
  const w = ng ? new PcapngWriter(p, { linkType }) : new PcapWriter(p, { linkType });
  offsetsNs.forEach((o, i) => {
    const f = buildPacket({ size: sizes[i % sizes.length], sport: i }).bytes;
    const ns = 5e8 + o;
    w.write(f, 0, f.length, f.length, 1_700_000_000 + Math.floor(ns / 1e9), ns % 1e9);
  });
  w.close();
  return p;
}

function drain(src: ReturnType<typeof openReplay>): { due: number[]; frames: Uint8Array[] } {
  const u8 = new Uint8Array(9216);
  const due: number[] = [];
  const frames: Uint8Array[] = [];
  for (;;) {
    const d = src.due ? src.due() : 0;
    if (d < 0) break;
    const n = src.write(u8, 0);
    if (n === 0) break;
    due.push(d);
    frames.push(u8.slice(0, n));
  }
  return { due, frames };
}

test('scan: records, sizes, duration', () => {
  const p = file('a.pcap', [0, 1e6, 3e6, 2e9 + 7], [60, 1514, 100]);
  const info = scanReplay(p);
  assert.deepEqual(info, { records: 4, maxLength: 1514, meanLength: (60 + 1514 + 100 + 60) / 4, durationNs: 2e9 + 7, truncated: 0 });
});

test('recorded timing, speed and loops', () => {
  for (const ng of [false, true]) {
    const offs = [0, 1e6, 3e6, 10e6, 10.5e6];
    const p = file(`b${ng ? '.pcapng' : '.pcap'}`, offs, [64, 128], 1, ng);
    const r1 = drain(openReplay({ file: p }));
    assert.deepEqual(r1.due, offs);
    assert.deepEqual(r1.frames.map((f) => f.length), [64, 128, 64, 128, 64]);
    assert.deepEqual(r1.frames.map((f) => (f[34] << 8) | f[35]), [0, 1, 2, 3, 4], 'in file order');
    const r2 = drain(openReplay({ file: p, speed: 4 }));
    assert.deepEqual(r2.due, offs.map((o) => o / 4));
    const r3 = drain(openReplay({ file: p, speed: 2, loop: 3 }));
    const d = 10.5e6 / 2;
    assert.deepEqual(r3.due, [...offs.map((o) => o / 2), ...offs.map((o) => d + o / 2), ...offs.map((o) => 2 * d + o / 2)]);
    assert.equal(r3.frames.length, 15);
    const r4 = openReplay({ file: p, ignoreTiming: true, loop: 2 });
    assert.equal(r4.due, undefined);
    assert.equal(drain(r4).frames.length, 10);
  }
});

test('loop 0 repeats until the caller stops', () => {
  const p = file('c.pcap', [0, 5], [60]);
  const src = openReplay({ file: p, loop: 0 });
  const u8 = new Uint8Array(100);
  for (let i = 0; i < 1000; i++) assert.equal(src.write(u8, 0), 60);
  assert.equal(src.loopsStarted, 500);
  src.close();
});

test('errors: other link types, missing file, not a capture, bad options', () => {
  const raw = file('raw.pcap', [0], [60], 101);
  assert.throws(() => openReplay({ file: raw }), (e: unknown) => e instanceof NetringError && e.code === 'EINVAL'
    && /raw\.pcap: interface 0 has link type RAW \(101\); only Ethernet \(LINKTYPE_ETHERNET, 1\) captures can be replayed/.test(e.message));
  const sll = file('sll.pcapng', [0], [60], 113, true);
  assert.throws(() => openReplay({ file: sll }), /link type LINUX_SLL \(113\)/);
  assert.throws(() => openReplay({ file: join(dir, 'nope.pcap') }), (e: unknown) => e instanceof NetringError && /nope\.pcap: no such file/.test(e.message));
  const junk = join(dir, 'junk.pcap');
  writeFileSync(junk, 'this is not a capture file');
  assert.throws(() => openReplay({ file: junk }), /junk\.pcap: not a pcap or pcapng file/);
  const ok = file('d.pcap', [0], [60]);
  assert.throws(() => openReplay({ file: ok, speed: 0 }), /speed must be a positive number/);
  assert.throws(() => openReplay({ file: ok, loop: -1 }), /loop must be a whole number/);
});
