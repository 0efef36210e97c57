/**
 * Timestamps on a veth (software stamping only): `auto` falls back to software,
 * `hardware` is refused in one clear line, and the device's timestamping state
 * (ethtool -T, SIOCGHWTSTAMP) is the same after close as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { openCapture, NetringError } from '../../src/index.js';
import { native } from '../../src/native.js';
import { heldDevices } from '../../src/ring/hwtstamp.js';
import { runPing } from '../../src/cli/ping.js';
import { UsageError } from '../../src/cli/args.js';
import { needRoot, RawSender, sleep, udpFrame, withVeth } from '../helpers/netns.js';

function deviceState(iface: string): string {
  let get: string;
  try { get = JSON.stringify(native.hwtstampGet(iface)); } catch (e) { get = (e as { code?: string }).code ?? 'error'; }
  return `${execFileSync('ethtool', ['-T', iface], { encoding: 'utf8' })}\nSIOCGHWTSTAMP: ${get}`;
}

test('veth: auto falls back to software stamps, hardware is refused, the device is unchanged after close', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const before = deviceState(b);
    const fds = readdirSync('/proc/self/fd').length;

    const cap = openCapture({ iface: b, timestamp: 'auto', blockSize: 1 << 16, blockCount: 4, blockTimeoutMs: 2 });
    assert.equal(cap.timestampSource, 'software');
    const tx = new RawSender(a);
    const t0 = Date.now();
    tx.send([udpFrame()]);
    let stamped = 0;
    for (let i = 0; i < 200 && stamped === 0; i++) {
      const batch = cap.tryBatch();
      if (batch === null) { await sleep(5); continue; }
      for (let p = batch.next(); p !== null; p = batch.next()) {
        // software stamps are CLOCK_REALTIME: within a few seconds of the wall clock
        assert.ok(Math.abs(p.sec * 1000 - t0) < 5000, `stamp ${p.sec}s vs wall ${t0}ms`);
        stamped++;
      }
      batch.release();
    }
    assert.equal(stamped, 1, 'the frame arrived with a software stamp');
    tx.close();
    cap.close();

    assert.throws(() => openCapture({ iface: b, timestamp: 'hardware' }),
      (e: NetringError) => e instanceof NetringError && e.code === 'EOPNOTSUPP' &&
        e.message.startsWith(`${b} has no hardware RX timestamps`) && !e.message.includes('\n'));
    assert.equal(readdirSync('/proc/self/fd').length, fds, 'the refused open left no socket behind');
    assert.deepEqual(heldDevices(), []);
    assert.equal(deviceState(b), before, 'ethtool -T and SIOCGHWTSTAMP answer as before');
  });
});

test('ping --timestamp hardware is refused before anything is opened', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    await assert.rejects(runPing({ from: a, to: b, timestamp: 'hardware', count: 10 }),
      (e: Error) => e instanceof UsageError && /CLOCK_REALTIME/.test(e.message));
  });
});
