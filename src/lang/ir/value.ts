/**
 * Values of the filter IR: 32-bit unsigned expressions over the packet.
 *
 * Values are hash-consed per compilation (`Values`), so two structurally
 * equal expressions are the same object with the same `id`; the optimiser
 * and the code generators compare values by identity ("value numbering").
 * Construction folds constants and applies the algebraic identities
 * libpcap's optimiser applies (x+0, x*0, x&0, ...).
 */
import { LangError } from '../errors.js';

/** ALU operations (classic BPF set). */
export type AluOp = 'add' | 'sub' | 'mul' | 'div' | 'mod' | 'and' | 'or' | 'xor' | 'lsh' | 'rsh';

/** Linux SKF_AD_* ancillary fields (offsets relative to SKF_AD_OFF). */
export const ANC = {
  PROTOCOL: 0,
  PKTTYPE: 4,
  IFINDEX: 8,
  NLATTR: 12,
  NLATTR_NEST: 16,
  MARK: 20,
  QUEUE: 24,
  HATYPE: 28,
  RXHASH: 32,
  CPU: 36,
  ALU_XOR_X: 40,
  VLAN_TAG: 44,
  VLAN_TAG_PRESENT: 48,
  PAY_OFFSET: 52,
  RANDOM: 56,
  VLAN_TPID: 60,
} as const;

/** Pseudo-ancillary values that only exist in user space (combinator language state). */
export const JS_MARK = 1000;
export const JS_STATE = 1001;

export type Val =
  | { readonly op: 'k'; readonly id: number; readonly k: number }
  /** Packet load of `size` bytes at `base + off` (`base` null: absolute). */
  | { readonly op: 'ld'; readonly id: number; readonly size: 1 | 2 | 4; readonly base: Val | null; readonly off: number }
  | { readonly op: 'len'; readonly id: number }
  /** Ancillary (metadata) load, `which` is an ANC offset. */
  | { readonly op: 'anc'; readonly id: number; readonly which: number }
  | { readonly op: 'alu'; readonly id: number; readonly alu: AluOp; readonly a: Val; readonly b: Val }
  | { readonly op: 'neg'; readonly id: number; readonly a: Val }
  /** Scratch memory word written by earlier code of the same program (steering programs). */
  | { readonly op: 'mem'; readonly id: number; readonly slot: number }
  /**
   * The value of `a`, computed once on a path and kept for the later uses
   * (a scratch memory word in classic BPF, a stack slot in eBPF, a local in
   * JavaScript): the variable offsets behind an encapsulation (`geneve`),
   * which every later load is relative to.
   */
  | { readonly op: 'store'; readonly id: number; readonly a: Val };

/** Apply a BPF ALU operation on 32-bit unsigned values (division by zero yields 0, as at run time). */
export function aluApply(op: AluOp, a: number, b: number): number {
  switch (op) {
    case 'add':
      return (a + b) >>> 0;
    case 'sub':
      return (a - b) >>> 0;
    case 'mul':
      return Math.imul(a, b) >>> 0;
    case 'div':
      return b === 0 ? 0 : Math.floor(a / b) >>> 0;
    case 'mod':
      return b === 0 ? 0 : a % b >>> 0;
    case 'and':
      return (a & b) >>> 0;
    case 'or':
      return (a | b) >>> 0;
    case 'xor':
      return (a ^ b) >>> 0;
    case 'lsh':
      return b >= 32 ? 0 : (a << b) >>> 0;
    case 'rsh':
      return b >= 32 ? 0 : a >>> b;
  }
}

const COMMUTATIVE = new Set<AluOp>(['add', 'mul', 'and', 'or', 'xor']);

/** A hash-consing factory of values for one compilation. */
export class Values {
  private table = new Map<string, Val>();
  private nextId = 1;

  private intern<T extends Val>(key: string, make: (id: number) => T): T {
    let v = this.table.get(key);
    if (!v) {
      v = make(this.nextId++);
      this.table.set(key, v);
    }
    return v as T;
  }

  /** A constant (taken modulo 2^32). */
  k(n: number): Val {
    const k = n >>> 0;
    return this.intern(`k${k}`, (id) => ({ op: 'k', id, k }));
  }

  /** Packet length (`len`). */
  len(): Val {
    return this.intern('len', (id) => ({ op: 'len', id }));
  }

  anc(which: number): Val {
    return this.intern(`anc${which}`, (id) => ({ op: 'anc', id, which }));
  }

  mem(slot: number): Val {
    return this.intern(`mem${slot}`, (id) => ({ op: 'mem', id, slot }));
  }

  /** `a`, kept once computed (see the 'store' value); a constant or a load with a constant offset is cheaper to recompute. */
  store(a: Val): Val {
    if (a.op === 'k' || a.op === 'len' || a.op === 'store' || (a.op === 'ld' && a.base === null)) return a;
    return this.intern(`st:${a.id}`, (id) => ({ op: 'store', id, a }));
  }

  /** Load `size` bytes at `base + off`. A constant base, or base+constant, is folded into `off`. */
  ld(size: 1 | 2 | 4, base: Val | null, off: number): Val {
    let b = base;
    let o = off >>> 0;
    for (;;) {
      if (b && b.op === 'k') {
        o = (o + b.k) >>> 0;
        b = null;
      } else if (b && b.op === 'alu' && b.alu === 'add' && b.b.op === 'k') {
        o = (o + b.b.k) >>> 0;
        b = b.a;
      } else break;
    }
    const bb = b;
    return this.intern(`ld${size}:${bb ? bb.id : '-'}:${o}`, (id) => ({ op: 'ld', id, size, base: bb, off: o }));
  }

  /** An ALU operation, constant-folded and simplified like libpcap's optimiser does. */
  alu(op: AluOp, a: Val, b: Val): Val {
    if (a.op === 'k' && b.op === 'k') {
      if ((op === 'div' || op === 'mod') && b.k === 0) {
        throw new LangError(op === 'div' ? 'division by zero' : 'modulus by zero');
      }
      return this.k(aluApply(op, a.k, b.k));
    }
    if (COMMUTATIVE.has(op) && a.op === 'k') [a, b] = [b, a];
    if (b.op === 'k') {
      const k = b.k;
      if (k === 0) {
        if (op === 'add' || op === 'sub' || op === 'lsh' || op === 'rsh' || op === 'or' || op === 'xor') return a;
        if (op === 'mul' || op === 'and') return this.k(0);
        throw new LangError(op === 'div' ? 'division by zero' : 'modulus by zero');
      }
      // (x + c1) + c2 => x + (c1 + c2): keeps load offsets canonical.
      if (op === 'add' && a.op === 'alu' && a.alu === 'add' && a.b.op === 'k') {
        return this.alu('add', a.a, this.k(a.b.k + k));
      }
    }
    const aa = a;
    const bb = b;
    return this.intern(`${op}:${aa.id}:${bb.id}`, (id) => ({ op: 'alu', id, alu: op, a: aa, b: bb }));
  }

  neg(a: Val): Val {
    if (a.op === 'k') return this.k(-a.k);
    return this.intern(`neg:${a.id}`, (id) => ({ op: 'neg', id, a }));
  }

  /** 4 * (P[off] & 0xf): the IPv4 header length idiom (BPF `ldxb 4*([k]&0xf)`). */
  msh(base: Val | null, off: number): Val {
    return this.alu('lsh', this.alu('and', this.ld(1, base, off), this.k(0xf)), this.k(2));
  }
}

/** If `v` is the IPv4 header length idiom with an absolute offset, return that offset. */
export function mshOffset(v: Val): number | null {
  if (v.op !== 'alu' || v.alu !== 'lsh' || v.b.op !== 'k' || v.b.k !== 2) return null;
  const a = v.a;
  if (a.op !== 'alu' || a.alu !== 'and' || a.b.op !== 'k' || a.b.k !== 0xf) return null;
  const l = a.a;
  if (l.op !== 'ld' || l.size !== 1 || l.base !== null) return null;
  return l.off;
}

/** Does computing `v` read packet bytes or metadata (i.e. may it fail or vary per packet)? */
export function isConst(v: Val): v is Extract<Val, { op: 'k' }> {
  return v.op === 'k';
}

/** Short human-readable rendering of a value (for explain() and debugging). */
export function showVal(v: Val): string {
  switch (v.op) {
    case 'k':
      return v.k > 9 ? `0x${v.k.toString(16)}` : String(v.k);
    case 'ld': {
      const sz = v.size === 1 ? '' : `:${v.size}`;
      return v.base ? `pkt[${showVal(v.base)}+${v.off}${sz}]` : `pkt[${v.off}${sz}]`;
    }
    case 'len':
      return 'len';
    case 'anc':
      return `anc[${v.which}]`;
    case 'mem':
      return `M[${v.slot}]`;
    case 'store':
      return `{${showVal(v.a)}}`;
    case 'neg':
      return `-(${showVal(v.a)})`;
    case 'alu': {
      const sym: Record<AluOp, string> = { add: '+', sub: '-', mul: '*', div: '/', mod: '%', and: '&', or: '|', xor: '^', lsh: '<<', rsh: '>>' };
      return `(${showVal(v.a)} ${sym[v.alu]} ${showVal(v.b)})`;
    }
  }
}
