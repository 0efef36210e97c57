import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

for (const how of ['add', 'addBatch', 'addBatch, large-table path'] as const) test(`metering millions of ring packets over 10k flows allocates nothing per packet (${how}; no GC during the walk)`, () => {
  const ring = fileURLToPath(new URL('../../src/index.js', import.meta.url));
  const flow = fileURLToPath(new URL('../../src/flow/index.js', import.meta.url));
  const image = fileURLToPath(new URL('../helpers/ring-image.js', import.meta.url));
  // 1 M UDP packets from 10 000 flows per pass, 4 passes; every pass ends by expiring
  // all flows, so inserts, lookups, record writes, removals and record flushes all run.
  const script = `
    const m = await import(${JSON.stringify(ring)});
    const fl = await import(${JSON.stringify(flow)});
    const im = await import(${JSON.stringify(image)});
    const g = { blockSize: 1 << 20, blockCount: 160 };
    const f = new Uint8Array(64);
    f[12] = 8; f[14] = 0x45; f[17] = 50; f[22] = 64; f[23] = 17;
    f.set([10, 0, 0, 1, 10, 0, 0, 2], 26);
    const frames = { *[Symbol.iterator]() { for (let i = 0; i < 1_000_000; i++) {
      const fl = i % 10000; f[34] = fl >> 8; f[35] = fl & 255; f[36] = 0x13; f[37] = 0x89;
      yield { bytes: f, sec: 1000 + (i >> 17), nsec: i & 0x1ffff }; } } };
    const img = im.buildRingImage(frames, g);
    const r = new m.RingReader(img.buffer, g);
    let records = 0;
    const t = new fl.FlowTable({ maxFlows: 16384, onFull: (rb) => { records += rb.count; } });
    ${how === 'addBatch, large-table path' ? 't._directMax = -1; // the large-table path: the stage and the packet-by-packet loop in timed epochs' : ''}
    const walk = () => {
      for (let b = r.acquire(); b !== null; b = r.acquire())
        ${how === 'add' ? 'for (let p = b.next(); p !== null; p = b.next()) t.add(p);' : 't.addBatch(b);'}
      t.expire(1e30); t.flushRecords();
      im.rearmImage(img.buffer, g, img.blocksUsed); r.cursor = 0; };
    walk(); walk();            // warm up (JIT)
    globalThis.gc();
    const before = t.packets, recBefore = records;
    console.log('WALK-START');
    for (let k = 0; k < 4; k++) walk();
    console.log('WALK-END ' + (t.packets - before) + ' ' + (records - recBefore) + ' ' + t.ignored);
  `;
  const out = execFileSync(process.execPath, ['--expose-gc', '--trace-gc', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 24 });
  assert.match(out, /WALK-END 4000000 40000 0/, 'every packet metered, 10 000 records per pass');
  const walk = out.slice(out.indexOf('WALK-START'), out.indexOf('WALK-END'));
  const gcs = walk.split('\n').filter((l) => /Scavenge|Mark-Compact|Mark-sweep|Minor/i.test(l));
  assert.deepEqual(gcs, [], 'no garbage collection while metering 4 M packets');
});
