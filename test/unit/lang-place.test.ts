/**
 * Placement: targets asked in order with their answers, the lowering each
 * hook needs, JS built only on request, and compile()'s eBPF targets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, formatReport, place } from '../../src/lang/index.js';
import { generateProgram, type HookProgram } from '../../src/lang/ebpf/program.js';
import { steerCpu } from '../../src/lang/ebpf/steer.js';
import { frame, randomFlow, reverse, rng } from './fanout-frames.js';

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
});

test('steering at XDP: a CPUMAP redirect with the CPU from the symmetric hash; tc, AF_XDP ends and CPUs past the map are refused with their reasons', () => {
  const r = compile('ip >-> steer_flow', { target: 'xdp' });
  const code = r.ebpfProgram as HookProgram;
  assert.ok(code.cpus >= 1);
  assert.deepEqual(code.maps.map((m) => [m.name, m.spec.maxEntries]), [['cpumap', code.cpus]]);
  const text = formatReport(r, 'all');
  assert.match(text, /map cpumap: CPUMAP, CPUs 0\.\.\d+ .*fan-out group in cpu mode .* member cpu % N/);
  assert.match(text, /r1 = map\[cpumap\] ll\n.*\n.*\n.*call bpf_redirect_map\n.*exit/);
  const two = generateProgram('steer_flow', { hook: 'xdp', cpus: 2 });
  assert.match(two.listing(), /w9 %= 2\n/);
  assert.throws(() => generateProgram('steer_flow', { hook: 'tc' }), /tc program: 'steer_flow': steering needs the XDP hook \(a CPUMAP redirect\)/);
  assert.throws(() => generateProgram('steer_to 2', { hook: 'xdp', cpus: 2 }), /steer_to 2: the program steers to CPUs 0\.\.1/);
  assert.throws(() => generateProgram('steer_flow', { hook: 'xdp', cpus: 2, epilogue: (a) => void a.ret(2) }),
    /an AF_XDP socket receives only frames of the queue it is bound to/);
  // tee at XDP stays refused, with the reason
  assert.throws(() => generateProgram('tee lo', { hook: 'xdp' }), /XDP gives a frame one verdict .* cannot send a copy out and also hand the original to the kernel; a devmap broadcast redirect sends copies out of devices, but none to the local stack/);
});

test('steerCpu (the reference hash) is symmetric: both directions of a flow, a link or an address pair pick one CPU', () => {
  const r = rng(3);
  for (let i = 0; i < 200; i++) {
    const s = randomFlow(r);
    for (const spec of [{ kind: 'flow' }, { kind: 'ip' }, { kind: 'mac' }] as const) {
      assert.equal(steerCpu(frame(s), spec, 4), steerCpu(frame(reverse(s)), spec, 4));
    }
  }
  const cpus = new Set(Array.from({ length: 64 }, () => steerCpu(frame(randomFlow(r)), { kind: 'flow' }, 4)));
  assert.equal(cpus.size, 4, 'spreads over every CPU');
});
