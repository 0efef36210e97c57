/**
 * Instruction counts of the eBPF backend for the equivalence corpus, beside
 * the classic programs' for the same expressions (the figures docs/language.md
 * reports): generation only, no kernel (test/kernel/lang-ebpf.test.ts loads
 * and runs these very programs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { lowerFilter } from '../../src/lang/filter.js';
import { genCbpf } from '../../src/lang/cbpf/codegen.js';
import { generate, unsupported } from '../../src/lang/ebpf/codegen.js';
import { LangError } from '../../src/lang/errors.js';

const EXPRS = readFileSync(new URL('../../../test/fixtures/lang/expressions.txt', import.meta.url), 'utf8')
  .split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

test('corpus instruction counts: XDP at most 16,607 (classic, file: 7,406), eBPF socket filter at most 11,003 (classic, kernel: 7,642)', () => {
  const size = { xdp: 0, socket: 0, classicFile: 0, classicKernel: 0, programs: 0 };
  for (const expr of EXPRS) {
    let file, kern;
    try {
      file = lowerFilter(expr, { target: 'file' });
      kern = lowerFilter(expr, { target: 'kernel' });
    } catch (e) {
      if (e instanceof LangError) continue;
      throw e;
    }
    if (unsupported(file.dag, 'xdp') || unsupported(kern.dag, 'socket')) continue;
    size.xdp += generate(file.dag, { hook: 'xdp' }).insns.length;
    size.socket += generate(kern.dag, { hook: 'socket', skbData: 'net' }).insns.length;
    size.classicFile += genCbpf(file.dag, { target: 'file' }).length;
    size.classicKernel += genCbpf(kern.dag, { target: 'kernel' }).length;
    size.programs++;
  }
  console.log(`corpus (${size.programs} expressions): xdp ${size.xdp} vs classic ${size.classicFile} (${(size.xdp / size.classicFile).toFixed(2)}x); socket ${size.socket} vs classic ${size.classicKernel} (${(size.socket / size.classicKernel).toFixed(2)}x)`);
  assert.equal(size.classicFile, 7406);
  assert.equal(size.classicKernel, 7642);
  assert.ok(size.xdp <= 16607, `xdp ${size.xdp}`);
  assert.ok(size.socket <= 11003, `socket ${size.socket}`);
});

test('a plain drop, a bare redirect: as short as the hand-written C programs (no prologue, no bounds check, no map lookup)', async () => {
  const { generateProgram } = await import('../../src/lang/ebpf/program.js');
  assert.equal(generateProgram('drop', { hook: 'xdp' }).listing(), '0: w0 = 1\n1: exit');
  assert.equal(generateProgram('forward eth1', { hook: 'xdp' }).listing(), '0: r1 = map[devmap] ll\n2: r2 = 0\n3: r3 = 0\n4: call bpf_redirect_map\n5: exit');
});
