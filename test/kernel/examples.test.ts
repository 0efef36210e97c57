/**
 * The README's first library example (examples/capture-udp.ts, built to
 * dist/examples) run as written on a veth: it captures, counts, stops on its
 * own timer and prints what it saw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { needRoot, RawSender, sleep, udpFrame, withVeth } from '../helpers/netns.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/capture-udp.js', import.meta.url));

test('examples/capture-udp.ts on a veth: counts the UDP frames, keeps copies of the first ten, stops by itself', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const child = spawn(process.execPath, [EXAMPLE, b, '6'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // ready once a packet socket is bound to b (/proc/net/packet: the Iface column is the ifindex)
    const ifindex = readFileSync(`/sys/class/net/${b}/ifindex`, 'utf8').trim();
    const bound = (): boolean => readFileSync('/proc/net/packet', 'utf8').split('\n').slice(1).some((l) => l.trim().split(/\s+/)[4] === ifindex);
    for (let i = 0; i < 1500 && !bound(); i++) await sleep(20);
    assert.ok(bound(), 'the example opened its capture');
    const tx = new RawSender(a);
    const udp = Array.from({ length: 12 }, (_, i) => udpFrame({ sport: 3000 + i, dport: 5001 }));
    const notUdp = udp.slice(0, 3).map((f) => { const g = Uint8Array.from(f); g[23] = 6; return g; }); // protocol TCP
    tx.send([...udp, ...notUdp]);
    tx.close();
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    assert.equal(await exit, 0, err);
    clearTimeout(killer);
    assert.equal(out, '12 UDP packets; 10 kept\n');
  });
});
