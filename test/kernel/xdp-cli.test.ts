/**
 * `netring xdp`, `forward`, `bridge` on real veths: frames sent on one veth
 * end arrive (tcpdump on the far end) exactly as sent, on the right
 * interfaces only, and the counters read from the maps equal the frames
 * sent; tee (tc) delivers a copy and lets the original go on; the program is
 * gone after SIGTERM and after SIGKILL (BPF link released); a second XDP
 * attach is refused with one line; an XDP filter passes exactly the frames
 * of a replayed pcap that tcpdump -r accepts.
 *
 * All veth ends stay in the root namespace with IPv6 off and no addresses,
 * so only the test's frames cross them. A veth only takes XDP-redirected
 * frames when its peer runs XDP, so the receiving ends get a pass program.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { needRoot, withVeth, RawSender, udpFrame, seqPayload, sleep, ifCounters, run } from '../helpers/netns.js';
import { MAIN, cli, tmpDir, writePcap } from '../helpers/cli.js';
import { generateProgram } from '../../src/lang/ebpf/program.js';
import { loadHookProgram, type LoadedHookProgram } from '../../src/lang/ebpf/attach.js';

async function waitFor(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

interface Child { p: ChildProcess; out: string; err: string; exit: Promise<number | null> }

function start(args: string[]): Child {
  const p = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const c: Child = { p, out: '', err: '', exit: new Promise((r) => p.once('exit', (code) => r(code))) };
  p.stdout!.on('data', (d) => { c.out += d; });
  p.stderr!.on('data', (d) => { c.err += d; });
  return c;
}

async function attached(c: Child, n = 1): Promise<void> {
  await waitFor('the program to attach', () => (c.err.match(/attached to/g) ?? []).length >= n || c.p.exitCode !== null);
  assert.equal(c.p.exitCode, null, `netring exited early: ${c.err}`);
}

/** XDP programs on an interface, as ip link reports them. */
function xdpOn(iface: string): boolean {
  return /prog\/xdp/.test(run('ip', ['-d', 'link', 'show', 'dev', iface]));
}

/** Start tcpdump writing every frame arriving on `iface` to a file; resolves once it listens. */
async function tcpdump(iface: string, file: string): Promise<{ stop: () => Promise<void> }> {
  const p = spawn('tcpdump', ['-i', iface, '-Q', 'in', '-U', '-n', '-w', file, '--immediate-mode'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d) => { err += d; });
  await waitFor(`tcpdump on ${iface}`, () => /listening on/.test(err) || p.exitCode !== null);
  return {
    stop: async () => {
      const done = new Promise((r) => p.once('exit', r));
      p.kill('SIGINT');
      await done;
    },
  };
}

/** Frames of a pcap file as written by tcpdump (raw bytes, in order). */
function framesOf(file: string): Buffer[] {
  const b = readFileSync(file);
  const le = b.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const out: Buffer[] = [];
  for (let o = 24; o + 16 <= b.length;) {
    const cap = u32(o + 8);
    out.push(b.subarray(o + 16, o + 16 + cap));
    o += 16 + cap;
  }
  return out;
}

function passOn(iface: string): LoadedHookProgram {
  const p = loadHookProgram(generateProgram('pass', { hook: 'xdp' }));
  p.attach(iface);
  return p;
}

const frame = (seq: number, dport: number): Uint8Array => udpFrame({ dport, payload: seqPayload(seq, 40) });

function lastJson(c: Child, iface: string): Record<string, { packets: number; bytes: number }> {
  const lines = c.out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { interface: string; counters: Record<string, { packets: number; bytes: number }> });
  const mine = lines.filter((l) => l.interface === iface);
  assert.ok(mine.length > 0, `no JSON counters for ${iface}: ${c.out}`);
  return mine[mine.length - 1].counters;
}

test('forward -i B1 -o B2 -f EXPR: exactly the matching frames arrive on the far end of B2, bytes unchanged; the rest stay on B1; the map counts them', { skip: needRoot }, async () => {
  await withVeth(async (v1) => withVeth(async (v2) => {
    const dir = tmpDir();
    const peer = passOn(v2.a);
    const c = start(['forward', '-i', v1.b, '-o', v2.b, '-f', 'udp dst port 5001', '--json']);
    try {
      await attached(c);
      const cap = await tcpdump(v2.a, join(dir, 'out.pcap'));
      const sent = Array.from({ length: 50 }, (_, i) => frame(i, i % 5 < 3 ? 5001 : 6000));
      const want = sent.filter((_, i) => i % 5 < 3);
      const rx1 = ifCounters(v1.a).rxPackets;
      const s = new RawSender(v1.a);
      s.send(sent);
      s.close();
      await waitFor('30 frames on the far end', () => ifCounters(v2.a).rxPackets >= want.length);
      await sleep(300);
      await cap.stop();
      const got = framesOf(join(dir, 'out.pcap'));
      assert.deepEqual(got.map((b) => b.toString('hex')), want.map((b) => Buffer.from(b).toString('hex')));
      assert.equal(ifCounters(v1.a).rxPackets, rx1, 'nothing came back to the sender');
      c.p.kill('SIGTERM');
      assert.equal(await c.exit, 0, c.err);
      const k = lastJson(c, v1.b)[`${v1.b} > ${v2.b}`];
      assert.deepEqual(k, { packets: 30, bytes: want.reduce((n, f) => n + f.length, 0) });
      assert.ok(!xdpOn(v1.b), 'detached on SIGTERM');
    } finally {
      c.p.kill('SIGKILL');
      peer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }));
});

test('bridge A B: frames cross both ways, exact counts and bytes on each far end, per-direction counters', { skip: needRoot }, async () => {
  await withVeth(async (v1) => withVeth(async (v2) => {
    const dir = tmpDir();
    const peers = [passOn(v1.a), passOn(v2.a)];
    const c = start(['bridge', v1.b, v2.b, '--json']);
    try {
      await attached(c, 2);
      const cap1 = await tcpdump(v1.a, join(dir, '1.pcap'));
      const cap2 = await tcpdump(v2.a, join(dir, '2.pcap'));
      const ab = Array.from({ length: 20 }, (_, i) => frame(i, 5001));
      const ba = Array.from({ length: 15 }, (_, i) => udpFrame({ src: '10.99.1.1', dst: '10.99.0.1', payload: seqPayload(100 + i, 60) }));
      const s1 = new RawSender(v1.a), s2 = new RawSender(v2.a);
      s1.send(ab);
      s2.send(ba);
      s1.close();
      s2.close();
      await waitFor('both directions', () => ifCounters(v2.a).rxPackets >= 20 && ifCounters(v1.a).rxPackets >= 15);
      await sleep(300);
      await cap1.stop();
      await cap2.stop();
      assert.deepEqual(framesOf(join(dir, '2.pcap')).map((b) => b.toString('hex')), ab.map((b) => Buffer.from(b).toString('hex')));
      assert.deepEqual(framesOf(join(dir, '1.pcap')).map((b) => b.toString('hex')), ba.map((b) => Buffer.from(b).toString('hex')));
      c.p.kill('SIGINT');
      assert.equal(await c.exit, 0, c.err);
      assert.deepEqual(lastJson(c, v1.b)[`${v1.b} > ${v2.b}`], { packets: 20, bytes: ab.reduce((n, f) => n + f.length, 0) });
      assert.deepEqual(lastJson(c, v2.b)[`${v2.b} > ${v1.b}`], { packets: 15, bytes: ba.reduce((n, f) => n + f.length, 0) });
      assert.ok(!xdpOn(v1.b) && !xdpOn(v2.b), 'both detached');
    } finally {
      c.p.kill('SIGKILL');
      for (const p of peers) p.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }));
});

test('tee (tc): a copy of every frame leaves through the other interface unchanged and the original goes on through the program', { skip: needRoot }, async () => {
  await withVeth(async (v1) => withVeth(async (v2) => {
    const dir = tmpDir();
    const c = start(['xdp', '-i', v1.b, '--hook', 'tc', '--program', `tee ${v2.b} >-> count after`, '--json']);
    try {
      await attached(c);
      const cap = await tcpdump(v2.a, join(dir, 'tee.pcap'));
      const sent = Array.from({ length: 25 }, (_, i) => frame(i, 7000));
      const s = new RawSender(v1.a);
      s.send(sent);
      s.close();
      await waitFor('25 copies', () => ifCounters(v2.a).rxPackets >= 25);
      await sleep(300);
      await cap.stop();
      assert.deepEqual(framesOf(join(dir, 'tee.pcap')).map((b) => b.toString('hex')), sent.map((b) => Buffer.from(b).toString('hex')));
      c.p.kill('SIGTERM');
      assert.equal(await c.exit, 0, c.err);
      const k = lastJson(c, v1.b);
      assert.equal(k.after.packets, 25);
      assert.equal(k[`tee ${v2.b}:failed`].packets, 0);
    } finally {
      c.p.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }));
});

test('detach: SIGKILL leaves no program behind (BPF link released); a second XDP attach is refused with one line and the first stays', { skip: needRoot }, async () => {
  await withVeth(async (v) => {
    const c = start(['xdp', '-i', v.b, '--program', 'count c']);
    try {
      await attached(c);
      assert.ok(xdpOn(v.b), 'attached');
      const second = cli(['xdp', '-i', v.b, '--program', 'drop', '--duration', '1']);
      assert.equal(second.code, 1, `${second.stderr}\nfirst: ${c.err} exit ${c.p.exitCode}`);
      assert.equal(second.stderr.trim().split('\n').length, 1, second.stderr);
      assert.match(second.stderr, new RegExp(`${v.b} already has an XDP program attached`));
      assert.ok(xdpOn(v.b), 'the first program is still attached');
      c.p.kill('SIGKILL');
      await c.exit;
      await waitFor('the link to be released', () => !xdpOn(v.b));
      const bpftool = spawnSync('bpftool', ['net', 'show', 'dev', v.b], { encoding: 'utf8' });
      if (bpftool.status === 0) assert.doesNotMatch(bpftool.stdout, /netring_xdp/);
    } finally {
      c.p.kill('SIGKILL');
    }
  });
});

test('bad input: unknown interface, -f with --program, native mode where the driver has none, --mode with tc, no capabilities: one line each, nothing attached', { skip: needRoot }, async () => {
  const r1 = cli(['xdp', '-i', 'nosuchif0', '--program', 'pass', '--duration', '0']);
  assert.equal(r1.code, 1);
  assert.equal(r1.stderr.trim(), "netring: no interface named 'nosuchif0'");
  const r2 = cli(['xdp', '-i', 'lo', '-f', 'udp', '--program', 'pass']);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /exactly one of -f EXPR and --program TEXT/);
  const r4 = cli(['xdp', '-i', 'lo', '--hook', 'tc', '--mode', 'native', '--program', 'pass']);
  assert.equal(r4.code, 2);
  assert.equal(r4.stderr.trim(), 'netring: --mode chooses the XDP hook; a tc program (--hook tc) has none');
  // lo has no driver XDP hook
  const r3 = cli(['xdp', '-i', 'lo', '--mode', 'native', '--program', 'pass', '--duration', '0']);
  assert.equal(r3.code, 1, r3.stderr);
  assert.equal(r3.stderr.trim().split('\n').length, 1, r3.stderr);
  assert.match(r3.stderr, /lo does not support XDP in native \(driver\) mode; try --mode generic/);
  assert.ok(!xdpOn('lo'));
  // without CAP_BPF/CAP_NET_ADMIN (an unprivileged user, no capabilities)
  const setpriv = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, MAIN, 'xdp', '-i', 'lo', '--program', 'pass', '--duration', '0'], { encoding: 'utf8', timeout: 60_000 });
  if (setpriv.error === undefined) {
    assert.equal(setpriv.status, 1, setpriv.stderr);
    assert.equal(setpriv.stderr.trim(), 'netring: XDP program: permission denied: loading eBPF programs and attaching them needs CAP_BPF and CAP_NET_ADMIN (run as root)');
  }
});

test('xdp -f EXPR end to end: frames of a crafted pcap replayed by netring gen pass exactly as tcpdump -r judges the same file', { skip: needRoot }, async () => {
  await withVeth(async (v) => {
    const dir = tmpDir();
    const expr = 'udp and (dst port 53 or src host 10.99.0.7) and not vlan';
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 60; i++) {
      frames.push(udpFrame({ dport: i % 3 === 0 ? 53 : 5001 + i, src: i % 4 === 0 ? '10.99.0.7' : '10.99.0.1', payload: seqPayload(i, 30), vlanTci: i % 10 === 9 ? 4 : undefined }));
    }
    const file = writePcap(join(dir, 'in.pcap'), frames);
    const tcpdumpCount = spawnSync('tcpdump', ['-r', file, '-n', expr], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).length;
    assert.ok(tcpdumpCount > 10 && tcpdumpCount < 60, `${tcpdumpCount}`);
    const c = start(['xdp', '-i', v.b, '-f', expr, '--json']);
    try {
      await attached(c);
      const g = cli(['gen', '-i', v.a, '--replay', file, '--speed', 'max'], { timeout: 120_000 });
      assert.equal(g.code, 0, g.stderr);
      // the JSON line of each second: wait until the program has judged all 60 frames
      await waitFor('60 frames judged', () => {
        const l = c.out.trim().split('\n').filter(Boolean).pop();
        if (!l) return false;
        const k = (JSON.parse(l) as { counters: Record<string, { packets: number }> }).counters;
        return k.passed.packets + k.dropped.packets >= 60;
      });
      c.p.kill('SIGTERM');
      assert.equal(await c.exit, 0, c.err);
      const k = lastJson(c, v.b);
      assert.deepEqual([k.passed.packets, k.dropped.packets], [tcpdumpCount, 60 - tcpdumpCount]);
    } finally {
      c.p.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
