import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFrame, type PacketSpec } from '../../src/build/index.js';
import { RingReader } from '../../src/ring/index.js';
import { buildRingImage, rearmImage, type ImageFrame } from '../helpers/ring-image.js';
import { FlowTable, readRecord, RecordBuffer, type FlowRecord, parseFlowPacket, ParsedPacket } from '../../src/flow/index.js';

/** A table whose records are collected as objects. */
function table(opts: ConstructorParameters<typeof FlowTable>[0] = {}): { t: FlowTable; recs: FlowRecord[] } {
  const recs: FlowRecord[] = [];
  const t = new FlowTable({ ...opts, onFull: (rb: RecordBuffer) => { for (let i = 0; i < rb.count; i++) recs.push(readRecord(rb, i)); } });
  return { t, recs };
}

function add(t: FlowTable, spec: PacketSpec, sec: number, nsec = 0, vlanTci = -1): Uint8Array {
  const f = buildFrame(spec);
  t.addBytes(f, 0, f.length, 1, vlanTci, f.length, sec, nsec);
  return f;
}

const A = { src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 80 };
const B = { src: '10.0.0.2', dst: '10.0.0.1', sport: 80, dport: 40000 };

test('both directions meet in one biflow record; the initiator is the forward side', () => {
  const { t, recs } = table();
  add(t, { ...B, proto: 'udp', size: 100 }, 100); // responder's address is smaller? no: first packet decides
  add(t, { ...A, proto: 'udp', size: 200 }, 101);
  add(t, { ...A, proto: 'udp', size: 200 }, 102);
  t.flushAll();
  assert.equal(recs.length, 1);
  const r = recs[0];
  assert.equal(r.src, '10.0.0.2');
  assert.equal(r.sport, 80);
  assert.equal(r.dst, '10.0.0.1');
  assert.equal(r.packets, 1);
  assert.equal(r.bytes, 100 - 14);
  assert.equal(r.rpackets, 2);
  assert.equal(r.rbytes, 2 * (200 - 14));
  assert.equal(r.firstNs, '100000000000');
  assert.equal(r.lastNs, '100000000000');
  assert.equal(r.rfirstNs, '101000000000');
  assert.equal(r.rlastNs, '102000000000');
  assert.equal(r.end, 'forced');
});

test('TCP flags union per direction; FIN both ways closes, last ACK joins, SYN on the closed key starts a new flow', () => {
  const { t, recs } = table({ closeTimeout: 1 });
  add(t, { ...A, proto: 'tcp', tcpFlags: 'S' }, 10);
  add(t, { ...B, proto: 'tcp', tcpFlags: 'SA' }, 10, 1000);
  add(t, { ...A, proto: 'tcp', tcpFlags: 'A' }, 10, 2000);
  add(t, { ...A, proto: 'tcp', tcpFlags: 'FA' }, 11);
  add(t, { ...B, proto: 'tcp', tcpFlags: 'FA' }, 11, 10);
  add(t, { ...A, proto: 'tcp', tcpFlags: 'A' }, 11, 20); // last ACK: same flow
  assert.equal(t.active, 1);
  add(t, { ...A, proto: 'tcp', tcpFlags: 'S' }, 11, 30); // port reuse: new connection
  assert.equal(recs.length, 0);
  t.flushRecords();
  assert.equal(recs.length, 1);
  assert.equal(recs[0].end, 'end');
  assert.equal(recs[0].packets, 4);
  assert.equal(recs[0].rpackets, 2);
  assert.equal(recs[0].tcpFlags, 0x13); // S A F
  assert.equal(recs[0].rtcpFlags, 0x13);
  assert.equal(t.active, 1);
  t.flushAll();
  assert.equal(recs[1].packets, 1);
  assert.equal(recs[1].tcpFlags, 0x02);
});

test('RST closes; expire() ends it after the close timeout, not before', () => {
  const { t, recs } = table({ closeTimeout: 2, idleTimeout: 100 });
  add(t, { ...A, proto: 'tcp', tcpFlags: 'S' }, 10);
  add(t, { ...B, proto: 'tcp', tcpFlags: 'R' }, 10, 5);
  assert.equal(t.expire(11e9), 0);
  assert.equal(t.expire(12e9 + 5), 1);
  t.flushRecords();
  assert.equal(recs.length, 1);
  assert.equal(recs[0].end, 'end');
  assert.equal(t.active, 0);
});

test('active timeout: the record is exported BEFORE the packet that crosses it, which starts the next record', () => {
  const { t, recs } = table({ activeTimeout: 10, idleTimeout: 5 });
  for (let s = 0; s < 25; s++) add(t, { ...A, proto: 'udp' }, 1000 + s, 500);
  t.flushAll();
  assert.deepEqual(recs.map((r) => [r.packets, r.end]), [[10, 'active'], [10, 'active'], [5, 'forced']]);
  assert.equal(recs[1].firstNs, '1010000000500');
  assert.equal(recs[1].lastNs, '1019000000500');
  assert.equal(t.created, 1);
  assert.equal(t.records, 3);
});

test('idle timeout ends quiet flows only', () => {
  const { t, recs } = table({ idleTimeout: 15 });
  add(t, { ...A, proto: 'udp' }, 100);
  add(t, { ...A, proto: 'udp', dport: 81 }, 110);
  assert.equal(t.expire(114e9), 0);
  assert.equal(t.expire(115e9), 1);
  t.flushRecords();
  assert.equal(recs[0].dport, 80);
  assert.equal(recs[0].end, 'idle');
  assert.equal(t.active, 1);
});

test('key: VLAN (metadata or inline tag), IP version, ICMP type/code, IPv6 with extension headers', () => {
  const { t, recs } = table();
  add(t, { ...A, proto: 'udp', vlan: 7 }, 1);
  add(t, { ...A, proto: 'udp' }, 1, 0, 0x2009); // metadata tag, VID 9
  add(t, { ...A, proto: 'udp' }, 1);
  add(t, { src: '10.0.0.1', dst: '10.0.0.2', proto: 'icmp', icmpType: 8 }, 1);
  add(t, { src: 'fd00::1', dst: 'fd00::2', proto: 'tcp', sport: 1, dport: 2, tcpFlags: 'S' }, 1);
  assert.equal(t.active, 5);
  t.flushAll();
  const byVlan = recs.filter((r) => r.proto === 17).map((r) => r.vlan).sort();
  assert.deepEqual(byVlan, [0, 7, 9]);
  const icmp = recs.find((r) => r.proto === 1)!;
  assert.equal(icmp.sport, 0);
  assert.equal(icmp.dport, 8 << 8);
  const v6 = recs.find((r) => r.ipVersion === 6)!;
  assert.equal(v6.src, 'fd00::1');
  assert.equal(v6.dst, 'fd00::2');
  assert.equal(v6.dport, 2);
  // IPv6 hop-by-hop + fragment (first fragment keeps ports, later ones do not)
  const pp = new ParsedPacket();
  const base = buildFrame({ src: 'fd00::1', dst: 'fd00::2', proto: 'udp', sport: 7, dport: 9 });
  const withExt = (fragOff: number): Uint8Array => {
    const f = new Uint8Array(base.length + 16);
    f.set(base.subarray(0, 54));
    f[20] = 0; // next header: hop-by-hop
    f.set([44, 0, 0, 0, 0, 0, 0, 0], 54); // HBH -> fragment, 8 bytes
    f.set([17, 0, (fragOff >> 5) & 0xff, (fragOff << 3) & 0xf8, 0, 0, 0, 1], 62);
    f.set(base.subarray(54), 70);
    return f;
  };
  const f0 = withExt(0);
  assert.equal(parseFlowPacket(f0, 0, f0.length, 1, -1, f0.length, pp), 6);
  assert.equal(pp.key[9], (7 << 16) | 9);
  assert.equal((pp.key[0] >>> 16) & 0xff, 17);
  const f1 = withExt(100);
  assert.equal(parseFlowPacket(f1, 0, f1.length, 1, -1, f1.length, pp), 6);
  assert.equal(pp.key[9], 0);
});

test('malformed and non-IP frames are counted as ignored, never read out of bounds', () => {
  const { t } = table();
  const good = buildFrame({ ...A, proto: 'tcp' });
  for (let n = 0; n < good.length; n++) {
    const cut = new Uint8Array(good.subarray(0, n)); // exact-size buffer: an out-of-bounds read would yield undefined
    t.addBytes(cut, 0, n, 1, -1, n, 1, 0);
  }
  // a cut TCP header still makes a flow once the IP header is whole (ports when present)
  assert.equal(t.ignored, 34);
  const arp = new Uint8Array(60);
  arp[12] = 0x08; arp[13] = 0x06;
  t.addBytes(arp, 0, 60, 1, -1, 60, 1, 0);
  const bad = buildFrame({ ...A });
  bad[14] = 0x41; // IHL 1
  t.addBytes(bad, 0, bad.length, 1, -1, bad.length, 1, 0);
  assert.equal(t.ignored, 36);
  for (let i = 0; i < 2000; i++) {
    const r = new Uint8Array(1 + (i % 90));
    for (let j = 0; j < r.length; j++) r[j] = (i * 31 + j * 17) & 0xff;
    if (r.length > 14) { r[12] = 0x08; r[13] = i & 1 ? 0x00 : 0xdd; r[12] = i & 1 ? 0x08 : 0x86; r[14] = i & 1 ? 0x45 : 0x60; }
    t.addBytes(r, 0, r.length, 1, -1, r.length, 1, 0);
  }
  assert.equal(t.packets + t.ignored, good.length + 2 + 2000);
});

test('a full table evicts (counted, exported with reason evicted) and keeps metering', () => {
  const { t, recs } = table({ maxFlows: 64 });
  for (let i = 0; i < 1000; i++) add(t, { ...A, proto: 'udp', sport: 1000 + i }, 1, i);
  assert.equal(t.active, 64);
  assert.equal(t.evicted, 1000 - 64);
  t.flushAll();
  assert.equal(recs.filter((r) => r.end === 'evicted').length, 1000 - 64);
  assert.equal(recs.reduce((n, r) => n + r.packets, 0), 1000);
  // every flow appears once
  assert.equal(new Set(recs.map((r) => r.sport)).size, 1000);
});

test('many flows with deletes keep every lookup right (backward-shift deletion)', () => {
  const { t, recs } = table({ maxFlows: 4096, idleTimeout: 5 });
  const packets = new Map<number, number>();
  let x = 12345;
  for (let i = 0; i < 50000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const port = 1 + (x % 3000);
    const sec = Math.floor(i / 1000);
    add(t, { ...A, proto: 'udp', sport: port, src: `10.1.${port & 7}.1` }, sec);
    packets.set(port, (packets.get(port) ?? 0) + 1);
    if (i % 1000 === 999) t.expire(sec * 1e9);
  }
  t.flushAll();
  assert.equal(t.evicted, 0);
  const got = new Map<number, number>();
  for (const r of recs) got.set(r.sport, (got.get(r.sport) ?? 0) + r.packets);
  assert.deepEqual([...got.entries()].sort((a, b) => a[0] - b[0]), [...packets.entries()].sort((a, b) => a[0] - b[0]));
});

test('addBatch meters exactly as add does, packet by packet (evictions, active timeout, FIN/RST, port reuse, IPv6, non-IP)', () => {
  // A deterministic mix over 300 endpoints pairs in both directions, through tables of
  // 64 flows (so evictions happen inside a staged group) with a 2 s active timeout.
  const frames: Array<{ f: Uint8Array; sec: number; nsec: number }> = [];
  let seed = 12345;
  const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
  const flagsOf = ['S', 'SA', 'A', 'PA', 'FA', 'R', 'A'] as const;
  for (let i = 0; i < 5000; i++) {
    const n = rnd(2) === 0 ? 1 + rnd(8) : rnd(300); // a hot set that stays in the table, and a long tail
    const v6 = n % 7 === 0;
    const src = v6 ? `fd00::${(n % 50) + 1}` : `10.0.${n % 3}.${(n % 50) + 1}`;
    const dst = v6 ? 'fd00::ff' : '10.9.9.9';
    const fwd = rnd(2) === 0;
    const proto = n % 5 === 0 ? 'udp' : 'tcp';
    const spec = { src: fwd ? src : dst, dst: fwd ? dst : src, sport: fwd ? 1000 + n : 80, dport: fwd ? 80 : 1000 + n, proto,
      ...(proto === 'tcp' ? { tcpFlags: flagsOf[rnd(flagsOf.length)] } : {}), size: 90 + rnd(200) } as PacketSpec;
    const f = n === 299 ? new Uint8Array(60) : buildFrame(spec); // some non-IP frames
    frames.push({ f, sec: 100 + (i >> 9), nsec: (i & 511) * 1000 });
  }
  const opts = { maxFlows: 64, activeTimeout: 2, closeTimeout: 1 };
  const one = table(opts);
  for (const x of frames) one.t.addBytes(x.f, 0, x.f.length, 1, -1, x.f.length, x.sec, x.nsec);
  const many = table(opts);
  let i = 0;
  const view = { data: frames[0].f, offset: 0, caplen: 0, wireLen: 0, sec: 0, nsec: 0, vlanValid: false, vlanTci: 0, vlanTpid: 0, ifindex: 0, pktType: 0, linkType: 1 };
  const batch = { next: () => {
    if (i >= frames.length) return null;
    const x = frames[i++];
    view.data = x.f; view.caplen = x.f.length; view.wireLen = x.f.length; view.sec = x.sec; view.nsec = x.nsec;
    return view;
  } };
  many.t.addBatch(batch);
  assert.ok(one.t.evicted > 100, `evictions happened (${one.t.evicted})`);
  assert.deepEqual(many.t.stats(), one.t.stats());
  one.t.flushAll();
  many.t.flushAll();
  assert.ok(one.recs.length > 1000);
  assert.deepEqual(many.recs, one.recs);
  assert.ok(one.recs.some((r) => r.end === 'active') && one.recs.some((r) => r.end === 'end'), 'active and TCP ends are covered');
});

test('addBatch on ring blocks, packet by packet and through the stage, meters exactly as addBytes (IPv4 fast path: options, fragments, ICMP, short and cut frames, VLAN metadata and tags, IPv6, non-IP)', () => {
  const frames: ImageFrame[] = [];
  let seed = 777;
  const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
  const flagsOf = ['S', 'SA', 'A', 'PA', 'FA', 'R', 'A'] as const;
  const kinds = { options: 0, fragment: 0, cut: 0, zeroLen: 0, icmp: 0, meta: 0, tagged: 0, v6: 0, nonIp: 0 };
  for (let i = 0; i < 6000; i++) {
    const n = rnd(2) === 0 ? 1 + rnd(8) : rnd(400);
    const fwd = rnd(2) === 0;
    const kind = n % 11;
    const v6 = kind === 7;
    const src = v6 ? `fd00::${(n % 60) + 1}` : `10.0.${n % 3}.${(n % 60) + 1}`;
    const dst = v6 ? 'fd00::ff' : (n % 13 === 0 ? src : '10.9.9.9'); // some flows between one address and itself
    const proto = kind === 3 ? 'icmp' : n % 5 === 0 ? 'udp' : 'tcp';
    const spec = { src: fwd ? src : dst, dst: fwd ? dst : src, sport: fwd ? 1000 + n : 80, dport: fwd ? 80 : 1000 + n, proto,
      ...(proto === 'tcp' ? { tcpFlags: flagsOf[rnd(flagsOf.length)] } : {}), ...(proto === 'icmp' ? { icmpType: 8 + (n & 1) * 3, icmpCode: n & 3 } : {}),
      ...(kind === 8 ? { vlan: 5 + (n & 3) } : {}), size: 90 + rnd(200) } as PacketSpec;
    let f = kind === 9 && n % 2 === 0 ? new Uint8Array(60) : buildFrame(spec);
    let wireLen = f.length;
    if (!v6 && kind !== 8 && f.length >= 34 && f[12] === 0x08) {
      if (kind === 1) { // IP options: ihl 6 (the option word is inserted after the header)
        const g = new Uint8Array(f.length + 4);
        g.set(f.subarray(0, 34)); g.set(f.subarray(34), 38);
        g[14] = 0x46; const tot = ((g[16] << 8) | g[17]) + 4; g[16] = tot >> 8; g[17] = tot & 255;
        f = g; wireLen = f.length; kinds.options++;
      } else if (kind === 2) { f[20] = 0; f[21] = 8 + (n & 7); kinds.fragment++; } // non-first fragment: no ports
      else if (kind === 4) { const cut = [34, 36, 37, 38, 40, 45, 47, 48][n & 7]; wireLen = f.length; f = f.slice(0, cut); kinds.cut++; }
      else if (kind === 5) { f[16] = 0; f[17] = 0; kinds.zeroLen++; } // total length 0 (TSO): bytes from the wire length
    }
    if (proto === 'icmp') kinds.icmp++;
    if (kind === 8) kinds.tagged++;
    if (v6) kinds.v6++;
    if (f[12] !== 0x08 && f[12] !== 0x86 && f[12] !== 0x81) kinds.nonIp++;
    const meta = kind === 6 ? 0x2000 | (n & 0xfff) : undefined; // priority bits must not enter the key
    if (meta !== undefined) kinds.meta++;
    frames.push({ bytes: f, wireLen, sec: 100 + (i >> 9), nsec: (i & 511) * 1000, ...(meta !== undefined ? { vlanTci: meta } : {}) });
  }
  for (const [k, v] of Object.entries(kinds)) assert.ok(v > 20, `${k} frames are covered (${v})`);
  const opts = { maxFlows: 64, activeTimeout: 2, closeTimeout: 1 };
  const one = table(opts);
  for (const x of frames) one.t.addBytes(x.bytes, 0, x.bytes.length, 1, x.vlanTci ?? -1, x.wireLen!, x.sec!, x.nsec!);
  const g = { blockSize: 1 << 16, blockCount: 64 };
  const img = buildRingImage(frames, g);
  assert.equal(img.packets, frames.length);
  const oneStats = one.t.stats();
  one.t.flushAll();
  assert.ok(one.recs.length > 1000);
  assert.ok(one.t.evicted > 100, `evictions happened (${one.t.evicted})`);
  // every ring path: packet by packet (small tables), and on a large table the stage (the first
  // epoch) or both ways in turn (epochs of 150 packets: the first eight alternate)
  for (const [directMax, epoch] of [[1 << 30, 0], [-1, 0], [-1, 150]]) {
    const many = table(opts);
    many.t._directMax = directMax;
    if (epoch !== 0) many.t._epoch = epoch;
    rearmImage(img.buffer, g, img.blocksUsed);
    const reader = new RingReader(img.buffer, g);
    let batches = 0;
    for (let b = reader.acquire(); b !== null; b = reader.acquire()) {
      if (batches++ === 1) { many.t.add(b.next()!); many.t.add(b.next()!); } // a block partly walked by the caller first
      many.t.addBatch(b);
      assert.equal(b.next(), null, 'the batch is left at its end');
    }
    assert.ok(batches > 3);
    assert.deepEqual(many.t.stats(), oneStats, `directMax ${directMax} epoch ${epoch}`);
    assert.equal(many.t.wireBytes, one.t.wireBytes);
    many.t.flushAll();
    assert.deepEqual(many.recs, one.recs, `directMax ${directMax} epoch ${epoch}`);
  }
});

test('addBatch through the ring stage reads packet headers past 2 GiB of the ring (offsets up to 4 GiB are kept unsigned)', () => {
  // one block of frames at the end of a 2 GiB + 64 KiB ring (the zero pages before it are never touched)
  const g = { blockSize: 1 << 16, blockCount: 1 };
  const frames = Array.from({ length: 200 }, (_, i) => ({
    bytes: buildFrame({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1000 + (i % 20), dport: 80, proto: 'udp', size: 100 } as PacketSpec),
    sec: 100, nsec: i,
  }));
  const one = buildRingImage(frames, g);
  const blockCount = (2 ** 31) / g.blockSize + 1;
  const big = new ArrayBuffer(g.blockSize * blockCount);
  new Uint8Array(big).set(new Uint8Array(one.buffer), (blockCount - 1) * g.blockSize);
  const reader = new RingReader(big, { blockSize: g.blockSize, blockCount });
  reader.cursor = blockCount - 1;
  const ref = table();
  for (const f of frames) ref.t.addBytes(f.bytes, 0, f.bytes.length, 1, -1, f.bytes.length, f.sec, f.nsec);
  const t = table();
  t.t._directMax = -1; // the large-table path; its first epoch goes through the stage
  const b = reader.acquire()!;
  assert.equal(b.count, 200);
  t.t.addBatch(b);
  assert.deepEqual(t.t.stats(), ref.t.stats());
  ref.t.flushAll();
  t.t.flushAll();
  assert.equal(t.recs.length, 20);
  assert.deepEqual(t.recs, ref.recs);
});
