/**
 * The capture core against the real kernel, on veth pairs made per test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openCapture, NetringError, type Batch, type Capture } from '../../src/index.js';
import { needRoot, RawSender, seqPayload, sleep, udpFrame, withVeth, ifCounters } from '../helpers/netns.js';

/** Drain a capture until `n` packets arrived or `ms` passed; returns copies of the frames. */
async function collect(cap: Capture, n: number, ms = 3000): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const deadline = Date.now() + ms;
  while (out.length < n && Date.now() < deadline) {
    const b = cap.tryBatch();
    if (b === null) { await sleep(5); continue; }
    for (let p = b.next(); p !== null; p = b.next()) out.push(p.copy());
  }
  cap.tryBatch(); // release the last batch
  return out;
}

test('exact count and byte-for-byte payloads below capacity', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const cap = openCapture({ iface: b, blockSize: 1 << 16, blockCount: 32, blockTimeoutMs: 5 });
    const tx = new RawSender(a);
    const N = 20000;
    const frames: Uint8Array[] = [];
    for (let i = 0; i < N; i++) frames.push(udpFrame({ payload: seqPayload(i, 18 + (i % 200)), sport: 10000 + (i % 64) }));
    const got: Uint8Array[] = [];
    // send in slices, draining in between, so the ring never overflows
    for (let i = 0; i < N; i += 1000) {
      tx.send(frames.slice(i, i + 1000));
      got.push(...(await collect(cap, i + 1000 - got.length, 3000)));
    }
    const st = cap.stats();
    tx.close();
    cap.close();
    assert.equal(st.drops, 0, 'no kernel drops below capacity');
    assert.equal(got.length, N);
    assert.equal(st.received, N);
    assert.equal(st.kernelPackets, N);
    for (let i = 0; i < N; i++) assert.deepEqual(got[i], frames[i], `frame ${i} differs`);
  });
});

test('async iterator delivers batches and releases them as the loop moves on', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    // The sender runs on this thread, so nothing is taken from the ring while it sends: the ring must hold all
    // 3,000 frames however slowly they go out (a 2 ms retire timeout on a loaded machine retires a block every few
    // frames; 64 blocks and 50 ms keep blocks filling by size: about 6 blocks of 64 KiB).
    const cap = openCapture({ iface: b, blockSize: 1 << 16, blockCount: 64, blockTimeoutMs: 50 });
    const tx = new RawSender(a);
    const N = 3000;
    setTimeout(() => tx.send(Array.from({ length: N }, (_, i) => udpFrame({ payload: seqPayload(i) }))), 20);
    // never hang: a capture closed by this guard ends the loop, and the counts below say what was missing
    const guard = setTimeout(() => cap.close(), 30000);
    let seen = 0;
    let prev: Batch | null = null;
    let seqOk = true;
    let lastSeq = -1;
    for await (const batch of cap) {
      if (prev !== null) assert.equal(prev, batch, 'the batch object is reused');
      if (lastSeq >= 0 && batch.seq !== lastSeq + 1) seqOk = false;
      lastSeq = batch.seq;
      batch.forEach((p) => {
        const v = new DataView(p.data.buffer, p.offset + 42, 4).getUint32(0);
        assert.equal(v, seen);
        seen++;
      });
      prev = batch;
      if (seen >= N) break;
    }
    clearTimeout(guard);
    assert.equal(seen, N, `received ${seen} of ${N} (kernel drops ${cap.isOpen ? cap.stats().drops : '?'})`);
    assert.ok(seqOk, 'block sequence numbers increase by one');
    assert.equal(prev!.held, false, 'breaking out released the batch');
    assert.throws(() => prev!.next(), (e: NetringError) => e.code === 'ERELEASED');
    tx.close();
    cap.close();
    cap.close(); // idempotent
  });
});

test('views of a released batch throw instead of reading reused memory', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const cap = openCapture({ iface: b, blockSize: 8192, blockCount: 4, blockTimeoutMs: 2 });
    const tx = new RawSender(a);
    tx.send([udpFrame()]);
    let batch: Batch | null = null;
    for (let i = 0; i < 200 && batch === null; i++) { batch = cap.tryBatch(); if (!batch) await sleep(5); }
    assert.ok(batch);
    const p = batch.next();
    assert.ok(p);
    assert.equal(p.caplen, 60);
    batch.release();
    assert.throws(() => p.caplen, (e: NetringError) => e.code === 'ERELEASED');
    assert.throws(() => p.bytes, (e: NetringError) => e.code === 'ERELEASED');
    batch.release(); // idempotent
    tx.close();
    cap.close();
  });
});

test('VLAN tags moved into metadata are reported (tci, tpid) and stripped from the bytes', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const cap = openCapture({ iface: b, blockSize: 8192, blockCount: 4, blockTimeoutMs: 2 });
    const tx = new RawSender(a);
    tx.send([udpFrame({ vlanTci: (5 << 13) | 123 }), udpFrame({ vlanTci: 42, vlanTpid: 0x88a8 }), udpFrame()]);
    const seen: Array<[boolean, number, number, number]> = [];
    const deadline = Date.now() + 2000;
    while (seen.length < 3 && Date.now() < deadline) {
      const bt = cap.tryBatch();
      if (!bt) { await sleep(5); continue; }
      bt.forEach((p) => { seen.push([p.vlanValid, p.vlanTci, p.vlanTpid, (p.data[p.offset + 12] << 8) | p.data[p.offset + 13]]); });
    }
    cap.close();
    tx.close();
    assert.deepEqual(seen, [
      [true, (5 << 13) | 123, 0x8100, 0x0800],
      [true, 42, 0x88a8, 0x0800],
      [false, 0, 0, 0x0800],
    ]);
  }, { offloadsOff: false });
});

test('timestamps are monotonic and close to the wall clock', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    // a long retire timeout so the 20 paced packets share one or two blocks
    const cap = openCapture({ iface: b, blockSize: 1 << 16, blockCount: 4, blockTimeoutMs: 200 });
    const tx = new RawSender(a);
    const before = Date.now();
    for (let i = 0; i < 20; i++) { tx.send([udpFrame({ payload: seqPayload(i) })]); await sleep(2); }
    const after = Date.now();
    const ts: number[] = [];
    let sw = 0;
    const deadline = Date.now() + 2000;
    while (ts.length < 20 && Date.now() < deadline) {
      const bt = cap.tryBatch();
      if (!bt) { await sleep(5); continue; }
      bt.forEach((p) => { ts.push(p.timestampMs); if (!p.hardwareTimestamp) sw++; assert.equal(p.timestampNs / 1_000_000n, BigInt(Math.floor(p.timestampMs))); });
    }
    cap.close();
    tx.close();
    assert.equal(ts.length, 20);
    assert.equal(sw, 20, 'veth has no hardware stamps');
    for (let i = 1; i < ts.length; i++) assert.ok(ts[i] >= ts[i - 1], 'monotonic');
    assert.ok(ts[0] >= before - 5 && ts[19] <= after + 5, `stamps ${ts[0]}..${ts[19]} within ${before}..${after}`);
    assert.ok(ts[19] - ts[0] >= 19 * 2 - 1, 'stamps follow the sending pace');
  });
});

test('overload: received + kernel drops == sent, exactly', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    // tiny ring, consumer asleep while the burst arrives
    const cap = openCapture({ iface: b, blockSize: 4096, blockCount: 2, blockTimeoutMs: 1 });
    const tx = new RawSender(a);
    const N = 5000;
    const frames = Array.from({ length: N }, (_, i) => udpFrame({ payload: seqPayload(i, 100) }));
    const c0 = ifCounters(b);
    tx.send(frames);
    await sleep(30);
    let received = 0;
    for (let i = 0; i < 20; i++) {
      for (let bt = cap.tryBatch(); bt !== null; bt = cap.tryBatch()) received += bt.count;
      await sleep(5);
    }
    const st = cap.stats();
    const c1 = ifCounters(b);
    const delivered = c1.rxPackets - c0.rxPackets;
    cap.close();
    tx.close();
    assert.equal(delivered, N, 'the veth delivered every frame to the stack');
    assert.ok(st.drops > 0, 'the tiny ring overflowed');
    assert.equal(received, st.received);
    assert.equal(received + st.drops, N, `received ${received} + drops ${st.drops} == sent ${N}`);
    assert.equal(st.kernelPackets, N);
    assert.ok(st.freezes >= 1, 'the queue froze at least once');
  });
});

test('callback form runs per batch and close() inside the handler stops it', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const cap = openCapture({ iface: b, blockSize: 4096, blockCount: 16, blockTimeoutMs: 2 });
    const tx = new RawSender(a);
    let n = 0;
    let after = 0;
    const done = new Promise<void>((resolve) => {
      cap.start((batch) => {
        batch.forEach((p) => {
          if (!cap.isOpen) { after++; return; }
          assert.equal(p.caplen, 60);
          n++;
          if (n === 50) { cap.close(); resolve(); }
        });
      });
    });
    tx.send(Array.from({ length: 200 }, (_, i) => udpFrame({ payload: seqPayload(i) })));
    await Promise.race([done, sleep(3000)]);
    assert.equal(n, 50);
    assert.equal(after, 0, 'no packet handled after close');
    assert.equal(cap.isOpen, false);
    assert.throws(() => cap.tryBatch(), (e: NetringError) => e.code === 'ECLOSED');
    tx.close();
  });
});

test('kernel BPF filter (given as instructions) passes only matching packets, snaplen truncates', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    // tcpdump -dd 'udp dst port 5001' (IPv4 only part): ldh [12]; jeq 0x800; ldb [23]; jeq 17; ldh [20]; jset 0x1fff; ldxb 4*([14]&0xf); ldh [x+16]; jeq 5001
    const filter = [
      { code: 0x28, jt: 0, jf: 0, k: 12 }, { code: 0x15, jt: 0, jf: 8, k: 0x800 },
      { code: 0x30, jt: 0, jf: 0, k: 23 }, { code: 0x15, jt: 0, jf: 6, k: 17 },
      { code: 0x28, jt: 0, jf: 0, k: 20 }, { code: 0x45, jt: 4, jf: 0, k: 0x1fff },
      { code: 0xb1, jt: 0, jf: 0, k: 14 }, { code: 0x48, jt: 0, jf: 0, k: 16 },
      { code: 0x15, jt: 0, jf: 1, k: 5001 }, { code: 0x06, jt: 0, jf: 0, k: 262144 },
      { code: 0x06, jt: 0, jf: 0, k: 0 },
    ];
    const cap = openCapture({ iface: b, blockSize: 1 << 16, blockCount: 8, blockTimeoutMs: 2, filter, snaplen: 50 });
    const tx = new RawSender(a);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 1000; i++) frames.push(udpFrame({ dport: i % 4 === 0 ? 5001 : 6000 + i, payload: seqPayload(i, 100) }));
    tx.send(frames);
    const got = await collect(cap, 250, 2000);
    await sleep(20);
    got.push(...(await collect(cap, 1, 50)));
    const st = cap.stats();
    cap.close();
    tx.close();
    assert.equal(got.length, 250);
    assert.equal(st.kernelPackets, 250, 'the kernel counted only what passed the filter');
    got.forEach((g, i) => assert.deepEqual(g, frames[i * 4].subarray(0, 50)));
  });
});

test('direction: in / out', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    // capture on `a` (the sender's side): 'out' sees our frames, 'in' sees nothing
    const outCap = openCapture({ iface: a, blockSize: 8192, blockCount: 4, blockTimeoutMs: 2, direction: 'out' });
    const inCap = openCapture({ iface: a, blockSize: 8192, blockCount: 4, blockTimeoutMs: 2, direction: 'in' });
    const tx = new RawSender(a);
    tx.send(Array.from({ length: 10 }, (_, i) => udpFrame({ payload: seqPayload(i) })));
    const outs = await collect(outCap, 10, 2000);
    await sleep(30);
    const ins = await collect(inCap, 1, 50);
    outCap.close();
    inCap.close();
    tx.close();
    assert.equal(outs.length, 10);
    assert.equal(ins.length, 0);
  });
});

test('nextBatch blocks until a block retires and honours its timeout', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const cap = openCapture({ iface: b, blockSize: 8192, blockCount: 4, blockTimeoutMs: 5 });
    const t0 = Date.now();
    assert.equal(cap.nextBatch(50), null);
    assert.ok(Date.now() - t0 >= 45, 'waited for the timeout');
    const tx = new RawSender(a);
    tx.send([udpFrame(), udpFrame()]);
    const bt = cap.nextBatch(1000);
    assert.ok(bt, 'a block retired within the timeout');
    // the 5 ms retire timer can split the two frames over two blocks
    let got = bt.count;
    bt.release();
    const deadline = Date.now() + 1000;
    while (got < 2 && Date.now() < deadline) {
      const more = cap.nextBatch(100);
      if (more === null) continue;
      got += more.count;
      more.release();
    }
    assert.equal(got, 2);
    cap.close();
    tx.close();
  });
});

test('errors: unknown interface, bad geometry, bad snaplen', { skip: needRoot }, () => {
  assert.throws(() => openCapture({ iface: 'nosuchif0' }), (e: NetringError) =>
    e instanceof NetringError && e.code === 'ENODEV' && /no interface named "nosuchif0"/.test(e.message));
  assert.throws(() => openCapture({ iface: 'lo', blockSize: 5000 }), (e: NetringError) =>
    e.code === 'EGEOMETRY' && /multiple of the page size/.test(e.message));
  assert.throws(() => openCapture({ iface: 'lo', frameSize: 100 }), (e: NetringError) =>
    e.code === 'EGEOMETRY' && /multiple of 16/.test(e.message));
  assert.throws(() => openCapture({ iface: 'lo', blockSize: 4096, frameSize: 8192 }), (e: NetringError) =>
    e.code === 'EGEOMETRY' && /cannot hold one frame/.test(e.message));
  assert.throws(() => openCapture({ iface: 'lo', snaplen: 0 }), /snaplen/);
});

test('errors: without privileges the message names CAP_NET_RAW', { skip: needRoot }, () => {
  const mod = fileURLToPath(new URL('../../src/index.js', import.meta.url));
  const script = `import(${JSON.stringify(mod)}).then((m) => { try { m.openCapture({ iface: 'lo' }); console.log('OPENED'); } catch (e) { console.log(e.code + ': ' + e.message); } })`;
  const out = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, '-e', script], { encoding: 'utf8' });
  assert.match(out, /^EPERM: .*needs root or the CAP_NET_RAW capability/);
});

test('setFilter replaces the kernel filter; nothing matching only the old filter arrives afterwards', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    // ldh [36] (UDP dport at 14+20+2); jeq K; ret all; ret 0
    const dport = (port: number) => [
      { code: 0x28, jt: 0, jf: 0, k: 36 }, { code: 0x15, jt: 0, jf: 1, k: port },
      { code: 0x06, jt: 0, jf: 0, k: 262144 }, { code: 0x06, jt: 0, jf: 0, k: 0 },
    ];
    const cap = openCapture({ iface: b, blockSize: 1 << 16, blockCount: 8, blockTimeoutMs: 5, filter: dport(1111) });
    const tx = new RawSender(a);
    const mixed = (): Uint8Array[] => Array.from({ length: 200 }, (_, i) => udpFrame({ dport: i % 2 ? 1111 : 2222, payload: seqPayload(i) }));
    tx.send(mixed());
    const first = await collect(cap, 100, 2000);
    assert.equal(first.length, 100);
    assert.ok(first.every((f) => ((f[36] << 8) | f[37]) === 1111));
    tx.send(mixed()); // still under the old filter, may be discarded by the swap
    await cap.setFilter(dport(2222));
    tx.send(mixed());
    const second = await collect(cap, 100, 2000);
    await sleep(20);
    second.push(...(await collect(cap, 1, 30)));
    cap.close();
    tx.close();
    assert.equal(second.length, 100);
    assert.ok(second.every((f) => ((f[36] << 8) | f[37]) === 2222), 'only the new filter\'s packets after setFilter');
  });
});

test('timestamps: hardware on a device without them is a clear error, auto falls back to software', { skip: needRoot }, async () => {
  await withVeth(({ b }) => {
    assert.throws(() => openCapture({ iface: b, timestamp: 'hardware' }), (e: NetringError) =>
      e.code === 'EOPNOTSUPP' && /has no hardware RX timestamps/.test(e.message));
    const cap = openCapture({ iface: b, timestamp: 'auto', blockSize: 4096, blockCount: 2 });
    assert.equal(cap.timestampSource, 'software');
    cap.close();
  });
});
