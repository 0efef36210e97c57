/**
 * Generator faults on a real device: frames larger than the MTU are refused
 * up front with the reason (not "0 packets sent, failed 10"), and the
 * summary's packet rate is over the wall time of the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { needRoot, withVeth } from '../helpers/netns.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const netring = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });

test('gen --size 9000 on an MTU 1500 link: one-line error naming the MTU, exit 1; --size 1514 fits', { skip: needRoot }, async () => {
  await withVeth(async ({ a }) => {
    const r = netring(['gen', '-i', a, '--size', '9000', '-c', '10']);
    assert.equal(r.status, 1, r.stderr + r.stdout);
    assert.match(r.stderr, new RegExp(`^netring: (gen: )?frames of up to 9000 bytes do not fit ${a}'s MTU 1500 \\(at most 1514 bytes per frame\\)`));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    const ok = netring(['gen', '-i', a, '--size', '1514', '-c', '10', '--json']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).sent, 10);
  }, { mtu: 1500 });
});

test('gen summary rate is over the wall time of the run: 3 packets at 1 pps in a 3 s run is about 1 pps, not 1.5', { skip: needRoot }, async () => {
  await withVeth(async ({ a }) => {
    const r = netring(['gen', '-i', a, '--rate', '1pps', '--seconds', '3', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.ok(s.sent >= 3 && s.sent <= 4, `sent ${s.sent}`);
    assert.ok(s.elapsedNs >= 2.9e9, `elapsed ${s.elapsedNs}`);
    assert.ok(Math.abs(s.pps - s.sent / (s.elapsedNs / 1e9)) < 1e-6, `pps ${s.pps} is not sent / elapsed`);
    assert.ok(s.pps < 1.4, `pps ${s.pps}`);
  });
});
