/**
 * Rotation with `netring capture --xdp`, in one thread and with --workers:
 * -C/-W/-G/-z over the same traffic as the AF_PACKET path, every rotated
 * file valid (capinfos, tshark), the union of the files equal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCaptureReader } from '../../src/pcap/index.js';
import { needRoot, run, withVeth } from '../helpers/netns.js';
import { MAIN, captureWhile, records, startCli } from '../helpers/cli.js';


/**
 * Records of every file, as hex keys: each file is checked with capinfos
 * (and the first and last of a set with tshark too) and read back.
 */
function validFiles(files: string[]): string[][] {
  return files.map((f, i) => {
    const n = Number(/Number of packets:\s+(\d+)/.exec(execFileSync('capinfos', ['-M', '-c', f], { encoding: 'utf8' }))![1]);
    if (i === 0 || i === files.length - 1) {
      const t = execFileSync('tshark', ['-r', f, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).trim();
      assert.equal(t === '' ? 0 : t.split('\n').length, n, `${f}: tshark reads every packet capinfos counts`);
    }
    const recs = records(f).map((x) => Buffer.from(x).toString('hex'));
    assert.equal(recs.length, n, f);
    return recs;
  });
}

test('capture --xdp (one thread and --workers 2) with -C, -W and -G: every rotated file is valid, their union is what was sent and what the AF_PACKET path wrote', { skip: needRoot }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nr-xsk-cli-'));
  try {
    await withVeth(async ({ a, b }) => {
      const n = 4000;
      const gen = (extra: string[] = []): void => {
        const r = spawnSync(process.execPath, [MAIN, 'gen', '-i', a, '--xdp', '--copy', '--workers', '2', '--size', '60-1514', '--flows', '64', '--sport', '1000-1063',
          '--rate', '10kpps', '--burst', '16', '--batch', '16', '-q', ...extra], { encoding: 'utf8', timeout: 120_000 });
        assert.equal(r.status, 0, r.stderr);
      };
      // -C: the same traffic through AF_XDP workers and AF_PACKET workers, the merged file rotated every 400 kB
      const got: Record<string, string[]> = {};
      const variants: Array<[string, string[]]> = [
        ['xdp', ['--workers', '2', '--xdp', '--copy']], ['packet', ['--workers', '2']],
        ['xdp-1', ['--xdp', '--copy', '--queues', 'all']], ['packet-1', []], // one thread
      ];
      for (const [name, extra] of variants) {
        const base = join(dir, `${name}.pcapng`);
        const r = await captureWhile(b, ['-w', base, '-C', '400k', '-c', String(n), '--seconds', '100', '--json', ...extra], () => gen(['-c', String(n)]));
        assert.equal(r.code, 0, r.err);
        const s = JSON.parse(r.out.trim());
        assert.equal(s.written, n, name);
        assert.equal(s.dropped, 0, name);
        assert.ok(s.files.length >= 4, `${name}: ${s.files.length} files`);
        assert.deepEqual(s.files.slice(0, 2), [base, `${base}1`]);
        const recs = validFiles(s.files);
        for (const f of (s.files as string[]).slice(0, -1)) assert.ok(statSync(f).size > 400 * 1024 && statSync(f).size < 400 * 1024 + 2000, `${f}: ${statSync(f).size} bytes`);
        got[name] = recs.flat().sort();
        assert.equal(got[name].length, n);
        assert.doesNotMatch(run('ip', ['link', 'show', 'dev', b]), /xdp/, `${name}: no program left after the command`);
      }
      assert.deepEqual(got.xdp, got.packet, 'the rotated files of both worker paths hold the same packets and bytes');
      assert.deepEqual(got['xdp-1'], got.packet, 'one thread, AF_XDP: the same packets and bytes');
      assert.deepEqual(got['packet-1'], got.packet, 'one thread, AF_PACKET: the same packets and bytes');

      // -W 3: a ring of three files, the oldest overwritten
      const ring = join(dir, 'w.pcap');
      const w = await captureWhile(b, ['--workers', '2', '--xdp', '--copy', '-w', ring, '-C', '100k', '-W', '3', '-c', '2000', '--seconds', '100', '--json'], () => gen(['-c', '2000']));
      assert.equal(w.code, 0, w.err);
      assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('w.pcap')).sort(), ['w.pcap0', 'w.pcap1', 'w.pcap2']);
      for (const f of validFiles(['w.pcap0', 'w.pcap1', 'w.pcap2'].map((f) => join(dir, f)))) assert.ok(f.length > 0);

      // -G 1 -W 2: a new file every second, the run ends after two files; together they hold every packet written
      let gs: { files: string[]; written: number } = { files: [], written: 0 };
      const bg = spawn(process.execPath, [MAIN, 'gen', '-i', a, '--xdp', '--copy', '--workers', '2', '--size', '60-1514', '--rate', '2kpps', '-c', '200000', '-q'], { stdio: 'ignore' });
      try {
        const g = await startCli(['capture', '-i', b, '--workers', '2', '--xdp', '--copy', '-w', join(dir, 'g-%s.pcapng'), '-G', '1', '-W', '2', '--json'], /capturing on/);
        assert.equal(await g.exit, 0, g.err());
        gs = JSON.parse(g.out().trim());
      } finally {
        bg.kill('SIGKILL');
      }
      assert.equal(gs.files.length, 2);
      assert.equal(validFiles(gs.files).flat().length, gs.written);
      assert.ok(gs.written > 0);

      // one thread: -G 1 -W 2 with -z, a script run on each closed file
      const log = join(dir, 'z.log');
      const script = join(dir, 'post.sh');
      writeFileSync(script, `#!/bin/sh\necho "$1" >> ${log}\n`, { mode: 0o755 });
      const bg1 = spawn(process.execPath, [MAIN, 'gen', '-i', a, '--xdp', '--copy', '--size', '60-1514', '--rate', '2kpps', '-c', '200000', '-q'], { stdio: 'ignore' });
      let one: { files: string[]; written: number } = { files: [], written: 0 };
      try {
        const c1 = await startCli(['capture', '-i', b, '--xdp', '--copy', '-w', join(dir, 'o-%s.pcap'), '-G', '1', '-W', '2', '-z', script, '--json'], /listening on/);
        assert.equal(await c1.exit, 0, c1.err());
        one = JSON.parse(c1.out().trim());
      } finally {
        bg1.kill('SIGKILL');
      }
      assert.equal(one.files.length, 2);
      assert.equal(validFiles(one.files).flat().length, one.written);
      assert.ok(one.written > 0);
      assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), one.files, '-z ran on each closed file, in order');

      // one file per worker (%w) does not rotate, as with AF_PACKET workers: one line
      const r = spawnSync(process.execPath, [MAIN, 'capture', '-i', b, '--workers', '2', '--xdp', '-w', join(dir, 'p.%w.pcap'), '-C', '1'], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^netring: -C, -G, -z and --compress go with the merged file of --workers/m);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.doesNotMatch(run('ip', ['link', 'show', 'dev', b]), /xdp/);
    }, { queues: 2 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

