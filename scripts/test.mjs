#!/usr/bin/env node
// Portable test runner: node --test with an explicit file list (newer Node
// releases refuse a directory argument), the spec reporter on a terminal and
// TAP otherwise (CI logs).
//
//   node scripts/test.mjs                      every dist/test/**/*.test.js
//   node scripts/test.mjs dist/test/unit       the files under some folders
//   node scripts/test.mjs dist/test/kernel/capture.test.js ...
//
// Files run one at a time within a group (kernel tests build veths and some
// capture on lo, so two of them must never overlap). Two groups run side by
// side: the kernel tests (dist/test/kernel, mostly waiting on the kernel and on
// child processes) and everything else (pure CPU, no network). The kernel
// group's output streams; the other group's output is held in a temporary file
// and printed when both are done, so the two reports never interleave. Each
// group ends with its own summary; the exit code is non-zero if either failed.
// NETRING_TEST_SERIAL=1 runs every file in one process, one at a time.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

function collect(path, out) {
  const st = statSync(path);
  if (st.isFile()) {
    out.push(path);
    return;
  }
  for (const name of readdirSync(path).sort()) {
    const p = join(path, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
}

const roots = process.argv.slice(2);
const files = [];
for (const r of roots.length > 0 ? roots : ['dist/test']) collect(resolve(root, r), files);
if (files.length === 0) {
  console.error(`no test files under ${roots.join(' ') || 'dist/test'} (run npm run build first)`);
  process.exit(1);
}
const reporter = process.env.NETRING_TEST_REPORTER ?? (process.stdout.isTTY ? 'spec' : 'tap');

/** Run node --test on `list`, one file at a time; resolve to its exit code. */
function runGroup(list, stdout) {
  // a test that hangs fails after 5 minutes instead of holding CI until its limit
  const args = ['--test', '--test-concurrency=1', '--test-timeout=300000', `--test-reporter=${reporter}`, ...list.map((f) => relative(root, f))];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['inherit', stdout, stdout === 'inherit' ? 'inherit' : stdout] });
  return new Promise((done) => child.on('exit', (code, signal) => done(signal ? 1 : code ?? 1)));
}

const kernelDir = resolve(root, 'dist/test/kernel') + sep;
const kernel = files.filter((f) => f.startsWith(kernelDir));
const rest = files.filter((f) => !f.startsWith(kernelDir));

if (process.env.NETRING_TEST_SERIAL === '1' || kernel.length === 0 || rest.length === 0) {
  process.exit(await runGroup(files, 'inherit'));
}

const dir = mkdtempSync(join(tmpdir(), 'netring-test-'));
const logPath = join(dir, 'unit.log');
const log = openSync(logPath, 'w');
try {
  const [kernelCode, restCode] = await Promise.all([runGroup(kernel, 'inherit'), runGroup(rest, log)]);
  closeSync(log);
  process.stdout.write(`\n# ---- the tests outside dist/test/kernel (ran alongside the kernel tests) ----\n`);
  process.stdout.write(readFileSync(logPath));
  process.exitCode = kernelCode !== 0 || restCode !== 0 ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
