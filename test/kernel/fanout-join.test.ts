/**
 * Fan-out groups against the real kernel, socket by socket (no workers):
 * every mode and flag, and generated steering programs checked packet by
 * packet against the interpreter on the receive and the send path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openCapture, type Capture } from '../../src/index.js';
import {
  fanoutProgram, fanoutSettingsOf, runClassic, setFanoutProgram, skbOf, steeringProgram, rolloverStats,
  cbpfToEbpf, SteerTableMap, tableProgram, tableValues,
  type FanoutJoin, type Steering,
} from '../../src/fanout/index.js';
import { native } from '../../src/native.js';
import { progLoad, PROG_TYPE } from '../../src/bpf/index.js';
import { BPF_PROG_TYPE_SOCKET_FILTER } from '../../src/constants.js';
import { needRoot, RawSender, sleep, withVeth } from '../helpers/netns.js';
import { gatherSeqs } from '../helpers/seqs.js';
import { frame, randomFlow, rng, type FrameSpec } from '../unit/fanout-frames.js';

/** A group id no other group uses now: the kernel's uniqueId pick (its allocator moves on, so the id is not handed out again soon). */
function gid(iface: string): number {
  const c = openCapture({ iface, blockSize: 4096, blockCount: 1, fanout: { id: 0, mode: 'lb', uniqueId: true } });
  const id = c.fanoutId;
  c.close();
  return id;
}

/** Rings of 4 MiB with a 20 ms block timeout: the test sends its burst synchronously before reading, so a loaded machine must not fill the ring with half-empty retired blocks. */
function open(iface: string, fanout: FanoutJoin, direction: 'in' | 'out' | 'both' = 'both'): Capture {
  return openCapture({ iface, blockSize: 1 << 16, blockCount: 64, blockTimeoutMs: 20, fanout, direction });
}

/** Tag a frame with a sequence number in its last 4 bytes. */
function tagged(s: FrameSpec, seq: number): Uint8Array {
  const t = new Uint8Array(4);
  new DataView(t.buffer).setUint32(0, seq);
  return frame({ ...s, tail: t });
}

test('every kernel mode joins, and the membership reads back', { skip: needRoot }, async () => {
  await withVeth(({ b }) => {
    for (const mode of ['hash', 'lb', 'cpu', 'rollover', 'rnd', 'qm', 'cbpf', 'ebpf'] as const) {
      const id = gid(b);
      const caps = [open(b, { id, mode }), open(b, { id, mode })];
      assert.equal(caps[0].fanoutId, id);
      const s = fanoutSettingsOf(caps[1].fd)!;
      assert.equal(s.mode, mode);
      assert.equal(s.id, id);
      caps.forEach((c) => c.close());
    }
    const id = gid(b);
    const c = open(b, { id, mode: 'hash', defrag: true, rollover: true, ignoreOutgoing: true });
    const s = fanoutSettingsOf(c.fd)!;
    assert.deepEqual([s.defrag, s.rollover, s.ignoreOutgoing, s.uniqueId], [true, true, true, false]);
    assert.deepEqual(rolloverStats(c.fd), { all: 0, huge: 0, failed: 0 });
    // members must agree on mode and flags
    assert.throws(() => open(b, { id, mode: 'lb' }), (e: Error & { code?: string }) => e.code === 'EINVAL' && /same device, mode and flags/.test(e.message));
    assert.throws(() => open(b, { id, mode: 'hash' }), /EINVAL/);
    c.close();
  });
});

test('uniqueId: the kernel picks distinct ids; others join by that id', { skip: needRoot }, async () => {
  await withVeth(({ b }) => {
    const a1 = open(b, { id: 0, mode: 'lb', uniqueId: true });
    const a2 = open(b, { id: 0, mode: 'lb', uniqueId: true });
    assert.notEqual(a1.fanoutId, a2.fanoutId);
    const a3 = open(b, { id: a1.fanoutId, mode: 'lb' });
    assert.equal(fanoutSettingsOf(a3.fd)!.id, a1.fanoutId);
    assert.throws(() => open(b, { id: 5, mode: 'lb', uniqueId: true }), /id 0/);
    [a1, a2, a3].forEach((c) => c.close());
  });
});

test('lb alternates exactly, rollover and qm keep one socket on veth, cpu follows the sending CPU', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const tx = new RawSender(a);
    const send = (n: number): void => { tx.send(Array.from({ length: n }, (_, i) => tagged({ src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: i }, i))); };
    for (const [mode, check] of [
      ['lb', (g: number[][]) => assert.deepEqual(g.map((x) => x.length), [100, 100])],
      ['rollover', (g: number[][]) => assert.deepEqual(g.map((x) => x.length), [200, 0])],
      // veth has one receive queue: qm puts everything on one socket
      ['qm', (g: number[][]) => assert.ok(g.some((x) => x.length === 200), `qm split ${g.map((x) => x.length)}`)],
    ] as const) {
      const id = gid(b);
      const caps = [open(b, { id, mode }), open(b, { id, mode })];
      send(200);
      check(await gatherSeqs(caps, 200));
      caps.forEach((c) => c.close());
    }
    // cpu: veth delivers on the sending CPU, so pinning the sender picks the socket
    const before = native.getAffinity();
    try {
      for (const cpu of before.slice(0, 2)) {
        const id = gid(b);
        const caps = [open(b, { id, mode: 'cpu' }), open(b, { id, mode: 'cpu' })];
        native.setAffinity([cpu]);
        send(100);
        native.setAffinity(before);
        const g = await gatherSeqs(caps, 100);
        assert.equal(g[cpu % 2].length, 100, `cpu ${cpu}: ${g.map((x) => x.length)}`);
        caps.forEach((c) => c.close());
      }
    } finally {
      native.setAffinity(before);
    }
    tx.close();
  });
});

test('ignoreOutgoing keeps what this host sends out of the group; direction in sets it', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const ta = new RawSender(a), tb = new RawSender(b);
    for (const [fan, dir] of [[{ mode: 'lb', ignoreOutgoing: true }, 'both'], [{ mode: 'lb' }, 'in']] as const) {
      const id = gid(b);
      const caps = [open(b, { id, ...fan }, dir), open(b, { id, ...fan }, dir)];
      ta.send([tagged({ src: [1, 1, 1, 1], dst: [2, 2, 2, 2] }, 1)]);
      tb.send([tagged({ src: [2, 2, 2, 2], dst: [1, 1, 1, 1] }, 2)]);
      const g = await gatherSeqs(caps, 1);
      assert.deepEqual(g.flat(), [1]);
      caps.forEach((c) => c.close());
    }
    ta.close(); tb.close();
  });
});

test('defrag: the group sees reassembled datagrams', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const tx = new RawSender(a);
    // one UDP datagram of 8 + 24 bytes in two fragments (16 + 16 bytes of IP payload)
    const fragments = (n: number): Uint8Array[] => {
      const out: Uint8Array[] = [];
      const dgram = new Uint8Array(32);
      new DataView(dgram.buffer).setUint16(0, 1000 + n);
      new DataView(dgram.buffer).setUint16(2, 53);
      new DataView(dgram.buffer).setUint16(4, 32);
      for (const [off, mf] of [[0, 1], [16, 0]]) {
        const f = frame({ src: [10, 0, 0, 1], dst: [10, 0, 0, 2], proto: 17, frag: (mf << 13) | (off / 8), payload: 0 });
        const g = new Uint8Array(34 + 16);
        g.set(f.subarray(0, 34));
        g.set(dgram.subarray(off, off + 16), 34);
        const dv = new DataView(g.buffer);
        dv.setUint16(16, 20 + 16); // tot_len
        dv.setUint16(18, 0x100 + n); // IP id per datagram
        dv.setUint16(20, (mf << 13) | (off / 8));
        out.push(g);
      }
      return out;
    };
    for (const defrag of [false, true]) {
      const id = gid(b);
      const caps = [open(b, { id, mode: 'hash', defrag }), open(b, { id, mode: 'hash', defrag })];
      const counts = [0, 0];
      let lens = 0;
      for (let n = 0; n < 20; n++) tx.send(fragments(n));
      const deadline = Date.now() + 1000;
      while (Date.now() < deadline) {
        caps.forEach((c, i) => { for (let bt = c.tryBatch(); bt; bt = c.tryBatch()) for (let p = bt.next(); p; p = bt.next()) { counts[i]++; lens += p.caplen; } });
        await sleep(10);
      }
      if (defrag) {
        assert.equal(counts[0] + counts[1], 20);
        assert.equal(lens, 20 * (34 + 32), 'each packet is a whole datagram');
      } else {
        assert.equal(counts[0] + counts[1], 40);
      }
      caps.forEach((c) => c.close());
    }
    tx.close();
  });
});

test('ebpf: a loaded SOCKET_FILTER program picks the socket', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    // r0 = 1; exit
    const insns = new Uint8Array([0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    const prog = native.bpfProgLoad(BPF_PROG_TYPE_SOCKET_FILTER, insns, 'GPL');
    const id = gid(b);
    const caps = [open(b, { id, mode: 'ebpf' }), open(b, { id, mode: 'ebpf', ebpfFd: prog })];
    native.close(prog); // the group holds its own reference
    const tx = new RawSender(a);
    tx.send(Array.from({ length: 50 }, (_, i) => tagged(randomFlow(rng(i)), i)));
    const g = await gatherSeqs(caps, 50);
    assert.deepEqual(g.map((x) => x.length), [0, 50]);
    tx.close();
    caps.forEach((c) => c.close());
  });
});

const dns = [
    { code: 0x28, jt: 0, jf: 0, k: 12 }, { code: 0x15, jt: 0, jf: 8, k: 0x0800 },
    { code: 0x30, jt: 0, jf: 0, k: 23 }, { code: 0x15, jt: 0, jf: 6, k: 17 },
    { code: 0x28, jt: 0, jf: 0, k: 20 }, { code: 0x45, jt: 4, jf: 0, k: 0x1fff },
    { code: 0xb1, jt: 0, jf: 0, k: 14 }, { code: 0x48, jt: 0, jf: 0, k: 16 },
    { code: 0x15, jt: 0, jf: 1, k: 53 }, { code: 0x06, jt: 0, jf: 0, k: 262144 }, { code: 0x06, jt: 0, jf: 0, k: 0 },
];
const cases: Array<[string, Steering]> = [
    ['flow', { kind: 'flow' }],
    ['ip', { kind: 'ip' }],
    ['mac', { kind: 'mac' }],
    ['vlan', { kind: 'vlan', untagged: { kind: 'flow' } }],
    ['to', { kind: 'to', index: 2 }],
    ['field', { kind: 'field', offset: 2, size: 6, base: 'l3' }],
    ['weights', { steer: { kind: 'flow' }, weights: [1, 2, 5] }],
    ['classes', { classes: [{ match: dns, steer: { kind: 'to', index: 1 } }, { steer: { kind: 'ip' }, members: [0, 2] }] }],
];

/** Mixed traffic: IPv4/IPv6, TCP/UDP, VLAN tags, DNS, fragments, ARP; half received, half sent. */
function mixed(): Array<[FrameSpec, 'in' | 'out']> {
  const r = rng(42);
  const specs: Array<[FrameSpec, 'in' | 'out']> = [];
  for (let i = 0; i < 240; i++) {
    const s = randomFlow(r);
    if (i % 5 === 1) s.tags = [[0x8100, 1 + (i % 4000)]];
    if (i % 7 === 2 && s.src!.length === 4) { s.proto = 17; s.dport = 53; }
    if (i % 11 === 3) s.frag = 0x2000;
    if (i % 13 === 4) Object.assign(s, { src: undefined, dst: undefined }); // ARP
    specs.push([s, i % 2 === 0 ? 'in' : 'out']);
  }
  return specs;
}

test('generated steering programs: the kernel picks exactly the socket the interpreter predicts, receive and send path', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const ta = new RawSender(a), tb = new RawSender(b);
    const specs = mixed();
    for (const [name, steering] of cases) {
      const prog = fanoutProgram(steering, 3);
      const id = gid(b);
      const caps = [0, 1, 2].map(() => open(b, { id, mode: 'cbpf', program: prog }));
      const frames = specs.map(([s], i) => tagged(s, i));
      frames.forEach((f, i) => (specs[i][1] === 'in' ? ta : tb).send([f]));
      const g = await gatherSeqs(caps, frames.length);
      assert.equal(g.flat().length, frames.length, `${name}: every packet exactly once`);
      if (name !== 'to') assert.ok(g.every((x) => x.length > 0), `${name}: every socket got some (${g.map((x) => x.length)})`);
      g.forEach((seqs, sock) => {
        for (const q of seqs) {
          const want = runClassic(prog, skbOf(frames[q], specs[q][1])) % 3;
          assert.equal(sock, want, `${name}: packet ${q} (${specs[q][1]}) went to socket ${sock}, interpreter says ${want}`);
        }
      });
      caps.forEach((c) => c.close());
    }
    ta.close(); tb.close();
  });
});

test('steeringProgram over 2 sockets with weights is accepted and used by the kernel', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const prog = steeringProgram({ kind: 'flow' }, 2, [1, 3]);
    const id = gid(b);
    const caps = [open(b, { id, mode: 'cbpf' }), open(b, { id, mode: 'cbpf' })];
    setFanoutProgram(caps[1].fd, prog); // any member may set the group's program after joining
    const tx = new RawSender(a);
    const r = rng(9);
    tx.send(Array.from({ length: 4000 }, (_, i) => tagged(randomFlow(r), i)));
    const g = await gatherSeqs(caps, 4000);
    assert.equal(g[0].length + g[1].length, 4000);
    assert.ok(Math.abs(g[0].length / 4000 - 0.25) < 0.04, `share ${g[0].length / 4000}`);
    tx.close();
    caps.forEach((c) => c.close());
  });
});

test('eBPF: translated steering programs and table mode pick what the interpreter predicts', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const ta = new RawSender(a), tb = new RawSender(b);
    const specs = mixed();
    for (const [name, steering] of cases) {
      for (const mode of ['translated', 'table'] as const) {
        let predict: (f: Uint8Array, dir: 'in' | 'out') => number;
        let prog: number;
        let map: SteerTableMap | null = null;
        if (mode === 'translated') {
          const p = fanoutProgram(steering, 3);
          prog = progLoad(PROG_TYPE.SOCKET_FILTER, cbpfToEbpf(p)).fd;
          predict = (f, dir) => runClassic(p, skbOf(f, dir)) % 3;
        } else {
          const { program, table } = tableProgram(steering, 3, 16);
          const values = tableValues(table, [0, 1, 2]);
          map = new SteerTableMap(table.size);
          map.write(values);
          prog = progLoad(PROG_TYPE.SOCKET_FILTER, cbpfToEbpf(program, { tableFd: map.fd })).fd;
          predict = (f, dir) => values[runClassic(program, skbOf(f, dir))] % 3;
        }
        const id = gid(b);
        const caps = [0, 1, 2].map(() => open(b, { id, mode: 'ebpf', ebpfFd: prog }));
        const frames = specs.map(([s], i) => tagged(s, i));
        frames.forEach((f, i) => (specs[i][1] === 'in' ? ta : tb).send([f]));
        const g = await gatherSeqs(caps, frames.length);
        assert.equal(g.flat().length, frames.length, `${name}/${mode}: every packet exactly once`);
        g.forEach((seqs, sock) => {
          for (const q of seqs) assert.equal(sock, predict(frames[q], specs[q][1]), `${name}/${mode}: packet ${q} (${specs[q][1]})`);
        });
        caps.forEach((c) => c.close());
        native.close(prog);
        map?.close();
      }
    }
    ta.close(); tb.close();
  });
});

test('a closed member leaves its group at once, not at garbage collection; its old ring reads zeros', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const id = gid(b);
    const caps = [open(b, { id, mode: 'lb' }), open(b, { id, mode: 'lb' })];
    const tx = new RawSender(a);
    tx.send([tagged({ src: [1, 1, 1, 1], dst: [2, 2, 2, 2] }, 0), tagged({ src: [1, 1, 1, 1], dst: [2, 2, 2, 2] }, 1)]);
    await sleep(30);
    const ring = caps[0].ring;
    assert.ok(new Uint8Array(ring).some((x) => x !== 0), 'the ring holds a packet');
    caps[0].close();
    assert.ok(new Uint8Array(ring).every((x) => x === 0), 'stray views read zeros after close');
    tx.send(Array.from({ length: 100 }, (_, i) => tagged({ src: [1, 1, 1, 1], dst: [2, 2, 2, 2] }, 2 + i)));
    const g = await gatherSeqs([caps[1]], 101);
    assert.equal(g[0].length, 101, 'the remaining member gets everything');
    caps[1].close();
    // the group is gone: the id is free for another mode right away
    const c = open(b, { id, mode: 'hash' });
    c.close();
    tx.close();
  });
});
