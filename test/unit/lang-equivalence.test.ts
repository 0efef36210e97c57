/**
 * Equivalence with libpcap: for every corpus expression and every corpus
 * packet, the verdict of our classic BPF (run by the interpreter) and of our
 * generated JavaScript equals tcpdump's (`tcpdump -r corpus.pcap -w -`).
 * Also: we refuse exactly the expressions tcpdump refuses, our programs are
 * never much longer than `tcpdump -d`, and (as root) the kernel-target
 * programs agree with libpcap's live-capture programs (`tcpdump -i lo -ddd`)
 * on packets whose outer VLAN tag was moved to metadata.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFilter } from '../../src/lang/filter.js';
import { runBpf, parseDDD } from '../../src/bpf/index.js';
import { LangError } from '../../src/lang/errors.js';
import type { PacketLike } from '../../src/packet-like.js';
import { buildCorpus, indexesFromPcap, kernelView, writeCorpusPcap, type CorpusPacket } from '../fixtures/lang/corpus.js';
import { corpusExpressions } from '../fixtures/lang/exprs.js';

const EXPRS = corpusExpressions('expressions.txt');
const HAS_TCPDUMP = spawnSync('tcpdump', ['--version']).status === 0;
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

function packetLike(p: { data: Uint8Array; caplen: number; wireLen: number; vlanValid?: boolean; vlanTci?: number; vlanTpid?: number }, offset = 0): PacketLike {
  let data = p.data;
  if (offset) {
    data = new Uint8Array(offset + p.caplen + 7).fill(0xee);
    data.set(p.data.subarray(0, p.caplen), offset);
  }
  return {
    data, offset, caplen: p.caplen, wireLen: p.wireLen, sec: 0, nsec: 0,
    vlanValid: p.vlanValid ?? false, vlanTci: p.vlanTci ?? 0, vlanTpid: p.vlanTpid ?? 0, ifindex: 0, pktType: 0, linkType: 1,
  };
}

function tcpdump(args: string[]): { ok: true; out: Buffer } | { ok: false; err: string } {
  const r = spawnSync('tcpdump', args, { maxBuffer: 1 << 28 });
  if (r.status === 0) return { ok: true, out: r.stdout };
  return { ok: false, err: r.stderr.toString() };
}

/**
 * Kernel-target programs against libpcap's live-capture programs (`tcpdump -i lo -ddd`)
 * on kernel-view packets (outer VLAN tag in metadata): classic BPF and JS verdicts.
 */
function compareKernel(exprs: string[]): { compared: number; refused: string[]; failures: string[] } {
  const pk = buildCorpus().map((p: CorpusPacket) => kernelView(p));
  assert.ok(pk.some((p) => p.vlanValid), 'no packet with a VLAN tag in metadata');
  const dir = mkdtempSync(join(tmpdir(), 'netring-lang-k-'));
  const failures: string[] = [];
  const refused: string[] = [];
  let compared = 0;
  try {
    const exprFile = join(dir, 'expr');
    for (const e of exprs) {
      writeFileSync(exprFile, e);
      const d = tcpdump(['-i', 'lo', '-ddd', '-F', exprFile]);
      if (!d.ok) {
        refused.push(`${e}: ${d.err.trim().split('\n')[0]}`);
        continue;
      }
      compared++;
      const theirs = parseDDD(d.out.toString());
      const ours = compileFilter(e, { target: 'kernel' });
      for (let i = 0; i < pk.length; i++) {
        const p = pk[i];
        const meta = { vlanPresent: p.vlanValid, vlanTci: p.vlanTci, vlanTpid: p.vlanTpid };
        const t = runBpf(theirs, p.data, 0, p.caplen, p.wireLen, meta) !== 0;
        const b = runBpf(ours.insns, p.data, 0, p.caplen, p.wireLen, meta) !== 0;
        const j = ours.match(packetLike(p)) !== 0;
        if (t !== b || j !== b) failures.push(`${e} | packet ${i}: libpcap=${t} bpf=${b} js=${j}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { compared, refused, failures };
}

/** Verdicts of `ours` (classic BPF, JS, JS at an offset) against tcpdump's matching packet indexes; mismatches (3 at most) go to `failures`. Returns the pairs compared. */
function compareFile(e: string, ours: ReturnType<typeof compileFilter>, theirs: Set<number>, pk: CorpusPacket[], pls: PacketLike[], shifted: PacketLike[], failures: string[]): number {
  let bad = 0;
  for (let i = 0; i < pk.length; i++) {
    const p = pk[i];
    const bpf = runBpf(ours.insns, p.data, 0, p.caplen, p.wireLen) !== 0;
    const js = ours.match(pls[i]) !== 0;
    const jsShifted = ours.match(shifted[i]) !== 0;
    if (bpf !== theirs.has(i) || js !== bpf || jsShifted !== bpf) {
      if (bad++ < 3) failures.push(`${e} | packet ${i} (${p.name}): tcpdump=${theirs.has(i)} bpf=${bpf} js=${js} js@offset=${jsShifted}`);
    }
  }
  return pk.length;
}

test('the corpus covers >= 300 expressions and a varied packet set', () => {
  assert.ok(EXPRS.length >= 300, `only ${EXPRS.length} expressions`);
  const pk = buildCorpus();
  assert.ok(pk.length >= 1000);
  const names = pk.map((p) => p.name).join('\n');
  for (const w of ['vlan8100', 'qinq88a8', 'qinq9100', 'mpls16/17', 'frag', 'hbh', 'arp', 'rarp', 'icmp6', 'sctp', '802.3 stp', 'trunc', 'random', 'bcast', 'ihl6']) {
    assert.ok(names.includes(w), `corpus lacks ${w}`);
  }
  assert.ok(pk.some((p) => p.caplen < p.wireLen), 'no truncated packet');
});

test('verdicts equal tcpdump for every (expression, packet); BPF and JS agree; count <= tcpdump -d', { skip: !HAS_TCPDUMP && 'tcpdump not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'netring-lang-'));
  try {
    const pcap = join(dir, 'corpus.pcap');
    const pk = writeCorpusPcap(pcap);
    const exprFile = join(dir, 'expr');
    const pls = pk.map((p) => packetLike(p));
    const shifted = pk.map((p, i) => packetLike(p, 1 + (i % 61)));
    const failures: string[] = [];
    const ratios: number[] = [];
    const over: string[] = [];
    let compared = 0;
    for (const e of EXPRS) {
      writeFileSync(exprFile, e);
      const d = tcpdump(['-d', '-F', exprFile]);
      let ours;
      try {
        ours = compileFilter(e);
      } catch (x) {
        if (!(x instanceof LangError)) throw x;
        if (d.ok) failures.push(`${e}: we refuse (${x.reason}) but tcpdump accepts`);
        continue;
      }
      if (!d.ok) {
        failures.push(`${e}: tcpdump refuses (${d.err.trim()}) but we accept`);
        continue;
      }
      const theirLen = d.out.toString().trim().split('\n').length;
      ratios.push(ours.insns.length / theirLen);
      if (ours.insns.length > theirLen) over.push(`${e} (${ours.insns.length} > ${theirLen})`);
      const r = tcpdump(['-r', pcap, '-F', exprFile, '-w', '-']);
      assert.ok(r.ok, `tcpdump -r failed for ${e}`);
      const theirs = new Set(indexesFromPcap(new Uint8Array(r.out)));
      compared += compareFile(e, ours, theirs, pk, pls, shifted, failures);
    }
    assert.deepEqual(failures, []);
    assert.ok(compared > 300 * 1000, `only ${compared} pairs compared`);
    ratios.sort((a, b) => a - b);
    const median = ratios[ratios.length >> 1];
    const max = ratios[ratios.length - 1];
    const worst = over.slice(0, 5).join('; ');
    assert.ok(max <= 1.0, `max instruction-count ratio ${max}: ${worst}`);
    assert.ok(median <= 1.0, `median instruction-count ratio ${median}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kernel target equals libpcap live-capture programs on kernel-view packets', { skip: (!HAS_TCPDUMP || !IS_ROOT) && 'needs tcpdump and root (tcpdump -i lo -ddd)' }, () => {
  const subset = EXPRS.filter((e) => /vlan|mpls|ether\[|link\[|len|less|greater/.test(e) && !e.includes('protochain'));
  assert.ok(subset.length >= 40);
  const { compared, refused, failures } = compareKernel(subset);
  // tcpdump -i lo failing (no capture permission, no lo) must not pass with nothing compared;
  // a few expressions libpcap itself refuses (e.g. 'pppoes and vlan') are allowed
  assert.ok(compared >= 40 && refused.length <= 5, `compared ${compared} of ${subset.length} expressions; tcpdump -i lo refused: ${refused.slice(0, 6).join('; ')}`);
  assert.deepEqual(failures.slice(0, 20), []);
});

test('the tcpdump binary is the reference the corpus was checked against', { skip: !HAS_TCPDUMP && 'tcpdump not installed' }, () => {
  // A smoke check that tcpdump -d and our -d agree exactly on a classic case.
  const dir = mkdtempSync(join(tmpdir(), 'netring-lang-d-'));
  try {
    writeFileSync(join(dir, 'e'), 'tcp port 80');
    const theirs = execFileSync('tcpdump', ['-d', '-F', join(dir, 'e')], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const ours = compileFilter('tcp port 80').insns.length;
    assert.equal(ours, theirs.split('\n').length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const GENEVE = corpusExpressions('geneve.txt');

test('geneve: verdicts equal tcpdump -r for every (expression, packet); BPF and JS agree; a VNI over 24 bits is refused as tcpdump does', { skip: !HAS_TCPDUMP && 'tcpdump not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'netring-lang-g-'));
  try {
    const pcap = join(dir, 'corpus.pcap');
    const pk = writeCorpusPcap(pcap);
    assert.ok(pk.filter((p) => p.name.includes('geneve')).length >= 100, 'corpus lacks geneve packets');
    const exprFile = join(dir, 'expr');
    const pls = pk.map((p) => packetLike(p));
    const shifted = pk.map((p, i) => packetLike(p, 1 + (i % 61)));
    const failures: string[] = [];
    const trivial: string[] = [];
    for (const e of GENEVE) {
      writeFileSync(exprFile, e);
      const r = tcpdump(['-r', pcap, '-F', exprFile, '-w', '-']);
      assert.ok(r.ok, `tcpdump -r failed for ${e}`);
      const theirs = new Set(indexesFromPcap(new Uint8Array(r.out)));
      if (theirs.size === 0 || theirs.size === pk.length) trivial.push(`${e} (${theirs.size})`);
      compareFile(e, compileFilter(e), theirs, pk, pls, shifted, failures);
    }
    assert.deepEqual(failures, []);
    // every expression separates the corpus (none matches nothing or everything)
    assert.deepEqual(trivial, []);
    writeFileSync(exprFile, 'geneve 16777216');
    const d = tcpdump(['-d', '-F', exprFile]);
    assert.ok(!d.ok && /Geneve VNI 16777216 greater than maximum 16777215/.test(d.err));
    assert.throws(() => compileFilter('geneve 16777216'), /Geneve VNI 16777216 greater than maximum 16777215/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('geneve instruction counts: `geneve and geneve` and `geneve and geneve and geneve` at most tcpdump -d\'s, every geneve corpus expression at most 1.1x tcpdump -d\'s, their total at most tcpdump -d\'s', { skip: !HAS_TCPDUMP && 'tcpdump not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'netring-lang-gd-'));
  try {
    const exprFile = join(dir, 'expr');
    const theirLen = (e: string): number => {
      writeFileSync(exprFile, e);
      const d = tcpdump(['-d', '-F', exprFile]);
      assert.ok(d.ok, `tcpdump -d refuses ${e}`);
      return d.out.toString().trim().split('\n').length;
    };
    for (const e of ['geneve and geneve', 'geneve and geneve and geneve']) {
      const ours = compileFilter(e).insns.length;
      assert.ok(ours <= theirLen(e), `${e}: ${ours} instructions, tcpdump -d ${theirLen(e)}`);
      assert.ok(compileFilter(e, { target: 'kernel' }).insns.length <= theirLen(e), `${e}, kernel target`);
    }
    let ours = 0;
    let theirs = 0;
    const over: string[] = [];
    for (const e of GENEVE) {
      const n = compileFilter(e).insns.length;
      const t = theirLen(e);
      ours += n;
      theirs += t;
      if (n > 1.1 * t) over.push(`${e} (${n} > 1.1 x ${t})`);
    }
    assert.deepEqual(over, []);
    assert.ok(ours <= theirs, `total ${ours} instructions, tcpdump -d ${theirs}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('geneve, kernel target: equals libpcap live-capture programs on kernel-view packets', { skip: (!HAS_TCPDUMP || !IS_ROOT) && 'needs tcpdump and root (tcpdump -i lo -ddd)' }, () => {
  const { compared, refused, failures } = compareKernel(GENEVE);
  assert.deepEqual(refused, []);
  assert.equal(compared, GENEVE.length);
  assert.deepEqual(failures.slice(0, 20), []);
});
