/**
 * runFanoutCapture (what `netring capture --workers N` runs) on a veth pair:
 * one file per worker, one merged file in timestamp order, a packet budget.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFanoutCapture, type FanoutCaptureOptions } from '../../src/cli/fanout-capture.js';
import type { FanoutGroup } from '../../src/fanout/index.js';
import { openCaptureReader } from '../../src/pcap/index.js';
import { needRoot, RawSender, sleep, withVeth } from '../helpers/netns.js';
import { frame, randomFlow, reverse, rng } from '../unit/fanout-frames.js';

function readAll(path: string): Array<{ sec: number; nsec: number }> {
  const r = openCaptureReader(path);
  const out: Array<{ sec: number; nsec: number }> = [];
  for (const rec of r) out.push({ sec: rec.sec, nsec: rec.nsec });
  r.close();
  return out;
}

/** Start a capture, send `flows` flows both ways once it runs, then stop it. */
async function capture(a: string, b: string, opts: Omit<FanoutCaptureOptions, 'iface'>, flows: number) {
  const ac = new AbortController();
  const lines: string[] = [];
  let g: FanoutGroup | null = null;
  const done = runFanoutCapture({ ...opts, iface: b, signal: ac.signal, log: (l) => lines.push(l), onStart: (x) => { g = x; }, statusMs: 50,
    capture: { blockSize: 1 << 16, blockCount: 32, blockTimeoutMs: 2 } });
  const deadline = Date.now() + 10000;
  while (g === null && Date.now() < deadline) await sleep(10);
  assert.ok(g !== null, 'capture started');
  const ta = new RawSender(a), tb = new RawSender(b);
  const r = rng(flows);
  for (let f = 0; f < flows; f++) {
    const s = randomFlow(r);
    ta.send([frame(s)]);
    tb.send([frame(reverse(s))]);
  }
  ta.close(); tb.close();
  const total = 2 * flows;
  const grp = g as FanoutGroup;
  while (grp.stats().packets < Math.min(total, opts.count ?? total) && Date.now() < deadline) await sleep(10);
  const seen = lines.length;
  while (!lines.slice(seen).some((l) => l.startsWith('all ')) && Date.now() < deadline) await sleep(10); // one more status round
  ac.abort();
  return { res: await done, lines, total };
}

test('one file per worker (out.%w.pcapng): every packet in exactly one file, status lines and a balance report', { skip: needRoot }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nr-fcap-'));
  try {
    await withVeth(async ({ a, b }) => {
      const { res, lines, total } = await capture(a, b, { workers: 2, fanout: 'flow', write: join(dir, 'out.%w.pcapng') }, 1500);
      assert.deepEqual(res.files, [join(dir, 'out.0.pcapng'), join(dir, 'out.1.pcapng')]);
      const counts = res.files.map((f) => readAll(f).length);
      assert.equal(counts[0] + counts[1], total);
      assert.deepEqual(counts, res.workers.map((w) => w!.packets));
      assert.ok(counts.every((c) => c > 0));
      assert.ok(lines.some((l) => /^w0 cpu\d +[\d,]+ pkts/.test(l)), 'live status per worker');
      assert.ok(lines.some((l) => /^balance over 2 workers \(cbpf steering flow\)/.test(l)));
      assert.equal(res.report.shares.length, 2);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one merged file in timestamp order; the per-worker parts are removed', { skip: needRoot }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nr-fcap-'));
  try {
    await withVeth(async ({ a, b }) => {
      const out = join(dir, 'all.pcapng');
      const { res, total } = await capture(a, b, { workers: 2, fanout: 'hash', write: out }, 1500);
      assert.deepEqual(res.files, [out]);
      const recs = readAll(out);
      assert.equal(recs.length, total);
      for (let i = 1; i < recs.length; i++) {
        const p = recs[i - 1], c = recs[i];
        assert.ok(p.sec < c.sec || (p.sec === c.sec && p.nsec <= c.nsec), `record ${i} is out of order`);
      }
      assert.deepEqual(readdirSync(dir), ['all.pcapng']);
      assert.ok(!existsSync(res.workers[0]!.path!), 'temporary worker file removed');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-c: exactly the packet budget is written across the workers', { skip: needRoot }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nr-fcap-'));
  try {
    await withVeth(async ({ a, b }) => {
      const { res } = await capture(a, b, { workers: 2, fanout: 'lb', count: 777, write: join(dir, 'c.%w.pcap') }, 1000);
      const n = res.files.map((f) => readAll(f).length);
      assert.equal(n[0] + n[1], 777);
      assert.equal(res.stats.packets, 777);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
