/**
 * `netring demo`: the whole pipeline on an embedded default that needs no
 * real NIC. It creates a private network namespace with a veth pair, re-runs
 * itself inside it, sends a mix of traffic through netring's TX ring (UDP/TCP/ICMP over IPv4 and IPv6,
 * VLAN-tagged frames, ARP) from one end, captures it zero-copy on the other
 * end, decodes every packet, writes a pcapng file, reads the file back, and
 * prints a report. Everything it created is removed at the end, also on
 * Ctrl-C or failure.
 */
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { openCapture } from '../ring/index.js';
import { openCaptureReader, openCaptureWriter } from '../pcap/index.js';
import { Layers, flowHashSymmetric, summary } from '../decode/index.js';
import { isRoot, run } from './demo-net.js';
import { buildPacket, type PacketSpec } from '../build/index.js';
import { openTxRing } from '../tx/index.js';
import { intArg } from './args.js';
import { fmtRate, fmtBits } from './status.js';
import { NetringError } from '../errors.js';

interface DemoOptions { packets: number; write?: string; inside?: string[] }

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run capture end to end on a private namespace + veth pair (needs root; removes everything it creates)')
    .option('-n, --packets <n>', 'packets to send', intArg('--packets', 1, 50_000_000), 100_000)
    .option('-w, --write <file>', 'where to keep the pcapng file (default: a temporary file, removed)')
    .option('--inside <ifaces...>', '(internal) run the demo body inside the namespace on these interfaces')
    .action(async (opts: DemoOptions) => {
      if (opts.inside) await demoBody(opts.inside[0], opts.inside[1], opts);
      else await demoOuter(opts);
    });
}

async function demoOuter(opts: DemoOptions): Promise<void> {
  if (!isRoot()) throw new NetringError('netring demo creates a network namespace and a veth pair: run it as root', 'EPERM');
  const ns = `netring-demo-${randomBytes(3).toString('hex')}`;
  const cleanup = (): void => { run('ip', ['netns', 'del', ns], { allowFail: true }); };
  const onSig = (): void => { /* the child gets the signal too; we clean up when it exits */ };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  try {
    run('ip', ['netns', 'add', ns]);
    run('ip', ['-n', ns, 'link', 'add', 'demo0', 'type', 'veth', 'peer', 'name', 'demo1']);
    for (const i of ['all', 'default']) run('sysctl', ['-qw', `net.ipv6.conf.${i}.disable_ipv6=1`], { ns, allowFail: true });
    for (const i of ['demo0', 'demo1']) {
      for (const f of ['rx', 'tx', 'sg', 'tso', 'gso', 'gro']) run('ethtool', ['-K', i, f, 'off'], { ns, allowFail: true });
      run('ip', ['-n', ns, 'link', 'set', i, 'up']);
    }
    process.stderr.write(`netring demo: namespace ${ns}, veth demo0 -> demo1\n`);
    const main = fileURLToPath(new URL('./main.js', import.meta.url));
    const args = ['netns', 'exec', ns, process.execPath, main, 'demo', '--packets', String(opts.packets), '--inside', 'demo0', 'demo1'];
    if (opts.write) args.push('--write', opts.write);
    const code = await new Promise<number>((resolve) => {
      const child = spawn('ip', args, { stdio: 'inherit' });
      child.on('exit', (c, sig) => resolve(c ?? (sig ? 130 : 1)));
    });
    if (code !== 0) throw new NetringError(`demo failed inside the namespace (exit ${code})`, 'EDEMO');
  } finally {
    cleanup();
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
    const left = run('ip', ['netns', 'list'], { allowFail: true });
    process.stderr.write(left.includes(ns) ? `netring demo: could not remove namespace ${ns}\n` : `netring demo: removed namespace ${ns}\n`);
  }
}

/** A fixed traffic mix: 256 UDP flows, TCP SYNs, ICMP echo, IPv6/UDP, VLAN 100, ARP (built by src/tx's builder). */
function trafficMix(): Uint8Array[] {
  const macs = { srcMac: '02:00:00:00:0a:01', dstMac: '02:00:00:00:ff:02' };
  const pkt = (spec: PacketSpec): Uint8Array => buildPacket({ ...macs, ...spec }).bytes;
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 256; i++) {
    frames.push(pkt({ src: `10.0.${i >> 6}.${1 + (i & 63)}`, dst: '10.0.9.1', sport: 20000 + i, dport: 53, payload: new Uint8Array(18 + (i % 4) * 100) }));
  }
  for (let i = 0; i < 32; i++) frames.push(pkt({ proto: 'tcp', src: `10.1.0.${1 + i}`, dst: '10.1.9.1', sport: 40000 + i, dport: 443, payload: new Uint8Array(0) }));
  for (let i = 0; i < 16; i++) frames.push(pkt({ proto: 'icmp', src: `10.2.0.${1 + i}`, dst: '10.2.9.1', payload: new Uint8Array(32) }));
  for (let i = 0; i < 16; i++) frames.push(pkt({ src: `fd00::${1 + i}`, dst: 'fd00::ff', sport: 5000 + i, dport: 6000, payload: new Uint8Array(16) }));
  for (let i = 0; i < 16; i++) frames.push(pkt({ vlan: 100, src: `10.3.0.${1 + i}`, dst: '10.3.9.1', dport: 4000 + i }));
  frames.push(arpRequest());
  return frames;
}

/** An ARP who-has (the builder makes IP packets only). */
function arpRequest(): Uint8Array {
  const f = new Uint8Array(60);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0x0a, 0x01, 0x08, 0x06], 0);
  f.set([0, 1, 0x08, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0x0a, 0x01, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2], 14);
  return f;
}

async function demoBody(txIf: string, rxIf: string, opts: DemoOptions): Promise<void> {
  const total = opts.packets;
  const file = opts.write ?? join(tmpdir(), `netring-demo-${process.pid}.pcapng`);
  const cap = openCapture({ iface: rxIf, blockSize: 1 << 20, blockCount: 32, blockTimeoutMs: 5 });
  const writer = openCaptureWriter(file, { name: rxIf });
  writer.setStatisticsSource(() => { const s = cap.stats(); return { received: s.kernelPackets, dropped: s.drops }; });
  const layers = new Layers();
  const protos = new Map<string, number>();
  const flows = new Set<number>();
  let vlanTagged = 0;
  let samples: string[] = [];
  let rxBytes = 0;
  let received = 0;
  const count = (k: string): void => { protos.set(k, (protos.get(k) ?? 0) + 1); };

  cap.start((batch) => {
    for (let p = batch.next(); p !== null; p = batch.next()) {
      received++;
      rxBytes += p.wireLen;
      writer.writePacket(p);
      layers.decodePacket(p);
      if (p.vlanValid) vlanTagged++;
      const l4 = layers.ipProto === 17 ? 'UDP' : layers.ipProto === 6 ? 'TCP' : layers.ipProto === 1 ? 'ICMP' : '';
      count(layers.etherType === 0x0806 ? 'ARP' : layers.ipVersion === 6 ? `IPv6/${l4 || layers.ipProto}` : layers.ipVersion === 4 ? `IPv4/${l4 || layers.ipProto}` : `other`);
      if (layers.ipVersion !== 0) flows.add(flowHashSymmetric(layers));
      if (samples.length < 5 && received % 67 === 1) samples.push(summary(layers, p.data));
    }
  });

  const mix = trafficMix();
  // the TX ring: frames written in place, one kick per burst, qdisc bypassed
  const tx = openTxRing({ iface: txIf });
  const t0 = performance.now();
  let queued = 0;
  while (queued < total) {
    const n = Math.min(512, total - queued);
    for (let i = 0; i < n; i++) {
      while (!tx.write(mix[(queued + i) % mix.length])) { tx.flush(); tx.reap(); }
    }
    queued += n;
    tx.flush();
    tx.reap();
    await new Promise((r) => setImmediate(r)); // let the capture callback run
  }
  tx.drain(2000);
  const sent = tx.stats().sent;
  const sendSecs = (performance.now() - t0) / 1000;
  // wait for the last partly filled block to retire (5 ms timeout)
  for (let i = 0; i < 100 && received < sent; i++) await new Promise((r) => setTimeout(r, 10));
  cap.stop();
  const st = cap.stats();
  const secs = (performance.now() - t0) / 1000;
  cap.close();
  tx.close();
  writer.close();

  // read the file back with our reader
  const reader = openCaptureReader(file);
  let inFile = 0;
  let fileBytesOk = true;
  for (const rec of reader) {
    if (rec.caplen < 14) fileBytesOk = false;
    inFile++;
  }
  reader.close();
  let capinfos = '';
  try {
    capinfos = execFileSync('capinfos', ['-c', '-M', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n').find((l) => /Number of packets/.test(l))?.trim() ?? '';
  } catch { capinfos = '(capinfos not installed)'; }

  const out: string[] = [];
  out.push('', 'netring demo report', '-------------------');
  out.push(`sent              ${sent} frames from ${txIf} (TX ring) in ${sendSecs.toFixed(2)} s (${fmtRate(sent / sendSecs)})`);
  out.push(`captured          ${received} packets on ${rxIf} (${fmtRate(received / secs)}, ${fmtBits(rxBytes / secs)})`);
  out.push(`dropped by kernel ${st.drops}   queue freezes ${st.freezes}   batches ${st.batches}`);
  out.push(`accounted for     ${received + st.drops === sent ? 'yes' : 'NO'}: received + dropped = ${received + st.drops} of ${sent} sent`);
  out.push(`VLAN (metadata)   ${vlanTagged} packets had their tag in ring metadata`);
  out.push(`flows             ${flows.size} distinct (symmetric 5-tuple hash)`);
  out.push('protocols');
  for (const [k, v] of [...protos].sort((a, b) => b[1] - a[1])) out.push(`  ${k.padEnd(14)} ${String(v).padStart(9)}  ${(100 * v / Math.max(1, received)).toFixed(1)}%`);
  out.push('samples');
  for (const s of samples) out.push(`  ${s}`);
  out.push(`file              ${file}: ${inFile} packets read back by netring${fileBytesOk ? '' : ' (BAD RECORDS)'}`);
  out.push(`capinfos          ${capinfos}`);
  if (!opts.write) out.push('                  (temporary file removed; keep one with -w FILE)');
  process.stdout.write(out.join('\n') + '\n');
  samples = [];
  if (!opts.write) execFileSync('rm', ['-f', file]);
  if (received + st.drops !== sent || inFile !== received) process.exitCode = 1;
}
