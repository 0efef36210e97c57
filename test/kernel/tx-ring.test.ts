/**
 * The TX ring and the plain sender against the real kernel, on veth pairs
 * made per test: exact counts, byte-for-byte frames, completion tracking,
 * refused frames (TP_STATUS_WRONG_FORMAT), errors.
 */
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { openCapture, NetringError } from '../../src/index.js';
import { openTxRing, openTxSocket, type TxFailure } from '../../src/tx/index.js';
import { buildPacket, headerLength, type PacketSpec } from '../../src/build/builder.js';
import { needRoot, run, withVeth } from '../helpers/netns.js';
import { collect, collectFrames } from './tx-helpers.js';
import { checkFrame } from '../unit/tx-check.js';

/** A frame of spec.size bytes with the sequence number i in the first 4 payload bytes (checksums computed). */
function numbered(spec: PacketSpec, i: number): Uint8Array {
  const pay = new Uint8Array(Math.max(4, (spec.size ?? 60) - headerLength(spec)));
  for (let k = 4; k < pay.length; k++) pay[k] = (i + k) & 255;
  new DataView(pay.buffer).setUint32(0, i);
  return buildPacket({ ...spec, payload: pay, size: undefined }).bytes;
}

const SPECS: PacketSpec[] = [
  { proto: 'udp', size: 60 },
  { proto: 'tcp', src: '10.9.0.1', dst: '10.9.0.2', sport: 443, dport: 55555, size: 400 },
  { proto: 'icmp', size: 100 },
  { proto: 'udp', src: 'fd00::1', dst: 'fd00::2', size: 1500 },
  { proto: 'udp', vlan: 42, size: 200 },
  { proto: 'icmp', src: 'fd00::1', dst: 'ff02::1', size: 98 },
];

for (const linear of [true, false]) {
test(`TX ring (${linear ? 'linear' : 'paged'} skbs): exact count and byte-for-byte frames of several templates, through many ring wraps`, { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const cap = openCapture({ iface: b, blockSize: 1 << 20, blockCount: 32, blockTimeoutMs: 2 });
    const ring = openTxRing({ iface: a, maxFrameLen: 1514, frameCount: 128, linear });
    assert.equal(ring.linear, linear);
    assert.equal(ring.frameCount, 128);
    const N = 6000;
    const frames: Uint8Array[] = [];
    for (let i = 0; i < N; i++) frames.push(numbered(SPECS[i % SPECS.length], i));
    const got: Uint8Array[] = [];
    for (let i = 0; i < N;) {
      // at most 1000 frames between drains: the capture ring never overflows
      const stop = Math.min(N, i + 1000);
      for (; i < stop; i++) {
        while (!ring.write(frames[i])) ring.wait(10);
        if (i % 50 === 49) ring.flush();
      }
      ring.flush();
      got.push(...(await collectFrames(cap, i - got.length)));
    }
    assert.ok(ring.drain(2000), 'every frame completed');
    const st = ring.stats();
    assert.deepEqual({ queued: st.queued, sent: st.sent, failed: st.failed, inFlight: st.inFlight }, { queued: N, sent: N, failed: 0, inFlight: 0 });
    assert.ok(st.kicks >= N / 50 - 1 && st.kicks <= N, `one kick per batch (${st.kicks})`);
    const cs = cap.stats();
    ring.close();
    cap.close();
    assert.equal(cs.drops, 0);
    assert.equal(got.length, N);
    for (let i = 0; i < N; i++) assert.deepEqual(got[i], frames[i], `frame ${i} differs`);
    for (let i = 0; i < SPECS.length; i++) {
      const c = checkFrame(got[i]);
      assert.ok(c.ipOk && c.l4Ok, `checksums of received frame ${i}`);
    }
  });
});
}

test('TX ring: jumbo frames (9000-byte MTU), linear headers + paged rest', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const cap = openCapture({ iface: b, blockSize: 1 << 20, blockCount: 8, blockTimeoutMs: 2 });
    const ring = openTxRing({ iface: a, maxFrameLen: 9000, frameCount: 16 });
    const frames = [9000, 5000, 4001, 4000, 3999, 60, 9000].map((size, i) => numbered({ size }, i));
    for (const f of frames) assert.ok(ring.write(f));
    ring.flush();
    const got = await collectFrames(cap, frames.length);
    const st = ring.stats();
    ring.close();
    cap.close();
    assert.equal(st.failed, 0);
    assert.deepEqual(got, frames);
  }, { mtu: 9000 });
});

test('TX ring: slots keep their bytes, so a tag lets the sender skip the copy', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const cap = openCapture({ iface: b, blockSize: 1 << 16, blockCount: 32, blockTimeoutMs: 2 });
    const ring = openTxRing({ iface: a, maxFrameLen: 128, frameCount: 64 });
    const tpl = [buildPacket({ sport: 1, size: 64 }).bytes, buildPacket({ sport: 2, size: 90 }).bytes];
    let copies = 0;
    const N = 640;
    for (let i = 0; i < N; i++) {
      let off = ring.next();
      while (off < 0) { ring.wait(10); off = ring.next(); }
      const k = ring.slot % 2; // the slot decides the template: each slot always holds the same one
      if (ring.tags[ring.slot] !== k) { ring.u8.set(tpl[k], off); ring.tags[ring.slot] = k; copies++; }
      ring.commit(tpl[k].length);
      if (i % 32 === 31) ring.flush();
    }
    ring.flush();
    const got = await collectFrames(cap, N);
    ring.close();
    cap.close();
    assert.equal(copies, 64, 'each slot was written once');
    assert.equal(got.length, N);
    for (let i = 0; i < N; i++) assert.deepEqual(got[i], tpl[i % 2]);
  });
});

test('TX ring: a frame the kernel refuses is counted and reported, the frames behind it still go, in order', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const cap = openCapture({ iface: b, blockSize: 1 << 16, blockCount: 16, blockTimeoutMs: 2 });
    const ring = openTxRing({ iface: a, maxFrameLen: 1514, frameCount: 32, linear: false });
    assert.equal(ring.linear, false);
    const fails: TxFailure[] = [];
    ring.onFailure = (f) => fails.push(f);
    // the MTU shrinks under the ring: frames above it come back TP_STATUS_WRONG_FORMAT
    run('ip', ['link', 'set', a, 'mtu', '600']);
    const frames: Uint8Array[] = [];
    const big = new Set([0, 3, 4, 10, 25, 26, 27, 39, 99]);
    for (let i = 0; i < 100; i++) frames.push(numbered({ size: big.has(i) ? 1000 : 80 }, i));
    for (let i = 0; i < 100; i++) {
      while (!ring.write(frames[i])) ring.wait(10);
      if (i % 20 === 19) ring.flush();
    }
    ring.flush();
    assert.ok(ring.drain(2000));
    const st = ring.stats();
    const got = await collectFrames(cap, 100 - big.size, 2000);
    ring.close();
    cap.close();
    assert.equal(st.failed, big.size);
    assert.equal(st.sent, 100 - big.size);
    assert.equal(st.queued, 100);
    assert.deepEqual(fails.map((f) => f.seq), [...big].sort((x, y) => x - y));
    assert.ok(fails.every((f) => f.code === 'EMSGSIZE' && f.length === frames[f.seq].length), JSON.stringify(fails[0]));
    assert.deepEqual(got, frames.filter((_, i) => !big.has(i)));
  });
});

test('TX ring, linear mode: frames above the MTU are refused at commit, counted and reported in order', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    run('ip', ['link', 'set', a, 'mtu', '700']);
    const cap = openCapture({ iface: b, blockSize: 1 << 16, blockCount: 16, blockTimeoutMs: 2 });
    const ring = openTxRing({ iface: a, maxFrameLen: 1514, frameCount: 32 });
    assert.equal(ring.linear, true);
    const fails: TxFailure[] = [];
    ring.onFailure = (f) => fails.push(f);
    const frames: Uint8Array[] = [];
    const big = new Set([1, 2, 30, 31, 32, 77]);
    for (let i = 0; i < 100; i++) frames.push(numbered({ size: big.has(i) ? 800 : 714 - (i % 3) * 100, vlan: i === 50 ? 1 : undefined }, i));
    // 714 untagged and 718 tagged (i = 50) are exactly at the limit and go through
    frames[50] = numbered({ size: 718, vlan: 1 }, 50);
    for (let i = 0; i < 100; i++) {
      while (!ring.write(frames[i])) ring.wait(10);
      if (i % 10 === 9) ring.flush();
    }
    ring.flush();
    assert.ok(ring.drain(2000));
    const st = ring.stats();
    const got = await collectFrames(cap, 100 - big.size, 2000);
    // the MTU grows: after refreshMtu() the big frames go too
    run('ip', ['link', 'set', a, 'mtu', '1500']);
    assert.equal(ring.refreshMtu(), 1500);
    assert.ok(ring.write(frames[1]));
    ring.flush();
    // Raising the MTU back above 1280 brings the link's IPv6 back, and the
    // kernel sends MLD reports to 33:33:...: only unicast frames are ours.
    const late = (await collect(cap, () => false, Infinity, 2000)).map((r) => r.bytes).filter((f) => (f[0] & 1) === 0);
    ring.close();
    cap.close();
    assert.deepEqual([st.queued, st.sent, st.failed], [100, 100 - big.size, big.size]);
    assert.deepEqual(fails.map((f) => f.seq), [...big]);
    assert.ok(fails.every((f) => f.code === 'EMSGSIZE' && f.length === 800));
    assert.deepEqual(got, frames.filter((_, i) => !big.has(i)));
    assert.deepEqual(late, [frames[1]]);
  });
});

test('plain send path: one send(2) per frame', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const cap = openCapture({ iface: b, blockSize: 1 << 16, blockCount: 16, blockTimeoutMs: 2 });
    const tx = openTxSocket({ iface: a });
    const frames = Array.from({ length: 300 }, (_, i) => numbered(SPECS[i % SPECS.length], i));
    for (const f of frames) assert.ok(tx.send(f));
    const got = await collectFrames(cap, frames.length);
    assert.equal(tx.sent, 300);
    run('ip', ['link', 'set', a, 'mtu', '500']);
    assert.throws(() => tx.send(frames[3]), (e: NetringError) => e.code === 'EMSGSIZE' && /larger than the interface MTU/.test(e.message));
    tx.close();
    tx.close();
    assert.throws(() => tx.send(frames[0]), (e: NetringError) => e.code === 'ECLOSED');
    cap.close();
    assert.deepEqual(got, frames);
  });
});

test('close() releases the socket at once (not when the mapping is collected)', { skip: needRoot }, async () => {
  await withVeth(({ a }) => {
    // packet sockets bound to this veth end (/proc/net/packet: sk RefCnt Type Proto Iface ...)
    const ifindex = Number(readFileSync(`/sys/class/net/${a}/ifindex`, 'utf8'));
    const sockets = (): number => readFileSync('/proc/net/packet', 'utf8').trim().split('\n').slice(1)
      .filter((l) => Number(l.trim().split(/\s+/)[4]) === ifindex).length;
    const before = sockets();
    assert.equal(before, 0);
    const rings = [openTxRing({ iface: a }), openTxRing({ iface: a, linear: false })];
    assert.equal(sockets(), before + 2);
    for (const r of rings) { assert.ok(r.write(numbered({}, 1))); r.flush(); r.close(); }
    assert.equal(sockets(), before, 'the sockets are gone while the rings are still referenced');
    assert.equal(rings[0].u8[rings[0].offsets[0]], 0, 'a stray view reads zeros');
  });
});

test('errors: unknown interface, bad geometry, oversized frame, closed ring', { skip: needRoot }, async () => {
  assert.throws(() => openTxRing({ iface: 'nr-no-such0' }), (e: NetringError) => e.code === 'ENODEV' && /no interface named "nr-no-such0"/.test(e.message));
  assert.throws(() => openTxSocket({ iface: 'nr-no-such0' }), (e: NetringError) => e.code === 'ENODEV');
  assert.throws(() => openTxRing({ iface: 'lo', frameSize: 100 }), (e: NetringError) => e.code === 'EGEOMETRY' && /multiple of 16/.test(e.message));
  assert.throws(() => openTxRing({ iface: 'lo', frameSize: 1024, maxFrameLen: 1514 }), (e: NetringError) => e.code === 'EGEOMETRY' && /less than maxFrameLen/.test(e.message));
  const ring = openTxRing({ iface: 'lo', maxFrameLen: 200, frameCount: 8 });
  assert.equal(ring.capacity, 256 - 32 - (ring.linear ? 10 : 0));
  assert.throws(() => ring.write(new Uint8Array(300)), RangeError);
  ring.next();
  assert.throws(() => ring.commit(5000), RangeError);
  ring.close();
  ring.close();
  ring.next();
  ring.commit(60);
  assert.throws(() => ring.flush(), (e: NetringError) => e.code === 'ECLOSED');
});
