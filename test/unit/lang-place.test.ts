/**
 * Placement: targets asked in order with their answers, the lowering each
 * hook needs, JS built only on request, and compile()'s eBPF targets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, formatReport, place } from '../../src/lang/index.js';

test('place asks the targets in order; the first kernel target that can run the expression takes it', () => {
  const p = place('tcp port 80', { mode: 'file', targets: ['js', 'xdp', 'file'] });
  assert.deepEqual(p.answers.map((a) => a.target), ['xdp']);
  assert.equal(p.kernelTarget, 'xdp');
  assert.ok(p.ebpf && p.ebpf.insns.length > 0);
  assert.equal(p.needsJs, false);
  const live = place('tcp port 80', { mode: 'kernel', targets: ['xdp', 'socket', 'js'] });
  assert.equal(live.answers[0].target, 'xdp');
  assert.match(live.answers[0].why ?? '', /needs the file lowering/);
  assert.equal(live.kernelTarget, 'socket');
  assert.ok(live.cbpf && live.cbpf[live.cbpf.length - 2].k === 262144, 'snaplen is the accept value');
});

test('protochain falls through every kernel target to JavaScript, which is built on request only', () => {
  const p = place('ip6 protochain 6', { mode: 'kernel', targets: ['tc', 'socket', 'js'], snaplen: 96 });
  assert.equal(p.kernelTarget, null);
  assert.deepEqual(p.answers.map((a) => [a.target, a.why === null]), [['tc', false], ['socket', false], ['js', true]]);
  assert.match(p.answers[0].why ?? '', /protochain/);
  assert.equal(p.js(), p.js(), 'built once');
  assert.match(p.explain(), /every packet reaches the ring/);
});

test('compile --target xdp|tc|socket prints an eBPF listing and the placement', () => {
  for (const target of ['xdp', 'tc', 'socket'] as const) {
    const r = compile('vlan 10 and udp port 53', { target });
    assert.ok(r.ebpfProgram, target);
    const text = formatReport(r, 'all');
    assert.match(text, /# eBPF/, target);
    assert.match(text, /exit/, target);
    assert.match(r.explain, target === 'xdp' ? /XDP program \(eBPF\)/ : target === 'tc' ? /tc program \(eBPF\)/ : /as eBPF \(SO_ATTACH_BPF\)/);
  }
  // steering has no XDP/tc form: refused with the reason
  assert.throws(() => compile('ip >-> steer_flow', { target: 'xdp' }), /'steer_flow' steers between sockets of a fan-out group/);
});
