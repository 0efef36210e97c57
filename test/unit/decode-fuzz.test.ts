/**
 * Deterministic fuzzing of the decoders: random mutations and truncations
 * of valid packets. Nothing may throw, and nothing past caplen may be read:
 * the same bytes decoded at two offsets inside buffers full of different
 * sentinel bytes must give identical (relative) results, and a bounds-
 * checking Proxy over the buffer must never see an index outside the packet.
 */
import { prng } from '../../src/util/random.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Layers, flowHash, flowHashSymmetric, summary } from '../../src/decode/index.js';
import type { PacketLike } from '../../src/packet-like.js';
import { corpus } from './decode-craft.js';
import { assertInRange, relativeFields } from './decode-invariants.js';

const INTERESTING = [0, 1, 2, 4, 5, 6, 8, 0x0f, 0x10, 0x11, 0x2c, 0x3a, 0x3b, 0x40, 0x45, 0x4f, 0x60, 0x7f, 0x80, 0x81, 0x86, 0x88, 0xa8, 0xdd, 0xfe, 0xff];
const LINK_TYPES = [0, 1, 1, 1, 101, 108, 113, 228, 229, 276];
const MAX = 256;

interface Case {
  bytes: Uint8Array;
  len: number;
  linkType: number;
}

/** Produce mutated packet `i` into `out` (reused). */
function mutate(rnd: () => number, seeds: ReturnType<typeof corpus>, out: Case): void {
  const s = seeds[Math.floor(rnd() * seeds.length)]!;
  let len = s.bytes.length;
  out.bytes.set(s.bytes);
  out.linkType = rnd() < 0.05 ? LINK_TYPES[Math.floor(rnd() * LINK_TYPES.length)]! : s.linkType;
  if (rnd() < 0.15) {
    // Grow with random tail bytes.
    const extra = Math.floor(rnd() * 40);
    for (let i = 0; i < extra && len < MAX; i++) out.bytes[len++] = Math.floor(rnd() * 256);
  }
  const n = 1 + Math.floor(rnd() * 4);
  for (let m = 0; m < n; m++) {
    // Bias towards header bytes.
    const pos = Math.floor((rnd() < 0.7 ? Math.min(len, 90) : len) * rnd());
    const r = rnd();
    if (r < 0.35) out.bytes[pos] = Math.floor(rnd() * 256);
    else if (r < 0.6) out.bytes[pos]! ^= 1 << Math.floor(rnd() * 8);
    else out.bytes[pos] = INTERESTING[Math.floor(rnd() * INTERESTING.length)]!;
  }
  if (rnd() < 0.5) len = Math.floor(rnd() * (len + 1));
  out.len = len;
}

class Case2 implements Case {
  bytes = new Uint8Array(MAX);
  len = 0;
  linkType = 1;
}

function asPacket(data: Uint8Array, offset: number, caplen: number, linkType: number): PacketLike {
  return { data, offset, caplen, wireLen: caplen, sec: 0, nsec: 0, vlanValid: false, vlanTci: 0, vlanTpid: 0, ifindex: 0, pktType: 0, linkType };
}

function boundsProxy(target: Uint8Array, lo: number, hi: number, hits: { bad: number }): Uint8Array {
  return new Proxy(target, {
    get(t, prop) {
      if (typeof prop === 'string') {
        const i = Number(prop);
        if (Number.isInteger(i) && prop !== '' ) {
          if (i < lo || i >= hi) hits.bad++;
          return t[i];
        }
      }
      const v = Reflect.get(t, prop, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

test('fuzz: 300k mutated/truncated packets, no throw, nothing read past caplen', () => {
  const rnd = prng(0xc0ffee);
  const seeds = corpus();
  const cs: Case = { bytes: new Uint8Array(MAX), len: 0, linkType: 1 };
  const exact = new Layers();
  const a = new Layers();
  const b = new Layers();
  const inA = new Layers();
  const inB = new Layers();
  // Decodes another random packet before each case: results must not depend on history.
  const other = new Layers();
  const prev = new Case2();
  const bufA = new Uint8Array(MAX + 64).fill(0xff);
  const bufB = new Uint8Array(MAX + 128).fill(0x00);
  const OFF_A = 3;
  const OFF_B = 77;
  const errors = new Map<number, number>();
  const N = 300_000;
  for (let i = 0; i < N; i++) {
    mutate(rnd, seeds, cs);
    const { len, linkType } = cs;
    const pkt = cs.bytes.subarray(0, len);
    // Sentinels differ between the two buffers and around each packet.
    bufA.fill(i & 1 ? 0xff : 0x45, 0, OFF_A);
    bufA.set(pkt, OFF_A);
    bufA.fill(i & 1 ? 0x45 : 0xff, OFF_A + len);
    bufB.fill(0x00, 0, OFF_B);
    bufB.set(pkt, OFF_B);
    bufB.fill(i & 2 ? 0x86 : 0x08, OFF_B + len);
    const what = `case ${i} (link ${linkType}, len ${len})`;
    exact.decode(pkt.slice(), 0, len, linkType);
    mutate(rnd, seeds, prev);
    other.decode(prev.bytes, 0, prev.len, prev.linkType);
    other.decodePacket(asPacket(bufB, OFF_B, len, linkType));
    a.decode(bufA, OFF_A, len, linkType);
    b.decode(bufB, OFF_B, len, linkType);
    const ra = relativeFields(a);
    assert.equal(ra, relativeFields(b), what);
    assert.equal(ra, relativeFields(exact), what);
    assert.equal(ra, relativeFields(other), `${what} after another packet`);
    assertInRange(a, what);
    assert.equal(flowHash(a), flowHash(b), what);
    assert.equal(flowHashSymmetric(a), flowHashSymmetric(b), what);
    if (a.decodeInner(inA)) {
      assert.ok(b.decodeInner(inB));
      assert.equal(relativeFields(inA), relativeFields(inB), `${what} inner`);
      assertInRange(inA, `${what} inner`);
    }
    if ((i & 7) === 0) assert.equal(summary(a), summary(b), what);
    errors.set(a.error, (errors.get(a.error) ?? 0) + 1);
  }
  // The fuzzer must actually reach both clean decodes and each failure mode.
  for (const code of [0, 1, 3, 4, 5, 6]) assert.ok((errors.get(code) ?? 0) > 100, `error ${code} seen ${errors.get(code) ?? 0} times`);
});

test('fuzz: bounds-checking Proxy sees no out-of-range index (decode, inner, flow, summary)', () => {
  const rnd = prng(42);
  const seeds = corpus();
  const cs: Case = { bytes: new Uint8Array(MAX), len: 0, linkType: 1 };
  const l = new Layers();
  const inner = new Layers();
  const hits = { bad: 0 };
  const OFF = 10;
  const buf = new Uint8Array(MAX + 40).fill(0xaa);
  const N = 20_000;
  for (let i = 0; i < N; i++) {
    mutate(rnd, seeds, cs);
    buf.set(cs.bytes.subarray(0, cs.len), OFF);
    const p = boundsProxy(buf, OFF, OFF + cs.len, hits);
    l.decode(p, OFF, cs.len, cs.linkType);
    flowHash(l);
    flowHashSymmetric(l);
    summary(l);
    l.decodeInner(inner);
    assert.equal(hits.bad, 0, `case ${i}: read outside [${OFF}, ${OFF + cs.len})`);
  }
});

test('the bounds Proxy does detect an out-of-range read', () => {
  const hits = { bad: 0 };
  const p = boundsProxy(new Uint8Array(10), 2, 5, hits);
  void p[4];
  assert.equal(hits.bad, 0);
  void p[5];
  assert.equal(hits.bad, 1);
});
