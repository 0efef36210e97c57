/**
 * The CLI-facing entry point: language detection, every printed form agrees
 * with the program, protochain falls back to JavaScript for the kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, formatReport, decode, parseDDD, runBpf, LangError } from '../../src/lang/index.js';

test('language detection: tcpdump first, combinator words decide otherwise', () => {
  assert.equal(compile('tcp port 80').language, 'tcpdump');
  assert.equal(compile('ip').language, 'tcpdump');
  assert.equal(compile('ip >-> steer_flow').language, 'pfq');
  assert.equal(compile('when is_tcp (inc a)').language, 'pfq');
  assert.equal(compile('steer_flow').language, 'pfq');
  assert.equal(compile('tcp', { language: 'pfq' }).language, 'pfq');
  // A broken tcpdump expression reports the tcpdump error, not a combinator one.
  assert.throws(() => compile('tcp port'), (e: unknown) => e instanceof LangError && /syntax error/.test(e.reason));
});

test('every printed form is the same program', () => {
  const r = compile('vlan and tcp port 80', { target: 'kernel' });
  assert.ok(r.cbpf && r.bytes);
  assert.deepEqual(decode(r.bytes), r.cbpf);
  assert.deepEqual(parseDDD(r.ddd), r.cbpf);
  assert.equal(r.d.split('\n').length, r.cbpf.length);
  assert.equal(r.dd.split('\n').length, r.cbpf.length);
  assert.match(r.d, /^\(000\) ld       \[vlanp\]/);
  assert.match(r.js, /p\.vlanValid/);
  const all = formatReport(r, 'all');
  for (const part of ['# placement', '# classic BPF (tcpdump -d)', '# JavaScript']) assert.ok(all.includes(part), part);
  // file target: tags inline, same verdict as the kernel form on an untagged TCP/80 frame
  const f = compile('vlan and tcp port 80', { target: 'file' });
  assert.match(f.d, /^\(000\) ldh      \[12\]/);
  const frame = new Uint8Array(64);
  frame.set([0x81, 0x00, 0x00, 0x0a, 0x08, 0x00, 0x45], 12);
  frame[18 + 9] = 6; // IPv4 header after the 4-byte tag
  frame[18 + 20 + 3] = 80; // TCP destination port
  assert.notEqual(runBpf(f.cbpf!, frame, 0, 64, 64), 0);
});

test('protochain: no kernel program, the filter runs in JavaScript', () => {
  const r = compile('ip6 protochain 6', { target: 'kernel' });
  assert.equal(r.cbpf, null);
  assert.match(r.explain, /backward jump/);
  assert.ok(r.js.includes('for (let i = 0; ; i++)'));
  assert.equal(formatReport(r, 'd'), '(no classic BPF: see --explain)');
  assert.ok(compile('ip6 protochain 6', { target: 'file' }).cbpf);
});

test('combinator programs: socket filter, fan-out program for N members, explain', () => {
  const r = compile('tcp >-> when (has_port 22) (inc ssh) >-> steer_flow', { members: 4, weights: [1, 1, 2, 4] });
  assert.equal(r.language, 'pfq');
  assert.ok(r.cbpf && r.fanout && r.program);
  assert.equal(r.program.counters[0], 'ssh');
  assert.match(r.explain, /kernel socket filter .* instructions/);
  assert.match(r.explain, /PACKET_FANOUT_CBPF/);
  assert.match(r.js, /S\.counters\[0\] \+= 1/);
  assert.ok(formatReport(r, 'all').includes('# fan-out program'));
});
