/**
 * The steering program generator, run through the fan-out interpreter on both
 * the receive and the send path: symmetry, fallbacks, weights, classes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fanoutProgram, steeringProgram, runClassic, skbOf, parseSteer, tableProgram, tableValues, type SteerSpec, type BpfProgram,
} from '../../src/fanout/index.js';
import { frame, reverse, rng, randomFlow, type FrameSpec } from './fanout-frames.js';

const run = (p: BpfProgram, f: Uint8Array, dir: 'in' | 'out', n: number): number => runClassic(p, skbOf(f, dir)) % n;

const SYMMETRIC: SteerSpec[] = [{ kind: 'flow' }, { kind: 'ip' }, { kind: 'mac' }, { kind: 'field', offset: 26, size: 4, pairOffset: 30 }];

test('every symmetric function sends both directions of 5000 random flows to one member, on both paths', () => {
  const r = rng(1);
  for (const fn of SYMMETRIC) {
    for (const n of [2, 3, 7]) {
      const p = steeringProgram(fn, n);
      for (let i = 0; i < 5000 / SYMMETRIC.length; i++) {
        const s = randomFlow(r, fn.kind === 'field' ? false : undefined);
        const fwd = frame(s), rev = frame(reverse(s));
        const m = run(p, fwd, 'in', n);
        assert.equal(run(p, rev, 'in', n), m, `${fn.kind}/${n}: reverse direction differs`);
        assert.equal(run(p, fwd, 'out', n), m, `${fn.kind}/${n}: send path differs from receive path`);
        assert.equal(run(p, rev, 'out', n), m);
      }
    }
  }
});

test('flow spreads flows evenly and separates flows that differ only in ports', () => {
  const n = 4;
  const p = steeringProgram({ kind: 'flow' }, n);
  const counts = new Array(n).fill(0);
  for (let i = 0; i < 8000; i++) {
    counts[run(p, frame({ src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 1024 + i, dport: 80 }), 'in', n)]++;
  }
  for (const c of counts) assert.ok(Math.abs(c / 8000 - 0.25) < 0.03, `share ${c / 8000}`);
  // ip ignores ports: all of those go to one member
  const pi = steeringProgram({ kind: 'ip' }, n);
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) seen.add(run(pi, frame({ src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 1024 + i, dport: 80 }), 'in', n));
  assert.equal(seen.size, 1);
});

test('flow hashes VLAN-tagged frames like untagged ones (metadata on receive, in-frame tag on send), QinQ included', () => {
  const p = steeringProgram({ kind: 'flow' }, 5);
  const r = rng(2);
  for (let i = 0; i < 500; i++) {
    const s = randomFlow(r);
    const plain = run(p, frame(s), 'out', 5);
    assert.equal(run(p, frame({ ...s, tags: [[0x8100, 100 + i]] }), 'out', 5), plain);
    assert.equal(run(p, frame({ ...s, tags: [[0x8100, 100 + i]] }), 'in', 5), plain);
    assert.equal(run(p, frame({ ...s, tags: [[0x88a8, 7], [0x8100, 100 + i]] }), 'out', 5), plain);
  }
});

test('flow falls back to the IP pair for fragments, other protocols and IPv6 extension headers, and to the MAC pair for non-IP', () => {
  const n = 16;
  const p = steeringProgram({ kind: 'flow' }, n);
  const ip = steeringProgram({ kind: 'ip' }, n);
  const mac = steeringProgram({ kind: 'mac' }, n);
  const r = rng(3);
  for (let i = 0; i < 300; i++) {
    const s = randomFlow(r, false);
    const first = frame({ ...s, frag: 0x2000 });
    const later = frame({ ...s, frag: 0x0010 });
    assert.equal(run(p, first, 'in', n), run(p, later, 'in', n), 'all fragments of a datagram together');
    assert.equal(run(p, later, 'in', n), run(ip, later, 'in', n), 'fragment = IP pair');
    const icmp = frame({ ...s, proto: 1 });
    assert.equal(run(p, icmp, 'in', n), run(ip, icmp, 'in', n), 'ICMP = IP pair');
    const s6 = randomFlow(r, true);
    const ext = frame({ ...s6, ext: true });
    assert.equal(run(p, ext, 'in', n), run(ip, ext, 'in', n), 'IPv6 with an extension header = IP pair');
    const arp = frame({ srcMac: s.srcMac, dstMac: s.dstMac });
    assert.equal(run(p, arp, 'in', n), run(mac, arp, 'in', n), 'ARP = MAC pair');
    assert.equal(run(p, arp, 'in', n), run(p, frame({ srcMac: s.dstMac, dstMac: s.srcMac }), 'in', n), 'MAC pair is symmetric');
  }
  // IPv4 options move the ports: the hash still follows the ports
  const a = frame({ src: [1, 2, 3, 4], dst: [5, 6, 7, 8], sport: 1, dport: 2, ihl: 7 });
  const b = frame({ src: [5, 6, 7, 8], dst: [1, 2, 3, 4], sport: 2, dport: 1, ihl: 5 });
  assert.equal(run(p, a, 'in', n), run(p, b, 'in', n));
});

test('flow and ip hash different flows differently (not a constant)', () => {
  const r = rng(4);
  for (const fn of SYMMETRIC) {
    const p = steeringProgram(fn, 2); // unweighted over all members: returns the whole 32-bit hash
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(runClassic(p, skbOf(frame(randomFlow(r, false)), 'in')));
    assert.ok(seen.size > 990, `${fn.kind}: ${seen.size} distinct hashes of 1000 flows`);
  }
});

test('weights 1:3 give shares of 25/75 and the member with weight 0 gets nothing', () => {
  const r = rng(5);
  const p = steeringProgram({ kind: 'flow' }, 2, [1, 3]);
  const q = steeringProgram({ kind: 'flow' }, 3, [2, 0, 6]);
  const c = [0, 0], d = [0, 0, 0];
  const N = 20000;
  for (let i = 0; i < N; i++) {
    const s = randomFlow(r);
    c[run(p, frame(s), 'in', 2)]++;
    d[run(q, frame(s), 'in', 3)]++;
  }
  assert.ok(Math.abs(c[0] / N - 0.25) < 0.015, `share of member 0: ${c[0] / N}`);
  assert.equal(d[1], 0);
  assert.ok(Math.abs(d[0] / N - 0.25) < 0.015, `share of member 0: ${d[0] / N}`);
});

test('slots map members to kernel slots; absent members get nothing and the rest keep their weights', () => {
  const r = rng(6);
  // members 0,1,2 with weights 1,1,2; member 1 gone, member 2 now in slot 1
  const p = steeringProgram({ kind: 'flow' }, 3, [1, 1, 2], [0, -1, 1]);
  const c = [0, 0, 0];
  for (let i = 0; i < 9000; i++) c[run(p, frame(randomFlow(r)), 'in', 2)]++;
  assert.equal(c[2], 0);
  assert.ok(Math.abs(c[1] / 9000 - 2 / 3) < 0.03, `slot 1 share ${c[1] / 9000}`);
  assert.deepEqual(steeringProgram({ kind: 'to', index: 2 }, 3, undefined, [2, 0, 1]), [{ code: 6, jt: 0, jf: 0, k: 1 }]);
});

test('to, rrobin, vlan and field', () => {
  const f = frame({ src: [1, 1, 1, 1], dst: [2, 2, 2, 2] });
  assert.equal(run(steeringProgram({ kind: 'to', index: 3 }, 5), f, 'in', 5), 3);
  // rrobin is a random pick: spreads, and follows the weights
  const rr = steeringProgram({ kind: 'rrobin' }, 2, [1, 3]);
  const r = rng(7);
  const c = [0, 0];
  for (let i = 0; i < 8000; i++) c[runClassic(rr, { ...skbOf(f, 'in'), random: r }) % 2]++;
  assert.ok(Math.abs(c[0] / 8000 - 0.25) < 0.03);
  // vlan: same id -> same member whatever the flow; untagged -> `untagged`
  const v = steeringProgram({ kind: 'vlan', untagged: { kind: 'to', index: 2 } }, 3);
  for (let id = 1; id < 200; id++) {
    const m = run(v, frame({ ...randomFlow(r), tags: [[0x8100, id]] }), 'in', 3);
    assert.equal(run(v, frame({ ...randomFlow(r), tags: [[0x8100, 0xe000 | id]] }), 'out', 3), m, 'PCP bits are ignored, in-frame tag = metadata');
  }
  const ids = new Set<number>();
  for (let id = 1; id < 200; id++) ids.add(run(v, frame({ ...randomFlow(r), tags: [[0x8100, id]] }), 'in', 3));
  assert.equal(ids.size, 3);
  assert.equal(run(v, frame(randomFlow(r)), 'in', 3), 2);
  // field: depends on those bytes only
  const fl = steeringProgram({ kind: 'field', offset: 30, size: 4 }, 8);
  const base: FrameSpec = { src: [1, 1, 1, 1], dst: [9, 9, 9, 9] };
  const m = run(fl, frame(base), 'in', 8);
  for (let i = 0; i < 50; i++) assert.equal(run(fl, frame({ ...base, src: [i, 1, 2, 3], sport: i }), 'in', 8), m);
  const l3 = steeringProgram({ kind: 'field', offset: 16, size: 4, base: 'l3' }, 8);
  assert.equal(run(l3, frame({ ...base, tags: [[0x8100, 5]] }), 'out', 8), run(fl, frame(base), 'in', 8), 'base l3 skips the VLAN tag');
});

test('classes: a predicate picks the class, each class spreads over its own members', () => {
  // "udp dst port 53" as tcpdump -dd emits it for IPv4 (no IPv6 branch), libpcap offsets from the MAC header
  const dns: BpfProgram = [
    { code: 0x28, jt: 0, jf: 0, k: 12 }, { code: 0x15, jt: 0, jf: 8, k: 0x0800 },
    { code: 0x30, jt: 0, jf: 0, k: 23 }, { code: 0x15, jt: 0, jf: 6, k: 17 },
    { code: 0x28, jt: 0, jf: 0, k: 20 }, { code: 0x45, jt: 4, jf: 0, k: 0x1fff },
    { code: 0xb1, jt: 0, jf: 0, k: 14 }, { code: 0x48, jt: 0, jf: 0, k: 16 },
    { code: 0x15, jt: 0, jf: 1, k: 53 }, { code: 0x06, jt: 0, jf: 0, k: 262144 }, { code: 0x06, jt: 0, jf: 0, k: 0 },
  ];
  const p = fanoutProgram({ classes: [
    { name: 'dns', match: dns, steer: { kind: 'flow' }, members: [3] },
    { name: 'rest', steer: { kind: 'flow' }, members: [0, 1, 2], weights: [1, 1, 2] },
  ] }, 4);
  const r = rng(8);
  const c = [0, 0, 0, 0];
  for (let i = 0; i < 6000; i++) {
    const s = randomFlow(r, false);
    const isDns = i % 3 === 0;
    const f = frame({ ...s, proto: 17, dport: isDns ? 53 : (s.dport === 53 ? 54 : s.dport) });
    const m = run(p, f, i % 2 ? 'in' : 'out', 4);
    if (isDns) assert.equal(m, 3, 'DNS goes to the dns class member');
    else assert.notEqual(m, 3);
    c[m]++;
  }
  assert.equal(c[3], 2000);
  assert.ok(Math.abs(c[2] / 4000 - 0.5) < 0.04, `weight 2 of 4: ${c[2] / 4000}`);
  // a predicate is never allowed to look at the packet length
  assert.throws(() => fanoutProgram({ classes: [{ match: [{ code: 0x80, jt: 0, jf: 0, k: 0 }, { code: 0x06, jt: 0, jf: 0, k: 1 }], steer: { kind: 'flow' } }] }, 2), /length/);
});

test('bad steering is refused with a reason', () => {
  assert.throws(() => steeringProgram({ kind: 'to', index: 4 }, 4), /index/);
  assert.throws(() => steeringProgram({ kind: 'flow' }, 2, [1]), /2 members/);
  assert.throws(() => steeringProgram({ kind: 'flow' }, 2, [0, 0]), /all weights are 0/);
  assert.throws(() => steeringProgram({ kind: 'flow' }, 2, [1, -1]), /non-negative/);
  assert.throws(() => steeringProgram({ kind: 'field', offset: 0, size: 0 }, 2), /size/);
  assert.throws(() => steeringProgram({ kind: 'nope' } as unknown as SteerSpec, 2), /kind/);
  assert.throws(() => parseSteer('hash'), /unknown steering/);
  assert.deepEqual(parseSteer('field:26:4:30'), { kind: 'field', offset: 26, size: 4, pairOffset: 30 });
  assert.deepEqual(parseSteer('to:3'), { kind: 'to', index: 3 });
  assert.deepEqual(parseSteer('steer_p2p'), { kind: 'ip' });
});

test('table mode: the program returns table indices; the table turns them into slots by weight, and follows slot moves', () => {
  const { program, table } = tableProgram({ classes: [
    { match: [{ code: 0x30, jt: 0, jf: 0, k: 23 }, { code: 0x15, jt: 0, jf: 1, k: 17 }, { code: 0x06, jt: 0, jf: 0, k: 1 }, { code: 0x06, jt: 0, jf: 0, k: 0 }],
      steer: { kind: 'to', index: 2 } },
    { steer: { kind: 'flow' }, members: [0, 1], weights: [1, 3] },
  ] }, 3, 64);
  assert.deepEqual(table.segments.map((s) => [s.base, s.entries, s.cls]), [[0, 1, 0], [1, 64, 1]]);
  const values = tableValues(table, [0, 1, 2]);
  assert.equal(values[0], 2);
  assert.equal(values.subarray(1).filter((v) => v === 0).length, 16, '1:3 of 64 entries');
  assert.equal(values.subarray(1).filter((v) => v === 1).length, 48);
  const r = rng(10);
  const c = [0, 0, 0];
  for (let i = 0; i < 8000; i++) {
    const s = randomFlow(r, false);
    const f = frame({ ...s, proto: 6 });
    const idx = runClassic(program, skbOf(f, 'in'));
    assert.equal(idx, runClassic(program, skbOf(frame({ ...reverse(s), proto: 6 }), 'out')), 'symmetric through the table too');
    c[values[idx]]++;
  }
  assert.ok(Math.abs(c[0] / 8000 - 0.25) < 0.03, `${c}`);
  assert.equal(runClassic(program, skbOf(frame({ src: [1, 1, 1, 1], dst: [2, 2, 2, 2], proto: 17 }), 'in')), 0, 'UDP matches class 0');
  // member 0 gone, member 1 moved to slot 0: the flow class now all goes to slot 0; weights can be overridden per class
  assert.deepEqual([...new Set(tableValues(table, [-1, 0, 1]).subarray(1))], [0]);
  const over = tableValues(table, [0, 1, 2], [undefined, [1, 1]]);
  assert.equal(over.subarray(1).filter((v) => v === 0).length, 32);
  // every member with a weight gets an entry even when it rounds to nothing
  const tiny = tableProgram({ steer: { kind: 'ip' }, weights: [1, 1000] }, 2, 8);
  assert.deepEqual([...tableValues(tiny.table, [0, 1])], [0, 1, 1, 1, 1, 1, 1, 1]);
});

test('generated programs have no unreachable instructions (eBPF refuses them) and fit the kernel limit', () => {
  const reachable = (p: BpfProgram): number => {
    const seen = new Set<number>();
    const todo = [0];
    while (todo.length > 0) {
      const i = todo.pop()!;
      if (seen.has(i) || i >= p.length) continue;
      seen.add(i);
      const { code, jt, jf, k } = p[i];
      if ((code & 7) === 6) continue;
      if ((code & 7) === 5) { if ((code & 0xf0) === 0) todo.push(i + 1 + k); else todo.push(i + 1 + jt, i + 1 + jf); } else todo.push(i + 1);
    }
    return seen.size;
  };
  const specs: SteerSpec[] = [
    { kind: 'flow' }, { kind: 'ip' }, { kind: 'mac' }, { kind: 'vlan' }, { kind: 'vlan', untagged: { kind: 'ip' } },
    { kind: 'rrobin' }, { kind: 'to', index: 1 }, { kind: 'field', offset: 3, size: 11, base: 'l3', pairOffset: 20 },
  ];
  const pred: BpfProgram = [{ code: 0x28, jt: 0, jf: 0, k: 12 }, { code: 0x15, jt: 0, jf: 1, k: 0x0800 }, { code: 0x16, jt: 0, jf: 0, k: 0 }, { code: 0x06, jt: 0, jf: 0, k: 0 }];
  for (const s of specs) {
    for (const p of [steeringProgram(s, 3), steeringProgram(s, 3, [1, 2, 3]), tableProgram(s, 3).program,
      fanoutProgram({ classes: [{ match: pred, steer: s }, { steer: { kind: 'ip' }, members: [2] }] }, 3)]) {
      assert.equal(reachable(p), p.length, `${s.kind}: unreachable code`);
      assert.ok(p.length <= 4096);
    }
  }
});
