/**
 * Generator input faults that need no traffic: zero rates mean one thing in
 * every unit, and a replay file that is truncated midway is refused with its
 * name (before anything is sent).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRate } from '../../src/gen/rate.js';
import { craftPcap } from './pcap-craft.js';
import { udpFrame, seqPayload } from '../helpers/netns.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

test('rate zero means unlimited in every unit (0, 0pps, 0kpps, 0Mbps), like max', () => {
  for (const r of ['0', '0pps', '0kpps', '0Mbps', '0.0Gbps', 'max', 0]) assert.equal(parseRate(r), null, String(r));
  assert.deepEqual(parseRate('1pps'), { value: 1, unit: 'pps' });
  assert.throws(() => parseRate('-1pps'), /bad rate/);
});

test('gen --replay of a truncated file: the error names the file, exit 2 (bad input), nothing sent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netring-genfault-'));
  try {
    const f = join(dir, 'cut.pcap');
    const whole = craftPcap({ be: false, nano: false, records: Array.from({ length: 4 }, (_, i) => ({ sec: i, sub: 0, data: udpFrame({ payload: seqPayload(i, 30) }) })) });
    writeFileSync(f, whole.subarray(0, whole.length - 7));
    const r = spawnSync(process.execPath, [MAIN, 'gen', '-i', 'lo', '--replay', f], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^netring: gen: ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: truncated capture file`));
    assert.doesNotMatch(r.stdout, /packets sent/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
