/**
 * Hardware RX timestamp decisions (src/ring/hwtstamp.ts) over a scripted
 * device: this machine has no NIC with hardware stamps, so the ioctl answers
 * (ETHTOOL_GET_TS_INFO, SIOCGHWTSTAMP, SIOCSHWTSTAMP) are played back from a
 * table, including the failures real drivers give (ERANGE, EPERM). The veth
 * side (software only) runs against the kernel in test/kernel/timestamps.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimHardwareRx, heldDevices, tsCapabilities, type TsDevice } from '../../src/ring/hwtstamp.js';
import { pingTimestamps } from '../../src/cli/ping.js';
import { UsageError } from '../../src/cli/args.js';
import { NetringError } from '../../src/errors.js';

const RAW_HW = 1 << 6, RX_HW = 1 << 2, SW = 0x1a;
const FILTER_ALL = 1, FILTER_PTP_V2_EVENT = 12;

function errno(code: string): Error {
  return Object.assign(new Error(`ioctl(SIOCSHWTSTAMP) failed: (${code})`), { code, errno: 1 });
}

/** A device whose answers are fixed; records every SIOCSHWTSTAMP call. */
function device(o: { so: number; rxFilters: number; current?: [number, number] | 'EOPNOTSUPP'; setError?: string }): TsDevice & { sets: Array<[string, number, number]> } {
  const sets: Array<[string, number, number]> = [];
  return {
    sets,
    tsInfo: () => [o.so, 0, 3, o.rxFilters],
    hwtstampGet: () => {
      if (o.current === undefined || o.current === 'EOPNOTSUPP') throw errno('EOPNOTSUPP');
      return [o.current[0], o.current[1], 0];
    },
    hwtstamp: (ifname, tx, rx) => {
      if (o.setError !== undefined && rx === FILTER_ALL) throw errno(o.setError);
      sets.push([ifname, tx, rx]);
      return rx;
    },
  };
}

test('capabilities: raw hardware RX stamping and the ALL filter are read from ETHTOOL_GET_TS_INFO', () => {
  const caps = tsCapabilities('eth9', device({ so: SW | RAW_HW | RX_HW, rxFilters: (1 << FILTER_ALL) | (1 << FILTER_PTP_V2_EVENT) }));
  assert.deepEqual(caps && [caps.hardwareRx, caps.stampsAll], [true, true]);
  const ptpOnly = tsCapabilities('eth9', device({ so: SW | RAW_HW | RX_HW, rxFilters: 1 << FILTER_PTP_V2_EVENT }));
  assert.deepEqual(ptpOnly && [ptpOnly.hardwareRx, ptpOnly.stampsAll], [true, false]);
});

test('a software-only device: auto falls back, hardware refuses in one line', () => {
  const dev = device({ so: SW, rxFilters: 0 });
  assert.equal(claimHardwareRx('veth9', 'auto', dev), null);
  assert.throws(() => claimHardwareRx('veth9', 'hardware', dev),
    (e: NetringError) => e.code === 'EOPNOTSUPP' && /^veth9 has no hardware RX timestamps: .*no raw hardware RX stamping; use timestamp 'software' or 'auto'$/.test(e.message));
  assert.deepEqual(dev.sets, [], 'the device was not touched');
});

test('a NIC that stamps only PTP packets is not used for capture stamps', () => {
  const dev = device({ so: SW | RAW_HW | RX_HW, rxFilters: 1 << FILTER_PTP_V2_EVENT, current: [1, FILTER_PTP_V2_EVENT] });
  assert.equal(claimHardwareRx('eth9', 'auto', dev), null);
  assert.throws(() => claimHardwareRx('eth9', 'hardware', dev), /stamps only some packets \(RX filters 0x1000\), not all/);
  assert.deepEqual(dev.sets, []);
});

test('SIOCSHWTSTAMP refused (ERANGE, EPERM, EOPNOTSUPP): auto falls back to software, hardware says why', () => {
  for (const code of ['ERANGE', 'EPERM', 'EOPNOTSUPP']) {
    const dev = device({ so: SW | RAW_HW | RX_HW, rxFilters: 1 << FILTER_ALL, current: [0, 0], setError: code });
    assert.equal(claimHardwareRx('eth9', 'auto', dev), null, code);
    assert.throws(() => claimHardwareRx('eth9', 'hardware', dev), (e: NetringError) => e.code === code && /SIOCSHWTSTAMP/.test(e.message), code);
    assert.deepEqual(heldDevices(), [], `${code}: nothing held`);
  }
  const perm = device({ so: SW | RAW_HW | RX_HW, rxFilters: 1 << FILTER_ALL, current: [0, 0], setError: 'EPERM' });
  assert.throws(() => claimHardwareRx('eth9', 'hardware', perm), /needs CAP_NET_ADMIN/);
});

test('the previous setting is read first, kept for TX, and restored when the last capture closes', () => {
  const dev = device({ so: SW | RAW_HW | RX_HW, rxFilters: (1 << FILTER_ALL) | (1 << FILTER_PTP_V2_EVENT), current: [1, FILTER_PTP_V2_EVENT] });
  const a = claimHardwareRx('eth9', 'hardware', dev);
  const b = claimHardwareRx('eth9', 'auto', dev);
  assert.ok(a && b);
  assert.deepEqual(dev.sets, [['eth9', 1, FILTER_ALL]], 'switched once, TX stamping (tx_type 1) left as it was');
  a.release();
  a.release(); // idempotent
  assert.deepEqual(dev.sets.length, 1, 'still in use by the second capture');
  assert.deepEqual(heldDevices(), ['eth9']);
  b.release();
  assert.deepEqual(dev.sets, [['eth9', 1, FILTER_ALL], ['eth9', 1, FILTER_PTP_V2_EVENT]], 'previous setting restored');
  assert.deepEqual(heldDevices(), []);
});

test('a driver without SIOCGHWTSTAMP: switched on, nothing guessed at release', () => {
  const dev = device({ so: SW | RAW_HW | RX_HW, rxFilters: 1 << FILTER_ALL, current: 'EOPNOTSUPP' });
  const c = claimHardwareRx('eth8', 'hardware', dev);
  assert.ok(c);
  c.release();
  assert.deepEqual(dev.sets, [['eth8', 0, FILTER_ALL]]);
});

test('ping refuses hardware stamps (NIC clock vs CLOCK_REALTIME send stamps); auto means software', () => {
  assert.throws(() => pingTimestamps('hardware'), (e: Error) => e instanceof UsageError && /NIC's clock with the sender's CLOCK_REALTIME/.test(e.message));
  assert.equal(pingTimestamps('auto'), 'software');
  assert.equal(pingTimestamps(undefined), 'software');
});
