/**
 * `netring top` in a real terminal (tmux, 80x24) on a veth with known traffic:
 * the top flow shown is the heavy one sent, keys re-sort, q quits cleanly;
 * the same with --workers 2 (each worker meters its own flows, the view
 * merges them: all 9 flows sent are counted once, the heavy one on top).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { buildFrame } from '../../src/build/index.js';
import { needRoot, RawSender, sleep, withVeth } from '../helpers/netns.js';
import { MAIN } from '../helpers/cli.js';

const tmux = (...args: string[]): string => execFileSync('tmux', args, { encoding: 'utf8' });
const alive = (s: string): boolean => spawnSync('tmux', ['has-session', '-t', s]).status === 0;

async function screenWith(session: string, re: RegExp, ms = 10000): Promise<string> {
  let screen = '';
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(200)) {
    screen = tmux('capture-pane', '-p', '-t', session);
    if (re.test(screen)) return screen;
  }
  assert.fail(`screen never matched ${re}:\n${screen}`);
}

for (const workers of [0, 2]) test(`top${workers ? ` --workers ${workers}` : ''} in tmux 80x24: the heaviest flow sent is the top row; p re-sorts; q quits`, { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const session = `nrtop${randomBytes(3).toString('hex')}`;
    const extra = workers ? ` --workers ${workers}` : '';
    tmux('new-session', '-d', '-s', session, '-x', '80', '-y', '24', `${process.execPath} ${MAIN} top -i ${b}${extra}; sleep 0.2`);
    try {
      await screenWith(session, workers ? new RegExp(`^${workers} workers, sorted by bytes`, 'm') : /netring top/);
      const tx = new RawSender(a);
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 300; i++) {
        frames.push(buildFrame({ src: '10.70.0.1', dst: '10.70.0.2', sport: 5555, dport: 6666, size: 1000 }));
        if (i < 100) for (let f = 0; f < 8; f++) frames.push(buildFrame({ src: '10.71.0.1', dst: '10.71.0.2', sport: 7000 + f, dport: 53, size: 100 }));
      }
      tx.send(frames);
      tx.close();
      // with workers the rows and counters arrive once a second from each: wait for all of them
      const screen = await screenWith(session, /10\.70\.0\.1:5555[^\n]* 300p[\s\S]*flows 9 evicted 0|flows 9 evicted 0[\s\S]*10\.70\.0\.1:5555[^\n]* 300p/, 20000);
      const lines = screen.split('\n');
      assert.ok(lines.every((l) => l.length <= 80), 'fits 80 columns');
      const header = lines.findIndex((l) => l.startsWith('FLOW'));
      assert.ok(header >= 0, screen);
      assert.match(lines[header + 1], /^udp 10\.70\.0\.1:5555 > 10\.70\.0\.2:6666 .* 300p$/, screen);
      assert.match(screen, /flows 9 evicted 0/);
      assert.match(screen, /^PROTO udp 3[0-9.]+kB/m, 'protocols merged over the workers: 300 x 986 + 800 x 86 bytes of UDP');
      // by packets each light flow (100 packets) is still below the heavy one (300 packets)
      tmux('send-keys', '-t', session, 'p');
      const byPkts = await screenWith(session, /sorted by packets/);
      const l2 = byPkts.split('\n');
      assert.match(l2[l2.findIndex((l) => l.startsWith('FLOW')) + 1], /10\.70\.0\.1:5555/);
      tmux('send-keys', '-t', session, 'q');
      for (let i = 0; i < 30 && alive(session); i++) await sleep(100);
      assert.equal(alive(session), false, 'q ends netring top (and the tmux session with it)');
    } finally {
      if (alive(session)) tmux('kill-session', '-t', session);
    }
  });
});
