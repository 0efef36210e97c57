/**
 * `netring capture` and `netring demo` as a user runs them: files read back by
 * capinfos/tshark, JSON summary keys, exit codes, Ctrl-C leaves a valid file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCaptureReader } from '../../src/pcap/index.js';
import { needRoot, RawSender, seqPayload, sleep, udpFrame, withVeth } from '../helpers/netns.js';
import { MAIN, startCli, type RunningCli } from '../helpers/cli.js';


function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Start `netring capture` and resolve once its socket is open (its 'listening on' or, with workers, 'capturing on' line). */
function startCapture(iface: string, args: string[]): Promise<RunningCli> {
  return startCli(['capture', '-i', iface, ...args], /listening on|capturing on/, { settleMs: 50 });
}

function tmp(): string { return mkdtempSync(join(tmpdir(), 'netring-cli-')); }

test('capture -w pcapng -c N: capinfos and tshark read the same count and bytes', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    await withVeth(async ({ a, b }) => {
      const file = join(dir, 'out.pcapng');
      const c = await startCapture(b, ['-w', file, '-c', '300', '--json']);
      const frames = Array.from({ length: 300 }, (_, i) => udpFrame({ payload: seqPayload(i, 30 + i) }));
      const tx = new RawSender(a);
      tx.send(frames);
      tx.close();
      const code = await c.exit;
      assert.equal(code, 0, c.err());
      const summary = JSON.parse(c.out().trim());
      assert.deepEqual(Object.keys(summary).sort(), ['bytes', 'dropped', 'freezes', 'matched', 'received', 'seconds', 'source', 'written']);
      assert.equal(summary.written, 300);
      assert.equal(summary.dropped, 0);
      assert.match(c.err(), /300 packets received/);
      assert.match(c.err(), /0 packets dropped by kernel/);
      const info = execFileSync('capinfos', ['-c', '-t', '-M', file], { encoding: 'utf8' });
      assert.match(info, /Number of packets:\s+300\b/);
      assert.match(info, /pcapng/);
      const hex = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.cap_len', '-e', 'data.data'], { encoding: 'utf8' })
        .trim().split('\n');
      assert.equal(hex.length, 300);
      hex.forEach((line, i) => {
        const [len] = line.split('\t');
        assert.equal(Number(len), frames[i].length);
      });
      // byte-for-byte: tshark's hex dump of the whole frame
      const first = execFileSync('tshark', ['-r', file, '-c', '1', '-x'], { encoding: 'utf8' });
      const bytes = [...first.matchAll(/^[0-9a-f]{4}  ((?:[0-9a-f]{2} ?)+)/gm)].flatMap((m) => m[1].trim().split(/\s+/)).map((h) => parseInt(h, 16));
      assert.deepEqual(Uint8Array.from(bytes), frames[0]);
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('capture -w pcap with VLAN in metadata: the tag is back in the file, like tcpdump', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    await withVeth(async ({ a, b }) => {
      const file = join(dir, 'vlan.pcap');
      const c = await startCapture(b, ['-w', file, '-c', '2']);
      const tx = new RawSender(a);
      tx.send([udpFrame({ vlanTci: 77 }), udpFrame({ vlanTci: 78, vlanTpid: 0x88a8 })]);
      tx.close();
      assert.equal(await c.exit, 0, c.err());
      const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'vlan.id', '-e', 'eth.type', '-e', 'frame.len', '-e', 'ieee8021ad.id'], { encoding: 'utf8' });
      const rows = out.trim().split('\n').map((l) => l.split('\t'));
      assert.equal(rows.length, 2);
      assert.equal(rows[0][0], '77');
      assert.equal(rows[0][1].split(',')[0], '0x8100');
      assert.equal(rows[0][2], '64');
      assert.equal(rows[1][3], '78', '802.1ad S-tag');
      assert.equal(rows[1][1].split(',')[0], '0x88a8');
      assert.match(execFileSync('capinfos', ['-t', '-M', file], { encoding: 'utf8' }), /File type:\s+nsecpcap/);
    }, { offloadsOff: false });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('SIGINT leaves a valid file with the kernel drop count in an ISB', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    await withVeth(async ({ a, b }) => {
      const file = join(dir, 'int.pcapng');
      // a tiny ring so the burst overflows it: drops must land in the file's ISB
      const c = await startCapture(b, ['-w', file, '--json', '--block-size', '4096', '--block-count', '2', '--block-timeout', '1']);
      const tx = new RawSender(a);
      const N = 3000;
      tx.send(Array.from({ length: N }, (_, i) => udpFrame({ payload: seqPayload(i, 200) })));
      tx.close();
      await sleep(300);
      c.child.kill('SIGINT');
      assert.equal(await c.exit, 0, c.err());
      const s = JSON.parse(c.out().trim());
      assert.ok(s.dropped > 0, 'the ring overflowed');
      assert.equal(s.received + s.dropped, N, 'received + dropped == sent');
      assert.equal(s.written, s.received);
      const info = execFileSync('capinfos', ['-c', file], { encoding: 'utf8' });
      assert.match(info, new RegExp(`Number of packets:\\s+${s.written}\\b`));
      const reader = openCaptureReader(file);
      let n = 0;
      for (const rec of reader) { n++; void rec; }
      const isb = reader.statistics[0];
      reader.close();
      assert.equal(n, s.written);
      assert.ok(isb, 'an ISB was written');
      assert.equal(isb.dropped, s.dropped, 'isb_ifdrop holds the kernel drop count');
      assert.equal(isb.received, N, 'isb_ifrecv holds what the kernel saw');
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('capture -r prints one summary line per packet; -c limits; -w re-writes', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    await withVeth(async ({ a, b }) => {
      const file = join(dir, 'in.pcapng');
      const c = await startCapture(b, ['-w', file, '-c', '10']);
      const tx = new RawSender(a);
      tx.send(Array.from({ length: 10 }, (_, i) => udpFrame({ sport: 1000 + i, dport: 53 })));
      tx.close();
      assert.equal(await c.exit, 0);
    });
    const file = join(dir, 'in.pcapng');
    const r = cli(['capture', '-r', file, '-c', '4']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0], /^\d\d:\d\d:\d\d\.\d{6} IP 10\.99\.0\.1\.1000 > 10\.99\.1\.1\.53: /); // tcpdump's HH:MM:SS.micro
    const out = join(dir, 'copy.pcap');
    const w = cli(['capture', '-r', file, '-w', out, '--json']);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(JSON.parse(w.stdout).written, 10);
    assert.match(execFileSync('capinfos', ['-c', out], { encoding: 'utf8' }), /Number of packets:\s+10\b/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('exit codes and messages: usage errors 2, runtime errors 1', { skip: needRoot }, () => {
  const dir = tmp();
  try {
    let r = cli(['capture']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /exactly one of -i IFACE or -r FILE/);
    r = cli(['capture', '-i', 'lo', '-c', 'abc']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /-c must be an integer/);
    r = cli(['capture', '--bogus']);
    assert.equal(r.code, 2);
    r = cli(['capture', '-i', 'nosuch0', '-c', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no interface named "nosuch0"/);
    r = cli(['capture', '-i', 'lo', '--block-size', '5000', '-c', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad ring geometry: blockSize 5000 must be a positive multiple of the page size/);
    const bad = join(dir, 'bad.pcap');
    writeFileSync(bad, Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000aabbccdd', 'hex'));
    r = cli(['capture', '-r', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /truncated/i);
    r = cli(['capture', '-r', join(dir, 'missing.pcap')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ENOENT|no such file/i);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('netring demo runs end to end and removes its namespace', { skip: needRoot }, () => {
  const before = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  const r = cli(['demo', '--packets', '20000']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /accounted for\s+yes/);
  assert.match(r.stdout, /20000 packets read back by netring/);
  const after = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  assert.equal(after.split('\n').filter((l) => l.startsWith('netring-demo')).length,
    before.split('\n').filter((l) => l.startsWith('netring-demo')).length);
});

test('capture -f compiles a tcpdump expression into the kernel filter; -r -f agrees with tcpdump -r', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    const file = join(dir, 'mix.pcap');
    await withVeth(async ({ a, b }) => {
      const frames = Array.from({ length: 200 }, (_, i) => udpFrame({ dport: i % 4 === 0 ? 5001 : 53, sport: 1000 + i, vlanTci: i % 10 === 0 ? 7 : undefined }));
      // everything to a file first (for the offline half)
      const all = await startCapture(b, ['-w', file, '-c', '200']);
      const tx = new RawSender(a);
      tx.send(frames);
      assert.equal(await all.exit, 0, all.err());
      // then the kernel-filtered capture
      const c = await startCapture(b, ['-f', 'udp dst port 5001', '-c', '50', '--json', '-q']);
      tx.send(frames);
      tx.close();
      assert.equal(await c.exit, 0, c.err());
      const s = JSON.parse(c.out().trim());
      assert.equal(s.matched, 50);
      assert.equal(s.received, 50, 'the kernel filter passed only matching packets (none reached JS)');
    }, { offloadsOff: false });
    for (const expr of ['udp port 53', 'vlan 7', 'udp dst port 5001 and not vlan', 'greater 60', 'ether host 02:00:00:00:0a:01 and ip']) {
      const ours = cli(['capture', '-r', file, '-f', expr, '--json', '-q']);
      assert.equal(ours.code, 0, ours.stderr);
      const theirs = execFileSync('tcpdump', ['-r', file, '-nn', expr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const n = theirs.split('\n').filter((l) => l.length > 0).length;
      assert.equal(JSON.parse(ours.stdout).matched, n, expr);
    }
    // compile --ddd output, used as --filter-bpf, selects what tcpdump selects
    const ddd = cli(['compile', '--target', 'file', '--ddd', 'udp port 53']);
    assert.equal(ddd.code, 0, ddd.stderr);
    const prog = join(dir, 'prog.txt');
    writeFileSync(prog, ddd.stdout);
    const viaBpf = cli(['capture', '-r', file, '--filter-bpf', prog, '--json', '-q']);
    assert.equal(viaBpf.code, 0, viaBpf.stderr);
    const tcpd = execFileSync('tcpdump', ['-r', file, '-nn', 'udp port 53'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.equal(JSON.parse(viaBpf.stdout).matched, tcpd.trim().split('\n').length);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('filter syntax errors exit 2 with the position marked', () => {
  const r = cli(['capture', '-r', '/dev/null', '-f', 'tcp port 8o']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "netring: unknown port '8o' (at column 10)\ntcp port 8o\n         ^^\n");
  const c = cli(['compile', 'udp and (']);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /\^/);
});

test('capture --program: filter prefix in the kernel, counters in JS, live and offline agree', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    const file = join(dir, 'p.pcapng');
    const prog = 'ip >-> udp >-> when (port 53) (count dns)';
    await withVeth(async ({ a, b }) => {
      const frames = Array.from({ length: 120 }, (_, i) => udpFrame({ dport: i % 3 === 0 ? 53 : 7000, sport: 2000 + i }));
      const c = await startCapture(b, ['--program', prog, '-q', '--json', '-w', file, '-c', '120']);
      const tx = new RawSender(a);
      tx.send(frames);
      tx.close();
      assert.equal(await c.exit, 0, c.err());
      const s = JSON.parse(c.out().trim());
      assert.equal(s.matched, 120);
      assert.deepEqual(s.counters, { dns: 40 });
      assert.match(c.err(), /counter dns: 40/);
    });
    const off = cli(['capture', '-r', file, '--program', prog, '-q', '--json']);
    assert.equal(off.code, 0, off.stderr);
    assert.deepEqual(JSON.parse(off.stdout).counters, { dns: 40 });
    const steer = cli(['capture', '-r', file, '--program', 'ip >-> steer_flow']);
    assert.equal(steer.code, 2);
    assert.match(steer.stderr, /cannot steer: use a fan-out group/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('capture --workers: one merged file in timestamp order, per-worker shares; --program steering', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    await withVeth(async ({ a, b }) => {
      const frames = Array.from({ length: 2000 }, (_, i) => udpFrame({ src: `10.9.${(i >> 8) & 7}.${i & 255}`, sport: 3000 + (i % 50), payload: seqPayload(i) }));
      for (const [extra, label] of [[['--fanout', 'hash'], 'hash'], [['--program', 'ip >-> steer_flow'], 'program']] as const) {
        const file = join(dir, `m-${label}.pcapng`);
        const c = await startCapture(b, ['--workers', '2', ...extra, '-w', file, '--json', '-c', '2000']);
        await sleep(300); // workers join their group
        const tx = new RawSender(a);
        tx.send(frames);
        tx.close();
        assert.equal(await c.exit, 0, c.err());
        const s = JSON.parse(c.out().trim().split('\n').pop()!);
        assert.equal(s.received, 2000, label);
        assert.equal(s.written, 2000, label);
        assert.equal(s.workers.length, 2);
        assert.equal(s.workers[0].packets + s.workers[1].packets, 2000);
        assert.ok(s.workers.every((w: { packets: number }) => w.packets > 0), `${label}: both workers got traffic`);
        const times = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.time_epoch'], { encoding: 'utf8' }).trim().split('\n').map(Number);
        assert.equal(times.length, 2000);
        for (let i = 1; i < times.length; i++) assert.ok(times[i] >= times[i - 1], 'merged in timestamp order');
      }
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
