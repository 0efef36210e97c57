/**
 * src/bpf: the classic checker against the running kernel's (SO_ATTACH_FILTER
 * on an unprivileged UDP socket), the interpreter's hook models, text forms,
 * the eBPF encoding and listing, and the classic -> eBPF translator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkClassic, assertClassic, insn, encodeProgram, decodeProgram, runClassic, runBpf, skbOf, socketSkb, ad, ll, net, AD,
  formatD, formatDDD, parseDDD, encodeEbpf, decodeEbpf, formatEbpf, translateClassic, EAsm, type BpfInsn,
} from '../../src/bpf/index.js';
import { compileFilter } from '../../src/lang/index.js';
import { native } from '../../src/native.js';
import { frame } from './fanout-frames.js';

const RET_K = 0x06, RET_A = 0x16, LDH_ABS = 0x28, LDB_ABS = 0x30, JEQ_K = 0x15, JA = 0x05, LD_MEM = 0x60, ST = 0x02, LDX_MEM = 0x61;
const I = (code: number, k = 0, jt = 0, jf = 0): BpfInsn => insn(code, k, jt, jf);

/** Does the running kernel accept `prog` as a socket filter? */
function kernelAccepts(prog: readonly BpfInsn[]): boolean {
  const fd = native.socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */, 0);
  try {
    // encodeProgram refuses 0 and > 4096 instructions itself: hand the kernel the raw bytes.
    const bytes = new Uint8Array(prog.length * 8);
    const dv = new DataView(bytes.buffer);
    prog.forEach((p, i) => { dv.setUint16(i * 8, p.code, true); dv.setUint8(i * 8 + 2, p.jt); dv.setUint8(i * 8 + 3, p.jf); dv.setUint32(i * 8 + 4, p.k >>> 0, true); });
    native.attachFilter(fd, bytes); // 0 or > 4096 instructions: refused at the kernel's own limit
    return true;
  } catch {
    return false;
  } finally {
    native.close(fd);
  }
}

const cases: Array<[string, BpfInsn[], RegExp | null]> = [
  ['ret only', [I(RET_K, 1)], null],
  ['ldh, jeq, two returns', [I(LDH_ABS, 12), I(JEQ_K, 0x800, 0, 1), I(RET_K, 96), I(RET_K, 0)], null],
  ['ancillary vlan_tci', [I(LDB_ABS, ad(AD.VLAN_TAG)), I(RET_A)], null],
  ['store then load M[15]', [I(0x00, 7), I(ST, 15), I(LD_MEM, 15), I(RET_A)], null],
  ['empty', [], /empty program/],
  ['4097 instructions', Array.from({ length: 4097 }, () => I(RET_K, 0)), /at most 4096/],
  ['unknown opcode', [I(0xff), I(RET_K, 0)], /not classic BPF/],
  ['ret x', [I(0x0e), I(RET_K, 0)], /not classic BPF/],
  ['does not end in ret', [I(0x00, 1)], /last instruction must be a return/],
  ['ja past the end', [I(JA, 1), I(RET_K, 0)], /jump out of range/],
  ['ja backward', [I(RET_K, 0), I(JA, 0xffffffff), I(RET_K, 0)], /jump out of range/],
  ['jt past the end', [I(JEQ_K, 1, 1, 0), I(RET_K, 0)], /jump out of range/],
  ['M[16]', [I(ST, 16), I(RET_K, 0)], /M\[16\]/],
  ['M[3] read before written', [I(LD_MEM, 3), I(RET_A)], /reads M\[3\] before/],
  ['M[2] written on one path only', [I(JEQ_K, 0, 0, 1), I(ST, 2), I(LDX_MEM, 2), I(RET_K, 0)], /reads M\[2\] before/],
  ['div by constant 0', [I(0x34, 0), I(RET_A)], /division by zero/],
  ['lsh by 32', [I(0x64, 32), I(RET_A)], /shift by 32/],
  ['unknown ancillary field', [I(LDB_ABS, ad(64)), I(RET_A)], /unknown ancillary/],
];

test('checkClassic agrees with the running kernel on accepted and refused programs, and says why', () => {
  for (const [name, prog, why] of cases) {
    const ours = checkClassic(prog);
    if (why === null) assert.equal(ours, null, `${name}: ${ours}`);
    else assert.match(ours ?? '', why, name);
    assert.equal(kernelAccepts(prog), ours === null, `${name}: kernel ${kernelAccepts(prog) ? 'accepts' : 'refuses'}, we say ${ours ?? 'ok'}`);
  }
  assert.throws(() => assertClassic([I(0x00, 1)], '--filter-bpf'), /--filter-bpf rejected by the kernel's rules: the last instruction/);
});

test('checkClassic accepts what the compiler generates for the kernel target', () => {
  for (const e of ['tcp port 80', 'vlan 10 and udp', 'ip[2:2] > 100 and ip[0] & 0xf != 5', 'ether host 00:11:22:33:44:55 or arp', 'tcp[tcpflags] & tcp-syn != 0', 'ip6 and udp']) {
    const f = compileFilter(e, { target: 'kernel' });
    assert.equal(checkClassic(f.insns), null, e);
    assert.ok(kernelAccepts(f.insns), e);
  }
});

test('text forms round-trip; encode/decode are inverse', () => {
  const f = compileFilter('tcp port 80', { target: 'kernel' });
  assert.deepEqual(parseDDD(formatDDD(f.insns)), f.insns);
  assert.deepEqual(decodeProgram(encodeProgram(f.insns)), f.insns);
  assert.match(formatD([I(LDB_ABS, ad(AD.VLAN_TAG)), I(RET_A)]), /ldb +\[vlan_tci\]/);
});

test('one interpreter, two hooks: socket filter (skb->data at MAC) and fan-out receive path (skb->data at the network header, tag in metadata)', () => {
  const plain = frame({ src: [10, 0, 0, 1], dst: [10, 0, 0, 2], proto: 17, sport: 1000, dport: 53 });
  const tagged = frame({ src: [10, 0, 0, 1], dst: [10, 0, 0, 2], proto: 17, sport: 1000, dport: 53, tags: [[0x8100, 7]] });
  const ldh = (k: number): BpfInsn[] => [I(LDH_ABS, k), I(RET_A)];
  // Absolute 12 = EtherType on a socket, but bytes 12..13 of the IPv4 header (source address) at the fan-out hook.
  assert.equal(runBpf(ldh(12), plain, 0, plain.length, plain.length), 0x0800);
  assert.equal(runClassic(ldh(12), skbOf(plain, 'in')), 0x0a00);
  // SKF_LL_OFF / SKF_NET_OFF reach the same bytes on both hooks (kernel models); libpcap's userland refuses them.
  for (const skb of [skbOf(plain, 'in'), skbOf(plain, 'out'), socketSkb({ data: plain, offset: 0, caplen: plain.length, wireLen: plain.length, pktType: 0, ifindex: 1, vlanValid: false, vlanTci: 0, vlanTpid: 0 } as never, true)]) {
    assert.equal(runClassic(ldh(ll(12)), skb), 0x0800);
    assert.equal(runClassic(ldh(net(0)), skb), 0x4500);
  }
  assert.equal(runBpf(ldh(ll(12)), plain, 0, plain.length, plain.length), 0, 'userland: negative offsets fail');
  // Receive path: the 802.1Q tag is metadata.
  const rx = skbOf(tagged, 'in');
  assert.equal(runClassic([I(LDB_ABS, ad(AD.VLAN_TAG_PRESENT)), I(RET_A)], rx), 1);
  assert.equal(runClassic([I(LDH_ABS, ad(AD.VLAN_TAG)), I(RET_A)], rx) & 0xfff, 7);
  assert.equal(runClassic([I(0x80), I(RET_A)], rx), tagged.length - 4 - 14, 'len = skb->len from skb->data');
  // Past the captured bytes: 0, whatever the hook.
  assert.equal(runBpf(ldh(plain.length - 1), plain, 0, plain.length, plain.length), 0);
});

test('eBPF encoding round-trips, listing reads like bpftool, labels resolve forward only', () => {
  const a = new EAsm();
  const out = a.label('out');
  a.mov64X(6, 1).ldx(0x08, 0, 6, 16).be(0, 16).jmp32(0x50, 0, 0x800, out).ldMap(1, 5).ret(1).here(out).ret(0);
  const prog = a.assemble();
  assert.deepEqual(decodeEbpf(encodeEbpf(prog)), prog);
  const text = formatEbpf(prog);
  assert.match(text, /r6 = r1/);
  assert.match(text, /r0 = \*\(u16 \*\)\(r6 \+16\)/);
  assert.match(text, /if w0 != 0x800 goto pc\+4/);
  assert.match(text, /r1 = map\[fd 5\] ll/);
  const b = new EAsm();
  const top = b.label('top');
  b.here(top).mov32(0, 0).ja(top);
  assert.throws(() => b.assemble(), /backward jump/);
});

test('translateClassic: classic jumps become eBPF jumps to the translated targets', () => {
  const f = compileFilter('udp port 53', { target: 'kernel' });
  const e = translateClassic(f.insns);
  assert.ok(e.length > f.insns.length);
  for (const [i, x] of e.entries()) {
    const cls = x.code & 7;
    if ((cls === 5 || cls === 6) && x.code !== 0x95 && x.code !== 0x85) assert.ok(i + 1 + x.off < e.length && x.off >= 0, `jump ${i} stays inside`);
  }
});
