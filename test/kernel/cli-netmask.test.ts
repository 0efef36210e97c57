/**
 * `ip broadcast` on a live interface uses the interface's netmask, as tcpdump
 * gets it from pcap_lookupnet(): with 10.77.0.1/24 on the interface,
 * 10.77.0.255 is a broadcast address (with netmask 0 only 255.255.255.255 is). capture and
 * flows both compile it that way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFrame } from '../../src/build/index.js';
import { needRoot, RawSender, run, withVeth } from '../helpers/netns.js';
import { startCli } from '../helpers/cli.js';

const DSTS = ['10.77.0.255', '10.77.0.127', '10.77.0.7', '255.255.255.255']; // 10.77.0.127: host part all ones only under a /25 mask
const BROADCAST = ['10.77.0.255', '255.255.255.255']; // with the /24 mask

async function live(args: string[], ready: RegExp, a: string): Promise<{ code: number | null; out: string; err: string }> {
  const c = await startCli(args, ready);
  assert.match(c.err(), ready);
  const tx = new RawSender(a);
  tx.send(DSTS.map((dst, i) => buildFrame({ src: '10.77.0.2', dst, sport: 4000 + i, dport: 5000, size: 80 })));
  tx.close();
  const code = await c.exit;
  return { code, out: c.out(), err: c.err() };
}

test('capture -i with "ip broadcast": the interface netmask decides (10.77.0.255 and 255.255.255.255 match; netmask 0 would match only the last)', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    run('ip', ['addr', 'add', '10.77.0.1/24', 'dev', b]);
    const r = await live(['capture', '-i', b, '-c', '2', '--seconds', '10', '-nn', 'ip', 'broadcast'], /listening on/, a);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.equal(lines.length, 2, r.out);
    BROADCAST.forEach((d, i) => assert.match(lines[i], new RegExp(` > ${d.replace(/\./g, '\\.')}\\.5000:`)));
  });
});

test('flows -i -f "ip broadcast": the interface netmask decides too', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    run('ip', ['addr', 'add', '10.77.0.1/24', 'dev', b]);
    const r = await live(['flows', '-i', b, '-f', 'ip broadcast', '--seconds', '3', '--json'], /metering flows/, a);
    assert.equal(r.code, 0, r.err);
    const recs = r.out.trim().split('\n').map((l) => JSON.parse(l) as { summary?: boolean; dst?: string }).filter((x) => !x.summary);
    assert.deepEqual(recs.map((x) => x.dst).sort(), [...BROADCAST].sort());
  });
});
