/**
 * `netring gen` and `netring ping` as a user runs them (child processes):
 * summaries, JSON, exit codes and messages for bad input, Ctrl-C.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCapture } from '../../src/index.js';
import { PcapWriter, PcapngWriter } from '../../src/pcap/index.js';
import { buildPacket } from '../../src/build/builder.js';
import { needRoot, withVeth, ifCounters } from '../helpers/netns.js';
import { collect } from './tx-helpers.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function netring(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('netring gen: count, JSON summary, device counters agree', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const c0 = ifCounters(b);
    const r = netring(['gen', '-i', a, '--dst', '10.9.9.9', '--sport', '1000-1099', '--flows', '100', '--size', '128', '-c', '5000', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.sent, 5000);
    assert.equal(s.failed, 0);
    assert.equal(s.flows, 100);
    assert.equal(s.bytes, 5000 * 128);
    assert.equal(s.stoppedBy, 'count');
    assert.equal(ifCounters(b).rxPackets - c0.rxPackets, 5000);
    const h = netring(['gen', '-i', a, '-c', '10', '--rate', '1kpps']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /^10 packets sent on nra\w+ in [\d.]+ s: [\d.]+ (k?pps), [\d.]+ [kMG]?bps \(count reached\)\nqueued 10, failed 0, 600 bytes\n$/);
  });
});

test('netring gen: bad input exits non-zero with a clear message', { skip: needRoot }, async () => {
  await withVeth(async ({ a }) => {
    const dir = mkdtempSync(join(tmpdir(), 'nrcli-'));
    try {
      const raw = join(dir, 'raw.pcap');
      const w = new PcapWriter(raw, { linkType: 101 });
      const f = buildPacket({}).bytes.subarray(14);
      w.write(f, 0, f.length, f.length, 1, 0);
      w.close();
      const cases: Array<[string[], number, RegExp]> = [
        [['gen', '-i', 'nr-nosuch1', '-c', '1'], 1, /no interface named "nr-nosuch1"/],
        [['gen', '-c', '1'], 2, /an interface is required/],
        [['gen', '-i', a, '--size', '64', '--src', 'fd00::1', '--proto', 'tcp', '--vlan', '1', '-c', '1'], 2, /size 64 is smaller than the headers: Ethernet 14 \+ VLAN 4 \+ IPv6 40 \+ TCP 20 = 78 bytes/],
        [['gen', '-i', a, '--rate', 'lots', '-c', '1'], 2, /bad rate "lots"/],
        [['gen', '-i', a, '--rate', '10M', '-c', '1'], 2, /say pps or bps after the M/],
        [['gen', '-i', a, '--size', 'huge', '-c', '1'], 2, /bad size "huge"/],
        [['gen', '-i', a, '--replay', raw], 2, /link type RAW \(101\); only Ethernet/],
        [['gen', '-i', a, '--replay', raw, '--size', '64'], 2, /--size builds packets; it cannot be combined with --replay/],
        [['gen', '-i', a, '--count', 'many'], 2, /-c must be an integer/],
        [['gen', '-i', a, '--proto', 'sctp'], 2, /--proto must be one of udp, tcp, icmp/],
        [['ping', '--from', a], 2, /give --from IFACE \(sender\) and --to IFACE/],
      ];
      for (const [args, code, re] of cases) {
        const r = netring(args);
        assert.equal(r.status, code, `${args.join(' ')}: exit ${r.status}, stderr ${r.stderr}`);
        assert.match(r.stderr, re, args.join(' '));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('netring gen: Ctrl-C stops cleanly and prints the summary; every packet it counts arrived', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const cap = openCapture({ iface: b, blockSize: 1 << 20, blockCount: 32, blockTimeoutMs: 2, direction: 'in' });
    const child = spawn(process.execPath, [MAIN, 'gen', '-i', a, '--rate', '20kpps', '--workers', '2', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    let exited = false;
    const exit = new Promise<number | null>((resolve) => child.on('exit', (c) => { exited = true; resolve(c); }));
    // Ctrl-C once the generator is sending (its start-up time varies with the machine's load)
    let first = 0;
    const rx = await collect(cap, () => {
      if (first === 0 && cap.stats().received > 0) { first = Date.now(); }
      if (first !== 0 && Date.now() - first > 300 && child.exitCode === null && !child.killed) child.kill('SIGINT');
      return exited;
    });
    const code = await exit;
    cap.close();
    assert.equal(code, 0);
    const s = JSON.parse(out);
    assert.equal(s.stoppedBy, 'stop');
    assert.ok(s.sent > 1000, `sent ${s.sent}`);
    assert.equal(rx.length, s.sent);
  });
});

test('netring ping: loss, duplicates, reordering and latency percentiles between two interfaces', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const r = netring(['ping', '--from', a, '--to', b, '-c', '3000', '--rate', '10kpps', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const { report, sender } = JSON.parse(r.stdout);
    assert.equal(sender.sent, 3000);
    assert.deepEqual([report.expected, report.received, report.lost, report.duplicates, report.reordered], [3000, 3000, 0, 0, 0]);
    for (const k of ['min', 'p50', 'p90', 'p99', 'p999', 'max']) assert.ok(report.latency[k] >= 0, k);
    assert.ok(report.latency.p50 <= report.latency.p99);
    const h = netring(['ping', '--from', a, '--to', b, '-c', '200', '--rate', '5kpps']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /200 expected, 200 received, 0 lost \(0\.000%\), 0 duplicates, 0 reordered/);
    assert.match(h.stdout, /one-way latency \(us, software RX timestamps\): min [\d.]+ +p50 [\d.]+ +p90 [\d.]+ +p99 [\d.]+ +p99\.9 [\d.]+ +max [\d.]+/);
  });
});

test('netring ping --listen (receive side of netring gen --stamp) and --read of a capture file', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    // listen side first, then the sender in another process
    const listener = spawn(process.execPath, [MAIN, 'ping', '--listen', '-i', b, '-c', '1500', '--seconds', '20', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    listener.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    listener.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    while (!err.includes('listening')) await new Promise((r) => setTimeout(r, 20));
    const g = netring(['gen', '-i', a, '--stamp', '--stream-id', '7', '-c', '1500', '--rate', '20kpps', '--size', '100']);
    assert.equal(g.status, 0, g.stderr);
    const code = await new Promise<number | null>((resolve) => listener.on('exit', resolve));
    assert.equal(code, 0, err);
    const { report } = JSON.parse(out);
    assert.deepEqual([report.received, report.lost, report.duplicates, report.reordered], [1500, 0, 0, 0]);
    assert.equal(report.streams[0].stream, 7);

    // a capture file of stamped traffic, analysed offline
    const dir = mkdtempSync(join(tmpdir(), 'nrping-'));
    try {
      const path = join(dir, 'rx.pcapng');
      const cap = openCapture({ iface: b, blockSize: 1 << 20, blockCount: 16, blockTimeoutMs: 2, direction: 'in' });
      const w = new PcapngWriter(path);
      const child = spawn(process.execPath, [MAIN, 'gen', '-i', a, '--stamp', '-c', '800', '--rate', '10kpps'], { stdio: 'ignore' });
      let exited = false;
      child.on('exit', () => { exited = true; });
      let n = 0;
      while (!exited || n < 800) {
        const bt = cap.tryBatch();
        if (bt === null) { if (exited && n >= 800) break; await new Promise((r) => setTimeout(r, 2)); continue; }
        bt.forEach((p) => { w.writePacket(p); n++; });
      }
      cap.close();
      w.close();
      const r = netring(['ping', '--read', path, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const rep = JSON.parse(r.stdout).report;
      assert.deepEqual([rep.received, rep.expected, rep.lost], [800, 800, 0]);
      assert.ok(rep.latency.p50 > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
