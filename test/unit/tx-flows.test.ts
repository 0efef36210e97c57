/** Sizes, ranges and flow sets. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSize, IMIX } from '../../src/gen/size.js';
import { parseAddrRange, parseIntRange } from '../../src/gen/ranges.js';
import { makeFlows } from '../../src/gen/flows.js';
import { parsePayload, fillPayload } from '../../src/build/payload.js';
import { NetringError } from '../../src/errors.js';

const einval = (fn: () => unknown, re: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof NetringError && e.code === 'EINVAL' && re.test(e.message), re.source);
};

test('size specs', () => {
  const f = parseSize('64');
  assert.ok(f.fixed);
  assert.equal(f.at(12345), 64);
  const imix = parseSize('imix');
  const counts = new Map<number, number>();
  for (let i = 0; i < 1200; i++) counts.set(imix.at(i), (counts.get(imix.at(i)) ?? 0) + 1);
  assert.deepEqual([...counts].sort((a, b) => a[0] - b[0]), [[60, 700], [590, 400], [1514, 100]]);
  assert.equal(IMIX.length, 12);
  assert.ok(Math.abs(imix.mean - (7 * 60 + 4 * 590 + 1514) / 12) < 1e-9);
  const r = parseSize('100-200', 9);
  const seen = new Set<number>();
  for (let i = 0; i < 20000; i++) { const v = r.at(i); assert.ok(v >= 100 && v <= 200); seen.add(v); }
  assert.equal(seen.size, 101, 'every size of the range comes up');
  assert.equal(parseSize('100-200', 9).at(777), r.at(777), 'deterministic with a seed');
  assert.notEqual([0, 1, 2, 3, 4, 5].map((i) => parseSize('100-200', 10).at(i)).join(), [0, 1, 2, 3, 4, 5].map((i) => r.at(i)).join());
  const l = parseSize('64, 128,256');
  assert.deepEqual([0, 1, 2, 3].map((i) => l.at(i)), [64, 128, 256, 64]);
  assert.equal(l.min, 64);
  assert.equal(l.max, 256);
  einval(() => parseSize('59'), /outside 60\.\.9000/);
  einval(() => parseSize('9001'), /outside 60\.\.9000/);
  einval(() => parseSize('200-100'), /range is empty/);
  einval(() => parseSize('big'), /expected a number/);
  einval(() => parseSize('64.5'), /expected a number|whole number/);
});

test('integer and address ranges', () => {
  const p = parseIntRange('1000-1003', 0, 65535, 'port');
  assert.deepEqual([0, 1, 2, 3].map((k) => p.at(k)), [1000, 1001, 1002, 1003]);
  assert.equal(parseIntRange('80,443', 0, 65535, 'port').at(1), 443);
  einval(() => parseIntRange('70000', 0, 65535, 'source port'), /bad source port "70000": 70000 is outside 0\.\.65535/);
  einval(() => parseIntRange('9-1', 0, 65535, 'port'), /empty range/);
  const c = parseAddrRange('10.1.2.128/25', 'src');
  assert.equal(c.count, 128);
  assert.equal(c.format(0), '10.1.2.128');
  assert.equal(c.format(127), '10.1.2.255');
  const r = parseAddrRange('10.0.0.250-10.0.1.5', 'src');
  assert.equal(r.count, 12);
  assert.equal(r.format(6), '10.0.1.0');
  assert.equal(parseAddrRange('1.1.1.1, 2.2.2.2', 'dst').format(1), '2.2.2.2');
  const v6 = parseAddrRange('fd00::1:0/112', 'src');
  assert.equal(v6.family, 6);
  assert.equal(v6.count, 65536);
  assert.equal(v6.format(5), 'fd00::1:5');
  const v6r = parseAddrRange('2001:db8::ff-2001:db8::1:1', 'dst');
  assert.equal(v6r.count, 0x10001 - 0xff + 1);
  assert.equal(v6r.format(1), '2001:db8::100');
  einval(() => parseAddrRange('fd00::/64', 'src'), /prefix of \/96 or longer/);
  einval(() => parseAddrRange('fd00::1-fd01::1', 'src'), /share their first 96 bits/);
  einval(() => parseAddrRange('10.0.0.9-10.0.0.1', 'src'), /empty range/);
  einval(() => parseAddrRange('banana', 'source address'), /bad source address "banana"/);
});

test('N distinct flows in order, auto-widening the source port', () => {
  const f = makeFlows({ src: '10.0.0.1', dst: '10.0.0.2', sport: 2000, dport: 53 }, { flows: 1000 });
  assert.equal(f.count, 1000);
  const keys = new Set<string>();
  for (let i = 0; i < f.count; i++) { const t = f.tuple(i); keys.add(`${t.src} ${t.dst} ${t.sport} ${t.dport}`); }
  assert.equal(keys.size, 1000);
  assert.equal(f.tuple(0).sport, 2000);
  assert.equal(f.tuple(999).sport, 2999);
  assert.deepEqual(f.varies, { src: false, dst: false, sport: true, dport: false, vlan: false });
});

test('flows over several ranges: sport fastest, then src, dport, dst, vlan', () => {
  const f = makeFlows({ src: '10.0.0.1-10.0.0.2', dst: '10.9.0.1', sport: '1-3', dport: '7,8', vlan: '100-101' });
  assert.equal(f.count, 2 * 3 * 2 * 2);
  const t = (i: number): string => { const x = f.tuple(i); return `${x.src}:${x.sport}>${x.dst}:${x.dport}@${x.vlan}`; };
  assert.equal(t(0), '10.0.0.1:1>10.9.0.1:7@100');
  assert.equal(t(1), '10.0.0.1:2>10.9.0.1:7@100');
  assert.equal(t(3), '10.0.0.2:1>10.9.0.1:7@100');
  assert.equal(t(6), '10.0.0.1:1>10.9.0.1:8@100');
  assert.equal(t(12), '10.0.0.1:1>10.9.0.1:7@101');
  assert.equal(t(23), '10.0.0.2:3>10.9.0.1:8@101');
});

test('random flows: distinct, seeded, deterministic', () => {
  const a = makeFlows({ src: '10.0.0.0/16', sport: '1000-1999' }, { flows: 5000, random: true, seed: 42 });
  const b = makeFlows({ src: '10.0.0.0/16', sport: '1000-1999' }, { flows: 5000, random: true, seed: 42 });
  const c = makeFlows({ src: '10.0.0.0/16', sport: '1000-1999' }, { flows: 5000, random: true, seed: 43 });
  const keys = new Set<string>();
  for (let i = 0; i < a.count; i++) keys.add(`${a.src[i]}:${a.sport[i]}`);
  assert.equal(keys.size, 5000);
  assert.deepEqual(a.src, b.src);
  assert.deepEqual(a.sport, b.sport);
  assert.notDeepEqual(a.src, c.src);
  // all flows of a small space, shuffled
  const all = makeFlows({ sport: '1-100' }, { flows: 100, random: true, seed: 1 });
  assert.deepEqual([...all.sport].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i + 1));
  assert.notDeepEqual([...all.sport], Array.from({ length: 100 }, (_, i) => i + 1));
});

test('IPv6 flows and errors', () => {
  const f = makeFlows({ src: 'fd00::10-fd00::13', dst: 'fd00::99' }, { flows: 8 });
  assert.equal(f.family, 6);
  assert.equal(f.count, 8);
  assert.equal(f.tuple(7).src, 'fd00::13');
  einval(() => makeFlows({ src: '10.0.0.1', dst: 'fd00::1' }), /different IP versions/);
  einval(() => makeFlows({ src: '10.0.0.1-10.0.0.2', sport: '1-2', dport: '1-2' }, { flows: 10 }), /only 8 distinct flows fit the given ranges/);
  einval(() => makeFlows({ sport: '1-2' }, { ports: false }), /ICMP has no ports/);
  einval(() => makeFlows({}, { flows: 0 }), /flows must be an integer/);
  // ICMP flows widen the source address instead of a port
  const icmp = makeFlows({ src: '10.0.0.1' }, { flows: 300, ports: false });
  assert.equal(icmp.tuple(299).src, '10.0.1.44');
});

test('payload patterns', () => {
  const b = new Uint8Array(10);
  fillPayload(b, 0, 10, parsePayload('inc'));
  assert.deepEqual([...b], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  fillPayload(b, 2, 5, parsePayload('hex:a1b2'));
  assert.deepEqual([...b.subarray(2, 7)], [0xa1, 0xb2, 0xa1, 0xb2, 0xa1]);
  fillPayload(b, 0, 4, parsePayload('text:ab'));
  assert.deepEqual([...b.subarray(0, 4)], [97, 98, 97, 98]);
  fillPayload(b, 0, 10, parsePayload('0x5a'));
  assert.ok(b.every((x) => x === 0x5a));
  const r1 = new Uint8Array(64), r2 = new Uint8Array(64);
  fillPayload(r1, 0, 64, parsePayload('random', 5));
  fillPayload(r2, 0, 64, parsePayload('random', 5));
  assert.deepEqual(r1, r2);
  assert.ok(new Set(r1).size > 20);
  einval(() => parsePayload('300'), /expected 0\.\.255/);
});
