#!/usr/bin/env node
// Portable test runner: node --test with an explicit file list (newer Node
// releases refuse a directory argument), one file at a time (kernel tests
// build veths), the spec reporter on a terminal and TAP otherwise (CI logs).
//
//   node scripts/test.mjs                      every dist/test/**/*.test.js
//   node scripts/test.mjs dist/test/unit       the files under some folders
//   node scripts/test.mjs dist/test/kernel/capture.test.js ...
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
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
// a test that hangs fails after 5 minutes instead of holding CI until its limit
const args = ['--test', '--test-concurrency=1', '--test-timeout=300000', `--test-reporter=${reporter}`, ...files.map((f) => relative(root, f))];
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(signal ? 1 : code ?? 1));
