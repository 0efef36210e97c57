/**
 * `netring capture -w` on the real kernel: files grow block by block while
 * capturing (SIGKILL leaves a readable file), `-w -` into tshark and into a
 * pipe that closes, a full file system (tiny tmpfs) ends with one line and
 * exit 1, SIGTERM's `written` equals the file, and empty inputs still create
 * valid files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCaptureReader, PcapWriter } from '../../src/pcap/index.js';
import { needRoot, RawSender, seqPayload, sleep, udpFrame, withVeth } from '../helpers/netns.js';
import { MAIN, startCli, type RunningCli } from '../helpers/cli.js';


function startCapture(iface: string, args: string[], prefix: string[] = []): Promise<RunningCli> {
  return startCli(['capture', '-i', iface, ...args], /listening on|capturing on/, { prefix, settleMs: 30 });
}

function count(file: string): number {
  const r = openCaptureReader(file);
  let n = 0;
  for (const rec of r) { n++; void rec; }
  r.close();
  return n;
}

function tsharkCount(file: string): number {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).trim();
  return out === '' ? 0 : out.split('\n').length;
}

function send(iface: string, n: number, size = 200, from = 0): void {
  const tx = new RawSender(iface);
  for (let k = 0; k < n; k += 500) tx.send(Array.from({ length: Math.min(500, n - k) }, (_, i) => udpFrame({ payload: seqPayload(from + k + i, size) })));
  tx.close();
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'netring-write-'));

test('-w grows block by block while capturing; after SIGKILL tshark reads every completed block', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    await withVeth(async ({ a, b }) => {
      const file = join(dir, 'k.pcapng');
      const c = await startCapture(b, ['-w', file, '--block-size', '65536', '--block-timeout', '5']);
      send(a, 1000);
      await sleep(400);
      const mid = count(file);
      assert.equal(mid, 1000, 'all packets are in the file while the capture still runs');
      send(a, 500, 200, 1000);
      await sleep(300);
      c.child.kill('SIGKILL');
      await c.exit;
      assert.equal(tsharkCount(file), 1500, 'tshark reads everything written before the kill');
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('-w - streams into tshark -r - while capturing; a pipe closed early ends quietly', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    // tshark reading stdout
    const c = spawn('sh', ['-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} capture -i ${b} -w - -c 400 | tshark -r - -T fields -e frame.len`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    c.stdout.on('data', (d) => { out += d; });
    c.stderr.on('data', (d) => { err += d; });
    const done = new Promise<number | null>((r) => c.on('exit', r));
    for (let i = 0; i < 500 && !/listening on|capturing on/.test(err); i++) await sleep(20);
    await sleep(50);
    send(a, 400, 100);
    assert.equal(await done, 0, err);
    const lens = out.trim().split('\n');
    assert.equal(lens.length, 400);
    assert.ok(lens.every((l) => l === String(14 + 20 + 8 + 100)));
    assert.match(err, /400 packets written to -/);
    // a reader that goes away after 100 bytes: no stack trace, exit 0
    const d = await startCapture(b, ['-w', '-'], []);
    d.child.stdout!.destroy();
    send(a, 2000, 500);
    await sleep(300);
    const code = await Promise.race([d.exit, sleep(5000).then(() => 'hung')]);
    if (code === 'hung') d.child.kill('SIGKILL');
    assert.equal(code, 0, d.err());
    assert.doesNotMatch(d.err(), /EPIPE|Error|at /);
    assert.match(d.err(), /packets received/);
  });
});

test('a full file system: one line naming the file, exit 1, file valid up to the last block, counts true', { skip: needRoot }, async () => {
  const dir = tmp();
  const mnt = join(dir, 'mnt');
  execFileSync('mkdir', ['-p', mnt]);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
  try {
    await withVeth(async ({ a, b }) => {
      const file = join(mnt, 'full.pcapng');
      const c = await startCapture(b, ['-w', file, '--json', '--block-size', '65536']);
      send(a, 2000, 500);
      const code = await Promise.race([c.exit, sleep(8000).then(() => 'hung')]);
      if (code === 'hung') c.child.kill('SIGKILL');
      assert.equal(code, 1, c.err());
      const lines = c.err().split('\n').filter((l) => l.startsWith('netring:'));
      assert.deepEqual(lines, [`netring: cannot write ${file}: no space left on device (ENOSPC)`]);
      const s = JSON.parse(c.out().trim());
      assert.equal(count(file), s.written, 'written == records in the file');
      assert.equal(tsharkCount(file), s.written, 'tshark reads the file to its end');
      assert.ok(s.written > 0 && s.unwritten > 0);
      assert.equal(s.written + s.unwritten, s.matched);
      assert.match(c.err(), new RegExp(`${s.unwritten} packets captured but not written`));
    });
  } finally {
    execFileSync('umount', [mnt]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGTERM: the file is complete and `written` equals its records', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    await withVeth(async ({ a, b }) => {
      const file = join(dir, 't.pcap');
      const c = await startCapture(b, ['-w', file, '--json']);
      send(a, 3000, 64);
      c.child.kill('SIGTERM');
      assert.equal(await c.exit, 0, c.err());
      const s = JSON.parse(c.out().trim());
      assert.equal(count(file), s.written);
      assert.equal(tsharkCount(file), s.written);
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('empty input still creates a valid empty file, replacing an old one (-r empty, live capture that sees nothing)', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    const empty = join(dir, 'empty.pcap');
    new PcapWriter(empty).close();
    const out = join(dir, 'out.pcap');
    writeFileSync(out, 'old content that is not a capture file');
    const r = spawnSync(process.execPath, [MAIN, 'capture', '-r', empty, '-w', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(count(out), 0);
    assert.match(execFileSync('capinfos', ['-c', out], { encoding: 'utf8' }), /Number of packets:\s+0\b/);
    await withVeth(async ({ b }) => {
      const live = join(dir, 'live.pcapng');
      writeFileSync(live, 'old');
      const r2 = spawnSync(process.execPath, [MAIN, 'capture', '-i', b, '-w', live, '--seconds', '0.3', '-f', 'udp port 9'], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r2.status, 0, r2.stderr);
      assert.equal(count(live), 0);
      assert.match(execFileSync('capinfos', ['-c', live], { encoding: 'utf8' }), /Number of packets:\s+0\b/);
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('--workers: a full disk stops the run with exit 1 and a true written count; SIGKILL leaves readable parts next to the merged output', { skip: needRoot }, async () => {
  const dir = tmp();
  const mnt = join(dir, 'mnt');
  execFileSync('mkdir', ['-p', mnt]);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
  try {
    await withVeth(async ({ a, b }) => {
      const c = await startCapture(b, ['--workers', '2', '-w', join(mnt, 'w.%w.pcapng'), '--json', '--block-size', '65536']);
      for (let i = 0; i < 4 && c.child.exitCode === null; i++) { send(a, 1000, 500, i * 1000); await sleep(200); }
      const code = await Promise.race([c.exit, sleep(10000).then(() => 'hung')]);
      if (code === 'hung') c.child.kill('SIGKILL');
      assert.equal(code, 1, c.err());
      assert.match(c.err(), /^netring: cannot write .*w\.[01]\.pcapng: no space left on device \(ENOSPC\)$/m);
      const s = JSON.parse(c.out().trim());
      const inFiles = count(join(mnt, 'w.0.pcapng')) + count(join(mnt, 'w.1.pcapng'));
      assert.equal(s.written, inFiles, 'written == records in the per-worker files');
      assert.ok(s.written > 0);

      // merged output, killed: the parts sit next to the output and tshark reads them
      const out = join(dir, 'merged.pcapng');
      const d = await startCapture(b, ['--workers', '2', '-w', out]);
      send(a, 1000, 100);
      await sleep(500);
      d.child.kill('SIGKILL');
      await d.exit;
      const parts = readdirSync(dir).filter((f) => f.startsWith('.merged.pcapng.netring-parts-'));
      assert.equal(parts.length, 1, 'one parts directory next to the output');
      const partDir = join(dir, parts[0]);
      const n = readdirSync(partDir).reduce((x, f) => x + tsharkCount(join(partDir, f)), 0);
      assert.equal(n, 1000);
      // and a normal run cleans its parts up
      const e = await startCapture(b, ['--workers', '2', '-w', join(dir, 'ok.pcapng'), '-c', '50', '--json']);
      send(a, 50, 100);
      assert.equal(await e.exit, 0, e.err());
      assert.equal(JSON.parse(e.out().trim()).written, 50);
      assert.equal(tsharkCount(join(dir, 'ok.pcapng')), 50);
      assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.ok.pcapng')), []);
    });
  } finally {
    execFileSync('umount', [mnt]);
    rmSync(dir, { recursive: true, force: true });
  }
});
