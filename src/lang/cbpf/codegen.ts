/**
 * Classic BPF code generation from an optimised decision DAG.
 *
 * Blocks are laid out in DFS order (the true successor right after its
 * test), returns last. Register contents are tracked across blocks: a block
 * whose predecessors all leave the needed value in A (or the needed index in
 * X) does not reload it, which is where most of libpcap's "common
 * subexpression" savings come from. Expressions that need both registers
 * spill to scratch memory. Conditional jumps farther than 255 instructions
 * go through an inserted `ja`.
 */
import { LangError } from '../errors.js';
import { type Branch, type DNode, isBranch, type RetNode, topo } from '../ir/dag.js';
import type { Test } from '../ir/pred.js';
import { mshOffset, type Val } from '../ir/value.js';
import {
  ABS, ADD, ALU, AND, B, BPF_MAXINSNS, DIV, H, IMM, IND, insn, type BpfInsn as Insn, JA, JEQ, JGE, JGT, JMP, JSET, K, LD, LDX,
  LEN, LSH, MEM, MISC, MOD, MSH, MUL, NEG, OR, RET, RSH, ST, STX, SUB, TAX, TXA, W, X, XOR,
} from '../../bpf/classic.js';
import { SKF_AD_OFF } from '../../bpf/ancillary.js';
import { Ipv4Field } from '../../decode/ipv4.js';
import { Ipv6Ext, Ipv6ExtField, Ipv6ExtLen, Ipv6Field, IPV6_HEADER_LEN } from '../../decode/ipv6.js';

/** The extension headers the protochain loop steps over with the (len + 1) * 8 rule, in libpcap's test order. */
const CHAIN_V6_EXT = [Ipv6Ext.HopByHop, Ipv6Ext.DestOpts, Ipv6Ext.Routing, Ipv6Ext.Fragment];

export interface CbpfOptions {
  /** 'kernel' refuses constructs the Linux verifier rejects (backward jumps). */
  target: 'file' | 'kernel';
}

interface RegState {
  A: Val | null;
  X: Val | null;
  /** Scratch words holding a computed value on every path to here. */
  M: ReadonlyMap<Val, number>;
}

/**
 * Scratch words of the program's 'store' values (the offsets behind
 * `geneve`): one word per value, taken from the top down, so that every
 * path that computes a value keeps it in the same word; a word is free again
 * after the last block (in layout order: jumps go forward) that may read
 * its value. A value read in one place only is not kept.
 */
class MemoSlots {
  private readonly slots = new Map<Val, number>();
  private readonly free: number[] = [];
  private next = 15;
  constructor(private readonly info: StoreInfo) {}
  /** Lowest slot ever taken (temporary spills must stay below it). */
  get low(): number { return this.next + 1; }
  get(v: Val): number | undefined {
    let s = this.slots.get(v);
    if (s === undefined && (this.info.uses.get(v) ?? 0) > 1) {
      if (this.free.length) s = this.free.pop()!;
      else if (this.next >= LOWEST_MEMO) s = this.next--;
      if (s !== undefined) this.slots.set(v, s);
    }
    return s;
  }
  /** Block `i` of the layout is done: free the words of the values no later block reads. */
  done(i: number): void {
    for (const v of this.info.endsAt.get(i) ?? []) {
      const s = this.slots.get(v);
      if (s === undefined) continue;
      this.slots.delete(v);
      this.free.push(s);
      this.free.sort((x, y) => x - y);
    }
  }
}

/** Words 1 .. LOWEST_MEMO - 1 stay free for spills (word 0 is the protochain loop's). */
const LOWEST_MEMO = 6;

interface StoreInfo {
  /** How many places read each value: nodes whose values refer to it, and definitions of other 'store' values (once each). */
  uses: Map<Val, number>;
  /** The 'store' values that no node after layout index i may read (through any definition). */
  endsAt: Map<number, Val[]>;
}

function storeInfo(layout: readonly DNode[]): StoreInfo {
  const uses = new Map<Val, number>();
  const last = new Map<Val, number>();
  const count = (v: Val): void => {
    switch (v.op) {
      case 'store': {
        const n = uses.get(v);
        uses.set(v, (n ?? 0) + 1);
        if (n === undefined) count(v.a);
        return;
      }
      case 'ld':
        if (v.base) count(v.base);
        return;
      case 'alu':
        count(v.a);
        count(v.b);
        return;
      case 'neg':
        count(v.a);
        return;
      default:
    }
  };
  // the stores a node reads, or a store it reads is defined from (a word reused early only costs a recomputation:
  // storing into a word makes every path forget the value it held)
  const reach = (v: Val, i: number, seen: Set<Val>, depth = 0): void => {
    switch (v.op) {
      case 'store':
        if (seen.has(v)) return;
        seen.add(v);
        last.set(v, i);
        if (depth < 1) reach(v.a, i, seen, depth + 1);
        return;
      case 'ld':
        if (v.base) reach(v.base, i, seen, depth);
        return;
      case 'alu':
        reach(v.a, i, seen, depth);
        reach(v.b, i, seen, depth);
        return;
      case 'neg':
        reach(v.a, i, seen, depth);
        return;
      default:
    }
  };
  layout.forEach((n, i) => {
    const vals: Val[] = [];
    if (n.kind === 'test') {
      vals.push(n.t.val);
      if (typeof n.t.rhs !== 'number') vals.push(n.t.rhs);
    } else if (n.kind === 'ret' && n.val) vals.push(n.val);
    for (const v of vals) count(v);
    const seen = new Set<Val>();
    for (const v of [...vals, ...(n.kind === 'test' ? n.t.keep ?? [] : [])]) reach(v, i, seen);
  });
  const endsAt = new Map<number, Val[]>();
  for (const [v, i] of last) (endsAt.get(i) ?? endsAt.set(i, []).get(i)!).push(v);
  return { uses, endsAt };
}

interface Block {
  node: DNode;
  code: Insn[];
  /** Index in `code` of the final conditional jump, or -1 (ret blocks). */
  cond: number;
  exit: RegState;
  jt: Block | null;
  jf: Block | null;
}

const ALU_CODE: Record<string, number> = { add: ADD, sub: SUB, mul: MUL, div: DIV, mod: MOD, and: AND, or: OR, xor: XOR, lsh: LSH, rsh: RSH };
const JMP_CODE: Record<string, number> = { jeq: JEQ, jgt: JGT, jge: JGE, jset: JSET };

/** Does computing `v` into A need the X register (values kept in scratch words `M` are one load)? */
function usesX(v: Val, M: ReadonlyMap<Val, number>): boolean {
  switch (v.op) {
    case 'ld':
      return v.base !== null;
    case 'alu':
      return v.b.op !== 'k' || usesX(v.a, M);
    case 'neg':
      return usesX(v.a, M);
    case 'store':
      return !M.has(v) && usesX(v.a, M);
    default:
      return false;
  }
}

/** Can `v` be put in X with one instruction that leaves A alone? */
function directX(v: Val, M: ReadonlyMap<Val, number>): boolean {
  return v.op === 'k' || v.op === 'len' || v.op === 'mem' || mshOffset(v) !== null || (v.op === 'store' && M.has(v));
}

class Emitter {
  code: Insn[] = [];
  private slot = 1;
  constructor(
    public st: RegState,
    private opts: CbpfOptions,
    private memo: MemoSlots,
  ) {}

  private emit(i: Insn): void {
    this.code.push(i);
  }

  ensureX(v: Val): void {
    if (this.st.X === v) return;
    const msh = mshOffset(v);
    if (v.op === 'k') this.emit(insn(LDX | W | IMM, v.k));
    else if (v.op === 'len') this.emit(insn(LDX | W | LEN));
    else if (v.op === 'mem') this.emit(insn(LDX | MEM, v.slot));
    else if (msh !== null) this.emit(insn(LDX | B | MSH, msh));
    else if (this.st.M.has(v)) this.emit(insn(LDX | MEM, this.st.M.get(v)!));
    else if (v.op === 'store' && directX(v.a, this.st.M)) {
      this.ensureX(v.a);
      this.keep(v, STX);
    } else {
      this.genA(v.op === 'store' ? v.a : v);
      this.emit(insn(MISC | TAX));
      if (v.op === 'store') this.keep(v, STX);
    }
    this.st.X = v;
  }

  /** Store the value just computed (in A with `ST`, in X with `STX`) into the word of 'store' value `v`. */
  private keep(v: Val, op: number): void {
    const slot = this.memo.get(v);
    if (slot === undefined) return; // out of words: later uses compute it again
    this.emit(insn(op, slot));
    // the word may have held another value (its last reader came earlier in the layout): forget it
    const M = new Map<Val, number>();
    for (const [w, s] of this.st.M) if (s !== slot) M.set(w, s);
    this.st.M = M.set(v, slot);
  }

  /** Make A hold the value of `a` while X holds `b` (for `op x` instructions). */
  private pairAX(a: Val, b: Val): void {
    if (!usesX(a, this.st.M)) {
      if (!(this.st.A === a && this.st.X === b)) {
        this.ensureX(b);
        this.genA(a);
      }
      return;
    }
    this.genA(a);
    if (this.st.X === b) return;
    if (directX(b, this.st.M)) {
      this.ensureX(b);
      return;
    }
    const kept = this.st.M.get(a);
    if (kept !== undefined) {
      // `a` is in a scratch word already: no spill
      this.ensureX(b);
      this.emit(insn(LD | MEM, kept));
      this.st.A = a;
      return;
    }
    const s = this.slot++;
    if (s >= this.memo.low) throw new LangError('expression needs more than 16 scratch memory words');
    this.emit(insn(ST, s));
    this.ensureX(b);
    this.emit(insn(LD | MEM, s));
    this.slot--;
    this.st.A = a;
  }

  genA(v: Val): void {
    if (this.st.A === v) return;
    const kept = this.st.M.get(v);
    if (kept !== undefined) {
      this.emit(insn(LD | MEM, kept));
      this.st.A = v;
      return;
    }
    switch (v.op) {
      case 'k':
        this.emit(insn(LD | W | IMM, v.k));
        break;
      case 'len':
        this.emit(insn(LD | W | LEN));
        break;
      case 'anc':
        this.emit(insn(LD | W | ABS, (SKF_AD_OFF + v.which) >>> 0));
        break;
      case 'mem':
        this.emit(insn(LD | MEM, v.slot));
        break;
      case 'store':
        this.genA(v.a);
        this.keep(v, ST);
        break;
      case 'ld': {
        const sz = v.size === 4 ? W : v.size === 2 ? H : B;
        if (v.off > 0x7fffffff) throw new LangError(`packet offset ${v.off} is out of range`);
        if (v.base === null) this.emit(insn(LD | sz | ABS, v.off));
        else {
          this.ensureX(v.base);
          this.emit(insn(LD | sz | IND, v.off));
        }
        break;
      }
      case 'neg':
        this.genA(v.a);
        this.emit(insn(ALU | NEG));
        break;
      case 'alu':
        if (v.b.op === 'k') {
          this.genA(v.a);
          let k = v.b.k;
          if ((v.alu === 'lsh' || v.alu === 'rsh') && k >= 32 && this.opts.target === 'kernel') k &= 31;
          this.emit(insn(ALU | ALU_CODE[v.alu] | K, k));
        } else {
          this.pairAX(v.a, v.b);
          this.emit(insn(ALU | ALU_CODE[v.alu] | X));
        }
        break;
    }
    this.st.A = v;
  }

  /** Compute a test's operands and emit its conditional jump (targets patched later). */
  test(t: Test): void {
    for (const v of t.keep ?? []) if (!this.st.M.has(v) && this.memo.get(v) !== undefined) this.genA(v);
    if (typeof t.rhs === 'number') {
      this.genA(t.val);
      this.emit(insn(JMP | JMP_CODE[t.jop] | K, t.rhs));
    } else {
      this.pairAX(t.val, t.rhs);
      this.st.A = t.val;
      this.emit(insn(JMP | JMP_CODE[t.jop] | X));
    }
  }

  /**
   * libpcap's protochain loop (gencode.c gen_protochain): walk IPv6
   * extension headers (hop-by-hop, destination options, routing, fragment)
   * and AH until the next-header value is `proto`, "no next header" or
   * something else, then test it. Reproduces libpcap's AH length handling.
   */
  chain(n: Extract<Branch, { kind: 'chain' }>): void {
    if (this.opts.target === 'kernel') {
      throw new LangError("'protochain' loops over extension headers with a backward jump, which the Linux kernel's BPF checker rejects; run it in JavaScript");
    }
    const b = n.base;
    const c = this.code;
    const r = 0; // scratch word used by the loop
    const at = (): number => c.length;
    if (n.family === 6) {
      c.push(insn(LD | B | ABS, b + Ipv6Field.NextHeader), insn(LDX | W | IMM, IPV6_HEADER_LEN));
    } else {
      c.push(insn(LD | B | ABS, b + Ipv4Field.Protocol), insn(LDX | B | MSH, b));
    }
    const again = at();
    const jv = at();
    c.push(insn(JMP | JEQ | K, n.proto));
    const jnone = at();
    c.push(insn(JMP | JEQ | K, Ipv6Ext.NoNext));
    const v6tests: number[] = [];
    if (n.family === 6) {
      for (const nh of CHAIN_V6_EXT) {
        v6tests.push(at());
        c.push(insn(JMP | JEQ | K, nh));
      }
      const adv = at();
      c.push(
        insn(LD | B | IND, b + Ipv6ExtField.NextHeader), insn(ST, r), insn(LD | B | IND, b + Ipv6ExtField.Length),
        insn(ALU | ADD | K, Ipv6ExtLen.Bias), insn(ALU | MUL | K, Ipv6ExtLen.Unit),
        insn(ALU | ADD | X), insn(MISC | TAX), insn(LD | MEM, r),
      );
      c.push(insn(JMP | JA, (again - (at() + 1)) >>> 0));
      for (const i of v6tests) c[i].jt = adv - (i + 1);
      for (let j = 0; j < v6tests.length - 1; j++) c[v6tests[j]].jf = 0;
    }
    const ah = at();
    c.push(insn(JMP | JEQ | K, Ipv6Ext.AH));
    if (v6tests.length) c[v6tests[v6tests.length - 1]].jf = ah - (v6tests[v6tests.length - 1] + 1);
    c[jnone].jf = (v6tests.length ? v6tests[0] : ah) - (jnone + 1);
    c[jv].jf = 0;
    c.push(
      // AH: next header, then its length byte ((len + 2) * 4), read with X moved one byte on as libpcap does
      insn(MISC | TXA), insn(LD | B | IND, b + Ipv6ExtField.NextHeader), insn(ST, r), insn(MISC | TXA), insn(ALU | ADD | K, Ipv6ExtField.Length),
      insn(MISC | TAX), insn(LD | B | IND, b), insn(ALU | ADD | K, Ipv6ExtLen.AhBias), insn(ALU | MUL | K, Ipv6ExtLen.AhUnit), insn(MISC | TAX),
      insn(LD | MEM, r),
    );
    c.push(insn(JMP | JA, (again - (at() + 1)) >>> 0));
    const end = at();
    c[jv].jt = end - (jv + 1);
    c[jnone].jt = end - (jnone + 1);
    c[ah].jf = end - (ah + 1);
    c.push(insn(JMP | JEQ | K, n.proto));
    this.st.A = null;
    this.st.X = null;
  }
}

function meet(a: RegState | undefined, b: RegState): RegState {
  if (!a) return { ...b };
  const M = new Map<Val, number>();
  for (const [v, s] of a.M) if (b.M.get(v) === s) M.set(v, s);
  return { A: a.A === b.A ? a.A : null, X: a.X === b.X ? a.X : null, M };
}

/** Generate a classic BPF program for the DAG rooted at `root`. */
export function genCbpf(root: DNode, opts: CbpfOptions): Insn[] {
  const order = topo(root);
  const branches = order.filter(isBranch);
  const rets = order.filter((n): n is RetNode => !isBranch(n));
  const layout: DNode[] = [...branches, ...rets];
  const entry = new Map<DNode, RegState>();
  const none = new Map<Val, number>();
  entry.set(root, { A: null, X: null, M: none });
  const blocks: Block[] = [];
  const memo = new MemoSlots(storeInfo(layout));
  for (const n of layout) {
    const st = entry.get(n) ?? { A: null, X: null, M: none };
    const em = new Emitter({ ...st }, opts, memo);
    let cond = -1;
    if (n.kind === 'test') {
      em.test(n.t);
      cond = em.code.length - 1;
    } else if (n.kind === 'chain') {
      em.chain(n);
      cond = em.code.length - 1;
    } else if (n.val) {
      em.genA(n.val);
      em.code.push(insn(RET | 0x10));
    } else {
      em.code.push(insn(RET | K, n.k));
    }
    const exit = em.st;
    memo.done(blocks.length);
    blocks.push({ node: n, code: em.code, cond, exit, jt: null, jf: null });
    if (isBranch(n)) {
      entry.set(n.jt, meet(entry.get(n.jt), exit));
      entry.set(n.jf, meet(entry.get(n.jf), exit));
    }
  }
  const byNode = new Map<DNode, Block>();
  for (const b of blocks) byNode.set(b.node, b);
  for (const b of blocks) {
    if (isBranch(b.node)) {
      b.jt = byNode.get(b.node.jt)!;
      b.jf = byNode.get(b.node.jf)!;
    }
  }
  return assemble(mergeBlocks(dropDeadStores(blocks)));
}

/**
 * Remove the stores of 'store' values into words no instruction of the
 * program loads (the value stayed in X for all its readers).
 */
function dropDeadStores(blocks: Block[]): Block[] {
  const loaded = new Set<number>();
  for (const b of blocks) for (const x of b.code) if (x.code === (LD | MEM) || x.code === (LDX | MEM)) loaded.add(x.k);
  for (const b of blocks) {
    if (!b.code.some((x) => (x.code === ST || x.code === STX) && !loaded.has(x.k))) continue;
    // the conditional jump ends its block: its index follows the removals
    b.code = b.code.filter((x) => !((x.code === ST || x.code === STX) && !loaded.has(x.k)));
    if (b.cond >= 0) b.cond = b.code.length - 1;
  }
  return blocks;
}

/**
 * Merge blocks whose emitted code and successors are identical (libpcap's
 * intern_blocks works on code the same way). Sound because every
 * successor's entry state was computed over all of its predecessors.
 */
function mergeBlocks(blocks: Block[]): Block[] {
  const canon = new Map<Block, Block>();
  const table = new Map<string, Block>();
  const ids = new Map<Block, number>();
  blocks.forEach((b, i) => ids.set(b, i));
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = blocks[i];
    if (b.jt) b.jt = canon.get(b.jt)!;
    if (b.jf) b.jf = canon.get(b.jf)!;
    const key = `${b.code.map((x) => `${x.code},${x.jt},${x.jf},${x.k}`).join(';')}|${b.jt ? ids.get(b.jt) : '-'}|${b.jf ? ids.get(b.jf) : '-'}`;
    const c = table.get(key) ?? b;
    table.set(key, c);
    canon.set(b, c);
  }
  return blocks.filter((b) => canon.get(b) === b);
}

/** Lay out blocks, resolve jumps, add `ja` trampolines for conditional jumps beyond 255. */
function assemble(blocks: Block[]): Insn[] {
  const index = new Map<Block, number>();
  blocks.forEach((b, i) => index.set(b, i));
  const tramp = blocks.map(() => ({ jt: false, jf: false }));
  for (let iter = 0; iter < 64; iter++) {
    const start: number[] = [];
    let pos = 0;
    for (let i = 0; i < blocks.length; i++) {
      start.push(pos);
      pos += blocks[i].code.length + (tramp[i].jt ? 1 : 0) + (tramp[i].jf ? 1 : 0);
    }
    let grew = false;
    const out: Insn[] = [];
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i];
      const code = b.code.map((x) => ({ ...x }));
      if (b.cond >= 0) {
        const p = start[i] + b.cond;
        const extra: Insn[] = [];
        const target = (t: Block, which: 'jt' | 'jf'): number => {
          const dest = start[index.get(t)!];
          let off = dest - (p + 1);
          if (tramp[i][which]) {
            const tpos = start[i] + b.code.length + extra.length;
            extra.push(insn(JMP | JA, dest - (tpos + 1)));
            off = tpos - (p + 1);
          } else if (off > 255) {
            tramp[i][which] = true;
            grew = true;
          }
          return off;
        };
        code[b.cond].jt = target(b.jt!, 'jt');
        code[b.cond].jf = target(b.jf!, 'jf');
        out.push(...code, ...extra);
      } else out.push(...code);
    }
    if (!grew) return out;
  }
  throw new LangError('could not lay out jumps');
}

