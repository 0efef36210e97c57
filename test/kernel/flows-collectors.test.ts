/**
 * netring flows exporting to the real collectors (nfcapd/nfdump, nfacctd)
 * and side by side with the reference exporter softflowd, on loopback, for a
 * crafted pcap whose flows are known.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trafficMix, writePcap, type ExpectedDir } from '../helpers/flow-traffic.js';
import { freeUdpPort, runSoftflowd, startNfacctd, startNfcapd, type NfdumpFlow } from '../helpers/collectors.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
let dir = '';
let pcap = '';
let dirs: ExpectedDir[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'netring-flows-'));
  pcap = join(dir, 'mix.pcap');
  const mix = trafficMix();
  writePcap(pcap, mix.packets);
  dirs = mix.dirs;
});
after(() => rmSync(dir, { recursive: true, force: true }));

function flows(...args: string[]): string {
  return execFileSync(process.execPath, [MAIN, 'flows', '-r', pcap, '-q', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const dirKey = (pr: number, sa: string, sp: number, da: string, dp: number): string => `${pr} ${sa}:${sp} > ${da}:${dp}`;
const expectedUni = (): string[] => dirs.map((d) => `${dirKey(d.proto, d.src, d.sport, d.dst, d.dport)} ${d.packets} ${d.bytes}`).sort();
const nfdumpUni = (fl: NfdumpFlow[]): string[] => fl.map((f) => `${dirKey(f.pr, f.sa, f.sp, f.da, f.dp)} ${f.ipkt} ${f.ibyt}`).sort();

test('IPFIX biflows: nfcapd decodes every record (IPv4 and IPv6) with both directions, no sequence errors or bad packets', async () => {
  const port = await freeUdpPort();
  const c = await startNfcapd(port);
  flows('--ipfix', `127.0.0.1:${port}`);
  const { flows: got, log } = await c.stop();
  assert.match(log, /Sequence Errors: 0, Bad Packets: 0/);
  assert.doesNotMatch(log, /template.*(missing|unknown|error)/i);
  // each biflow = the initiator's direction (in) + the responder's (out)
  const biflows = got.map((f) => `${dirKey(f.pr, f.sa, f.sp, f.da, f.dp)} ${f.ipkt} ${f.ibyt} ${f.opkt} ${f.obyt}`).sort();
  const byKey = new Map(dirs.map((d) => [dirKey(d.proto, d.src, d.sport, d.dst, d.dport), d]));
  const want: string[] = [];
  const seen = new Set<string>();
  for (const d of dirs) {
    const k = dirKey(d.proto, d.src, d.sport, d.dst, d.dport);
    if (seen.has(k)) continue;
    const icmp = d.proto === 1;
    const rk = icmp ? '' : dirKey(d.proto, d.dst, d.dport, d.src, d.sport);
    const r = byKey.get(rk);
    seen.add(k);
    if (r) seen.add(rk);
    want.push(`${k} ${d.packets} ${d.bytes} ${r?.packets ?? 0} ${r?.bytes ?? 0}`);
  }
  assert.deepEqual(biflows, want.sort());
  assert.ok(got.some((f) => f.sa.includes(':')), 'IPv6 flows decoded');
});

test('unidirectional IPFIX and NetFlow v9: nfdump reads every direction with exact packets and bytes', async () => {
  for (const args of [['--unidirectional', '--ipfix'], ['--netflow9']]) {
    const port = await freeUdpPort();
    const c = await startNfcapd(port);
    flows(...args, `127.0.0.1:${port}`);
    const { flows: got, log } = await c.stop();
    assert.match(log, /Sequence Errors: 0, Bad Packets: 0/, args.join(' '));
    assert.deepEqual(nfdumpUni(got), expectedUni(), args.join(' '));
  }
});

test('softflowd and netring export the same flows from the same pcap (count, packets, bytes per flow, by nfdump)', async () => {
  const p1 = await freeUdpPort();
  const c1 = await startNfcapd(p1);
  await runSoftflowd(pcap, p1);
  const soft = await c1.stop();
  const p2 = await freeUdpPort();
  const c2 = await startNfcapd(p2);
  flows('--unidirectional', '--ipfix', `127.0.0.1:${p2}`);
  const ours = await c2.stop();
  assert.equal(ours.flows.length, soft.flows.length);
  assert.deepEqual(nfdumpUni(ours.flows), nfdumpUni(soft.flows));
  assert.equal(soft.flows.length, dirs.length);
});

test('nfacctd (pmacct) decodes every IPFIX and NetFlow v9 record, IPv6 included, without template errors', async () => {
  for (const args of [['--unidirectional', '--ipfix'], ['--netflow9']]) {
    const port = await freeUdpPort();
    const c = await startNfacctd(port);
    flows(...args, `127.0.0.1:${port}`);
    const { flows: got, log } = await c.stop();
    // nfacctd's print plugin logs one ERROR line when the daemon it belongs to stops ("Core process *seems*
    // gone"): that is the test ending it, not a decoding problem
    const problems = log.replace(/^ERROR \( [^)]*\): Core process \*seems\* gone\. Exiting\.$/gm, '');
    assert.doesNotMatch(problems, /^ERROR|template/im, args.join(' '));
    const proto: Record<string, number> = { tcp: 6, udp: 17, icmp: 1 };
    const uni = got.map((f) => `${dirKey(proto[f.ip_proto] ?? -1, f.ip_src, f.port_src, f.ip_dst, f.port_dst)} ${f.packets} ${f.bytes}`).sort();
    assert.deepEqual(uni, expectedUni(), args.join(' '));
    assert.ok(got.some((f) => f.ip_src.includes(':')), 'IPv6 records decoded');
  }
});

test('unreachable collector: the run completes and every encoded message is accounted as sent, failed or dropped, and the refusal is reported', () => {
  // a UDP port nobody listens on: the kernel answers with ICMP port unreachable
  const out = execFileSync(process.execPath, [MAIN, 'flows', '-r', pcap, '-q', '--ipfix', '127.0.0.1:9', '--mtu', '256', '--json'], { encoding: 'utf8' });
  const s = JSON.parse(out.trim().split('\n').pop()!);
  assert.equal(s.exporters[0].records, 9);
  const e = s.exporters[0];
  assert.ok(e.encoded >= 5, `${e.encoded} messages of at most 256 bytes`);
  assert.equal(e.messages + e.errors + e.dropped, e.encoded);
  // the port-unreachable answers surface on a later send or on the socket: either way they are reported
  assert.ok(e.errors + e.socketErrors >= 1, 'the refused collector is reported');
  assert.match(e.lastError, /ECONNREFUSED/);
  assert.equal(s.packets, 55);
});
