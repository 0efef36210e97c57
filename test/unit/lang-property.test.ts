/**
 * Property tests: random IR programs x random packets.
 *
 * (a) The classic BPF program (run by the interpreter) and the generated
 *     JavaScript return the same value on every packet, for unoptimised and
 *     optimised programs, file and kernel targets, including packets where
 *     loads run past the captured bytes.
 * (b) Where every value of the program is computable on a packet (no load
 *     outside the packet, no division by zero), the optimised program, the
 *     unoptimised one and a direct evaluation of the predicate agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { and, not, or, test as mkTest, type JmpOp, type Pred } from '../../src/lang/ir/pred.js';
import { aluApply, ANC, type AluOp, type Val, Values } from '../../src/lang/ir/value.js';
import { buildDag, optimize, ret } from '../../src/lang/ir/dag.js';
import { genCbpf } from '../../src/lang/cbpf/codegen.js';
import { checkClassic, runBpf, type BpfMeta } from '../../src/bpf/index.js';
import { genJs, instantiate } from '../../src/lang/js/codegen.js';
import type { PacketLike } from '../../src/packet-like.js';
import { prng } from '../fixtures/lang/corpus.js';

const ALU: AluOp[] = ['add', 'sub', 'mul', 'div', 'mod', 'and', 'or', 'xor', 'lsh', 'rsh'];
const JOPS: JmpOp[] = ['jeq', 'jgt', 'jge', 'jset'];

interface Pkt {
  data: Uint8Array;
  caplen: number;
  wireLen: number;
  meta: BpfMeta;
}

class Gen {
  pool: Val[] = [];
  constructor(
    private V: Values,
    private r: () => number,
    private kernel: boolean,
  ) {}
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(xs: T[]): T {
    return xs[this.int(xs.length)];
  }
  konst(): number {
    return this.pick([0, 1, 2, 3, 4, 6, 8, 0x0f, 0x40, 0x45, 0x80, 0xff, 0x800, 0x1fff, 0xffff, 0xffffffff, this.int(256)]);
  }
  val(depth: number): Val {
    const V = this.V;
    if (this.pool.length && this.r() < 0.35) return this.pick(this.pool);
    const roll = this.r();
    let v: Val;
    if (depth <= 0 || roll < 0.45) {
      const sz = this.pick([1, 2, 4] as const);
      v = V.ld(sz, null, this.int(48));
    } else if (roll < 0.55) v = V.k(this.konst());
    else if (roll < 0.6) v = V.len();
    else if (roll < 0.64 && this.kernel) v = V.anc(this.pick([ANC.VLAN_TAG, ANC.VLAN_TAG_PRESENT]));
    else if (roll < 0.72) v = V.ld(this.pick([1, 2, 4] as const), this.r() < 0.5 ? V.msh(null, 14) : V.alu('and', this.val(depth - 1), V.k(31)), this.int(40));
    else if (roll < 0.76) v = V.neg(this.val(depth - 1));
    else {
      const op = this.pick(ALU);
      const a = this.val(depth - 1);
      let b = this.r() < 0.6 ? V.k(this.konst()) : this.val(depth - 1);
      if ((op === 'div' || op === 'mod') && b.op === 'k' && b.k === 0) b = V.k(3);
      if ((op === 'lsh' || op === 'rsh') && b.op === 'k') b = V.k(b.k & 31);
      try {
        v = V.alu(op, a, b);
      } catch {
        v = a;
      }
    }
    if (this.pool.length < 8 && v.op !== 'k') this.pool.push(v);
    return v;
  }
  pred(depth: number): Pred {
    const roll = this.r();
    if (depth <= 0 || roll < 0.4) {
      if (!this.kernel && this.r() < 0.03) return { k: 'chain', family: this.r() < 0.5 ? 4 : 6, proto: this.pick([6, 17, 58, 51]), base: 14 };
      const v = this.val(2);
      const jop = this.pick(JOPS);
      const rhs = this.r() < 0.85 ? this.konst() : this.val(1);
      return mkTest(this.V, v, jop, rhs);
    }
    if (roll < 0.65) return and(this.pred(depth - 1), this.pred(depth - 1));
    if (roll < 0.9) return or(this.pred(depth - 1), this.pred(depth - 1));
    return not(this.pred(depth - 1));
  }
}

function packets(r: () => number, n: number): Pkt[] {
  const out: Pkt[] = [];
  for (let i = 0; i < n; i++) {
    const len = r() < 0.15 ? Math.floor(r() * 30) : 40 + Math.floor(r() * 60);
    const data = new Uint8Array(len);
    for (let j = 0; j < len; j++) data[j] = r() < 0.3 ? [0, 0x45, 0x86, 0xdd, 0x08, 6, 17, 51, 0x2c][Math.floor(r() * 9)] : Math.floor(r() * 256);
    const vlan = r() < 0.5;
    out.push({ data, caplen: len, wireLen: len + (r() < 0.3 ? Math.floor(r() * 100) : 0), meta: { vlanPresent: vlan, vlanTci: vlan ? Math.floor(r() * 65536) : 0, vlanTpid: vlan ? 0x8100 : 0 } });
  }
  return out;
}

function asPacketLike(p: Pkt, kernel: boolean): PacketLike {
  return {
    data: p.data, offset: 0, caplen: p.caplen, wireLen: p.wireLen, sec: 0, nsec: 0,
    vlanValid: kernel && !!p.meta.vlanPresent, vlanTci: p.meta.vlanTci ?? 0, vlanTpid: p.meta.vlanTpid ?? 0,
    ifindex: 0, pktType: 0, linkType: 1,
  };
}

/** Direct evaluation of a value; null when a load leaves the packet or a division by zero happens. */
function evalVal(v: Val, p: Pkt): number | null {
  switch (v.op) {
    case 'k':
      return v.k;
    case 'len':
      return p.wireLen;
    case 'anc':
      if (v.which === ANC.VLAN_TAG_PRESENT) return p.meta.vlanPresent ? 1 : 0;
      if (v.which === ANC.VLAN_TAG) return p.meta.vlanPresent ? (p.meta.vlanTci ?? 0) : 0;
      return 0;
    case 'mem':
      return null;
    case 'store':
      return evalVal(v.a, p);
    case 'neg': {
      const a = evalVal(v.a, p);
      return a === null ? null : -a >>> 0;
    }
    case 'ld': {
      const b = v.base ? evalVal(v.base, p) : 0;
      if (b === null) return null;
      const at = b + v.off;
      if (at + v.size > p.caplen) return null;
      let x = 0;
      for (let i = 0; i < v.size; i++) x = x * 256 + p.data[at + i];
      return x >>> 0;
    }
    case 'alu': {
      const a = evalVal(v.a, p);
      const b = evalVal(v.b, p);
      if (a === null || b === null) return null;
      if ((v.alu === 'div' || v.alu === 'mod') && b === 0) return null;
      if (v.alu === 'lsh') return (a << (b & 31)) >>> 0;
      if (v.alu === 'rsh') return a >>> (b & 31);
      return aluApply(v.alu, a, b);
    }
  }
}

/** Every value of the predicate is computable on the packet (and no protochain). */
function allDefined(pr: Pred, p: Pkt): boolean {
  switch (pr.k) {
    case 'true':
    case 'false':
      return true;
    case 'chain':
      return false;
    case 'test':
      return evalVal(pr.t.val, p) !== null && (typeof pr.t.rhs === 'number' || evalVal(pr.t.rhs, p) !== null);
    case 'not':
      return allDefined(pr.a, p);
    default:
      return allDefined(pr.a, p) && allDefined(pr.b, p);
  }
}

function evalPred(pr: Pred, p: Pkt): boolean {
  switch (pr.k) {
    case 'true':
      return true;
    case 'false':
    case 'chain':
      return false;
    case 'not':
      return !evalPred(pr.a, p);
    case 'and':
      return evalPred(pr.a, p) && evalPred(pr.b, p);
    case 'or':
      return evalPred(pr.a, p) || evalPred(pr.b, p);
    case 'test': {
      const a = evalVal(pr.t.val, p)!;
      const b = typeof pr.t.rhs === 'number' ? pr.t.rhs : evalVal(pr.t.rhs, p)!;
      switch (pr.t.jop) {
        case 'jeq':
          return a === b;
        case 'jgt':
          return a > b;
        case 'jge':
          return a >= b;
        case 'jset':
          return (a & b) !== 0;
      }
    }
  }
}

for (const kernel of [false, true]) {
  test(`random programs x random packets: BPF == JS, optimised == unoptimised (${kernel ? 'kernel' : 'file'} target)`, () => {
    const r = prng(kernel ? 1234 : 5678);
    const pk = packets(r, 150);
    let programs = 0;
    let checkedSemantics = 0;
    for (let iter = 0; iter < 300; iter++) {
      const V = new Values();
      const g = new Gen(V, r, kernel);
      const pred = g.pred(4);
      const target = kernel ? 'kernel' : 'file';
      const raw = buildDag(pred, ret(1), ret(0));
      const rawBpf = genCbpf(raw, { target });
      const rawJs = instantiate(genJs(raw));
      const opt = optimize(buildDag(pred, ret(1), ret(0)));
      const optBpf = genCbpf(opt, { target });
      if (kernel) {
        assert.equal(checkClassic(rawBpf), null, 'kernel target: the kernel rules accept the unoptimised program');
        assert.equal(checkClassic(optBpf), null, 'kernel target: the kernel rules accept the optimised program');
      }
      const optJs = instantiate(genJs(opt));
      programs++;
      for (const p of pk) {
        const meta = kernel ? p.meta : undefined;
        const pl = asPacketLike(p, kernel);
        const rb = runBpf(rawBpf, p.data, 0, p.caplen, p.wireLen, meta);
        const rj = rawJs(pl);
        const ob = runBpf(optBpf, p.data, 0, p.caplen, p.wireLen, meta);
        const oj = optJs(pl);
        assert.equal(rj, rb, `unoptimised JS != BPF (${target}, program ${iter})`);
        assert.equal(oj, ob, `optimised JS != BPF (${target}, program ${iter})`);
        if (allDefined(pred, p)) {
          checkedSemantics++;
          const want = evalPred(pred, p) ? 1 : 0;
          assert.equal(rb, want, `unoptimised program != predicate (${target}, program ${iter})`);
          assert.equal(ob, want, `optimised program != predicate (${target}, program ${iter})`);
        }
      }
    }
    assert.equal(programs, 300);
    assert.ok(checkedSemantics > 10000, `only ${checkedSemantics} fully-defined evaluations`);
  });
}
