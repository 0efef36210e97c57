/**
 * docs/cli.md is generated from the commander definitions: it must equal
 * what the generator renders now, so an option added, renamed or redescribed
 * without `npm run docs:cli` fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildProgram } from '../../src/cli/program.js';
import { renderCliReference } from '../../src/cli/reference.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

test('docs/cli.md is what npm run docs:cli renders from the command definitions (not stale)', () => {
  const doc = readFileSync(`${ROOT}docs/cli.md`, 'utf8');
  const program = buildProgram();
  assert.equal(doc, renderCliReference(program), 'docs/cli.md is stale: run npm run docs:cli');
  // every command and every visible option of each is in it
  for (const cmd of program.commands) {
    assert.match(doc, new RegExp(`^## netring ${cmd.name()}$`, 'm'));
    for (const o of cmd.options) if (!o.description.startsWith('(internal)')) assert.ok(doc.includes(`\`${o.flags.replace(/\|/g, '\\|')}`), `${cmd.name()} ${o.flags}`);
  }
  const check = spawnSync(process.execPath, [`${ROOT}scripts/cli-doc.mjs`, '--check'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
});

test('the reference generator notices a changed option (the staleness check can fail)', () => {
  const program = buildProgram();
  const before = renderCliReference(program);
  program.commands.find((c) => c.name() === 'capture')!.option('--made-up <n>', 'an option the document does not have');
  const after = renderCliReference(program);
  assert.notEqual(after, before);
  assert.match(after, /`--made-up <n>` \| an option the document does not have/);
});
