/**
 * The XDP/tc program generator without a kernel: the text syntax and the
 * TypeScript EDSL give the same program, refusals carry one clear reason,
 * capture sockets refuse hook-only actions, listings name maps and
 * interfaces, and code after a terminal action is left out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateProgram } from '../../src/lang/ebpf/program.js';
import { compileProgram, pipe, filter, when, count, countBy, forward, tee, drop, detour, conditional, steerFlow } from '../../src/lang/index.js';
import { LangError } from '../../src/lang/errors.js';
import { E_EXIT, E_JMP } from '../../src/bpf/ebpf.js';

test('text syntax and EDSL generate the same XDP and tc programs', () => {
  const text = 'filter "udp" >-> when "port 53" (count dns >-> count_by src) >-> conditional "port 80" (forward eth9) (detour) >-> drop';
  const edsl = pipe(filter('udp'), when('port 53', pipe(count('dns'), countBy('src'))), conditional('port 80', forward('eth9'), detour), drop);
  for (const hook of ['xdp', 'tc'] as const) {
    const a = generateProgram(text, { hook });
    const b = generateProgram(edsl, { hook });
    assert.deepEqual(a.insns, b.insns);
    assert.deepEqual([a.slots, a.devices, a.interfaces], [b.slots, b.devices, b.interfaces]);
    assert.deepEqual(a.slots, ['dns', 'by_src:other', 'by_src:full']);
    assert.deepEqual(a.interfaces, ['eth9']);
    assert.deepEqual(a.maps.map((m) => m.name), hook === 'xdp' ? ['counters', 'by_src', 'devmap'] : ['counters', 'by_src']);
    assert.match(a.listing(), hook === 'xdp' ? /map\[devmap\] ll/ : /ifindex\(eth9\)/);
    assert.match(a.listing(), /map\[counters\] ll/);
  }
});

test('code after a terminal action is left out (the verifier refuses unreachable instructions)', () => {
  const a = generateProgram('forward eth1 >-> count never >-> count_by flow', { hook: 'xdp' });
  assert.deepEqual(a.maps.map((m) => m.name), ['devmap']);
  const last = a.insns[a.insns.length - 1];
  assert.equal(last.code, E_JMP | E_EXIT);
  assert.ok(a.insns.length < 12, `${a.insns.length} instructions`);
});

test('refusals: one clear reason each', () => {
  const refuse = (src: string, hook: 'xdp' | 'tc', re: RegExp, epilogue?: boolean): void => {
    assert.throws(() => generateProgram(src, { hook, epilogue: epilogue ? (x) => { x.ret(2); } : undefined }), (e: unknown) => e instanceof LangError && re.test(e.message), src);
  };
  refuse('tee eth1', 'xdp', /'tee' needs the tc hook \(--hook tc\): XDP gives a frame one verdict.*devmap broadcast redirect sends copies out of devices, but none to the local stack/);
  refuse('udp >-> steer_flow', 'tc', /steering needs the XDP hook \(a CPUMAP redirect\)/);
  refuse('udp >-> steer_flow', 'xdp', /an AF_XDP socket receives only frames of the queue it is bound to/, true);
  refuse('mark 3', 'tc', /user-space state/);
  refuse('kernel', 'xdp', /use 'detour'/, true);
  refuse('count_by port', 'xdp', /count_by takes one of flow, src, dst, vlan/);
  refuse('forward "a/b"', 'xdp', /not an interface name/);
  refuse('tap eth1', 'xdp', /'tap' is refused/);
  // a capture socket cannot run them
  assert.throws(() => compileProgram('udp >-> forward eth1'), /'forward eth1' runs in an XDP or tc program/);
  assert.throws(() => compileProgram('count_by src'), /'count_by src' runs in an XDP or tc program/);
});

test('kernel is the default end: the same program as without it', () => {
  assert.deepEqual(generateProgram('udp >-> kernel >-> count c', { hook: 'xdp' }).insns, generateProgram('udp >-> count c', { hook: 'xdp' }).insns);
  void tee;
});

test('steering at XDP: the EDSL and the text give the same program; code after the steer is left out', () => {
  const text = generateProgram('when "udp" (count u >-> steer_flow) >-> count rest', { hook: 'xdp', cpus: 2 });
  const edsl = generateProgram(pipe(when('udp', pipe(count('u'), steerFlow)), count('rest')), { hook: 'xdp', cpus: 2 });
  assert.deepEqual(edsl.insns, text.insns);
  assert.deepEqual(text.maps.map((m) => m.name), ['counters', 'cpumap']);
  const only = generateProgram('steer_to 1 >-> count never', { hook: 'xdp', cpus: 2 });
  assert.deepEqual(only.slots, ['never']);
  assert.deepEqual(only.maps.map((m) => m.name), ['cpumap'], 'the counter after the steer is unreachable: its map is not created');
  assert.match(only.listing(), /^0: w9 = 1\n1: r1 = map\[cpumap\] ll\n3: w2 = w9\n4: r3 = 2\n5: call bpf_redirect_map\n6: exit$/);
});
