/**
 * Runs every invocation of docs/tcpdump-users.md's table: offline rows must
 * print exactly what the tcpdump command in the same row prints; live rows run
 * on a veth with 5 frames sent to it (with -c 5 so they end).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needRoot, RawSender, sleep, udpFrame, withVeth } from '../helpers/netns.js';
import { MAIN, tmpDir, writePcap } from '../helpers/cli.js';
import { appFrames } from '../helpers/app-frames.js';

const DOC = new URL('../../../docs/tcpdump-users.md', import.meta.url);
const env = { ...process.env, TZ: 'UTC' };

/** Rows of the table: [tcpdump words, netring words]. */
function rows(): Array<[string[], string[]]> {
  const out: Array<[string[], string[]]> = [];
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    const m = /^\| \d+ \| `([^`]+)` \| `([^`]+)` \|$/.exec(line);
    if (m) out.push([words(m[1]!), words(m[2]!)]);
  }
  return out;
}

/** Shell-like split honouring single quotes (enough for the table). */
function words(s: string): string[] {
  return [...s.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

function run(cmd: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const [bin, ...args] = cmd[0] === 'netring' ? [process.execPath, MAIN, ...cmd.slice(1)] : cmd;
  const r = spawnSync(bin!, args, { encoding: 'utf8', env, cwd, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('docs/tcpdump-users.md lists 20 invocations', () => {
  assert.equal(rows().length, 20);
});

test('offline rows of docs/tcpdump-users.md print what tcpdump prints', () => {
  const dir = tmpDir();
  try {
    writePcap(join(dir, 'in.pcap'), appFrames());
    writeFileSync(join(dir, 'filter.txt'), '# only web\ntcp port 80\n');
    let n = 0;
    for (const [td, nr] of rows()) {
      if (nr.includes('-i')) continue;
      // netring never resolves names: compare with tcpdump's numeric output (-nn) where the row has no -n
      const theirs = run(td[0] === 'tcpdump' && !td.some((w) => /^-n+$/.test(w)) ? ['tcpdump', '-nn', ...td.slice(1)] : td, dir);
      const ours = run(nr, dir);
      assert.equal(ours.code, 0, `${nr.join(' ')}: ${ours.stderr}`);
      if (nr.includes('-D')) {
        assert.match(ours.stdout, /^\d+\.lo \[Up, Running, Loopback\]$/m);
      } else {
        assert.ok(theirs.stdout.length > 0, `${td.join(' ')} printed nothing`);
        assert.equal(ours.stdout, theirs.stdout, nr.join(' '));
      }
      n++;
    }
    assert.equal(n, 11);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('live rows of docs/tcpdump-users.md capture the traffic sent to a veth', { skip: needRoot }, async () => {
  const dir = tmpDir();
  try {
    await withVeth(async ({ a, b }) => {
      let n = 0;
      for (const [, nr] of rows()) {
        if (!nr.includes('-i')) continue;
        const args = nr.slice(1).map((w) => (w === 'eth0' ? b : w === 'out.pcap' ? join(dir, 'out.pcap') : w));
        const ci = args.indexOf('-c');
        if (ci >= 0) args.splice(ci, 2);
        args.push('-c', '5');
        rmSync(join(dir, 'out.pcap'), { force: true });
        const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
        let out = '';
        let err = '';
        child.stdout!.on('data', (d) => { out += d; });
        child.stderr!.on('data', (d) => { err += d; });
        const exit = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
        for (let i = 0; i < 500 && !err.includes('listening on'); i++) await sleep(20);
        await sleep(100);
        const tx = new RawSender(a);
        tx.send(Array.from({ length: 5 }, (_, i) => udpFrame({ sport: 6000 + i, dport: 5001 })));
        tx.close();
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const code = await exit;
        clearTimeout(timer);
        assert.equal(code, 0, `${args.join(' ')}: ${err}`);
        if (args.includes('-w')) {
          const r = spawnSync('tcpdump', ['-nn', '-r', join(dir, 'out.pcap')], { encoding: 'utf8' });
          assert.equal(r.stdout.trim().split('\n').length, 5, args.join(' '));
        } else {
          const lines = out.trim().split('\n');
          assert.equal(lines.length, 5, `${args.join(' ')}: ${out}`);
          for (const l of lines) assert.match(l, /^\d\d:\d\d:\d\d\.\d{6} (02:00:00:00:0a:01 > 02:00:00:00:ff:02, ethertype IPv4 \(0x0800\), length 60: )?(IP )?10\.99\.0\.1\.60\d\d > 10\.99\.1\.1\.5001: UDP, length 18$/, args.join(' '));
        }
        n++;
      }
      assert.equal(n, 9);
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
