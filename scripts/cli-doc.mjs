#!/usr/bin/env node
// Write docs/cli.md from the command definitions (run after `npm run build`):
//   node scripts/cli-doc.mjs            write docs/cli.md
//   node scripts/cli-doc.mjs --check    exit 1 when docs/cli.md is stale
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildProgram } from '../dist/src/cli/program.js';
import { renderCliReference } from '../dist/src/cli/reference.js';

const file = fileURLToPath(new URL('../docs/cli.md', import.meta.url));
const text = renderCliReference(buildProgram());
if (process.argv.includes('--check')) {
  let old = '';
  try { old = readFileSync(file, 'utf8'); } catch { /* missing: stale */ }
  if (old !== text) {
    console.error('docs/cli.md is stale: run npm run docs:cli');
    process.exit(1);
  }
} else {
  writeFileSync(file, text);
}
