/** Rate syntax and the token bucket, on a simulated clock. */
import { prng } from '../../src/util/random.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRate, formatRate, TokenBucket } from '../../src/gen/rate.js';
import { NetringError } from '../../src/errors.js';

test('rate syntax', () => {
  assert.deepEqual(parseRate('1Mpps'), { value: 1e6, unit: 'pps' });
  assert.deepEqual(parseRate('50kpps'), { value: 5e4, unit: 'pps' });
  assert.deepEqual(parseRate('20000'), { value: 2e4, unit: 'pps' });
  assert.deepEqual(parseRate('2.5Kpps'), { value: 2500, unit: 'pps' });
  assert.deepEqual(parseRate('500Mbps'), { value: 5e8, unit: 'bps' });
  assert.deepEqual(parseRate('1.5Gbps'), { value: 1.5e9, unit: 'bps' });
  assert.deepEqual(parseRate('100kbit/s'), { value: 1e5, unit: 'bps' });
  assert.deepEqual(parseRate('1e6'), { value: 1e6, unit: 'pps' });
  assert.deepEqual(parseRate(1234), { value: 1234, unit: 'pps' });
  assert.equal(parseRate('max'), null);
  assert.equal(parseRate('0'), null);
  // zero means unlimited in every unit
  for (const zero of ['0pps', '0.0pps', '0Mbps']) assert.equal(parseRate(zero), null, zero);
  assert.equal(parseRate(undefined), null);
  for (const bad of ['', 'fast', '1M', '10 Mqps', '-5pps', '1..2pps', 'pps', '1Tpps']) {
    assert.throws(() => parseRate(bad), (e: unknown) => e instanceof NetringError && e.code === 'EINVAL' && /bad rate/.test(e.message), bad);
  }
  assert.throws(() => parseRate('1M'), /say pps or bps after the M/);
  assert.equal(formatRate(1.5e6, 'pps'), '1.50 Mpps');
  assert.equal(formatRate(500e6, 'bps'), '500.0 Mbps');
});

/**
 * Simulated sender: wakes at the bucket's wake level (plus a random
 * oversleep), sends what the bucket allows, in batches of at most `batch`.
 */
function simulate(rate: number, seconds: number, opts: { burst?: number; batch?: number; oversleepNs?: number; bits?: number } = {}): { sent: number; maxBurst: number } {
  const unitCost = opts.bits ?? 1;
  const b = new TokenBucket(rate, opts.burst, 0, unitCost);
  let t = 0, sent = 0, maxBurst = 0;
  const rnd = prng(12345);
  const end = seconds * 1e9;
  while (t < end) {
    b.refill(t);
    let n = 0;
    if (unitCost === 1) {
      n = Math.min(Math.floor(b.tokens), opts.batch ?? 256);
      b.tokens -= n;
    } else {
      while (b.tokens > 0 && n < (opts.batch ?? 256)) { b.tokens -= unitCost; n++; }
    }
    sent += n;
    if (n > maxBurst) maxBurst = n;
    if (n === 0 || b.tokens < 1) t += Math.max(1000, b.nsUntil(b.wakeLevel)) + rnd() * (opts.oversleepNs ?? 0);
    else t += 200; // next batch right away
  }
  // the sender's last round at the deadline sends what the bucket holds then
  b.refill(end);
  if (unitCost === 1) sent += Math.floor(b.tokens);
  else while (b.tokens > 0) { b.tokens -= unitCost; sent++; }
  return { sent, maxBurst };
}

test('token bucket: exact over a run at many rates, even when the sleeper oversleeps', () => {
  for (const rate of [10, 1000, 20_000, 50_000, 1e6]) {
    for (const over of [0, 200_000, 2_000_000]) {
      const { sent, maxBurst } = simulate(rate, 2, { oversleepNs: over });
      const want = rate * 2;
      assert.ok(Math.abs(sent - want) <= Math.max(2, want * 0.001), `rate ${rate} oversleep ${over}: sent ${sent}, want ${want}`);
      assert.ok(maxBurst <= Math.max(2, rate * 0.02) + 1, `burst bounded (${maxBurst})`);
    }
  }
});

test('token bucket: an explicit burst bounds the packets sent back to back', () => {
  const { sent, maxBurst } = simulate(100_000, 1, { burst: 10 });
  assert.ok(maxBurst <= 10);
  assert.ok(Math.abs(sent - 100_000) <= 100, `sent ${sent}`);
});

test('token bucket in bits: frames of 512 bits at 10 Mbps', () => {
  const { sent } = simulate(10e6, 1, { bits: 512 });
  assert.ok(Math.abs(sent - 10e6 / 512) <= 2, `sent ${sent}`);
});

test('token bucket: refill caps at the burst and nsUntil is exact', () => {
  const b = new TokenBucket(1000, 5, 0);
  assert.equal(b.tokens, 1);
  b.refill(1e9);
  assert.equal(b.tokens, 5);
  b.tokens = 0;
  assert.equal(b.nsUntil(1), 1e6);
  b.refill(0.5e6 + 1e9);
  assert.equal(b.tokens, 0.5);
  assert.throws(() => new TokenBucket(0, undefined, 0), /rate must be above zero/);
  assert.throws(() => new TokenBucket(100, 0.5, 0), /smaller than one packet/);
});

test('token bucket: a sender descheduled for less than the bucket (20 ms) catches up; longer stalls lose only the excess', () => {
  const rate = 50_000;
  const b = new TokenBucket(rate, undefined, 0);
  let t = 0, sent = 0;
  const step = (dt: number): void => { t += dt; b.refill(t); const n = Math.floor(b.tokens); b.tokens -= n; sent += n; };
  for (let i = 0; i < 1000; i++) step(1e6); // 1 s at 1 ms wakes
  step(15e6); // a 15 ms stall
  for (let i = 0; i < 1000; i++) step(1e6);
  assert.ok(Math.abs(sent - rate * 2.015) <= 2, `sent ${sent}`);
  step(50e6); // a 50 ms stall: 30 ms of tokens cannot be kept
  assert.ok(Math.abs(sent - rate * (2.015 + 0.02)) <= 2, `sent ${sent}`);
});
