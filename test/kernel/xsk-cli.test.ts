/**
 * `netring capture --xdp` as a user runs it: the same file as the AF_PACKET
 * path for the same traffic (filter included), and one-line usage errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCaptureReader } from '../../src/pcap/index.js';
import { needRoot, RawSender, run, seqPayload, udpFrame, withVeth } from '../helpers/netns.js';
import { MAIN, captureWhile, records, startCli } from '../helpers/cli.js';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./xsk-child.js', import.meta.url));



test('capture --xdp -f EXPR -w FILE writes the same packets as the AF_PACKET path', { skip: needRoot }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nr-xsk-cli-'));
  try {
    await withVeth(async ({ a, b }) => {
      const frames = Array.from({ length: 1000 }, (_, i) => udpFrame({ dport: i % 2 ? 5001 : 7000, payload: seqPayload(i, 20 + (i % 700)) }));
      const want = frames.filter((_, i) => i % 2 === 1);
      const files: Record<string, Uint8Array[]> = {};
      for (const [name, extra] of [['xdp', ['--xdp', '--copy']], ['packet', []]] as const) {
        const file = join(dir, `${name}.pcap`);
        const tx = new RawSender(a);
        const r = await captureWhile(b, ['-w', file, '-c', String(want.length), '-f', 'udp port 5001', '--json', ...extra], () => {
          for (let i = 0; i < frames.length; i += 100) tx.send(frames.slice(i, i + 100));
        });
        tx.close();
        assert.equal(r.code, 0, r.err);
        if (name === 'xdp') assert.match(r.err, /AF_XDP copy mode, XDP native, queue 0/);
        const s = JSON.parse(r.out.trim());
        assert.equal(s.written, want.length);
        assert.equal(s.dropped, 0);
        const info = execFileSync('capinfos', ['-c', file], { encoding: 'utf8' });
        assert.match(info, new RegExp(`Number of packets:\\s+${want.length}\\b`));
        files[name] = records(file);
      }
      assert.equal(files.xdp.length, want.length);
      assert.deepEqual(files.xdp, files.packet, 'same packets, same bytes, same order');
      assert.deepEqual(files.xdp, want);
      assert.doesNotMatch(run('ip', ['link', 'show', 'dev', b]), /xdp/, 'no program left after the command');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('capture --xdp: usage and kernel errors are one line with a non-zero status', { skip: needRoot }, async () => {
  await withVeth(async ({ b }) => {
    const cli = (args: string[]) => spawnSync(process.execPath, [MAIN, 'capture', ...args], { encoding: 'utf8', timeout: 30_000 });
    const cases: Array<[string[], RegExp]> = [
      [['-i', b, '--queue', '1'], /--queue, --queues, --zerocopy and --copy go with --xdp/],
      [['-i', b, '--xdp', '--queue', '5', '-q'], /queue 5 is out of range: .* has 1 RX queue/],
      [['-i', b, '--xdp', '--zerocopy', '-q'], /zero-copy refused/],
      [['-i', b, '--xdp', '--zerocopy', '--copy', '-q'], /only one of --zerocopy and --copy/],
      [['-i', b, '--xdp', '--workers', '2', '-q'], /--workers 2 with --xdp: .* has 1 RX queue, one worker per queue \(--workers 1\)/],
      [['-i', b, '--xdp', '--workers', '1', '--fanout', 'lb', '-q'], /--fanout and --weights go with AF_PACKET workers/],
      [['-i', b, '--xdp', '--workers', '1', '--queue', '0', '-q'], /--queue with --workers: each worker takes one RX queue/],
      [['-i', b, '--xdp', '-f', 'ip protochain 6', '-q'], /"ip protochain 6" cannot run in XDP: protochain loops/],
      [['-i', b, '--xdp', '--filter-bpf', '1,6 0 0 262144', '-q'], /--filter-bpf with --xdp: XDP runs eBPF the filter language generates from -f EXPR/],
      [['-i', b, '--xdp', '-w', '-', '-q'], /--xdp with -w -: not yet/],
      [['-i', b, '--xdp', '-w', '/tmp/never.pcap', '-Z', 'nobody', '-q'], /--xdp with -Z: not yet/],
    ];
    for (const [args, re] of cases) {
      const r = cli(args);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, re, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.doesNotMatch(run('ip', ['link', 'show', 'dev', b]), /xdp/);
  });
});

/** rx_queue_N_xdp_redirect of a veth end (ethtool -S). */
function redirects(iface: string, queue: number): number {
  const m = new RegExp(`rx_queue_${queue}_xdp_redirect: (\\d+)`).exec(run('ethtool', ['-S', iface]));
  return m === null ? -1 : Number(m[1]);
}

test('capture --xdp --queues all on a 2-queue veth: both queues redirected, same packets as the AF_PACKET path', { skip: needRoot }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nr-xsk-cli-'));
  try {
    await withVeth(async ({ a, b }) => {
      const n = 2000;
      // gen --xdp --workers 2: worker w sends on TX queue w, which veth delivers on the peer's RX queue w
      const send = (): void => {
        const r = spawnSync(process.execPath, [MAIN, 'gen', '-i', a, '--xdp', '--copy', '--workers', '2', '-c', String(n), '--size', '60-400', '--flows', '64', '--sport', '1000-1063', '-q'],
          { encoding: 'utf8', timeout: 60_000 });
        assert.equal(r.status, 0, r.stderr);
      };
      const files: Record<string, Uint8Array[]> = {};
      for (const [name, extra] of [['xdp', ['--xdp', '--copy', '--queues', 'all']], ['packet', []]] as const) {
        const file = join(dir, `${name}.pcap`);
        const q0 = [redirects(b, 0), redirects(b, 1)];
        const r = await captureWhile(b, ['-w', file, '-c', String(n), '--json', ...extra], send);
        assert.equal(r.code, 0, r.err);
        const s = JSON.parse(r.out.trim());
        assert.equal(s.written, n);
        assert.equal(s.dropped, 0);
        if (name === 'xdp') {
          assert.match(r.err, /AF_XDP copy mode, XDP native, queues 0,1/);
          assert.deepEqual([redirects(b, 0) - q0[0], redirects(b, 1) - q0[1]], [n / 2, n / 2], 'each queue redirected its worker\'s frames');
        }
        files[name] = records(file);
      }
      const key = (f: Uint8Array): string => Buffer.from(f).toString('hex');
      assert.equal(files.xdp.length, n);
      assert.deepEqual(files.xdp.map(key).sort(), files.packet.map(key).sort(), 'same packets and bytes (the queues interleave, so order may differ)');
      assert.doesNotMatch(run('ip', ['link', 'show', 'dev', b]), /xdp/, 'no program left after the command');
    }, { queues: 2 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('capture --workers 2 --xdp on a 2-queue veth: 20,000 frames, merged and per-worker files hold the same packets as the AF_PACKET path', { skip: needRoot }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nr-xsk-cli-'));
  try {
    await withVeth(async ({ a, b }) => {
      const n = 20_000;
      // gen --xdp --workers 2: worker w sends on TX queue w, which veth delivers on the peer's RX queue w.
      // Paced: with XDP attached, veth queues each frame in a 256-entry ring per RX queue that its NAPI
      // drains, and a full ring drops (rx_queue_N_drops) before XDP or any socket sees the frame
      const send = (): void => {
        const r = spawnSync(process.execPath, [MAIN, 'gen', '-i', a, '--xdp', '--copy', '--workers', '2', '-c', String(n), '--size', '60-1514', '--flows', '64', '--sport', '1000-1063',
          '--rate', '10kpps', '--burst', '16', '--batch', '16', '-q'],
          { encoding: 'utf8', timeout: 120_000 });
        assert.equal(r.status, 0, r.stderr);
      };
      const key = (f: Uint8Array): string => Buffer.from(f).toString('hex');
      const runs: Array<[string, string[], string[]]> = [
        ['packet', [], [join(dir, 'packet.pcap')]],
        ['merged', ['--xdp', '--copy', '--workers', '2'], [join(dir, 'merged.pcapng')]],
        ['per-worker', ['--xdp', '--copy', '--workers', '2', '--queues', 'all'], [join(dir, 'w.0.pcap'), join(dir, 'w.1.pcap')]],
      ];
      const got: Record<string, string[][]> = {};
      for (const [name, extra, files] of runs) {
        const target = name === 'per-worker' ? join(dir, 'w.%w.pcap') : files[0];
        const q0 = [redirects(b, 0), redirects(b, 1)];
        const r = await captureWhile(b, ['-w', target, '-c', String(n), '--seconds', '150', '--json', ...extra], send);
        assert.equal(r.code, 0, r.err);
        const s = JSON.parse(r.out.trim());
        assert.equal(s.written, n, name);
        assert.equal(s.dropped, 0, name);
        if (name !== 'packet') {
          assert.match(r.err, /with 2 workers, XDP native: AF_XDP, one worker per RX queue \(0,1\)/);
          assert.deepEqual([redirects(b, 0) - q0[0], redirects(b, 1) - q0[1]], [n / 2, n / 2], 'each queue redirected its sender\'s frames');
          assert.deepEqual(s.workers.map((w: { packets: number }) => w.packets), [n / 2, n / 2], 'worker i read queue i');
        }
        got[name] = files.map((f) => records(f).map(key));
        const total = files.reduce((x, f) => x + Number(/Number of packets:\s+(\d+)/.exec(execFileSync('capinfos', ['-M', '-c', f], { encoding: 'utf8' }))![1]), 0);
        assert.equal(total, n, `${name}: capinfos counts every packet`);
        assert.doesNotMatch(run('ip', ['link', 'show', 'dev', b]), /xdp/, `${name}: no program left after the command`);
      }
      const sorted = (files: string[][]): string[] => files.flat().sort();
      assert.equal(got.packet[0].length, n);
      assert.deepEqual(sorted(got.merged), sorted(got.packet), 'merged file: same packets and bytes as the AF_PACKET file');
      assert.deepEqual(sorted(got['per-worker']), sorted(got.packet), 'per-worker files: same packets and bytes as the AF_PACKET file');
      assert.deepEqual(got['per-worker'].map((f) => f.length), [n / 2, n / 2]);
    }, { queues: 2 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('capture --xdp: Ctrl-C ends it cleanly (file complete, nothing attached); SIGKILL of --workers 2 --xdp and a crashing process leave no XDP program attached', { skip: needRoot }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nr-xsk-cli-'));
  try {
    await withVeth(async ({ a, b }) => {
      const attached = (): boolean => /xdp/.test(run('ip', ['link', 'show', 'dev', b]));
      const gone = async (): Promise<boolean> => {
        for (let i = 0; i < 100; i++) { if (!attached()) return true; await new Promise((r) => setTimeout(r, 20)); }
        return false;
      };
      // Ctrl-C (both queues: the raw sender's frames arrive on the RX queue its CPU picks)
      const file = join(dir, 'int.pcap');
      const c = await startCli(['capture', '-i', b, '--xdp', '--copy', '--queues', 'all', '-w', file, '--json'], /listening on/, { settleMs: 100 });
      assert.ok(attached(), 'attached while capturing');
      const tx = new RawSender(a);
      tx.send(Array.from({ length: 300 }, (_, i) => udpFrame({ payload: seqPayload(i, 40) })));
      tx.close();
      await new Promise((r) => setTimeout(r, 300));
      c.child.kill('SIGINT');
      assert.equal(await c.exit, 0, c.err());
      assert.equal(JSON.parse(c.out().trim()).written, 300);
      assert.match(execFileSync('capinfos', ['-c', file], { encoding: 'utf8' }), /Number of packets:\s+300\b/);
      assert.equal(attached(), false, 'Ctrl-C detached the program');
      // SIGKILL of a worker group (the BPF link dies with the process)
      const w = await startCli(['capture', '-i', b, '--xdp', '--copy', '--workers', '2', '-w', join(dir, 'k.pcapng')], /capturing on/, { settleMs: 100 });
      assert.ok(attached());
      w.child.kill('SIGKILL');
      await w.exit;
      assert.ok(await gone(), 'nothing attached after SIGKILL');
      // a process that dies of an uncaught exception with a capture open
      const x = spawnSync(process.execPath, [CHILD, b, '0', '{}', 'crash'], { encoding: 'utf8', timeout: 30_000 });
      assert.match(x.stdout, /^READY copy native/);
      assert.match(x.stderr, /crashes on purpose/);
      assert.notEqual(x.status, 0);
      assert.ok(await gone(), 'nothing attached after the crash');
      // and the queues are free again
      const again = await startCli(['capture', '-i', b, '--xdp', '--copy', '--workers', '2', '-c', '1', '--seconds', '1'], /capturing on/);
      assert.equal(await again.exit, 0, again.err());
    }, { queues: 2 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
