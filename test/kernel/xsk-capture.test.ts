/**
 * AF_XDP capture against the real kernel, on veth pairs made per test (veth
 * runs native XDP; AF_XDP on it is copy mode).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCapture, openCaptureReader, type Capture, type XskCapture, type XskPacketView } from '../../src/index.js';
import { arpFrame } from '../helpers/frames.js';
import { ifCounters, needRoot, packetFrame, RawSender, run, seqPayload, sleep, udpFrame, withVeth } from '../helpers/netns.js';
import { native } from '../../src/native.js';
import { SOL_SOCKET } from '../../src/constants.js';
import { SO_BUSY_POLL, SO_PREFER_BUSY_POLL } from '../../src/xsk/abi.js';
import { openXskTxRing, XdpAttachment, XskSocket } from '../../src/xsk/index.js';
import { XskReader } from '../../src/xsk/reader.js';
import { XskPacketView as XskView } from '../../src/xsk/batch.js';

const CHILD = fileURLToPath(new URL('./xsk-child.js', import.meta.url));

/** Drain until `n` frames arrived or `ms` passed; copies of the frames. */
async function collect(cap: XskCapture, n: number, ms = 3000): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const deadline = Date.now() + ms;
  while (out.length < n && Date.now() < deadline) {
    const b = cap.tryBatch();
    if (b === null) { await sleep(2); continue; }
    for (let p = b.next(); p !== null; p = b.next()) out.push(p.copy());
  }
  cap.tryBatch();
  return out;
}

/** Markers of the crafted frames an AF_PACKET capture sees (the frames XDP passed up the stack), until n arrived or ms passed. */
async function stackMarkers(cap: Capture, frames: Uint8Array[], n: number, ms: number): Promise<number[]> {
  const out: number[] = [];
  const deadline = Date.now() + ms;
  while (out.length < n && Date.now() < deadline) {
    const b = cap.tryBatch();
    if (b === null) { await sleep(5); continue; }
    for (let p = b.next(); p !== null; p = b.next()) {
      if (p.caplen < 4) continue;
      const m = markerOf(p.bytes);
      // the stack moves a VLAN tag into metadata: the bytes may be 4 shorter
      if (m < frames.length && (p.caplen === frames[m].length || p.caplen === frames[m].length - 4)) out.push(m);
    }
  }
  return out;
}

function xdpAttached(iface: string): boolean {
  return /prog\/xdp|xdpgeneric|xdpdrv| xdp /.test(run('ip', ['link', 'show', 'dev', iface]));
}

/** Id of the XDP program on `iface` (from `ip -j link`), or 0. */
function xdpProgId(iface: string): number {
  const info = JSON.parse(run('ip', ['-j', 'link', 'show', 'dev', iface])) as Array<{ xdp?: { prog?: { id?: number } } }>;
  return info[0]?.xdp?.prog?.id ?? 0;
}

/** BPF links (bpftool) of type xdp holding program `progId`. */
function xdpLinksOf(progId: number): number {
  const out = run('bpftool', ['-j', 'link', 'show'], { allowFail: true });
  if (out.trim() === '') return 0;
  const links = JSON.parse(out) as Array<{ type?: string; prog_id?: number }>;
  return links.filter((l) => l.type === 'xdp' && l.prog_id === progId).length;
}

test('AF_XDP: 20,000 frames arrive exactly once with their exact bytes, no drops; close detaches the program', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const cap = openCapture({ backend: 'xdp', iface: b });
    assert.equal(cap.zeroCopy, false, 'veth binds in copy mode');
    assert.equal(cap.xdpMode, 'native', 'veth runs the program in the driver');
    assert.ok(xdpAttached(b), 'program attached while the capture is open');
    const tx = new RawSender(a);
    const N = 20000;
    const frames: Uint8Array[] = [];
    for (let i = 0; i < N; i++) frames.push(udpFrame({ payload: seqPayload(i, 18 + (i % 300)), sport: 10000 + (i % 64) }));
    const got: Uint8Array[] = [];
    for (let i = 0; i < N; i += 1000) {
      tx.send(frames.slice(i, i + 1000));
      got.push(...(await collect(cap, i + 1000 - got.length)));
    }
    const st = cap.stats();
    tx.close();
    const progId = xdpProgId(b);
    assert.ok(progId > 0);
    assert.equal(xdpLinksOf(progId), 1, 'attached through a BPF link');
    cap.close();
    assert.equal(got.length, N);
    assert.equal(st.received, N);
    assert.equal(st.drops, 0);
    assert.equal(st.kernelPackets, N);
    let bytesSent = 0;
    let bytesGot = 0;
    for (let i = 0; i < N; i++) {
      bytesSent += frames[i].length;
      bytesGot += got[i].length;
      assert.deepEqual(got[i], frames[i], `frame ${i} differs`);
    }
    assert.equal(bytesGot, bytesSent);
    assert.equal(xdpAttached(b), false, 'no XDP program left after close');
    assert.equal(xdpLinksOf(progId), 0, 'no XDP link left after close');
  });
});

test('AF_XDP: batches released out of order, and loop batches read across takeBatch(), never lose or duplicate a frame', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    // a small UMEM (96 frames) recycled ~40 times over: a lost frame starves the fill ring, a duplicate repeats a sequence number
    const cap = openCapture({ backend: 'xdp', iface: b, rxSize: 64, fillSize: 64, frames: 96, budget: 8, maxHeldBatches: 8 });
    const tx = new RawSender(a);
    const seen = new Map<number, number>();
    let rnd = 12345;
    const random = (n: number): number => { rnd = (rnd * 1103515245 + 12345) & 0x7fffffff; return rnd % n; };
    const held: Array<ReturnType<XskCapture['takeBatch']> & object> = [];
    const ROUNDS = 80;
    const PER = 48;
    let seq = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const frames: Uint8Array[] = [];
      for (let i = 0; i < PER; i++) frames.push(udpFrame({ payload: seqPayload(seq++, 32) }));
      tx.send(frames);
      const deadline = Date.now() + 2000;
      let got = 0;
      const record = (p: XskPacketView): void => {
        const s = new DataView(p.data.buffer, p.offset + 42, 4).getUint32(0);
        seen.set(s, (seen.get(s) ?? 0) + 1);
        got++;
      };
      while (got < PER && Date.now() < deadline) {
        if (random(3) === 0) {
          // a loop batch (read in the RX ring, released by the next tryBatch); a takeBatch in the
          // middle of reading it gives its ring slots back to the kernel, so it must keep reading its own frames
          const lb = cap.tryBatch();
          if (lb !== null) {
            const half = lb.count >> 1;
            for (let i = 0; i < half; i++) record(lb.next()!);
            const bt = held.length < 6 ? cap.takeBatch() : null;
            if (bt !== null) {
              for (let p = bt.next(); p !== null; p = bt.next()) record(p);
              held.push(bt);
            }
            for (let p = lb.next(); p !== null; p = lb.next()) record(p);
            continue;
          }
        }
        const bt = held.length < 6 ? cap.takeBatch() : null;
        if (bt === null) {
          if (held.length > 0) held.splice(random(held.length), 1)[0].release(); // out of order
          else await sleep(1);
          continue;
        }
        for (let p = bt.next(); p !== null; p = bt.next()) record(p);
        held.push(bt);
      }
      while (held.length > 0) held.splice(random(held.length), 1)[0].release();
      assert.equal(cap.tryBatch(), null, 'nothing more was sent'); // also releases the last loop batch
    }
    const st = cap.stats();
    tx.close();
    cap.close();
    const dup = [...seen.entries()].filter(([, n]) => n !== 1);
    assert.deepEqual(dup, [], 'no frame delivered twice');
    assert.equal(seen.size, ROUNDS * PER, 'every frame delivered');
    for (let s = 0; s < ROUNDS * PER; s++) assert.ok(seen.has(s), `frame ${s} missing`);
    assert.equal(st.drops, 0);
  });
});

test('AF_XDP: released frames go back to the fill ring in the order they arrived; the frames beyond the fill ring wait until it is half empty', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    // 64 fill-ring slots, 128 frames: the kernel takes frames in fill-ring order, so the k-th frame received
    // sits in frame k mod 64 as long as every batch goes back in arrival order and the other 64 stay in reserve
    const cap = openCapture({ backend: 'xdp', iface: b, rxSize: 64, fillSize: 64, frames: 128, budget: 16, maxHeldBatches: 8 });
    const tx = new RawSender(a);
    const fs = cap.socket.umem.frameSize;
    const first = cap.socket.frameAddr(cap.socket.rxFrames.first);
    try {
      const frameOf: number[] = [];
      let seq = 0;
      const drain = async (n: number, hold: boolean): Promise<Array<NonNullable<ReturnType<XskCapture['takeBatch']>>>> => {
        const held: Array<NonNullable<ReturnType<XskCapture['takeBatch']>>> = [];
        const deadline = Date.now() + 2000;
        let got = 0;
        while (got < n && Date.now() < deadline) {
          const bt = hold ? cap.takeBatch() : cap.tryBatch();
          if (bt === null) { await sleep(1); continue; }
          for (let p = bt.next(); p !== null; p = bt.next()) {
            assert.equal(new DataView(p.data.buffer, p.offset + 42, 4).getUint32(0), seq + got, 'in order');
            frameOf.push(Math.floor((p.offset - first) / fs));
            got++;
          }
          if (hold) held.push(bt);
        }
        seq += got;
        assert.equal(got, n);
        return held;
      };
      const send = (n: number): void => {
        const frames: Uint8Array[] = [];
        for (let i = 0; i < n; i++) frames.push(udpFrame({ payload: seqPayload(seq + i, 32) }));
        tx.send(frames);
      };
      // 10 rounds of 24 (640 frames: each of the first 64 frames used 10 times over, in sequence)
      for (let r = 0; r < 10; r++) { send(24); await drain(24, false); }
      cap.tryBatch(); // releases the last loop batch
      assert.deepEqual(frameOf, Array.from({ length: 240 }, (_, k) => k % 64), 'frame k mod 64, every time round');
      // 40 frames held outside the rings leave 24 in the fill ring; 16 more arrive (8 left): when the loop batch
      // goes back the fill ring has 40 free slots, more than half, so the 64 reserve frames top it up; the held
      // frames then find it full and wait on the spare stack
      send(40);
      const held = await drain(40, true);
      send(16);
      await drain(16, false);
      cap.tryBatch();
      for (const bt of held) bt.release();
      frameOf.length = 0;
      send(64);
      await drain(64, false);
      cap.tryBatch();
      // frames 48..63 and 0..23 were held, 24..39 were the loop batch, 40..47 were still in the fill ring
      const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
      assert.deepEqual(frameOf.slice(0, 8), range(40, 8), 'the 8 frames the fill ring still had come first');
      assert.deepEqual(frameOf.slice(8, 24), range(24, 16), 'then the loop batch, in order');
      assert.ok(frameOf.slice(24).every((f) => f >= 64), `then 40 reserve frames (${frameOf.slice(24).join(' ')})`);
      assert.equal(new Set(frameOf).size, 64, 'no frame twice');
      assert.equal(cap.stats().drops, 0);
    } finally {
      tx.close();
      cap.close();
    }
  });
});

test('AF_XDP: a loop batch read across takeBatch() keeps reading its own frames after the kernel refilled its RX ring slots', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    // an 8-slot RX ring: the loop batch (read in the ring) takes all 8 slots; takeBatch() gives them back to the
    // kernel, which writes the next 8 descriptors into the very same slots (the fill ring still has 8 frames for them)
    const cap = openCapture({ backend: 'xdp', iface: b, rxSize: 8, fillSize: 16, frames: 24, budget: 8 });
    const tx = new RawSender(a);
    const seqOf = (p: XskPacketView): number => new DataView(p.data.buffer, p.offset + 42, 4).getUint32(0);
    const wait = async (what: () => boolean): Promise<void> => {
      for (let i = 0; i < 500 && !what(); i++) await sleep(10);
    };
    try {
      tx.send(Array.from({ length: 8 }, (_, i) => udpFrame({ payload: seqPayload(i, 32) })));
      await wait(() => cap.stats().kernelPackets >= 8);
      const lb = cap.tryBatch()!;
      assert.equal(lb.count, 8);
      const got: number[] = [];
      for (let i = 0; i < 4; i++) got.push(seqOf(lb.next()!));
      assert.equal(cap.takeBatch(), null, 'nothing else is waiting');
      tx.send(Array.from({ length: 8 }, (_, i) => udpFrame({ payload: seqPayload(8 + i, 32) })));
      await wait(() => cap.stats().kernelPackets >= 16);
      assert.equal(cap.stats().kernelPackets, 16);
      for (let p = lb.next(); p !== null; p = lb.next()) got.push(seqOf(p));
      assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7], 'the loop batch still reads its own frames');
      const next = cap.tryBatch()!; // releases lb
      const rest: number[] = [];
      for (let p = next.next(); p !== null; p = next.next()) rest.push(seqOf(p));
      assert.deepEqual(rest, [8, 9, 10, 11, 12, 13, 14, 15]);
      assert.equal(cap.stats().drops, 0);
    } finally {
      tx.close();
      cap.close();
    }
  });
});

test('AF_XDP: a released batch and its view throw instead of reading recycled frames', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const cap = openCapture({ backend: 'xdp', iface: b });
    const tx = new RawSender(a);
    tx.send([udpFrame(), udpFrame()]);
    let bt = null;
    for (let i = 0; i < 200 && bt === null; i++) { bt = cap.takeBatch(); if (bt === null) await sleep(5); }
    assert.ok(bt !== null);
    const p = bt.next();
    assert.ok(p !== null);
    bt.release();
    assert.throws(() => p.caplen, { code: 'ERELEASED' });
    assert.throws(() => bt.next(), { code: 'ERELEASED' });
    tx.close();
    cap.close();
  });
});

// ---------------------------------------------------------------- filters ---

function pcapFile(frames: Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const gh = new DataView(new ArrayBuffer(24));
  gh.setUint32(0, 0xa1b2c3d4, true); gh.setUint16(4, 2, true); gh.setUint16(6, 4, true);
  gh.setUint32(16, 262144, true); gh.setUint32(20, 1, true);
  parts.push(new Uint8Array(gh.buffer));
  frames.forEach((f, i) => {
    const rh = new DataView(new ArrayBuffer(16));
    rh.setUint32(0, 1000 + i, true); rh.setUint32(8, f.length, true); rh.setUint32(12, f.length, true);
    parts.push(new Uint8Array(rh.buffer), f);
  });
  return Buffer.concat(parts);
}

/** A frame with a 4-byte marker at its end (seq), from a base frame. */
function marked(base: Uint8Array, seq: number): Uint8Array {
  const f = new Uint8Array(base.length + 4);
  f.set(base);
  new DataView(f.buffer).setUint32(base.length, seq);
  return f;
}
const markerOf = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset + b.length - 4, 4).getUint32(0);

/** A bare TCP segment (no payload, seq 0, window 0) from 10.99.0.9:40000. */
function tcpFrame(dport: number, flags: number): Uint8Array {
  return packetFrame({
    srcMac: '02:00:00:00:0a:01', dstMac: '02:00:00:00:ff:02', src: '10.99.0.9', dst: '10.99.1.1', df: false,
    proto: 'tcp', sport: 40000, dport, tcpFlags: flags, tcpSeq: 0, tcpWindow: 0,
  });
}

/** IPv6 UDP ::1.1234 -> ::2.53 with 8 zero payload bytes, to the all-nodes MAC. */
function ip6UdpFrame(): Uint8Array {
  return packetFrame({ srcMac: '02:00:00:00:0a:01', dstMac: '33:33:00:00:00:01', src: '::1', dst: '::2', sport: 1234, dport: 53, payload: new Uint8Array(8) });
}

function crafted(): Uint8Array[] {
  const bases: Uint8Array[] = [];
  for (let i = 0; i < 8; i++) {
    bases.push(udpFrame({ src: `10.99.0.${i + 1}`, dst: `10.99.${i % 4}.1`, sport: 1000 + i, dport: i % 2 ? 5001 : 7000, ttl: 60 + i, payload: seqPayload(i, 18 + i * 40) }));
  }
  bases.push(udpFrame({ vlanTci: 100, dport: 53 }), udpFrame({ vlanTci: 200, dport: 5001 }));
  bases.push(udpFrame({ dstMac: 'ff:ff:ff:ff:ff:ff', dport: 67 }));
  bases.push(arpFrame({ spa: '10.99.0.1', tpa: '10.99.1.1' }), tcpFrame(80, 0x02), tcpFrame(443, 0x10), tcpFrame(22, 0x12), ip6UdpFrame());
  return bases.map((f, i) => marked(f, i));
}

const EXPRESSIONS = [
  'udp', 'udp port 5001', 'src host 10.99.0.3', 'dst net 10.99.2.0/24', 'ip[8] = 63', 'arp', 'ip6', 'tcp',
  'tcp[tcpflags] & tcp-syn != 0', 'udp[0:2] > 1003', 'vlan and udp port 53', 'vlan 200', 'len > 150', 'not udp',
  'ether broadcast', 'tcp dst port 443 or udp dst port 7000', 'greater 100 and ip',
];

test('AF_XDP: the language\'s XDP program picks exactly the frames tcpdump picks (exact counts, the rest passes up the stack)', { skip: needRoot }, async () => {
  const frames = crafted();
  const dir = mkdtempSync(join(tmpdir(), 'nr-xsk-'));
  try {
    const all = join(dir, 'all.pcap');
    writeFileSync(all, pcapFile(frames));
    await withVeth(async ({ a, b }) => {
      const tx = new RawSender(a);
      for (const expr of EXPRESSIONS) {
        const out = join(dir, 'match.pcap');
        execFileSync('tcpdump', ['-r', all, '-w', out, expr], { stdio: 'ignore' });
        const want: number[] = [];
        const rd = openCaptureReader(out);
        for (const rec of rd) want.push(markerOf(rec.data.subarray(rec.offset, rec.offset + rec.caplen)));
        rd.close();
        const cap = openCapture({ backend: 'xdp', iface: b, filter: expr });
        const stack = openCapture({ iface: b, blockTimeoutMs: 10 }); // after XDP: sees only what it passed
        tx.send(frames);
        const got = (await collect(cap, want.length, 1500)).map(markerOf);
        await sleep(50);
        got.push(...(await collect(cap, 0, 0)).map(markerOf));
        const st = cap.stats();
        cap.close();
        const passedWant = frames.map((_, i) => i).filter((i) => !want.includes(i));
        const passed = await stackMarkers(stack, frames, passedWant.length, 3000);
        await sleep(50);
        passed.push(...(await stackMarkers(stack, frames, Infinity, 100)));
        stack.close();
        assert.deepEqual(passed.sort((x, y) => x - y), passedWant, `XDP_PASS for the rest with "${expr}"`);
        assert.equal(got.length, want.length, `count for "${expr}"`);
        assert.deepEqual(got.sort((x, y) => x - y), want.sort((x, y) => x - y), `verdicts differ for "${expr}"`);
        assert.equal(st.drops, 0, expr);
      }
      tx.close();
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('AF_XDP: filters XDP cannot run are refused with one clear line', { skip: needRoot }, async () => {
  await withVeth(async ({ b }) => {
    // protochain loops: the XDP code generator refuses them, the placement says why
    assert.throws(() => openCapture({ backend: 'xdp', iface: b, filter: 'ip protochain 6' }),
      (e: Error & { code?: string }) => e.code === 'EFILTER' && /"ip protochain 6" cannot run in XDP: protochain/.test(e.message) && !e.message.includes('\n'));
    assert.equal(xdpAttached(b), false);
  });
});

// ------------------------------------------------------ detach and errors ---

function child(args: string[], wrap: string[] = []): { proc: ReturnType<typeof spawn>; line: Promise<string> } {
  const cmd = wrap.length > 0 ? wrap[0] : process.execPath;
  const argv = wrap.length > 0 ? [...wrap.slice(1), process.execPath, CHILD, ...args] : [CHILD, ...args];
  const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = new Promise<string>((resolve) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => { buf += d.toString(); if (buf.includes('\n')) resolve(buf.split('\n')[0]); });
    proc.on('exit', () => resolve(buf.split('\n')[0]));
  });
  return { proc, line };
}

test('AF_XDP: SIGKILL of the capturing process leaves no XDP program or link behind', { skip: needRoot }, async () => {
  await withVeth(async ({ b }) => {
    const { proc, line } = child([b, '0']);
    assert.match(await line, /^READY copy native/);
    const progId = xdpProgId(b);
    assert.ok(progId > 0);
    assert.equal(xdpLinksOf(progId), 1);
    proc.kill('SIGKILL');
    await new Promise((r) => proc.on('exit', r));
    let left = true;
    for (let i = 0; i < 100 && left; i++) { left = xdpAttached(b) || xdpLinksOf(progId) > 0; if (left) await sleep(20); }
    assert.equal(left, false, 'the link died with the process');
    // and the queue is free again
    const cap = openCapture({ backend: 'xdp', iface: b });
    cap.close();
  });
});

test('AF_XDP: bad input gets one clear line each', { skip: needRoot }, async () => {
  await withVeth(async ({ b }) => {
    const oneLine = (re: RegExp, code?: string) => (e: Error & { code?: string }): boolean => {
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'), e.message);
      if (code) assert.equal(e.code, code);
      return true;
    };
    assert.throws(() => openCapture({ backend: 'xdp', iface: b, queue: 3 }), oneLine(/queue 3 is out of range: .* has 1 RX queue \(0\.\.0\)/, 'ERANGE'));
    assert.throws(() => openCapture({ backend: 'xdp', iface: b, copyMode: 'zerocopy' }), oneLine(/zero-copy refused/));
    assert.throws(() => openCapture({ backend: 'xdp', iface: 'lo', xdpMode: 'native' }), oneLine(/lo has no native \(driver\) XDP support/, 'EOPNOTSUPP'));
    assert.throws(() => openCapture({ backend: 'xdp', iface: 'nosuchif0' }), oneLine(/no interface named "nosuchif0"/, 'ENODEV'));
    assert.throws(() => openCapture({ backend: 'xdp', iface: b, rxSize: 1000 }), oneLine(/rxSize 1000 must be a power of two/, 'EGEOMETRY'));
    assert.equal(xdpAttached(b), false);
    assert.equal(xdpAttached('lo'), false);
    // UMEM larger than RLIMIT_MEMLOCK, without CAP_IPC_LOCK
    const m = child([b, '0'], ['prlimit', '--memlock=1048576:1048576', 'setpriv', '--bounding-set=-ipc_lock']);
    assert.match(await m.line, /^ERROR ENOBUFS the UMEM \(\d+ bytes\) is larger than RLIMIT_MEMLOCK \(1048576 bytes\)/);
    // no CAP_NET_RAW
    const c = child([b, '0'], ['setpriv', '--bounding-set=-net_raw']);
    assert.match(await c.line, /^ERROR EPERM .*needs root or the CAP_NET_RAW capability/);
    assert.equal(xdpAttached(b), false);
  });
});

// --------------------------------------------- drops, wakeups, busy poll ---

/** Send n numbered frames from `tx` in bursts of 20 (veth's XDP ring holds 256 frames per queue). */
async function paced(tx: RawSender, n: number, from = 0): Promise<void> {
  for (let i = 0; i < n; i += 20) {
    tx.send(Array.from({ length: Math.min(20, n - i) }, (_, k) => udpFrame({ payload: seqPayload(from + i + k, 20) })));
    await sleep(2);
  }
}

test('AF_XDP: drops are counted exactly: a full RX ring (rx_ring_full) and an empty fill ring (rx_fill_ring_empty_descs, also in rx_dropped)', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const tx = new RawSender(a);
    const vethDrops = ifCounters(a).txDropped;
    try {
      // nobody reads: 16 RX slots take 16 frames (the fill ring has 64 free frames), the other 184 find the RX ring full
      const full = openCapture({ backend: 'xdp', iface: b, rxSize: 16, fillSize: 64 });
      await paced(tx, 200);
      await sleep(50);
      let st = full.stats();
      assert.deepEqual([st.kernelPackets, st.drops, st.freezes, st.xdp.rxRingFull, st.xdp.rxDropped, st.xdp.rxFillRingEmptyDescs], [200, 184, 0, 184, 0, 0]);
      assert.equal((await collect(full, 16, 500)).length, 16, 'the 16 that fit are there');
      st = full.stats();
      assert.deepEqual([st.received, st.kernelPackets, st.drops], [16, 200, 184]);
      full.close();
      // 64 RX slots but only 16 free frames: the other 184 find no buffer (fill ring empty)
      const empty = openCapture({ backend: 'xdp', iface: b, rxSize: 64, fillSize: 16 });
      await paced(tx, 200, 200);
      await sleep(50);
      st = empty.stats();
      assert.deepEqual([st.kernelPackets, st.drops, st.freezes, st.xdp.rxRingFull, st.xdp.rxDropped, st.xdp.rxFillRingEmptyDescs], [200, 184, 184, 0, 184, 184]);
      assert.equal((await collect(empty, 16, 500)).length, 16);
      // once the reader gave the frames back, nothing more is dropped
      await paced(tx, 16, 400);
      assert.equal((await collect(empty, 16, 2000)).length, 16);
      st = empty.stats();
      assert.deepEqual([st.received, st.kernelPackets, st.drops], [32, 216, 184]);
      empty.close();
      assert.equal(ifCounters(a).txDropped - vethDrops, 0, 'veth handed every frame to XDP');
    } finally {
      tx.close();
    }
  });
});

test('AF_XDP need_wakeup: the capture kicks only when the fill ring asks (never, in copy mode: 2,000 frames, 0 kicks); the TX ring asks and the TX path kicks', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const cap = openCapture({ backend: 'xdp', iface: b });
    const tx = new RawSender(a);
    try {
      assert.equal(cap.socket.needWakeup, true, 'bound with XDP_USE_NEED_WAKEUP');
      let got = 0;
      for (let i = 0; i < 2000; i += 200) {
        await paced(tx, 200, i);
        got += (await collect(cap, 200)).length;
      }
      assert.equal(got, 2000);
      assert.equal(cap.socket.fill!.needWakeup(), false, 'copy mode: the kernel fills from the XDP hook, it never asks for a wakeup');
      assert.equal(cap.kicks, 0, 'no recvfrom() was issued');
    } finally {
      tx.close();
      cap.close();
    }
    const ring = openXskTxRing({ iface: a, copyMode: 'copy', frames: 64 });
    try {
      assert.equal(ring.socket.tx!.needWakeup(), true, 'copy mode TX: the kernel sends only inside sendto()');
      const f = udpFrame();
      for (let i = 0; i < 10; i++) { const off = ring.next(); ring.u8.set(f, off); ring.commit(f.length); }
      assert.ok(ring.drain(2000));
      const s = ring.stats();
      assert.equal(s.sent, 10);
      assert.ok(s.kicks >= 1, 'the flag asked, the TX path kicked');
    } finally {
      ring.close();
    }
  });
});

test('AF_XDP busy polling: SO_PREFER_BUSY_POLL and SO_BUSY_POLL reach the socket (SO_BUSY_POLL_BUDGET is set), and frames arrive exactly', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const opt = (fd: number, name: number): number => { const v = new Int32Array(1); native.getsockopt(fd, SOL_SOCKET, name, v); return v[0]; };
    // the kernel has no getsockopt for SO_BUSY_POLL_BUDGET: its setsockopt succeeding is all there is to see
    const read = (c: XskCapture): number[] => [SO_PREFER_BUSY_POLL, SO_BUSY_POLL].map((n) => opt(c.socket.fd, n));
    const off = openCapture({ backend: 'xdp', iface: b });
    assert.equal(off.socket.busyPoll, false);
    assert.deepEqual(read(off), [0, 0], 'off by default');
    off.close();
    const dflt = openCapture({ backend: 'xdp', iface: b, busyPoll: true });
    assert.deepEqual(read(dflt), [1, 20], 'busyPoll: true = 20 us');
    dflt.close();
    const cap = openCapture({ backend: 'xdp', iface: b, busyPoll: { usecs: 50, budget: 16 } });
    const tx = new RawSender(a);
    try {
      assert.equal(cap.socket.busyPoll, true);
      assert.deepEqual(read(cap), [1, 50]);
      await paced(tx, 500);
      const got = await collect(cap, 500);
      assert.equal(got.length, 500);
      assert.deepEqual(got.map((f) => new DataView(f.buffer, f.byteOffset + 42, 4).getUint32(0)), Array.from({ length: 500 }, (_, i) => i));
      assert.equal(cap.stats().drops, 0);
    } finally {
      tx.close();
      cap.close();
    }
  });
});

test('AF_XDP shared UMEM: a socket on queue 1 shares queue 0\'s UMEM (XDP_SHARED_UMEM), each receives exactly its queue\'s frames in its own frames', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const owner = new XskSocket({ iface: b, queue: 0, rxSize: 256, fillSize: 256, umemFrames: 1024 });
    const sharer = new XskSocket({ iface: b, queue: 1, rxSize: 256, fillSize: 256, shareUmemWith: owner });
    const att = XdpAttachment.attach({ iface: b, ifindex: owner.ifindex, queues: 2 });
    const senders = [0, 1].map((q) => openXskTxRing({ iface: a, queue: q, copyMode: 'copy', frames: 64 }));
    try {
      assert.equal(sharer.umem, owner.umem, 'one UMEM');
      assert.deepEqual([owner.rxFrames, sharer.rxFrames], [{ first: 0, count: 512 }, { first: 512, count: 512 }], 'disjoint frames');
      const readers = [owner, sharer].map((s) => new XskReader(s.rx!, s.fill!, {
        budget: 64, frameSize: s.umem.frameSize, firstAddr: s.frameAddr(s.rxFrames.first), frames: s.rxFrames.count, maxBatches: 2,
        view: () => new XskView(s.umem.bytes, s.ifindex, 65535),
      }));
      att.addSocket(0, owner.fd);
      att.addSocket(1, sharer.fd);
      const seqs: number[][] = [[], []];
      const addrs: Array<[number, number]> = [[Infinity, -1], [Infinity, -1]];
      let seq = 0;
      const sent: number[][] = [[], []];
      for (let round = 0; round < 10; round++) {
        for (const q of [0, 1]) {
          const r = senders[q];
          for (let i = 0; i < 40; i++) {
            const f = udpFrame({ payload: seqPayload(seq, 20) });
            sent[q].push(seq++);
            const o = r.next();
            r.u8.set(f, o);
            r.commit(f.length);
          }
          assert.ok(r.drain(2000));
        }
        for (const q of [0, 1]) {
          for (let t = 0; t < 200 && seqs[q].length < sent[q].length; t++) {
            const bt = readers[q].acquire(false);
            if (bt === null) { await sleep(2); continue; }
            for (let p = bt.next(); p !== null; p = bt.next()) {
              seqs[q].push(new DataView(p.data.buffer, p.offset + 42, 4).getUint32(0));
              addrs[q] = [Math.min(addrs[q][0], p.offset), Math.max(addrs[q][1], p.offset)];
            }
          }
        }
      }
      readers.forEach((r) => r.acquire(false));
      assert.deepEqual(seqs, sent, 'each socket got exactly the frames of its queue, in order, recycling its frames');
      const fs = owner.umem.frameSize;
      assert.ok(addrs[0][0] >= 0 && addrs[0][1] < 512 * fs + fs, `queue 0 in frames 0..511 (${addrs[0]})`);
      assert.ok(addrs[1][0] >= 512 * fs && addrs[1][1] < 1024 * fs + fs, `queue 1 in frames 512..1023 (${addrs[1]})`);
      for (const s of [owner, sharer]) {
        const k = s.kernelStats();
        assert.equal(k.rxDropped + k.rxRingFull + k.rxInvalidDescs, 0);
      }
    } finally {
      for (const r of senders) r.close();
      att.removeSocket(0);
      att.removeSocket(1);
      att.leave();
      sharer.close();
      owner.close();
    }
    assert.equal(xdpAttached(b), false);
  }, { queues: 2 });
});

test('AF_XDP options: generic (skb) XDP with 2048-byte UMEM frames: 2,000 frames of 60..1514 bytes exactly, then detached', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const cap = openCapture({ backend: 'xdp', iface: b, xdpMode: 'generic', frameSize: 2048, copyMode: 'copy' });
    const tx = new RawSender(a);
    try {
      assert.equal(cap.xdpMode, 'generic');
      assert.equal(cap.socket.umem.frameSize, 2048);
      assert.match(run('ip', ['link', 'show', 'dev', b]), /xdpgeneric/, 'attached on the skb path');
      const frames = Array.from({ length: 2000 }, (_, i) => udpFrame({ payload: seqPayload(i, 18 + ((i * 101) % 1455)) }));
      assert.equal(Math.max(...frames.map((f) => f.length)), 1514);
      const got: Uint8Array[] = [];
      for (let i = 0; i < frames.length; i += 100) {
        tx.send(frames.slice(i, i + 100));
        got.push(...(await collect(cap, i + 100 - got.length)));
      }
      assert.equal(got.length, frames.length);
      for (let i = 0; i < frames.length; i++) assert.deepEqual(got[i], frames[i], `frame ${i}`);
      assert.equal(cap.stats().drops, 0);
    } finally {
      tx.close();
      cap.close();
    }
    assert.equal(xdpAttached(b), false);
  });
});
