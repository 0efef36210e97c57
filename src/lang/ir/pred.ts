/**
 * Boolean predicates of the filter IR, built by the front ends and turned
 * into a decision DAG by `dag.ts`.
 *
 * A test compares a value with a constant (or with a second value, which
 * the BPF backend puts in the X register) using one of BPF's four
 * conditional jumps. Construction normalises tests the way libpcap's
 * peephole optimiser does (`sub #k; jeq #v` -> `jeq #v+k`, `and #k; jeq #0`
 * -> `jset #k` negated, constant operands folded).
 */
import { aluApply, type Val, type Values } from './value.js';

export type JmpOp = 'jeq' | 'jgt' | 'jge' | 'jset';

export interface Test {
  readonly val: Val;
  readonly jop: JmpOp;
  /** Constant right-hand side, or a value (compared through X). */
  readonly rhs: number | Val;
  /**
   * 'store' values to compute and keep where this test runs, for the code
   * after it on both edges (a join would otherwise compute them once per
   * incoming path). They must read no packet byte past what the test reads:
   * computing them cannot fail where the test does not. A hint: a back end
   * may ignore it, and the optimiser may drop it with the test.
   */
  readonly keep?: readonly Val[];
}

export type Pred =
  | { readonly k: 'true' }
  | { readonly k: 'false' }
  | { readonly k: 'test'; readonly t: Test }
  | { readonly k: 'and' | 'or'; readonly a: Pred; readonly b: Pred }
  | { readonly k: 'not'; readonly a: Pred }
  /**
   * libpcap's `protochain` loop: follow the IPv4 (AH only) or IPv6
   * extension-header chain from the header at `base` and compare the final
   * next-header value with `proto`. Needs a backward jump in BPF.
   */
  | { readonly k: 'chain'; readonly family: 4 | 6; readonly proto: number; readonly base: number };

/** `p` with its test (under any `not`) asked to keep `vals` (see Test.keep); other predicates unchanged. */
export function keeping(p: Pred, vals: readonly Val[]): Pred {
  if (p.k === 'not') return not(keeping(p.a, vals));
  if (p.k !== 'test') return p;
  return { k: 'test', t: { ...p.t, keep: [...(p.t.keep ?? []), ...vals.filter((v) => v.op === 'store')] } };
}

export const TRUE: Pred = { k: 'true' };
export const FALSE: Pred = { k: 'false' };

export function and(a: Pred, b: Pred): Pred {
  if (a.k === 'false') return FALSE;
  if (a.k === 'true') return b;
  if (b.k === 'true') return a;
  if (b.k === 'false') return FALSE;
  return { k: 'and', a, b };
}

export function or(a: Pred, b: Pred): Pred {
  if (a.k === 'true') return TRUE;
  if (a.k === 'false') return b;
  if (b.k === 'false') return a;
  if (b.k === 'true') return TRUE;
  return { k: 'or', a, b };
}

export function not(a: Pred): Pred {
  if (a.k === 'true') return FALSE;
  if (a.k === 'false') return TRUE;
  if (a.k === 'not') return a.a;
  return { k: 'not', a };
}

function evalJmp(jop: JmpOp, a: number, b: number): boolean {
  switch (jop) {
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

/** Build a normalised test `val jop rhs`. */
export function test(V: Values, val: Val, jop: JmpOp, rhs: number | Val): Pred {
  if (typeof rhs !== 'number' && rhs.op === 'k') rhs = rhs.k;
  if (typeof rhs === 'number') {
    rhs = rhs >>> 0;
    if (val.op === 'k') return evalJmp(jop, val.k, rhs) ? TRUE : FALSE;
    if (jop === 'jeq' && val.op === 'alu' && val.b.op === 'k') {
      // sub #k ; jeq #v  ->  jeq #(v + k)
      if (val.alu === 'sub') return test(V, val.a, 'jeq', aluApply('add', rhs, val.b.k));
      // and #k ; jeq #0  ->  !jset #k
      if (val.alu === 'and' && rhs === 0) return not(test(V, val.a, 'jset', val.b.k));
    }
    if (jop === 'jset') {
      if (rhs === 0) return FALSE;
      // libpcap's peephole treats `jset #0xffffffff` as always true.
      if (rhs === 0xffffffff) return TRUE;
    }
    return { k: 'test', t: { val, jop, rhs } };
  }
  // Two values: keep a constant on the right-hand side.
  if (val.op === 'k') {
    const c = val.k;
    switch (jop) {
      case 'jeq':
        return test(V, rhs, 'jeq', c);
      case 'jgt': // c > v  <=>  !(v >= c)
        return not(test(V, rhs, 'jge', c));
      case 'jge': // c >= v <=>  !(v > c)
        return not(test(V, rhs, 'jgt', c));
      case 'jset':
        return test(V, rhs, 'jset', c);
    }
  }
  return { k: 'test', t: { val, jop, rhs } };
}
