/**
 * Huge tcpdump expressions (thousands of ORed terms): compiled or refused
 * with bounded memory and a short message, and still with tcpdump's
 * verdicts. Timings are in bench/lang.ts (lang-huge.ts); the bounds here are
 * only generous resource limits in a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lowerFilter } from '../../src/lang/filter.js';
import { genCbpf } from '../../src/lang/cbpf/codegen.js';
import { genJs, instantiate } from '../../src/lang/js/codegen.js';
import { compile } from '../../src/lang/compile.js';
import { LangError } from '../../src/lang/errors.js';
import { LARGE_DAG, topo } from '../../src/lang/ir/dag.js';
import { runBpf } from '../../src/bpf/index.js';
import type { PacketLike } from '../../src/packet-like.js';
import { indexesFromPcap, writeCorpusPcap } from '../fixtures/lang/corpus.js';

const HAS_TCPDUMP = spawnSync('tcpdump', ['--version']).status === 0;

function ports(n: number, from = 1): string {
  return Array.from({ length: n }, (_, i) => `port ${from + i}`).join(' or ');
}

function view(data: Uint8Array, caplen = data.length): PacketLike {
  return { data, offset: 0, caplen, wireLen: caplen, sec: 0, nsec: 0, vlanValid: false, vlanTci: 0, vlanTpid: 0, ifindex: 0, pktType: 0, linkType: 1 };
}

/** Ethernet + IPv4 + UDP frame from 10.0.0.3:sport to 10.0.0.2:dport. */
function udp(sport: number, dport: number): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  f.set([0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 3, 10, 0, 0, 2], 14);
  f.set([sport >> 8, sport & 255, dport >> 8, dport & 255, 0, 8, 0, 0], 34);
  return f;
}

test('a filter of 10,000 ORed ports is compiled (socket filter or JavaScript) or refused briefly, in a child process under 1 GB', () => {
  // the child compiles for a live socket as `capture -f` does, and checks a few verdicts of what it got
  const script = `
    import { compile } from ${JSON.stringify(new URL('../../src/lang/compile.js', import.meta.url).href)};
    const src = Array.from({ length: 10000 }, (_, i) => 'port ' + (i + 1)).join(' or ');
    const frame = (p) => { const f = new Uint8Array(42); f.set([2,0,0,0,0,2,2,0,0,0,0,1,8,0]); f.set([0x45,0,0,28,0,1,0,0,64,17,0,0,10,0,0,1,10,0,0,2], 14); f.set([0x9c,0x40,p >> 8,p & 255,0,8,0,0], 34); return f; };
    const view = (d) => ({ data: d, offset: 0, caplen: d.length, wireLen: d.length, sec: 0, nsec: 0, vlanValid: false, vlanTci: 0, vlanTpid: 0, ifindex: 0, pktType: 0, linkType: 1 });
    let out;
    try {
      const r = compile(src, { target: 'kernel' });
      const m = r.placement.js().match;
      out = { placed: r.cbpf ? 'socket' : 'js', explain: r.explain, verdicts: [1, 5000, 10000, 10001, 20000].map((p) => m(view(frame(p))) !== 0) };
    } catch (e) {
      out = { refused: e.pretty ? e.pretty() : String(e) };
    }
    out.rssMB = process.resourceUsage().maxRSS / 1024;
    console.log(JSON.stringify(out));
  `;
  const r = spawnSync(process.execPath, ['--max-old-space-size=1024', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `child failed (signal ${r.signal}): ${r.stderr.slice(0, 500)}`);
  const out = JSON.parse(r.stdout) as { placed?: string; explain?: string; verdicts?: boolean[]; refused?: string; rssMB: number };
  assert.ok(out.rssMB < 1024, `peak RSS ${out.rssMB.toFixed(0)} MB`);
  if (out.refused !== undefined) {
    assert.ok(out.refused.length < 400 && out.refused.split('\n').every((l) => l.length <= 200), `long refusal: ${out.refused.slice(0, 300)}`);
  } else {
    // 10,000 ports need far more than the kernel's 4,096 instructions: the whole filter runs in JavaScript, and says why
    assert.equal(out.placed, 'js');
    assert.match(out.explain!, /the kernel accepts at most 4096/);
    assert.ok(out.explain!.split('\n').every((l) => l.length <= 200), 'explain lines are short');
    assert.deepEqual(out.verdicts, [true, true, true, false, false]);
  }
});

test('errors in a huge filter echo only the part around the problem', () => {
  const src = `${ports(3000)} or port 8o`;
  assert.ok(src.length > 30000);
  let err: LangError | undefined;
  try { compile(src); } catch (e) { if (e instanceof LangError) err = e; else throw e; }
  assert.ok(err, 'refused');
  const lines = err.pretty().split('\n');
  assert.equal(lines.length, 3);
  assert.ok(lines.every((l) => l.length <= 120), `long lines: ${lines.map((l) => l.length)}`);
  assert.match(lines[0], /port 3000 or port 8o$/);
  assert.equal(lines[1].indexOf('^'), lines[0].indexOf('8o'), 'the caret is under the bad port');
  assert.match(lines[2], /unknown port '8o'.*column 37899/);
  // an error spanning the whole expression draws a short caret
  let all: LangError | undefined;
  try { compile(ports(2000).replace(/ or /g, ' and ')); } catch (e) { if (e instanceof LangError) all = e; else throw e; }
  assert.ok(all, 'refused');
  assert.match(all.reason, /rejects all packets/);
  assert.ok(all.pretty().split('\n').every((l) => l.length <= 120));
});

test('a filter of 450 ORed terms (large-DAG optimiser) gives tcpdump\'s verdicts on the corpus\'s whole (untruncated) packets, in BPF and in JavaScript', { skip: !HAS_TCPDUMP && 'tcpdump not installed' }, () => {
  const expr = [ports(450), 'tcp port 8080', 'udp port 5353', 'host 10.0.0.1', 'icmp'].join(' or ');
  assert.ok(topo(lowerFilter(expr, { optimize: false }).dag).length > LARGE_DAG, 'the expression takes the large-DAG path');
  const dir = mkdtempSync(join(tmpdir(), 'netring-lang-huge-'));
  try {
    const pcap = join(dir, 'corpus.pcap');
    const pk = writeCorpusPcap(pcap);
    writeFileSync(join(dir, 'expr'), expr);
    // tcpdump -O: libpcap's own optimiser takes minutes on such a filter; on whole packets the verdicts do not depend on it
    const r = spawnSync('tcpdump', ['-O', '-r', pcap, '-F', join(dir, 'expr'), '-w', '-'], { maxBuffer: 1 << 28, timeout: 600_000 });
    assert.equal(r.status, 0, r.stderr?.toString());
    const theirs = new Set(indexesFromPcap(new Uint8Array(r.stdout)));
    assert.ok(theirs.size > 0 && theirs.size < pk.length, `tcpdump matched ${theirs.size} of ${pk.length}`);
    // (the classic BPF of such a filter is longer than the kernel's 4,096 instructions: libpcap's userland runs it)
    const { dag } = lowerFilter(expr);
    const insns = genCbpf(dag, { target: 'file' });
    const match = instantiate(genJs(dag));
    const bad: string[] = [];
    let compared = 0;
    pk.forEach((p, i) => {
      // a truncated packet's verdict depends on which loads the optimised program still makes (a load past the
      // captured bytes rejects); the large-DAG optimiser skips fewer loads than libpcap's, so only whole packets count
      if (p.caplen < p.wireLen) return;
      compared++;
      const bpf = runBpf(insns, p.data, 0, p.caplen, p.wireLen) !== 0;
      const js = match(view(p.data, p.caplen)) !== 0;
      if (bpf !== theirs.has(i) || js !== bpf) bad.push(`packet ${i} (${p.name}): tcpdump=${theirs.has(i)} bpf=${bpf} js=${js}`);
    });
    assert.deepEqual(bad.slice(0, 10), []);
    assert.ok(compared > 1000, `only ${compared} packets compared`);
    // and frames built here: port 449 matches (term 449 is `port 449`), port 451 does not
    assert.notEqual(match(view(udp(40000, 449))), 0);
    assert.equal(match(view(udp(40000, 451))), 0);
    assert.notEqual(runBpf(insns, udp(40000, 449), 0, 42, 42), 0);
    assert.equal(runBpf(insns, udp(40000, 451), 0, 42, 42), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
