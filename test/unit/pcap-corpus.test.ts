/**
 * `netring capture -r` over a directory of capture files (for example
 * tcpdump's own test-suite captures, tests/*.pcap and tests/*.pcapng of its
 * source tree), compared file by file with tcpdump: every file tcpdump reads,
 * netring reads, with the same packet count. A file tcpdump stops on midway
 * (truncated, corrupt) must give the same count of packets before the error.
 *
 *   NETRING_PCAP_CORPUS=/path/to/tcpdump/tests node --test dist/test/unit/pcap-corpus.test.js
 *
 * Skipped (with the reason) when the variable is unset or tcpdump is missing.
 * The corpus is not part of this repository; the failure classes it found
 * have small crafted fixtures in pcap-faults.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCapture } from '../../src/cli/capture.js';

const dir = process.env.NETRING_PCAP_CORPUS;
const haveTcpdump = spawnSync('tcpdump', ['--version']).status === 0;
const skip = dir === undefined ? 'set NETRING_PCAP_CORPUS to a directory of .pcap/.pcapng files (e.g. tcpdump\'s tests/)'
  : !existsSync(dir) ? `NETRING_PCAP_CORPUS=${dir} does not exist`
  : !haveTcpdump ? 'tcpdump is not installed' : false;

/** tcpdump's packet count for a file (--count), and whether it ended on an error. */
function tcpdumpCount(file: string): { count: number; error: boolean } | null {
  const r = spawnSync('tcpdump', ['--count', '-n', '-r', file], { encoding: 'utf8', timeout: 60_000 });
  const m = /^(\d+) packets?\b/m.exec(`${r.stdout}\n${r.stderr}`);
  return m ? { count: Number(m[1]), error: r.status !== 0 } : null;
}

test('capture -r reads every file of the corpus that tcpdump reads, with the same packet count', { skip }, async () => {
  const files = readdirSync(dir!).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort();
  assert.ok(files.length > 0, `no .pcap/.pcapng files in ${dir}`);
  const mismatches: string[] = [];
  let compared = 0;
  const quietStderr = process.stderr.write;
  for (const f of files) {
    const path = join(dir!, f);
    const td = tcpdumpCount(path);
    if (td === null) continue; // tcpdump cannot open it at all: nothing to compare
    compared++;
    process.stderr.write = (() => true) as typeof process.stderr.write; // the per-file warnings
    try {
      const s = await runCapture({ read: path, quiet: true, promisc: true });
      if (s.received !== td.count) mismatches.push(`${f}: tcpdump ${td.count}, netring ${s.received}${s.fault ? ` (${s.fault})` : ''}`);
      else if (td.error !== (s.fault !== undefined)) mismatches.push(`${f}: tcpdump ${td.error ? 'failed' : 'succeeded'}, netring ${s.fault ?? 'succeeded'}`);
    } catch (e) {
      mismatches.push(`${f}: tcpdump ${td.count}, netring threw ${(e as Error).message}`);
    } finally {
      process.stderr.write = quietStderr;
    }
  }
  process.stdout.write(`# corpus ${dir}: ${files.length} files, ${compared} compared with tcpdump, ${mismatches.length} differ\n`);
  assert.deepEqual(mismatches, []);
});
