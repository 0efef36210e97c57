/**
 * The combinator language: text syntax and TypeScript EDSL, placement
 * (socket filter / fan-out steering / JavaScript), exact counters, the
 * kernel+JS split computing what the all-JS program computes, steering
 * through the fan-out runtime, and refusals with reasons.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileProgram, compileFilter, LangError, runBpf, pipe, ip, udp, tcp, when, port, count, steerFlow, conditional,
  steerTo, inc, mark, drop, filter, tcpdump, not, unless, par, inv, classify, DROP, PASS, type PipelineResult,
} from '../../src/lang/index.js';
import { hasMark, ipTtl, lt, isTcp } from '../../src/lang/pfq/edsl.js';
import { runClassic, skbOf } from '../../src/bpf/index.js';
import type { PacketLike } from '../../src/packet-like.js';
import { buildCorpus, kernelView } from '../fixtures/lang/corpus.js';

const corpus = buildCorpus();
function pl(p: { data: Uint8Array; caplen: number; wireLen: number; vlanValid?: boolean; vlanTci?: number; vlanTpid?: number }): PacketLike {
  return {
    data: p.data, offset: 0, caplen: p.caplen, wireLen: p.wireLen, sec: 0, nsec: 0,
    vlanValid: p.vlanValid ?? false, vlanTci: p.vlanTci ?? 0, vlanTpid: p.vlanTpid ?? 0, ifindex: 0, pktType: 0, linkType: 1,
  };
}
const fileView = corpus.map((p) => pl(p));
const liveView = corpus.map((p) => pl(kernelView(p)));
const newResult = (): PipelineResult => ({ verdict: 0, mark: 0, cls: 0, log: 0 });

test('text syntax and EDSL build the same program', () => {
  const a = compileProgram('ip >-> udp >-> when (has_port 53) (inc dns) >-> steer_flow');
  const b = compileProgram(pipe(ip, udp, when(port(53), count('dns')), steerFlow));
  assert.deepEqual(a.socketFilter?.insns, b.socketFilter?.insns);
  assert.deepEqual(a.steering, b.steering);
  assert.deepEqual(a.counters, ['dns']);
  assert.deepEqual(b.counters, ['dns']);
  const ra = newResult();
  const rb = newResult();
  for (const p of fileView) assert.equal(a.full.run(p, ra), b.full.run(p, rb));
  assert.equal(a.full.state.counters[0], b.full.state.counters[0]);
  assert.ok(a.full.state.counters[0] > 0);
});

test('placement: socket filter prefix, hoisted steering, user-space residual', () => {
  const p = compileProgram('ip >-> udp >-> when (has_port 53) (inc dns) >-> steer_flow');
  assert.deepEqual(p.placement.map((s) => s.where), ['socket filter', 'socket filter', 'user space', 'fan-out']);
  assert.deepEqual(p.steering, { kind: 'flow' });
  assert.ok(p.residual);
  const q = compileProgram('inc all >-> tcp >-> count tcp');
  assert.equal(q.socketFilter, null, 'a counter first must see every packet');
  assert.deepEqual(q.placement.map((s) => s.where), ['user space', 'user space', 'user space']);
  const r = compileProgram('tcp >-> port 80');
  assert.equal(r.residual, null);
  assert.ok(r.socketFilter);
  assert.match(r.explain(), /user space: nothing/);
  // protochain cannot go to the kernel: it stays in JavaScript.
  const s = compileProgram('filter "ip6 protochain 6" >-> count x');
  assert.equal(s.socketFilter, null);
  assert.match(s.explain(), /protochain/);
  // Conditional steering with a drop branch: the drop goes to the socket filter.
  const t = compileProgram('conditional is_tcp steer_flow drop');
  assert.ok(t.socketFilter);
  assert.deepEqual(t.steering, { kind: 'flow' });
});

test('the socket filter is the tcpdump expression it stands for', () => {
  const p = compileProgram('filter "tcp port 80 or udp port 53"');
  const f = compileFilter('tcp port 80 or udp port 53', { target: 'kernel' });
  assert.deepEqual(p.socketFilter?.insns, f.insns);
});

test('counters count exactly', () => {
  const p = compileProgram('inc all >-> when is_tcp (inc tcp) >-> when (has_port 53) (count dns) >-> unless is_ip (dec all)');
  const want = { all: 0, tcp: 0, dns: 0 };
  const tcpF = compileFilter('tcp');
  const dnsF = compileFilter('port 53');
  const ipF = compileFilter('ip');
  const r = newResult();
  for (let i = 0; i < corpus.length; i++) {
    const c = corpus[i];
    // Reference: the same predicates as tcpdump filters. A load past the capture drops the packet at that stage.
    const t = runBpf(tcpF.insns, c.data, 0, c.caplen, c.wireLen) !== 0;
    const d = runBpf(dnsF.insns, c.data, 0, c.caplen, c.wireLen) !== 0;
    const v = p.full.run(fileView[i], r);
    if (c.caplen === c.wireLen) {
      want.all += runBpf(ipF.insns, c.data, 0, c.caplen, c.wireLen) !== 0 ? 1 : 0;
      want.tcp += t ? 1 : 0;
      want.dns += d ? 1 : 0;
      assert.equal(v, PASS);
    }
  }
  // Only full-length packets have no failing loads, so compare on a fresh run over those.
  const q = compileProgram('inc all >-> when is_tcp (inc tcp) >-> when (has_port 53) (count dns) >-> unless is_ip (dec all)');
  for (let i = 0; i < corpus.length; i++) if (corpus[i].caplen === corpus[i].wireLen) q.full.run(fileView[i], r);
  assert.deepEqual([...q.full.state.counters], [want.all, want.tcp, want.dns]);
  assert.ok(want.tcp > 10 && want.dns > 2, JSON.stringify(want));
});

test('kernel socket filter + JS residual computes what the all-JS program computes', () => {
  const programs = [
    'ip >-> udp >-> when (has_port 53) (inc dns) >-> steer_flow',
    'filter "vlan and tcp" >-> inc x >-> when (tcp_flags == 2) (mark 7) >-> classify 3',
    'par tcp udp >-> conditional (ip_ttl < 64) (mark 1) (mark 2) >-> when (has_mark 1) (inc low)',
    'not is_arp >-> inv icmp >-> when (has_addr 10.0.0.0/8) (inc ten) >-> drop',
    'conditional (has_vid 10) steer_flow (steer_to 0) >-> inc tagged',
    'filter (is_tcp && (has_port 80 || has_port 443)) >-> log_packet',
  ];
  for (const src of programs) {
    const prog = compileProgram(src);
    const fresh = compileProgram(src);
    const r1 = newResult();
    const r2 = newResult();
    for (const view of [fileView, liveView]) {
      for (let i = 0; i < view.length; i++) {
        const p = view[i];
        const k = prog.socketFilter ? runBpf(prog.socketFilter.insns, p.data, 0, p.caplen, p.wireLen, { vlanPresent: p.vlanValid, vlanTci: p.vlanTci, vlanTpid: p.vlanTpid }) : 1;
        let split = DROP;
        if (k !== 0) split = prog.residual ? prog.residual.run(p, r1) : PASS;
        const whole = fresh.full.run(p, r2);
        assert.equal(split, whole, `${src}: packet ${i}`);
        if (whole !== DROP && prog.residual) {
          assert.equal(r1.mark, r2.mark);
          assert.equal(r1.cls, r2.cls);
          assert.equal(r1.log, r2.log);
        }
      }
    }
    assert.deepEqual([...prog.full.state.counters], [...fresh.full.state.counters], src);
  }
});

test('EDSL predicates, properties and logic', () => {
  const p = compileProgram(pipe(tcp, when(lt(ipTtl, 64), mark(5)), when(hasMark(5), inc('lowttl')), unless(isTcp, drop)));
  assert.ok(p.socketFilter);
  const q = compileProgram(pipe(filter(not(tcpdump('arp'))), par(tcp, udp), inv('icmp'), classify(2)));
  const r = newResult();
  let passed = 0;
  for (const v of fileView) if (q.full.run(v, r) === PASS) {
    passed++;
    assert.equal(r.cls, 2);
  }
  assert.ok(passed > 100);
});

test('steering through the fan-out runtime: flow affinity and classes', () => {
  const p = compileProgram('tcp >-> steer_flow');
  const prog = p.fanoutProgram(4);
  const members = new Set<number>();
  // Both directions of each TCP flow in the corpus land on the same member.
  const flows = corpus.filter((c) => c.caplen === c.wireLen && c.name.startsWith('plain v4 tcp'));
  assert.ok(flows.length >= 3);
  for (const c of flows) {
    const fwd = c.data;
    const rev = new Uint8Array(fwd);
    rev.set(fwd.subarray(0, 6), 6);
    rev.set(fwd.subarray(6, 12), 0);
    rev.set(fwd.subarray(26, 30), 30);
    rev.set(fwd.subarray(30, 34), 26);
    const ihl = (fwd[14] & 0xf) * 4;
    rev.set(fwd.subarray(14 + ihl, 16 + ihl), 16 + ihl);
    rev.set(fwd.subarray(16 + ihl, 18 + ihl), 14 + ihl);
    const a = runClassic(prog, skbOf(fwd, 'in')) % 4;
    const b = runClassic(prog, skbOf(rev, 'in')) % 4;
    assert.equal(a, b, `flow ${c.name} split across members`);
    members.add(a);
  }
  // Conditional steering: TCP to member 1, everything else to member 2 (classes with our match programs).
  const q = compileProgram(conditional(isTcp, steerTo(1), steerTo(2)));
  const qp = q.fanoutProgram(3);
  const tcpF = compileFilter('tcp', { target: 'kernel' });
  let n1 = 0;
  for (const c of corpus) {
    if (c.caplen !== c.wireLen || c.caplen < 14) continue;
    const skb = skbOf(c.data, 'in');
    const isT = runBpf(tcpF.insns, skb.frame, 0, skb.frame.length, skb.frame.length, { vlanPresent: skb.vlanPresent, vlanTci: skb.vlanTci, vlanTpid: skb.vlanTpid }) !== 0;
    const m = runClassic(qp, skb) % 3;
    assert.equal(m, isT ? 1 : 2, c.name);
    if (isT) n1++;
  }
  assert.ok(n1 > 20);
});

/** Program errors: [source, start, end, reason fragment]. */
const ERRORS: Array<[string, number, number, string]> = [
  ['steer_flow >-> steer_rrobin', 15, 27, 'only one steering decision per packet'],
  ['when (has_mark 1) steer_flow', 0, 28, 'cannot run in the kernel'],
  ['stear_flow', 0, 10, "did you mean 'steer_flow'"],
  ['when is_udp', 0, 11, "'when' takes 2 arguments"],
  ['forward eth0', 0, 12, "'forward eth0' runs in an XDP or tc program"],
  ['has_port 99999', 0, 14, 'illegal port number 99999 > 65535'],
  ['filter "tcp port 8x"', 17, 19, "unknown port '8x'"],
  ['filter "host www.example.com"', 13, 28, 'no DNS'],
  ['ip >-> (inc a', 13, 14, "expected ')'"],
  ['when is_tcp (steer_flow >-> inc x)', 28, 33, 'cannot be mixed with steering'],
  ['par tcp (inc x)', 0, 15, 'par combines filters'],
  ['ip_ttl < is_tcp', 9, 15, 'compared with a number'],
  ['has_port tcp', 9, 12, 'expected a number'],
  ['tcp >-> drop', 0, 12, 'drops every packet'],
  ['double_steer_ip', 0, 15, 'PACKET_FANOUT'],
];

test('program error table: position, span and reason', () => {
  for (const [src, pos, end, frag] of ERRORS) {
    let err: unknown = null;
    try {
      compileProgram(src);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof LangError, `${src}: no LangError (${String(err)})`);
    assert.ok(err.reason.includes(frag), `${src}: "${err.reason}" lacks "${frag}"`);
    assert.equal(err.pos, pos, `${src}: position`);
    assert.equal(err.end, end, `${src}: end`);
  }
});

test('a single socket cannot steer', () => {
  assert.throws(() => compileProgram('tcp >-> steer_flow', { singleSocket: true }), /single socket .* cannot steer/);
  assert.doesNotThrow(() => compileProgram('tcp >-> inc x', { singleSocket: true }));
});
