/**
 * Instruction counts of the eBPF backend for the equivalence corpus, beside
 * the classic programs' for the same expressions (the figures docs/language.md
 * reports): generation only, no kernel (test/kernel/lang-ebpf.test.ts loads
 * and runs these very programs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { genCbpf } from '../../src/lang/cbpf/codegen.js';
import { generate } from '../../src/lang/ebpf/codegen.js';
import { corpusExpressions, lowerForEbpf } from '../fixtures/lang/exprs.js';

const EXPRS = corpusExpressions('expressions.txt');

test('corpus instruction counts: XDP at most 16,607 (classic, file: 7,406), eBPF socket filter at most 11,003 (classic, kernel: 7,642)', () => {
  const size = { xdp: 0, socket: 0, classicFile: 0, classicKernel: 0, programs: 0 };
  for (const expr of EXPRS) {
    const l = lowerForEbpf(expr);
    if (!('file' in l)) continue;
    const { file, kern } = l;
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
