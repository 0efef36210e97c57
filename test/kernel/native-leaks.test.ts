/**
 * Nothing leaks across thousands of open/close cycles (800 per variant, 3,200
 * in all, plus 200 failed opens on an unknown interface): file descriptors
 * (/proc/self/fd), ring mappings (socket lines of /proc/self/maps), libuv
 * watchers and RSS return to where they started, with and without a filter,
 * with fan-out, and when the constructor fails after the ring is mapped. A
 * capture dropped without close() after it waited is reclaimed by the GC.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openCapture, type Capture, type CaptureOptions } from '../../src/index.js';
import { native } from '../../src/native.js';
import { needRoot, withVeth } from '../helpers/netns.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const CYCLES = 800;
const RSS_SLACK = 48 << 20;
const MAPS_SLACK = 32;

interface Counts { fds: number; ringMaps: number; maps: number; watchers: number; rss: number }

function counts(): Counts {
  const maps = readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.length > 0);
  return {
    fds: readdirSync('/proc/self/fd').length,
    ringMaps: maps.filter((l) => /socket:\[\d+\]/.test(l)).length,
    maps: maps.length,
    watchers: native.watcherCount(),
    rss: process.memoryUsage().rss,
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}

function assertBack(start: Counts, end: Counts, what: string): void {
  assert.equal(end.fds, start.fds, `${what}: file descriptors back to the start`);
  assert.equal(end.ringMaps, start.ringMaps, `${what}: no ring mapping left`);
  assert.equal(end.watchers, start.watchers, `${what}: no watcher left`);
  assert.ok(end.maps <= start.maps + MAPS_SLACK, `${what}: /proc/self/maps lines ${start.maps} -> ${end.maps}`);
  assert.ok(end.rss <= start.rss + RSS_SLACK, `${what}: RSS ${start.rss} -> ${end.rss}`);
}

const small = (iface: string): CaptureOptions => ({ iface, blockSize: 4096, blockCount: 2, blockTimeoutMs: 1, populate: false });
// udp dst port 5001 (IPv4), as tcpdump -dd prints it
const FILTER = [
  { code: 0x28, jt: 0, jf: 0, k: 12 }, { code: 0x15, jt: 0, jf: 8, k: 0x800 },
  { code: 0x30, jt: 0, jf: 0, k: 23 }, { code: 0x15, jt: 0, jf: 6, k: 17 },
  { code: 0x28, jt: 0, jf: 0, k: 20 }, { code: 0x45, jt: 4, jf: 0, k: 0x1fff },
  { code: 0xb1, jt: 0, jf: 0, k: 14 }, { code: 0x48, jt: 0, jf: 0, k: 16 },
  { code: 0x15, jt: 0, jf: 1, k: 5001 }, { code: 0x06, jt: 0, jf: 0, k: 262144 },
  { code: 0x06, jt: 0, jf: 0, k: 0 },
];
const STEER_FIRST = [{ code: 0x06, jt: 0, jf: 0, k: 0 }];
// no return instruction: the kernel refuses it as the group's steering program (after the join)
const STEER_BAD = [{ code: 0x28, jt: 0, jf: 0, k: 12 }];

async function cycles(what: string, open: () => Capture | null): Promise<void> {
  await settle();
  const start = counts();
  for (let i = 0; i < CYCLES; i++) {
    const cap = open();
    if (cap === null) continue;
    cap.start(() => { /* never called: nothing is sent */ });
    cap.stop();
    cap.close();
  }
  // fds and ring mappings go at close/failure time, not at GC time
  const now = counts();
  assert.equal(now.fds, start.fds, `${what}: fds released at close`);
  assert.equal(now.ringMaps, start.ringMaps, `${what}: ring mappings released at close`);
  await settle();
  assertBack(start, counts(), what);
}

test(`${CYCLES} open/close cycles, no filter: fds, ring mappings, watchers and RSS return to the start`, { skip: needRoot }, async () => {
  await withVeth(async ({ b }) => {
    await cycles('plain', () => openCapture(small(b)));
  });
});

test(`${CYCLES} open/close cycles with a kernel filter: nothing left`, { skip: needRoot }, async () => {
  await withVeth(async ({ b }) => {
    await cycles('filter', () => openCapture({ ...small(b), filter: FILTER }));
  });
});

test(`${CYCLES} open/close cycles joining a cbpf fan-out group: nothing left`, { skip: needRoot }, async () => {
  await withVeth(async ({ b }) => {
    const anchor = openCapture({ ...small(b), fanout: { mode: 'cbpf', id: 0, uniqueId: true, program: STEER_FIRST } });
    try {
      await cycles('fanout', () => openCapture({ ...small(b), fanout: { mode: 'cbpf', id: anchor.fanoutId, program: STEER_FIRST } }));
    } finally { anchor.close(); }
  });
});

test(`${CYCLES} failed opens (steering program refused after the join): the mapping goes with the fd at once`, { skip: needRoot }, async () => {
  await withVeth(async ({ b }) => {
    let failures = 0;
    await cycles('constructor failure', () => {
      try {
        openCapture({ ...small(b), fanout: { mode: 'cbpf', id: 0, uniqueId: true, program: STEER_BAD } });
      } catch {
        failures++;
      }
      return null;
    });
    assert.equal(failures, CYCLES, 'every open failed');
    await settle();
    const start = counts();
    // the bad-interface path fails before the socket exists: nothing to leak either
    for (let i = 0; i < 200; i++) assert.throws(() => openCapture(small('nr-no-such0')));
    assertBack(start, counts(), 'unknown interface');
  });
});

test('a capture dropped without close() after it waited is garbage collected, with its watcher and ring', { skip: needRoot }, async () => {
  await withVeth(async ({ b }) => {
    await settle();
    const start = counts();
    const fds: number[] = [];
    const refs: WeakRef<Capture>[] = [];
    (() => {
      for (let i = 0; i < 20; i++) {
        const cap = openCapture(small(b));
        cap.start(() => { /* waited once */ });
        cap.stop();
        fds.push(cap.fd);
        refs.push(new WeakRef(cap));
      }
    })();
    for (let i = 0; i < 20 && refs.some((r) => r.deref() !== undefined); i++) await settle();
    assert.equal(refs.filter((r) => r.deref() !== undefined).length, 0, 'every dropped capture was collected');
    for (let i = 0; i < 20 && native.watcherCount() !== start.watchers; i++) await settle();
    assert.equal(native.watcherCount(), start.watchers, 'their watchers were freed');
    assert.equal(counts().ringMaps, start.ringMaps, 'their rings were unmapped');
    // close() was never called: the sockets themselves stay open until we close them
    for (const fd of fds) native.close(fd);
    assert.equal(counts().fds, start.fds);
  });
});
