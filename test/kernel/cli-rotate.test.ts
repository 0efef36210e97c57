/**
 * `netring capture -w` rotation and privileges on the real kernel: -C/-W
 * (tcpdump's names, a ring of files), -G/-W stopping, -z and --compress on
 * each closed file, every file valid alone; -Z after the first file is open,
 * and a run with only CAP_NET_RAW + CAP_NET_ADMIN under setpriv.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCaptureReader } from '../../src/pcap/index.js';
import { needRoot, RawSender, seqPayload, sleep, udpFrame, withVeth } from '../helpers/netns.js';
import { MAIN, startCli, type RunningCli } from '../helpers/cli.js';


function startCapture(iface: string, args: string[], prefix: string[] = []): Promise<RunningCli> {
  return startCli(['capture', '-i', iface, ...args], /listening on/, { prefix, settleMs: 30 });
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

test('-C rotates at the size like tcpdump (FILE, FILE1, ...), -W keeps a ring, every file valid with its own ISB', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    await withVeth(async ({ a, b }) => {
      const base = join(dir, 'r.pcapng');
      const c = await startCapture(b, ['-w', base, '-C', '20k', '-c', '600', '--json', '--block-size', '65536']);
      send(a, 600, 200);
      assert.equal(await c.exit, 0, c.err());
      const s = JSON.parse(c.out().trim());
      assert.equal(s.written, 600);
      assert.ok(s.files.length >= 5, `${s.files.length} files`);
      assert.deepEqual(s.files.slice(0, 3), [base, `${base}1`, `${base}2`]);
      let total = 0;
      for (const f of s.files as string[]) {
        const info = execFileSync('capinfos', ['-c', '-M', f], { encoding: 'utf8' });
        const n = Number(/Number of packets:\s+(\d+)/.exec(info)![1]);
        const r = openCaptureReader(f);
        for (const rec of r) void rec;
        assert.ok(r.statistics[0] !== undefined, `${f} ends with an ISB`);
        r.close();
        total += n;
        if (f !== s.files[s.files.length - 1]) assert.ok(statSync(f).size > 20 * 1024 && statSync(f).size < 20 * 1024 + 400);
      }
      assert.equal(total, 600);

      // -W 3: a ring of three files r0 r1 r2, the oldest overwritten
      const ring = join(dir, 'w.pcap');
      const d = await startCapture(b, ['-w', ring, '-C', '10k', '-W', '3', '-c', '600', '--json']);
      send(a, 600, 200);
      assert.equal(await d.exit, 0, d.err());
      assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('w.pcap')).sort(), ['w.pcap0', 'w.pcap1', 'w.pcap2']);
      for (const f of ['w.pcap0', 'w.pcap1', 'w.pcap2']) assert.ok(tsharkCount(join(dir, f)) > 0);
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('-G with -W stops after W files; -z runs on each closed file; --compress zstd leaves valid .zst files', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    await withVeth(async ({ a, b }) => {
      const log = join(dir, 'z.log');
      const script = join(dir, 'post.sh');
      writeFileSync(script, `#!/bin/sh\necho "$1" >> ${log}\n`, { mode: 0o755 });
      const pattern = join(dir, 'g-%s.pcapng');
      const c = await startCapture(b, ['-w', pattern, '-G', '1', '-W', '2', '-z', script, '--compress', 'zstd', '--json']);
      const t0 = Date.now();
      // traffic through ~3 s: the first file covers ~1 s, the second ~1 s, then the capture stops by itself
      for (let i = 0; i < 12 && c.child.exitCode === null; i++) { send(a, 50, 100, i * 50); await sleep(250); }
      const code = await Promise.race([c.exit, sleep(8000).then(() => 'hung')]);
      if (code === 'hung') c.child.kill('SIGKILL');
      assert.equal(code, 0, c.err());
      assert.ok(Date.now() - t0 < 6000);
      const s = JSON.parse(c.out().trim());
      assert.equal(s.files.length, 2);
      const logged = readFileSync(log, 'utf8').trim().split('\n');
      assert.deepEqual(logged, s.files.map((f: string) => `${f}.zst`));
      let total = 0;
      for (const f of logged) {
        assert.ok(existsSync(f) && !existsSync(f.slice(0, -4)), `${f} replaced the plain file`);
        const plain = f.slice(0, -4);
        execFileSync('zstd', ['-q', '-d', f, '-o', plain]);
        total += tsharkCount(plain);
      }
      assert.equal(total, s.written);
      assert.ok(s.written > 0);
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('-Z drops root after the first file is open: rotated files belong to the user; an unwritable directory is a clear error', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    await withVeth(async ({ a, b }) => {
      chmodSync(dir, 0o1777);
      const base = join(dir, 'z.pcap');
      const c = await startCapture(b, ['-w', base, '-Z', 'nobody', '-C', '10k', '-c', '300', '--json']);
      send(a, 300, 200);
      assert.equal(await c.exit, 0, c.err());
      const s = JSON.parse(c.out().trim());
      const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
      assert.equal(statSync(s.files[0]).uid, 0, 'the first file was created as root');
      for (const f of s.files.slice(1)) assert.equal(statSync(f).uid, nobody, `${f} was created after the drop`);
      assert.equal(s.files.reduce((n: number, f: string) => n + count(f), 0), 300);

      const locked = join(dir, 'locked');
      execFileSync('mkdir', ['-m', '0755', locked]);
      const r = spawnSync(process.execPath, [MAIN, 'capture', '-i', b, '-w', join(locked, 'x.pcap'), '-Z', 'nobody', '-C', '1'], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`netring: -Z nobody: the user cannot create files in ${locked}, which rotation`));
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('runs with only CAP_NET_RAW + CAP_NET_ADMIN as an unprivileged user (setpriv)', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    chmodSync(dir, 0o1777);
    await withVeth(async ({ a, b }) => {
      const file = join(dir, 'caps.pcapng');
      const c = await startCapture(b, ['-w', file, '-c', '100', '--json'], [
        'setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=+net_raw,+net_admin', '--ambient-caps=+net_raw,+net_admin',
      ]);
      send(a, 100, 100);
      assert.equal(await c.exit, 0, c.err());
      assert.equal(JSON.parse(c.out().trim()).written, 100);
      assert.equal(tsharkCount(file), 100);
      assert.notEqual(statSync(file).uid, 0);
      // without the capabilities: the one-line permission error
      const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, MAIN, 'capture', '-i', b, '-w', join(dir, 'no.pcap'), '-c', '1'], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^netring: .*(CAP_NET_RAW|permission|EPERM)/mi);
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
