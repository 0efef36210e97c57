/**
 * Live capture faults on the link: the interface goes down and comes back,
 * is deleted, or is down before the capture starts. The capture reports the
 * event on stderr, resumes after a flap, always flushes its -w file and always
 * prints its summary; a deleted interface ends the run with a non-zero exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCaptureReader } from '../../src/pcap/index.js';
import { openCapture } from '../../src/ring/capture.js';
import { needRoot, RawSender, seqPayload, sleep, udpFrame, withVeth, run } from '../helpers/netns.js';
import { MAIN, startCli, type RunningCli } from '../helpers/cli.js';


async function startCapture(iface: string, args: string[]): Promise<RunningCli> {
  // the socket is open once this line is out
  const ready = args.includes('--workers') ? 'capturing on' : 'listening on';
  const c = await startCli(['capture', '-i', iface, ...args], new RegExp(ready), { settleMs: 100 });
  assert.ok(c.err().includes(ready), `capture did not start: ${c.err()}`);
  return c;
}

function send(iface: string, from: number, n: number): void {
  const tx = new RawSender(iface);
  tx.send(Array.from({ length: n }, (_, i) => udpFrame({ payload: seqPayload(from + i, 40) })));
  tx.close();
}

function countFile(file: string): number {
  const r = openCaptureReader(file);
  let n = 0;
  try { for (const _ of r) n++; } finally { r.close(); }
  return n;
}

async function flap(iface: string): Promise<void> {
  run('ip', ['link', 'set', iface, 'down']);
  await sleep(300);
  run('ip', ['link', 'set', iface, 'up']);
  // veth carrier comes back with the peer; give the kernel a moment to re-hook
  for (let i = 0; i < 500 && !run('ip', ['link', 'show', iface]).includes('LOWER_UP'); i++) await sleep(20);
  await sleep(200);
}

test('link down and up during capture -w: reported, resumes, every packet of both halves in the flushed file, summary printed', { skip: needRoot }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netring-flap-'));
  try {
    await withVeth(async ({ a, b }) => {
      const file = join(dir, 'flap.pcap');
      const c = await startCapture(b, ['-w', file, '--json', '--seconds', '30']);
      send(a, 0, 1000);
      await sleep(200);
      await flap(b);
      assert.equal(c.child.exitCode, null, `capture ended on link down: ${c.err()}`);
      send(a, 1000, 1000);
      await sleep(300);
      c.child.kill('SIGINT');
      const code = await c.exit;
      assert.equal(code, 0, c.err());
      assert.match(c.err(), new RegExp(`${b}: link went down`));
      assert.match(c.err(), new RegExp(`${b}: link is up again`));
      const s = JSON.parse(c.out().trim());
      assert.equal(s.received, 2000);
      assert.equal(s.written, 2000);
      assert.equal(countFile(file), 2000);
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('link flap with --seconds and no -w: capture keeps running until the deadline and counts both halves', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const c = await startCapture(b, ['-q', '--json', '--seconds', '3']);
    send(a, 0, 1000);
    await sleep(200);
    await flap(b);
    send(a, 1000, 1000);
    const code = await c.exit;
    assert.equal(code, 0, c.err());
    const s = JSON.parse(c.out().trim());
    assert.equal(s.received, 2000);
    assert.ok(s.seconds >= 2.9, `ran ${s.seconds} s`);
  });
});

test('interface deleted during capture -w: "went away", exit 1, packets before the deletion flushed, summary printed', { skip: needRoot }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netring-gone-'));
  try {
    await withVeth(async ({ a, b }) => {
      const file = join(dir, 'gone.pcapng');
      const c = await startCapture(b, ['-w', file, '--json']);
      send(a, 0, 1000);
      await sleep(200);
      run('ip', ['link', 'del', b]);
      const code = await c.exit;
      assert.equal(code, 1, c.err());
      assert.match(c.err(), new RegExp(`interface ${b} went away`));
      assert.match(c.err(), /1000 packets received/);
      const s = JSON.parse(c.out().trim());
      assert.equal(s.received, 1000);
      assert.equal(s.written, 1000);
      assert.equal(countFile(file), 1000);
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('capture on an interface that is down: one-line "not up" error, exit 1 (CLI) and ENETDOWN (API)', { skip: needRoot }, async () => {
  await withVeth(async ({ b }) => {
    run('ip', ['link', 'set', b, 'down']);
    const r = spawnSync(process.execPath, [MAIN, 'capture', '-i', b, '-c', '1'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${b}: that device is not up`));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.throws(() => openCapture({ iface: b }), (e: NodeJS.ErrnoException) => e.code === 'ENETDOWN');
  });
});

/** CPU seconds (user + system) the process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  const f = run('cat', [`/proc/${pid}/stat`]).split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

test('--workers 2 -w merged: link flap is reported, workers do not spin, the merged file holds all 2,000 packets', { skip: needRoot }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netring-wflap-'));
  try {
    await withVeth(async ({ a, b }) => {
      const file = join(dir, 'merged.pcapng');
      const c = await startCapture(b, ['--workers', '2', '-w', file, '--json']);
      send(a, 0, 1000);
      await sleep(200);
      await flap(b);
      // idle for a second after the flap: a worker looping on POLLERR burns a whole core
      const cpu0 = cpuSeconds(c.child.pid!);
      await sleep(1000);
      const spent = cpuSeconds(c.child.pid!) - cpu0;
      assert.ok(spent < 0.5, `workers used ${spent} CPU seconds in 1 s of idle after a link flap`);
      send(a, 1000, 1000);
      await sleep(300);
      c.child.kill('SIGINT');
      const code = await c.exit;
      assert.equal(code, 0, c.err());
      assert.match(c.err(), new RegExp(`${b}: link went down`));
      assert.match(c.err(), new RegExp(`${b}: link is up again`));
      assert.doesNotMatch(c.err(), /crashed|terminated/);
      const s = JSON.parse(c.out().trim());
      assert.equal(s.received, 2000);
      assert.equal(s.written, 2000);
      assert.equal(countFile(file), 2000);
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('--workers 2: interface deleted -> "went away", exit 1, the merged file holds the packets before', { skip: needRoot }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netring-wgone-'));
  try {
    await withVeth(async ({ a, b }) => {
      const file = join(dir, 'merged.pcap');
      const c = await startCapture(b, ['--workers', '2', '-w', file, '--json']);
      send(a, 0, 1000);
      await sleep(200);
      run('ip', ['link', 'del', b]);
      const code = await c.exit;
      assert.equal(code, 1, c.err());
      assert.match(c.err(), new RegExp(`interface ${b} went away`));
      assert.doesNotMatch(c.err(), /crashed|terminated/);
      const s = JSON.parse(c.out().trim());
      assert.equal(s.received, 1000);
      assert.equal(countFile(file), 1000);
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
