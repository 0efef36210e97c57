/**
 * `netring capture --workers N -w FILE` on the real kernel: the merged file
 * is written in timestamp order while the capture runs (it holds every sent
 * packet before the capture is stopped; SIGKILL leaves a file tshark reads,
 * Ctrl-C a complete one); -C/-G/-W/-z/--compress rotate the merged file, each file valid
 * alone; -Z drops root in every thread once all workers' files are open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCaptureReader } from '../../src/pcap/index.js';
import { needRoot, RawSender, seqPayload, sleep, udpFrame, withVeth } from '../helpers/netns.js';
import { MAIN, startCli, type RunningCli } from '../helpers/cli.js';


async function startCapture(iface: string, args: string[]): Promise<RunningCli> {
  const c = await startCli(['capture', '-i', iface, ...args], /capturing on/);
  assert.match(c.err(), /capturing on/, `the capture started: ${c.err()}`);
  return c;
}

/** Sequence numbers of the records in file order, and whether timestamps never decrease. */
function readSeqs(file: string): { seqs: number[]; ordered: boolean; isb: boolean } {
  const r = openCaptureReader(file);
  const seqs: number[] = [];
  let ordered = true;
  let ps = -1, pn = 0;
  for (const rec of r) {
    if (rec.sec < ps || (rec.sec === ps && rec.nsec < pn)) ordered = false;
    ps = rec.sec; pn = rec.nsec;
    seqs.push(new DataView(rec.data.buffer, rec.data.byteOffset + rec.offset + 42, 4).getUint32(0));
  }
  const isb = r.statistics !== undefined && r.statistics.length > 0 && r.statistics[0] !== undefined;
  r.close();
  return { seqs, ordered, isb };
}

/** Records in a file being written (-1 while a read races a write). */
function countNow(file: string): number {
  try { return readSeqs(file).seqs.length; } catch { return -1; }
}

function tsharkCount(file: string): number {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).trim();
  return out === '' ? 0 : out.split('\n').length;
}

/** Sends n frames numbered from `from`, spread over 64 source ports (so the hash fan-out uses every worker). */
function send(iface: string, n: number, size = 200, from = 0): void {
  const tx = new RawSender(iface);
  for (let k = 0; k < n; k += 500) {
    tx.send(Array.from({ length: Math.min(500, n - k) }, (_, i) => udpFrame({ sport: 20000 + ((from + k + i) % 64), payload: seqPayload(from + k + i, size) })));
  }
  tx.close();
}

async function waitFor(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'netring-wwrite-'));
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test('--workers -w: the merged file grows while capturing (every packet in it before the stop), timestamp order; Ctrl-C completes it, SIGKILL leaves it readable', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    await withVeth(async ({ a, b }) => {
      const out = join(dir, 'm.pcapng');
      const c = await startCapture(b, ['--workers', '2', '-w', out, '--json']);
      send(a, 2000, 200);
      // streamed: all 2000 reach the merged file while the capture is still running
      await waitFor('2000 records in the merged file during the capture', () => countNow(out) === 2000);
      assert.equal(c.child.exitCode, null, 'still capturing');
      c.child.kill('SIGINT');
      assert.equal(await c.exit, 0, c.err());
      const s = JSON.parse(c.out().trim());
      assert.equal(s.written, 2000);
      assert.ok(s.workers[0].packets > 0 && s.workers[1].packets > 0, 'both workers took part');
      const m = readSeqs(out);
      assert.ok(m.ordered, 'timestamps never decrease');
      assert.deepEqual([...m.seqs].sort((x, y) => x - y), range(2000));
      assert.ok(m.isb, 'the merged file ends with the summed statistics block');
      assert.equal(tsharkCount(out), 2000);
      assert.match(execFileSync('capinfos', ['-c', out], { encoding: 'utf8' }), /Number of packets:\s+2000\b/);
      assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.m.pcapng')), [], 'the parts were removed');

      // SIGKILL midway: the merged file holds what was merged, whole records, and tshark reads it
      const k = join(dir, 'k.pcap');
      const d = await startCapture(b, ['--workers', '2', '-w', k]);
      send(a, 1000, 100);
      await waitFor('1000 records in the merged file', () => countNow(k) === 1000);
      d.child.kill('SIGKILL');
      await d.exit;
      const r = spawnSync('tshark', ['-r', k, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim().split('\n').length, 1000);
      const km = readSeqs(k);
      assert.ok(km.ordered);
      assert.deepEqual([...km.seqs].sort((x, y) => x - y), range(1000));
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('--workers -w: a merged output that cannot be written ends the run with exit 1 and one line naming it; mid-run, the workers\' files are kept (every packet, valid) and named', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    await withVeth(async ({ a, b }) => {
      // at open: nothing starts, nothing is left behind
      const before = readdirSync(tmpdir()).filter((f) => f.startsWith('.full.netring-parts-')).length;
      const r = spawnSync(process.execPath, [MAIN, 'capture', '-i', b, '--workers', '2', '-w', '/dev/full'], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stderr, 'netring: cannot write /dev/full: no space left on device (ENOSPC)\n');
      assert.equal(readdirSync(tmpdir()).filter((f) => f.startsWith('.full.netring-parts-')).length, before);

      // mid-run: a pipe whose reader leaves after 64 KiB
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const reader = spawn('head', ['-c', '65536', fifo], { stdio: ['ignore', 'ignore', 'inherit'] });
      const c = await startCapture(b, ['--workers', '2', '-w', fifo, '--json']);
      send(a, 2000, 200);
      const code = await Promise.race([c.exit, sleep(60_000).then(() => 'hung')]);
      if (code === 'hung') c.child.kill('SIGKILL');
      reader.kill();
      assert.equal(code, 1, c.err());
      assert.match(c.err(), new RegExp(`^netring: cannot write ${fifo}: the reading end of the pipe was closed \\(EPIPE\\)$`, 'm'));
      const kept = /^netring: the workers' files \(every packet, valid\) are kept in (.+)$/m.exec(c.err());
      assert.ok(kept !== null, c.err());
      try {
        const s = JSON.parse(c.out().trim());
        const parts = readdirSync(kept[1]).sort();
        assert.deepEqual(parts, ['fifo.0', 'fifo.1']);
        const inParts = parts.reduce((n, f) => n + tsharkCount(join(kept[1], f)), 0);
        assert.equal(inParts, s.received, 'every packet the workers took is in their files');
        assert.ok(s.written < s.received, `${s.written} written of ${s.received}`);
        assert.equal(s.unwritten, s.received - s.written);
      } finally { rmSync(kept[1], { recursive: true, force: true }); }
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('--workers -w with -C/-W and -z: the merged file rotates like tcpdump, every file valid alone with its ISB, order kept across files', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    await withVeth(async ({ a, b }) => {
      const log = join(dir, 'z.log');
      const script = join(dir, 'post.sh');
      writeFileSync(script, `#!/bin/sh\necho "$1" >> ${log}\n`, { mode: 0o755 });
      const base = join(dir, 'r.pcapng');
      const c = await startCapture(b, ['--workers', '2', '-w', base, '-C', '20k', '-z', script, '-c', '600', '--json']);
      send(a, 600, 200);
      assert.equal(await c.exit, 0, c.err());
      const s = JSON.parse(c.out().trim());
      assert.equal(s.written, 600);
      assert.ok(s.files.length >= 5, `${s.files.length} files`);
      assert.deepEqual(s.files.slice(0, 3), [base, `${base}1`, `${base}2`]);
      assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), s.files, '-z ran on each closed file, in order');
      const all: number[] = [];
      let lastTs = -1;
      for (const f of s.files as string[]) {
        const n = Number(/Number of packets:\s+(\d+)/.exec(execFileSync('capinfos', ['-c', f], { encoding: 'utf8' }))![1]);
        const m = readSeqs(f);
        assert.equal(m.seqs.length, n);
        assert.ok(m.ordered, `${f} in timestamp order`);
        assert.ok(m.isb, `${f} ends with an ISB`);
        const r = openCaptureReader(f);
        for (const rec of r) {
          const t = rec.sec * 1e9 + rec.nsec;
          assert.ok(t >= lastTs, 'order kept across files');
          lastTs = t;
        }
        r.close();
        all.push(...m.seqs);
        if (f !== s.files[s.files.length - 1]) assert.ok(statSync(f).size > 20 * 1024 && statSync(f).size < 20 * 1024 + 400, `${f}: ${statSync(f).size} bytes`);
      }
      assert.deepEqual(all.sort((x, y) => x - y), range(600));

      // -W 3: a ring of three files; one file per worker (%w) does not rotate: refused in one line
      const ring = join(dir, 'w.pcap');
      const d = await startCapture(b, ['--workers', '2', '-w', ring, '-C', '10k', '-W', '3', '-c', '600', '--json']);
      send(a, 600, 200, 1000);
      assert.equal(await d.exit, 0, d.err());
      assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('w.pcap')).sort(), ['w.pcap0', 'w.pcap1', 'w.pcap2']);
      for (const f of ['w.pcap0', 'w.pcap1', 'w.pcap2']) assert.ok(tsharkCount(join(dir, f)) > 0);
      const r = spawnSync(process.execPath, [MAIN, 'capture', '-i', b, '--workers', '2', '-w', join(dir, 'p.%w.pcap'), '-C', '1'], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^netring: -C, -G, -z and --compress go with the merged file of --workers/m);
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('--workers -w with -G and -W: the merged output starts a new file every second and the run stops after W files; --compress zstd leaves valid files', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    await withVeth(async ({ a, b }) => {
      const pattern = join(dir, 'g-%s.pcapng');
      const c = await startCapture(b, ['--workers', '2', '-w', pattern, '-G', '1', '-W', '2', '--compress', 'zstd', '--json']);
      for (let i = 0; i < 40 && c.child.exitCode === null; i++) { send(a, 50, 100, i * 50); await sleep(250); }
      const code = await Promise.race([c.exit, sleep(30_000).then(() => 'hung')]);
      if (code === 'hung') c.child.kill('SIGKILL');
      assert.equal(code, 0, c.err());
      const s = JSON.parse(c.out().trim());
      assert.equal(s.files.length, 2);
      let total = 0;
      for (const f of s.files as string[]) {
        assert.ok(existsSync(`${f}.zst`) && !existsSync(f), `${f}.zst replaced the plain file`);
        execFileSync('zstd', ['-q', '-d', `${f}.zst`, '-o', f]);
        const m = readSeqs(f);
        assert.ok(m.ordered && m.isb, `${f}: in order, with an ISB`);
        total += tsharkCount(f);
      }
      assert.equal(total, s.written);
      assert.ok(s.written > 0);
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('--workers with -Z: every thread becomes the user once all workers\' files are open; rotated merged files belong to the user', { skip: needRoot }, async () => {
  const dir = tmp();
  try {
    await withVeth(async ({ a, b }) => {
      chmodSync(dir, 0o1777);
      const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
      const base = join(dir, 'z.pcap');
      const c = await startCapture(b, ['--workers', '2', '-w', base, '-Z', 'nobody', '-C', '10k', '-c', '300', '--json']);
      // every thread of the process (main, workers, pool) runs as nobody
      const tasks = readdirSync(`/proc/${c.child.pid}/task`);
      assert.ok(tasks.length > 3, `${tasks.length} threads`);
      for (const t of tasks) {
        let status = '';
        try { status = readFileSync(`/proc/${c.child.pid}/task/${t}/status`, 'utf8'); } catch { continue; } // a thread that ended
        const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status)!;
        assert.deepEqual(uids.slice(1).map(Number), [nobody, nobody, nobody, nobody], `thread ${t}`);
      }
      send(a, 300, 200);
      assert.equal(await c.exit, 0, c.err());
      const s = JSON.parse(c.out().trim());
      assert.equal(statSync(s.files[0]).uid, 0, 'the first file was created as root');
      assert.ok(s.files.length > 1);
      for (const f of s.files.slice(1)) assert.equal(statSync(f).uid, nobody, `${f} was created after the drop`);
      let n = 0;
      for (const f of s.files) n += readSeqs(f).seqs.length;
      assert.equal(n, 300);
      assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.z.pcap')), [], 'the user removed the parts');

      // one file per worker: both opened as root before the drop, and they hold every packet
      const d = await startCapture(b, ['--workers', '2', '-w', join(dir, 'p.%w.pcapng'), '-Z', 'nobody', '-c', '200', '--json']);
      send(a, 200, 100);
      assert.equal(await d.exit, 0, d.err());
      assert.equal(existsSync(join(dir, 'p.0.pcapng')) && statSync(join(dir, 'p.0.pcapng')).uid, 0);
      assert.equal(tsharkCount(join(dir, 'p.0.pcapng')) + tsharkCount(join(dir, 'p.1.pcapng')), 200);
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
