/**
 * Steering at XDP on a real veth: a generated XDP program hashes each frame
 * (steer_flow, steer_link) and redirects it into a CPUMAP entry; the kernel
 * builds the skb on that CPU, and a fan-out group in cpu mode hands it to
 * member cpu % 2. The frames are sent from a namespace by a sender pinned to
 * CPU 0 (without the program, veth delivers every frame on the sending CPU,
 * so everything would reach member 0). Checked: every frame arrives exactly
 * once, on the member the reference hash (steerCpu) names, both directions
 * of every flow on one member, both members used. The same through the
 * command line: `netring xdp --program` and `netring capture --workers 2
 * --fanout cpu -w FILE.%w.pcap`, each worker's file read back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { availableParallelism } from 'node:os';
import { openCapture, type Capture } from '../../src/index.js';
import { generateProgram } from '../../src/lang/ebpf/program.js';
import { loadHookProgram } from '../../src/lang/ebpf/attach.js';
import { steerCpu } from '../../src/lang/ebpf/steer.js';
import type { SteerSpec } from '../../src/lang/steer/spec.js';
import { needRoot, run, sleep, withVeth } from '../helpers/netns.js';
import { MAIN, tmpDir } from '../helpers/cli.js';
import { openCaptureReader } from '../../src/pcap/index.js';
import { gatherSeqs } from '../helpers/seqs.js';
import { frame, randomFlow, reverse, rng, type FrameSpec } from '../unit/fanout-frames.js';

const skip = needRoot || (availableParallelism() < 2 ? 'needs 2 CPUs' : false);

interface Traffic { flows: FrameSpec[]; frames: Array<{ f: Uint8Array; flow: number }>; file: string; dir: string }

/** 48 flows (IPv4/IPv6, TCP/UDP), one VLAN-tagged, 4 non-IP (ARP) conversations; 3 frames each way, sequence number in the last 4 bytes; written for lang-sender.ts. */
function traffic(seed: number): Traffic {
  const r = rng(seed);
  const flows: FrameSpec[] = Array.from({ length: 48 }, () => randomFlow(r));
  flows.push({ ...randomFlow(r, false), tags: [[0x8100, 42]] });
  for (let i = 0; i < 4; i++) flows.push({ srcMac: [2, 1, 1, 1, 1, i], dstMac: [2, 2, 2, 2, 2, i] });
  const frames: Array<{ f: Uint8Array; flow: number }> = [];
  for (let k = 0; k < 3; k++) {
    flows.forEach((s, flow) => {
      for (const d of [s, reverse(s)]) {
        const t = new Uint8Array(4);
        new DataView(t.buffer).setUint32(0, frames.length);
        frames.push({ f: frame({ ...d, tail: t }), flow });
      }
    });
  }
  const dir = tmpDir();
  const file = join(dir, 'frames.bin');
  writeFileSync(file, Buffer.concat(frames.flatMap(({ f }) => {
    const h = Buffer.alloc(4);
    h.writeUInt32LE(f.length);
    return [h, Buffer.from(f)];
  })));
  return { flows, frames, file, dir };
}

/** Send the frames of `file` once on `iface` inside `ns`, from a process pinned to CPU 0; the sender's replies. */
async function sendFrom(ns: string, iface: string, file: string): Promise<string[]> {
  const script = fileURLToPath(new URL('./lang-sender.js', import.meta.url));
  const child = spawn('ip', ['netns', 'exec', ns, 'taskset', '-c', '0', process.execPath, script], {
    env: { ...process.env, NETRING_LANG_SENDER: '1', NETRING_LANG_FRAMES: file, NETRING_LANG_IFACE: iface },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const replies: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => replies.push(l));
  const exited = new Promise((res) => child.once('exit', res));
  child.stdin!.write('go\n');
  for (let i = 0; i < 6000 && replies.length === 0; i++) await sleep(5);
  child.stdin!.end();
  await exited;
  return replies;
}

for (const [name, spec] of [['steer_flow', { kind: 'flow' }], ['steer_link', { kind: 'mac' }]] as Array<[string, SteerSpec]>) {
  test(`XDP ${name}: each frame reaches the fan-out member (cpu mode) of the CPU its hash names, both directions of a flow on one member`, { skip }, async () => {
    const { flows, frames, file, dir } = traffic(name === 'steer_flow' ? 7 : 8);
    const want = frames.map(({ f }) => steerCpu(f, spec, 2));
    try {
      await withVeth(async ({ a, b, ns }) => {
        const prog = loadHookProgram(generateProgram(name, { hook: 'xdp', cpus: 2 }));
        const caps: Capture[] = [];
        try {
          prog.attach(b);
          assert.match(run('ip', ['-d', 'link', 'show', 'dev', b]), /prog\/xdp/);
          const opts = { iface: b, blockSize: 1 << 16, blockCount: 16, blockTimeoutMs: 2, direction: 'in' } as const;
          caps.push(openCapture({ ...opts, fanout: { id: 0, mode: 'cpu', uniqueId: true } }));
          caps.push(openCapture({ ...opts, fanout: { id: caps[0].fanoutId, mode: 'cpu' } }));
          const gathering = gatherSeqs(caps, frames.length);
          const replies = await sendFrom(ns!, a, file);
          const got = await gathering;
          assert.deepEqual(replies, [`sent ${frames.length}`]);
          for (const m of [0, 1]) {
            const expect = frames.map((_, i) => i).filter((i) => want[i] === m);
            assert.deepEqual([...got[m]].sort((x, y) => x - y), expect, `member ${m}: ${got[m].length} frames, ${expect.length} expected`);
            assert.ok(expect.length > 0, `the hash spreads the flows over both CPUs (member ${m} got none)`);
          }
          flows.forEach((_, flow) => {
            const members = new Set(frames.map((x, i) => (x.flow === flow ? (got[0].includes(i) ? 0 : 1) : -1)).filter((m) => m >= 0));
            assert.equal(members.size, 1, `flow ${flow}: both directions on one member`);
          });
        } finally {
          caps.forEach((c) => c.close());
          prog.close();
        }
        assert.doesNotMatch(run('ip', ['-d', 'link', 'show', 'dev', b]), /prog\/xdp/, 'detached');
      }, { ns: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('CLI: netring xdp --program \'when "not arp" steer_flow\' and netring capture --workers 2 --fanout cpu: each worker\'s file holds exactly the frames steered to its CPUs, and the ARP frames (not steered) are on the receiving CPU\'s worker', { skip }, async () => {
  const { frames, file, dir } = traffic(9);
  const cpus = availableParallelism();
  // ARP is not steered: it goes on to the stack on the CPU that received it, the sender's (CPU 0)
  const arp = (f: Uint8Array): boolean => f[12] === 0x08 && f[13] === 0x06;
  const want = frames.map(({ f }) => (arp(f) ? 0 : steerCpu(f, { kind: 'flow' }, cpus) % 2));
  assert.ok(frames.some(({ f }) => arp(f)));
  const kids: ChildProcess[] = [];
  try {
    await withVeth(async ({ a, b, ns }) => {
      const xdp = spawn(process.execPath, [MAIN, 'xdp', '-i', b, '--program', 'when "not arp" steer_flow'], { stdio: ['ignore', 'ignore', 'pipe'] });
      kids.push(xdp);
      let xerr = '';
      xdp.stderr!.on('data', (d) => { xerr += d; });
      for (let i = 0; i < 1500 && !/steering to CPUs/.test(xerr) && xdp.exitCode === null; i++) await sleep(20);
      assert.match(xerr, new RegExp(`steering to CPUs 0\\.\\.${cpus - 1}: capture -i ${b} --workers ${cpus} --fanout cpu`));
      const cap = spawn(process.execPath, [MAIN, 'capture', '-i', b, '--workers', '2', '--fanout', 'cpu', '-w', join(dir, 's.%w.pcap'), '-c', String(frames.length)], { stdio: ['ignore', 'ignore', 'pipe'] });
      kids.push(cap);
      let cerr = '';
      cap.stderr!.on('data', (d) => { cerr += d; });
      const capExit = new Promise<number | null>((r) => cap.once('exit', (c) => r(c)));
      for (let i = 0; i < 1500 && !/capturing on/.test(cerr) && cap.exitCode === null; i++) await sleep(20);
      assert.match(cerr, /capturing on/);
      assert.deepEqual(await sendFrom(ns!, a, file), [`sent ${frames.length}`]);
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([capExit, new Promise((r) => { timer = setTimeout(() => r('timeout'), 60_000); })]);
      clearTimeout(timer);
      assert.equal(code, 0, `capture ended on its own after ${frames.length} packets: ${cerr}`);
      xdp.kill('SIGTERM');
      await new Promise((r) => xdp.once('exit', r));
      assert.match(xerr, /detached from/);
      for (const m of [0, 1]) {
        const rd = openCaptureReader(join(dir, `s.${m}.pcap`));
        const seqs: number[] = [];
        for (const rec of rd) seqs.push(new DataView(rec.data.buffer, rec.data.byteOffset + rec.offset + rec.caplen - 4, 4).getUint32(0));
        rd.close();
        const expect = frames.map((_, i) => i).filter((i) => want[i] === m);
        assert.ok(expect.length > 0);
        assert.deepEqual(seqs.sort((x, y) => x - y), expect, `worker ${m}`);
      }
    }, { ns: true });
  } finally {
    for (const k of kids) if (k.exitCode === null) k.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
