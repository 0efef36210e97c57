/**
 * AF_XDP transmit on veth pairs: `netring gen --xdp` and generate({ xdp })
 * deliver exactly the frames asked for to the peer (counts, bytes, every
 * stamped sequence number exactly once, so no UMEM frame was rewritten
 * before its completion), one worker per TX queue, and one-line errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openCapture } from '../../src/index.js';
import { generate } from '../../src/gen/generate.js';
import { isStamp, stampSeq, stampStream } from '../../src/latency/index.js';
import { ifCounters, needRoot, withVeth } from '../helpers/netns.js';
import { collect, type Rx } from './tx-helpers.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** The stamp's offset in an untagged UDP/IPv4 frame (Ethernet 14 + IPv4 20 + UDP 8). */
const STAMP_AT = 42;

function rxCapture(b: string) {
  return openCapture({ iface: b, blockSize: 1 << 20, blockCount: 32, blockTimeoutMs: 2, direction: 'in' });
}

/** Stamped frames per stream: sequence numbers seen (with repeats) and the bytes of those frames. */
function stamped(frames: Rx[]): { seqs: Map<number, number[]>; bytes: number; count: number } {
  const seqs = new Map<number, number[]>();
  let bytes = 0;
  let count = 0;
  for (const f of frames) {
    if (f.bytes.length < STAMP_AT + 16 || !isStamp(f.bytes, STAMP_AT)) continue;
    const s = stampStream(f.bytes, STAMP_AT);
    if (!seqs.has(s)) seqs.set(s, []);
    seqs.get(s)!.push(stampSeq(f.bytes, STAMP_AT));
    bytes += f.bytes.length;
    count++;
  }
  return { seqs, bytes, count };
}

/** Every sequence number of a stream exactly once, consecutive. */
function assertOnceEach(seqs: number[], n: number, what: string): void {
  const sorted = [...seqs].sort((x, y) => x - y);
  assert.equal(sorted.length, n, `${what}: frames`);
  const first = sorted[0];
  for (let i = 0; i < n; i++) if (sorted[i] !== first + i) assert.fail(`${what}: sequence ${first + i} missing or repeated (found ${sorted[i]} at ${i})`);
}

test('gen --xdp: 20,000 stamped frames of 60..1514 bytes arrive on the peer exactly once each, bytes equal', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const n = 20000;
    const cap = rxCapture(b);
    try {
      const c0 = ifCounters(b);
      const child = spawn(process.execPath, [MAIN, 'gen', '-i', a, '--xdp', '--copy', '--stamp', '-c', String(n), '--size', '60-1514', '--seed', '3', '--json', '-q'],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { err += d; });
      let exited = false;
      const code = new Promise<number | null>((r) => child.on('exit', (c) => { exited = true; r(c); }));
      const frames = await collect(cap, () => exited, Infinity, 60_000, 500);
      assert.equal(await code, 0, err);
      const s = JSON.parse(out.trim()) as { sent: number; failed: number; queued: number; bytes: number };
      assert.equal(s.queued, n);
      assert.equal(s.sent, n);
      assert.equal(s.failed, 0);
      const got = stamped(frames);
      assert.equal(got.count, n, 'stamped frames received');
      assert.deepEqual([...got.seqs.keys()], [0], 'one stream');
      assertOnceEach(got.seqs.get(0)!, n, 'stream 0');
      assert.equal(got.bytes, s.bytes, 'bytes received = bytes sent');
      assert.equal(ifCounters(b).rxPackets - c0.rxPackets, n, 'device counters agree');
      assert.equal(cap.stats().drops, 0);
    } finally {
      cap.close();
    }
  });
});

test('generate({ xdp }): 2 workers on 2 TX queues, exact counts and bytes on the peer', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const n = 20000;
    const cap = rxCapture(b);
    try {
      const g = generate({ iface: a, xdp: { copyMode: 'copy' }, workers: 2, count: n, size: '64,300,1514', stamp: true, seed: 5 });
      let finished = false;
      const done = g.done.finally(() => { finished = true; });
      const frames = await collect(cap, () => finished, Infinity, 60_000, 500);
      const s = await done;
      assert.equal(s.sent, n);
      assert.equal(s.failed, 0);
      assert.equal(s.workers.length, 2);
      const got = stamped(frames);
      assert.equal(got.count, n);
      assert.deepEqual([...got.seqs.keys()].sort(), [0, 1], 'one stream per worker');
      for (const [w, r] of s.workers.entries()) assertOnceEach(got.seqs.get(w)!, r.sent, `worker ${w}`);
      assert.equal(got.bytes, s.bytes);
    } finally {
      cap.close();
    }
  }, { queues: 2 });
});

test('gen --xdp: bad input is one line with a non-zero status', { skip: needRoot }, async () => {
  await withVeth(async ({ a }) => {
    const cli = (args: string[]) => spawnSync(process.execPath, [MAIN, 'gen', '-i', a, '-c', '10', '-q', ...args], { encoding: 'utf8', timeout: 30_000 });
    const cases: Array<[string[], RegExp]> = [
      [['--queue', '1'], /--queue, --zerocopy and --copy go with --xdp/],
      [['--xdp', '--zerocopy', '--copy'], /only one of --zerocopy and --copy/],
      [['--xdp', '--queue', '3'], /queue 3 is out of range: .* has 1 TX queue/],
      [['--xdp', '--zerocopy'], /zero-copy refused/],
      [['--xdp', '--ring-frames', '1000'], /power of two/],
      [['--xdp', '--no-linear'], /AF_PACKET options/],
    ];
    for (const [args, re] of cases) {
      const r = cli(args);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, re, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
