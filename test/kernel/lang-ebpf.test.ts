/**
 * The eBPF backend against the real kernel: every expression of the
 * equivalence corpus (expressions.txt and geneve.txt) becomes an XDP program and an eBPF socket filter, the
 * verifier must accept each, and BPF_PROG_TEST_RUN on every corpus packet
 * must give the verdict of the classic program for the same hook.
 *
 * Oracles: XDP sees the frame as a capture file stores it (VLAN tags in the
 * bytes), so its verdict must equal the file-target classic program's, which
 * test/unit/lang-equivalence.test.ts checks equal to tcpdump -r on these
 * very packets. The socket filter must equal the kernel-target classic
 * program on the same skb (BPF_PROG_TEST_RUN builds it without VLAN
 * metadata: tags stay in the bytes), and, on these frames, tcpdump's verdict.
 * Frames shorter than 14 bytes are skipped (BPF_PROG_TEST_RUN refuses them; no
 * NIC delivers them), and so are, for the socket filter only, the few whose
 * IP header is cut short (BPF_PROG_TEST_RUN will not build such an skb); truncated corpus packets are run as frames of their
 * captured length (what a hook sees is always the whole frame).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { progLoad, PROG_TYPE, runBpf, testRun, encodeEbpf } from '../../src/bpf/index.js';
import { genCbpf } from '../../src/lang/cbpf/codegen.js';
import { generate, XDP } from '../../src/lang/ebpf/codegen.js';
import { buildCorpus } from '../fixtures/lang/corpus.js';
import { corpusExpressions, lowerForEbpf } from '../fixtures/lang/exprs.js';
import { needRoot } from '../helpers/netns.js';

const EXPRS = [...corpusExpressions('expressions.txt'), ...corpusExpressions('geneve.txt')];

test('eBPF XDP and socket-filter programs: the verifier accepts every corpus program and BPF_PROG_TEST_RUN verdicts equal the classic ones', { skip: needRoot }, () => {
  const frames = buildCorpus().filter((p) => p.caplen >= 14).map((p) => p.data.slice(0, p.caplen));
  assert.ok(frames.length > 1900, `only ${frames.length} frames`);
  const failures: string[] = [];
  const skipped: string[] = [];
  const refused = new Set<Uint8Array>();
  const refusedByCompiler: string[] = [];
  let runs = 0, programs = 0;
  const size = { xdp: 0, socket: 0, classicFile: 0, classicKernel: 0 };
  for (const expr of EXPRS) {
    const l = lowerForEbpf(expr);
    // refused for every backend (the equivalence test checks tcpdump refuses it too)
    if ('refused' in l) { refusedByCompiler.push(`${expr}: ${l.refused}`); continue; }
    if ('unsupported' in l) { skipped.push(`${expr}: ${l.unsupported}`); continue; }
    const { file, kern } = l;
    const cFile = genCbpf(file.dag, { target: 'file' });
    const cKern = genCbpf(kern.dag, { target: 'kernel' });
    const xdp = generate(file.dag, { hook: 'xdp' });
    const sock = generate(kern.dag, { hook: 'socket', skbData: 'net' });
    size.xdp += xdp.insns.length; size.socket += sock.insns.length; size.classicFile += cFile.length; size.classicKernel += cKern.length;
    let px, ps;
    try {
      px = progLoad(PROG_TYPE.XDP, encodeEbpf(xdp.insns), { what: `xdp: ${expr}` });
      ps = progLoad(PROG_TYPE.SOCKET_FILTER, encodeEbpf(sock.insns), { what: `socket: ${expr}` });
    } catch (e) {
      failures.push((e as Error).message.split('\n').slice(0, 6).join(' | '));
      px?.close();
      continue;
    }
    programs += 2;
    let bad = 0;
    for (const f of frames) {
      const wantX = runBpf(cFile, f, 0, f.length, f.length) !== 0;
      const wantS = runBpf(cKern, f, 0, f.length, f.length, {}) !== 0;
      const gotX = testRun(px.fd, f).retval === XDP.PASS;
      let gotS = wantS;
      try {
        gotS = testRun(ps.fd, f).retval !== 0;
        runs++;
      } catch (e) {
        // BPF_PROG_TEST_RUN refuses skbs shorter than their network header (IPv4 < 34 bytes, IPv6 < 54)
        if ((e as { code?: string }).code !== 'EINVAL' || f.length >= 54) throw e;
        refused.add(f);
      }
      runs++;
      if ((gotX !== wantX || gotS !== wantS || wantS !== wantX) && bad++ < 2) {
        failures.push(`${expr} | ${Buffer.from(f.subarray(0, 40)).toString('hex')}: classic file=${wantX} kernel=${wantS}; eBPF xdp=${gotX} socket=${gotS}`);
      }
    }
    px.close();
    ps.close();
  }
  console.log(`eBPF corpus: ${programs} programs loaded, ${runs} test runs; instructions: xdp ${size.xdp} vs classic (file) ${size.classicFile}, socket ${size.socket} vs classic (kernel) ${size.classicKernel}; socket test runs refused for ${refused.size} short frames; not generated: ${skipped.length}${skipped.length ? `\n  ${skipped.join('\n  ')}` : ''}`);
  assert.deepEqual(failures, []);
  assert.ok(skipped.every((s) => /protochain/.test(s)), `only protochain is left out: ${skipped.join('; ')}`);
  // the corpus also holds expressions libpcap refuses (the equivalence test checks we refuse
  // exactly those): every expression the compiler refuses here must be one tcpdump refuses too
  const dir = mkdtempSync(join(tmpdir(), 'netring-ebpf-'));
  try {
    const acceptedByTcpdump = refusedByCompiler.filter((r) => {
      writeFileSync(join(dir, 'e'), r.slice(0, r.indexOf(': ')));
      return spawnSync('tcpdump', ['-d', '-F', join(dir, 'e')], { stdio: 'ignore' }).status === 0;
    });
    assert.deepEqual(acceptedByTcpdump, [], 'refused by the compiler although tcpdump accepts them');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(programs, 2 * (EXPRS.length - skipped.length - refusedByCompiler.length));
  assert.ok(programs > 800, `${programs} programs`);
});
