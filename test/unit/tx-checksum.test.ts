/** Internet checksum helpers of src/tx against RFC vectors and a naive implementation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checksum, checksumValid, fold, sum16, updateChecksum16, updateChecksum32 } from '../../src/build/checksum.js';
import { Rng } from '../../src/util/random.js';
import { onesSum } from './tx-check.js';

test('RFC 1071 example and a known IPv4 header', () => {
  const d = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
  assert.equal(fold(sum16(d, 0, d.length)), 0xddf2);
  assert.equal(checksum(d, 0, d.length), 0x220d);
  // 45 00 00 73 00 00 40 00 40 11 [b8 61] c0 a8 00 01 c0 a8 00 c7
  const h = Uint8Array.of(0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7);
  assert.equal(checksum(h, 0, 20), 0xb861);
  h[10] = 0xb8; h[11] = 0x61;
  assert.ok(checksumValid(h, 0, 20));
  h[19] ^= 1;
  assert.ok(!checksumValid(h, 0, 20));
});

test('sum16/checksum agree with a fold-every-step implementation on random data, odd lengths and offsets', () => {
  const r = new Rng(7);
  for (let n = 0; n < 2000; n++) {
    const len = r.below(300);
    const off = r.below(5);
    const b = new Uint8Array(off + len + 3);
    for (let i = 0; i < b.length; i++) b[i] = r.below(256);
    const init = r.below(0x30000);
    const want = ~onesSum(b, off, off + len, fold(init)) & 0xffff;
    assert.equal(checksum(b, off, len, init), want, `len ${len} off ${off}`);
  }
});

test('large buffers (jumbo frames) do not overflow the plain sum', () => {
  const b = new Uint8Array(70000).fill(0xff);
  assert.equal(checksum(b, 0, b.length), ~onesSum(b, 0, b.length) & 0xffff);
});

test('RFC 1624 incremental updates equal a full recomputation', () => {
  const r = new Rng(99);
  for (let n = 0; n < 5000; n++) {
    const len = 2 * (2 + r.below(40));
    const b = new Uint8Array(len);
    for (let i = 0; i < len; i++) b[i] = r.below(256);
    // edge values: all-zero and all-ones words
    if (n % 10 === 0) b.fill(0);
    if (n % 10 === 1) b.fill(0xff);
    const hc = checksum(b, 0, len);
    const at = 2 * r.below(len / 2 - 1);
    const old16 = (b[at] << 8) | b[at + 1];
    const new16 = n % 7 === 0 ? 0 : n % 7 === 1 ? 0xffff : r.below(0x10000);
    b[at] = new16 >> 8; b[at + 1] = new16 & 255;
    const full = checksum(b, 0, len);
    const inc = updateChecksum16(hc, old16, new16);
    // 0x0000 and 0xffff are the same value in ones' complement: compare as sums
    assert.ok(inc === full || (inc ^ full) === 0xffff, `16-bit update ${inc.toString(16)} vs ${full.toString(16)}`);
    const at32 = 2 * r.below(len / 2 - 2);
    const old32 = ((b[at32] << 24) | (b[at32 + 1] << 16) | (b[at32 + 2] << 8) | b[at32 + 3]) >>> 0;
    const new32 = r.u32();
    const hc2 = checksum(b, 0, len);
    b[at32] = new32 >>> 24; b[at32 + 1] = (new32 >>> 16) & 255; b[at32 + 2] = (new32 >>> 8) & 255; b[at32 + 3] = new32 & 255;
    const full2 = checksum(b, 0, len);
    const inc2 = updateChecksum32(hc2, old32, new32);
    assert.ok(inc2 === full2 || (inc2 ^ full2) === 0xffff, `32-bit update ${inc2.toString(16)} vs ${full2.toString(16)}`);
    // the updated checksum verifies the new data
    const c = new Uint8Array(len + 2);
    c.set(b);
    c[len] = inc2 >> 8; c[len + 1] = inc2 & 255;
    assert.ok(checksumValid(c, 0, len + 2));
  }
});
