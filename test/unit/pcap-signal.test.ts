import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCaptureReader } from '../../src/pcap/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netring-pcap-sig-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const mod = new URL('../../src/pcap/index.js', import.meta.url).href;

/**
 * Runs a child that writes `n` packets into its (large, unflushed) buffer,
 * then reports "ready" and idles; `signal` (if any) is sent after "ready".
 */
function child(file: string, n: number, how: 'idle' | 'exit' | 'noreraise', signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const script = `
    const { openCaptureWriter, installSignalFlush } = await import(${JSON.stringify(mod)});
    const w = openCaptureWriter(${JSON.stringify(file)}, { name: 'sig0' });
    let drops = 0;
    w.setStatisticsSource(() => ({ received: ${n} + drops, dropped: drops }));
    installSignalFlush(w, ${how === 'noreraise' ? '{ reraise: false }' : '{}'});
    ${how === 'noreraise' ? "process.on('SIGTERM', () => setImmediate(() => process.exit(3)));" : ''}
    const d = new Uint8Array(200).fill(7);
    for (let i = 0; i < ${n}; i++) w.write(d, 0, 60 + (i % 100), 60 + (i % 100), 1000 + i, i);
    drops = 9;
    process.stdout.write('ready\\n');
    ${how === 'exit' ? '' : 'setInterval(() => {}, 1000);'}`;
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    c.on('error', reject);
    c.stdout.on('data', (b: Buffer) => { if (signal && b.toString().includes('ready')) c.kill(signal); });
    c.on('exit', (code, sig) => resolve({ code, signal: sig }));
  });
}

function check(file: string, n: number, withStats: boolean): void {
  const r = openCaptureReader(file);
  let count = 0;
  for (const rec of r) { assert.equal(rec.caplen, 60 + (count % 100)); count++; }
  assert.equal(count, n);
  if (withStats) {
    assert.equal(r.statistics[0]?.dropped, 9);
    assert.equal(r.statistics[0]?.received, n + 9);
  }
}

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  test(`${sig}: buffered packets and the final ISB reach the file, then the process dies of the signal`, async () => {
    const f = path.join(dir, `${sig}.pcapng`);
    const res = await child(f, 2000, 'idle', sig);
    assert.equal(res.signal, sig);
    check(f, 2000, true);
  });
}

test('normal exit without close(): the exit hook closes the file', async () => {
  const f = path.join(dir, 'exit.pcap');
  const res = await child(f, 1500, 'exit');
  assert.equal(res.code, 0);
  check(f, 1500, false);
});

test('reraise: false leaves the exit to the application', async () => {
  const f = path.join(dir, 'noreraise.pcapng');
  const res = await child(f, 700, 'noreraise', 'SIGTERM');
  assert.equal(res.code, 3);
  check(f, 700, true);
});
