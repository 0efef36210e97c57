/**
 * `netring capture -r IN -w OUT` with tcpdump's rotation: -C (FILE, FILE1,
 * ...), -W (a ring of files), -z and --compress on each closed file, a
 * filter deciding what counts; every file valid alone (capinfos, tshark) and
 * the records, concatenated, byte for byte the input's matched records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCaptureReader } from '../../src/pcap/index.js';
import { cli, tmpDir, writePcap } from '../helpers/cli.js';
import { seqPayload, udpFrame } from '../helpers/netns.js';

/** Every record of a file: timestamp and bytes. */
function records(file: string): Array<{ sec: number; nsec: number; hex: string }> {
  const r = openCaptureReader(file);
  const out: Array<{ sec: number; nsec: number; hex: string }> = [];
  for (const rec of r) out.push({ sec: rec.sec, nsec: rec.nsec, hex: Buffer.from(rec.bytes).toString('hex') });
  r.close();
  return out;
}

function capinfosCount(file: string): number {
  return Number(/Number of packets:\s+(\d+)/.exec(execFileSync('capinfos', ['-c', file], { encoding: 'utf8' }))![1]);
}

/** 500 UDP frames of 200-byte payloads, alternating ports 53 and 80. */
function input(dir: string): string {
  const frames = Array.from({ length: 500 }, (_, i) => udpFrame({ dport: i % 2 === 0 ? 53 : 80, payload: seqPayload(i, 200) }));
  return writePcap(join(dir, 'in.pcap'), frames);
}

test('-r -w -C: files FILE, FILE1, ... each valid alone, sizes like tcpdump, records identical to the input in order; pcapng files end with an ISB', () => {
  const dir = tmpDir();
  try {
    const inp = input(dir);
    const want = records(inp);
    for (const ext of ['pcap', 'pcapng']) {
      const base = join(dir, `r.${ext}`);
      const r = cli(['capture', '-r', inp, '-w', base, '-C', '20k', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout.trim());
      assert.equal(s.written, 500);
      assert.ok(s.files.length >= 5, `${s.files.length} files`);
      assert.deepEqual(s.files.slice(0, 3), [base, `${base}1`, `${base}2`]);
      const got = [];
      for (const f of s.files as string[]) {
        const recs = records(f);
        assert.equal(capinfosCount(f), recs.length, f);
        got.push(...recs);
        if (f !== s.files[s.files.length - 1]) assert.ok(statSync(f).size > 20 * 1024 && statSync(f).size < 20 * 1024 + 400, `${f}: ${statSync(f).size} bytes`);
      }
      assert.deepEqual(got, want);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('-r -w -C -W with a filter, -z and --compress gzip: a ring of W files of matched packets only, each compressed then handed to -z', () => {
  const dir = tmpDir();
  try {
    const inp = input(dir);
    const want = records(inp).filter((_, i) => i % 2 === 0); // dport 53
    const log = join(dir, 'z.log');
    const script = join(dir, 'post.sh');
    writeFileSync(script, `#!/bin/sh\necho "$1" >> ${log}\n`, { mode: 0o755 });
    const ring = join(dir, 'w.pcap');
    const r = cli(['capture', '-r', inp, '-w', ring, '-C', '10k', '-W', '3', '-z', script, '--compress', 'gzip', '--json', 'udp dst port 53']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout.trim());
    assert.equal(s.matched, 250);
    assert.equal(s.written, 250);
    const logged = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(logged.length, s.files.length, 'one -z run per closed file');
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('w.pcap')).sort(), ['w.pcap0.gz', 'w.pcap1.gz', 'w.pcap2.gz']);
    // the newest files survive the ring: the last file holds the last records
    const last = s.files[s.files.length - 1] as string;
    assert.ok(existsSync(`${last}.gz`));
    execFileSync('gzip', ['-d', '-k', `${last}.gz`]);
    const tail = records(last);
    assert.ok(tail.length > 0);
    assert.deepEqual(tail, want.slice(want.length - tail.length));
    assert.equal(capinfosCount(last), tail.length);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('-r -w: -C needs a file name (not -w -), -W needs -C or -G, -Z is for live captures (exit 2, one line)', () => {
  const dir = tmpDir();
  try {
    const inp = input(dir);
    const a = cli(['capture', '-r', inp, '-w', '-', '-C', '1']);
    assert.equal(a.code, 2);
    assert.equal(a.stderr, 'netring: -C and -G need a file name, not -w -\n');
    const b = cli(['capture', '-r', inp, '-w', join(dir, 'x.pcap'), '-W', '2']);
    assert.equal(b.code, 2);
    assert.equal(b.stderr, 'netring: -W goes with -C or -G\n');
    const c = cli(['capture', '-r', inp, '-w', join(dir, 'x.pcap'), '-Z', 'nobody']);
    assert.equal(c.code, 2);
    assert.equal(c.stderr, 'netring: -Z goes with a live capture (-i IFACE), not -r\n');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
