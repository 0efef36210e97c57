/**
 * `netring capture` live, the way a tcpdump user runs it: the filter as
 * trailing words, piping into `head`, tcpdump's flags. Real veths.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { needRoot, RawSender, run, sleep, udpFrame, withVeth } from '../helpers/netns.js';
import { MAIN, tmpDir } from '../helpers/cli.js';

interface Running { child: ChildProcess; out: () => string; err: () => string; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }

/** Start `netring ARGS` (optionally `| sh -c PIPE`) and resolve once its socket is open (promisc flag set). */
async function start(iface: string, args: string[], pipe?: string): Promise<Running> {
  const child = pipe === undefined
    ? spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('bash', ['-c', `set -o pipefail; "${process.execPath}" "${MAIN}" ${args.map((a) => `'${a}'`).join(' ')} | ${pipe}; echo "status \${PIPESTATUS[0]}" >&2`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { err += d; });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  for (let i = 0; i < 250; i++) {
    if (run('ip', ['link', 'show', iface]).includes('PROMISC')) break;
    await sleep(20);
  }
  await sleep(100);
  return { child, out: () => out, err: () => err, exit };
}

test('capture -i IF -w FILE tcp-style trailing filter: only matching packets are written', { skip: needRoot }, async () => {
  const dir = tmpDir();
  try {
    await withVeth(async ({ a, b }) => {
      const file = join(dir, 'f.pcap');
      const c = await start(b, ['capture', '-i', b, '-w', file, '-c', '20', '--json', 'udp', 'dst', 'port', '5001']);
      const tx = new RawSender(a);
      // 60 frames, every third to port 5001: exactly 20 match
      tx.send(Array.from({ length: 60 }, (_, i) => udpFrame({ sport: 2000 + i, dport: i % 3 === 0 ? 5001 : 53 })));
      tx.close();
      const { code } = await c.exit;
      assert.equal(code, 0, c.err());
      const s = JSON.parse(c.out().trim());
      assert.equal(s.written, 20);
      assert.equal(s.received, 20, 'the filter ran in the kernel: nothing else reached netring');
      const all = execFileSync('tcpdump', ['-r', file, '-nn'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n');
      assert.equal(all.length, 20);
      for (const l of all) assert.match(l, /\.5001: UDP/);
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('capture -i IF | head -2 (also with --program): ends quietly, exit 0, summary printed', { skip: needRoot }, async () => {
  const dir = tmpDir();
  try {
    await withVeth(async ({ a, b }) => {
      for (const extra of [[], ['--program', 'ip >-> udp']]) {
        const c = await start(b, ['capture', '-i', b, ...extra], 'head -2');
        const tx = new RawSender(a);
        tx.send(Array.from({ length: 10 }, (_, i) => udpFrame({ sport: 3000 + i })));
        await sleep(300); // head has its 2 lines and exits
        tx.send(Array.from({ length: 10 }, (_, i) => udpFrame({ sport: 4000 + i }))); // the next write meets the closed pipe
        tx.close();
        const timer = setTimeout(() => c.child.kill('SIGKILL'), 10_000);
        await c.exit;
        clearTimeout(timer);
        assert.equal(c.out().trim().split('\n').length, 2);
        assert.match(c.err(), /status 0\n/, c.err());
        assert.doesNotMatch(c.err(), /EPIPE|Error|\n\s+at /, c.err());
        assert.match(c.err(), /packets received/);
      }
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('capture -p leaves promiscuous mode off; -Q in sees only received packets; -s 0 means the maximum snaplen', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const c = spawn(process.execPath, [MAIN, 'capture', '-i', b, '-p', '-Q', 'in', '-s', '0', '-c', '5'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout!.on('data', (d) => { out += d; });
    c.stderr!.on('data', (d) => { err += d; });
    const exit = new Promise<number | null>((r) => c.on('exit', (code) => r(code)));
    for (let i = 0; i < 500 && !err.includes('listening on'); i++) await sleep(20);
    await sleep(100);
    assert.doesNotMatch(run('ip', ['link', 'show', b]), /PROMISC/, '-p: not promiscuous');
    assert.match(err, /snapshot length 262144 bytes/);
    // frames sent out of b (outgoing) must not be seen with -Q in; frames from a arrive
    const out1 = new RawSender(b);
    out1.send(Array.from({ length: 5 }, () => udpFrame({ dport: 9 })));
    out1.close();
    const tx = new RawSender(a);
    tx.send(Array.from({ length: 5 }, () => udpFrame({ dport: 5001, dstMac: 'ff:ff:ff:ff:ff:ff' })));
    tx.close();
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    assert.equal(await exit, 0, err);
    clearTimeout(timer);
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 5);
    for (const l of lines) assert.match(l, /\.5001: UDP/, 'only the received frames, none of the sent ones');
  });
});

test('gen --rate R --seconds S sends exactly R x S packets, not one more (a burst of the whole run: scheduling delays lose nothing)', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const before = Number(run('cat', [`/sys/class/net/${b}/statistics/rx_packets`]));
    const r = spawnSync(process.execPath, [MAIN, 'gen', '-i', a, '--rate', '10kpps', '--burst', '10000', '--seconds', '1', '--json'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.sent, 10_000);
    assert.equal(Number(run('cat', [`/sys/class/net/${b}/statistics/rx_packets`])) - before, 10_000);
  });
});

/** Run tcpdump -w on `iface` for `count` packets while `send` runs; the packets' lines (-nn -e). */
async function tcpdumpAround(iface: string, count: number, send: () => void): Promise<string[]> {
  const dir = tmpDir();
  try {
    const file = join(dir, 'seen.pcap');
    const td = spawn('tcpdump', ['-i', iface, '-c', String(count), '-U', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    td.stderr!.on('data', (d) => { err += d; });
    const exit = new Promise<number | null>((r) => td.on('exit', (code) => r(code)));
    for (let i = 0; i < 500 && !err.includes('listening on'); i++) await sleep(20);
    send();
    const timer = setTimeout(() => td.kill('SIGKILL'), 20_000);
    assert.equal(await exit, 0, err);
    clearTimeout(timer);
    return execFileSync('tcpdump', ['-r', file, '-nn', '-e'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n');
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('gen --vlan 10 --proto icmp -c 2 sends echo requests seq 1 and seq 2; gen --proto tcp --dst fd00::99 sends the smallest frame that fits (74 bytes)', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const icmp = await tcpdumpAround(b, 2, () => {
      const r = spawnSync(process.execPath, [MAIN, 'gen', '-i', a, '--vlan', '10', '--proto', 'icmp', '-c', '2', '-q'], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr);
    });
    assert.equal(icmp.length, 2);
    icmp.forEach((l, i) => assert.match(l, new RegExp(`vlan 10, .* ICMP echo request, id 1, seq ${i + 1}, length `), l));
    const tcp = await tcpdumpAround(b, 1, () => {
      const r = spawnSync(process.execPath, [MAIN, 'gen', '-i', a, '--proto', 'tcp', '--dst', 'fd00::99', '-c', '1', '-q'], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout + r.stderr, /74 bytes/);
    });
    assert.equal(tcp.length, 1);
    assert.match(tcp[0], /ethertype IPv6 \(0x86dd\), length 74: fd00::1\.10000 > fd00::99\.5001: Flags/);
  });
});

test('capture --timestamp hardware on a device without hardware stamps: one line naming --timestamp software', { skip: needRoot }, async () => {
  await withVeth(async ({ b }) => {
    const r = spawnSync(process.execPath, [MAIN, 'capture', '-i', b, '--timestamp', 'hardware', '-c', '1'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], new RegExp(`^netring: ${b} has no hardware RX timestamps: .*; use --timestamp software \\(or --timestamp auto\\)$`));
    assert.doesNotMatch(r.stderr, /timestamp 'software'/);
  });
});
