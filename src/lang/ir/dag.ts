/**
 * Decision DAG of a filter program and its optimiser.
 *
 * A predicate becomes a DAG of test nodes (each test has a true and a false
 * successor) ending in return nodes. The optimiser then applies, until
 * nothing changes, the transformations of libpcap's optimize.c:
 *
 * - jump threading: a test whose outcome is implied by the tests on every
 *   path to it is bypassed (libpcap's edge dominators + fold_edge, extended
 *   with range and bit-mask reasoning);
 * - removal of tests whose two successors are the same node;
 * - or/and pull-up: in a chain of ORed (ANDed) tests, a later test of the
 *   same value is moved up next to the first one, so the value is loaded
 *   once;
 * and finally merges identical nodes (common sub-DAGs, "interning").
 *
 * Every transformation keeps the verdict on any packet the same, except
 * that, exactly like libpcap, a load that no longer happens cannot fail.
 */
import type { Pred, Test } from './pred.js';
import type { Val } from './value.js';

export type DNode = TestNode | ChainNode | RetNode;

export interface TestNode {
  kind: 'test';
  id: number;
  t: Test;
  jt: DNode;
  jf: DNode;
}

/** The protochain loop (see Pred 'chain'). */
export interface ChainNode {
  kind: 'chain';
  id: number;
  family: 4 | 6;
  proto: number;
  base: number;
  jt: DNode;
  jf: DNode;
}

/** Return a constant (k) or a computed value (val). */
export interface RetNode {
  kind: 'ret';
  id: number;
  k: number;
  val: Val | null;
}

export type Branch = TestNode | ChainNode;

let nextId = 1;

export function ret(k: number, val: Val | null = null): RetNode {
  return { kind: 'ret', id: nextId++, k: k >>> 0, val };
}

export function isBranch(n: DNode): n is Branch {
  return n.kind !== 'ret';
}

/** Build the DAG of `p` with continuations `T` (true) and `F` (false). Sub-predicates are not duplicated. */
export function buildDag(p: Pred, T: DNode, F: DNode): DNode {
  switch (p.k) {
    case 'true':
      return T;
    case 'false':
      return F;
    case 'test':
      return T === F ? T : { kind: 'test', id: nextId++, t: p.t, jt: T, jf: F };
    case 'chain':
      return T === F ? T : { kind: 'chain', id: nextId++, family: p.family, proto: p.proto, base: p.base, jt: T, jf: F };
    case 'and':
      return buildDag(p.a, buildDag(p.b, T, F), F);
    case 'or':
      return buildDag(p.a, T, buildDag(p.b, T, F));
    case 'not':
      return buildDag(p.a, F, T);
  }
}

/** Nodes reachable from `root` in topological order (a node before its successors). */
export function topo(root: DNode): DNode[] {
  const seen = new Set<DNode>();
  const post: DNode[] = [];
  const stack: Array<[DNode, number]> = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [n, state] = top;
    if (isBranch(n) && state < 2) {
      top[1]++;
      // Visit jf first so that, in reverse post-order, jt comes right after its parent.
      const c = state === 0 ? n.jf : n.jt;
      if (!seen.has(c)) {
        seen.add(c);
        stack.push([c, 0]);
      }
      continue;
    }
    stack.pop();
    post.push(n);
  }
  return post.reverse();
}

// ------------------------------------------------------------------ facts ---

interface Fact {
  key: string;
  node: Branch;
  out: boolean;
}
type Facts = Map<string, Fact>;

function rhsKey(r: number | Val): string {
  return typeof r === 'number' ? `#${r}` : `v${r.id}`;
}

export function branchKey(n: Branch): string {
  if (n.kind === 'chain') return `chain:${n.family}:${n.proto}:${n.base}`;
  return `${n.t.val.id}:${n.t.jop}:${rhsKey(n.t.rhs)}`;
}

function intersect(a: Facts, b: Facts): Facts {
  const out: Facts = new Map();
  const [small, big] = a.size <= b.size ? [a, b] : [b, a];
  for (const [k, f] of small) {
    const g = big.get(k);
    if (g && g.out === f.out) out.set(k, f);
  }
  return out;
}

/** Outcome of test node `s` given facts `K`, or undefined when not implied. */
function decide(s: Branch, K: Facts): boolean | undefined {
  const same = K.get(branchKey(s));
  if (same) return same.out;
  if (s.kind === 'chain') return undefined;
  const t = s.t;
  if (typeof t.rhs !== 'number') return undefined;
  const c = t.rhs;
  // Range [lo, hi] and known bits of the value from constant-comparison facts.
  let lo = 0;
  let hi = 0xffffffff;
  let zeros = 0; // bits known clear (from jset false)
  const someOf: number[] = []; // masks of which at least one bit is set (jset true)
  const ne: number[] = [];
  for (const f of K.values()) {
    if (f.node.kind !== 'test') continue;
    const ft = f.node.t;
    if (ft.val !== t.val || typeof ft.rhs !== 'number') continue;
    const k = ft.rhs;
    switch (ft.jop) {
      case 'jeq':
        if (f.out) {
          lo = Math.max(lo, k);
          hi = Math.min(hi, k);
        } else ne.push(k);
        break;
      case 'jgt':
        if (f.out) lo = Math.max(lo, k + 1);
        else hi = Math.min(hi, k);
        break;
      case 'jge':
        if (f.out) lo = Math.max(lo, k);
        else hi = Math.min(hi, k - 1);
        break;
      case 'jset':
        if (f.out) someOf.push(k);
        else zeros |= k;
        break;
    }
  }
  if (lo > hi) return undefined; // contradictory facts: unreachable code, leave it alone
  switch (t.jop) {
    case 'jeq':
      if (c < lo || c > hi) return false;
      if ((c & zeros) !== 0) return false;
      if (someOf.some((m) => (c & m) === 0)) return false;
      if (ne.includes(c)) return false;
      if (lo === hi) return lo === c;
      return undefined;
    case 'jgt':
      if (lo > c) return true;
      if (hi <= c) return false;
      return undefined;
    case 'jge':
      if (lo >= c) return true;
      if (hi < c) return false;
      return undefined;
    case 'jset':
      if (lo === hi) return (lo & c) !== 0;
      if ((c & ~zeros) === 0) return false;
      if (someOf.some((m) => (m & ~c) === 0)) return true;
      return undefined;
  }
}

function withFact(F: Facts, n: Branch, out: boolean): Facts {
  const K: Facts = new Map(F);
  const key = branchKey(n);
  K.set(key, { key, node: n, out });
  return K;
}

/** Jump threading over the whole DAG; returns true when an edge moved. */
function thread(root: DNode): boolean {
  let changed = false;
  const order = topo(root);
  const entry = new Map<DNode, Facts>();
  entry.set(root, new Map());
  for (const n of order) {
    if (!isBranch(n)) continue;
    const F = entry.get(n);
    if (!F) continue; // became unreachable during this pass
    for (const out of [true, false]) {
      const K = withFact(F, n, out);
      const orig = out ? n.jt : n.jf;
      let s = orig;
      for (;;) {
        if (!isBranch(s)) break;
        if (s.jt === s.jf) {
          s = s.jt;
          continue;
        }
        const d = decide(s, K);
        if (d === undefined) break;
        s = d ? s.jt : s.jf;
      }
      if (s !== orig) {
        if (out) n.jt = s;
        else n.jf = s;
        changed = true;
      }
      const prev = entry.get(s);
      entry.set(s, prev ? intersect(prev, K) : K);
    }
  }
  return changed;
}

// --------------------------------------------------------------- pull-ups ---

interface Graph {
  order: DNode[];
  preds: Map<DNode, Branch[]>;
  dom: Map<DNode, Set<DNode>>;
  level: Map<DNode, number>;
}

function analyse(root: DNode): Graph {
  const order = topo(root);
  const preds = new Map<DNode, Branch[]>();
  for (const n of order) preds.set(n, []);
  for (const n of order) {
    if (!isBranch(n)) continue;
    preds.get(n.jt)!.push(n);
    if (n.jf !== n.jt) preds.get(n.jf)!.push(n);
  }
  const dom = new Map<DNode, Set<DNode>>();
  for (const n of order) {
    const ps = preds.get(n)!;
    let d: Set<DNode>;
    if (ps.length === 0) d = new Set();
    else {
      d = new Set(dom.get(ps[0])!);
      for (const p of ps.slice(1)) {
        const pd = dom.get(p)!;
        for (const x of d) if (!pd.has(x)) d.delete(x);
      }
    }
    d.add(n);
    dom.set(n, d);
  }
  const level = new Map<DNode, number>();
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i];
    level.set(n, isBranch(n) ? Math.max(level.get(n.jt)!, level.get(n.jf)!) + 1 : 0);
  }
  return { order, preds, dom, level };
}

/** A-register value a branch leaves behind (its tested value), or null for opaque nodes. */
function aval(n: DNode): Val | null {
  return n.kind === 'test' ? n.t.val : null;
}

/** libpcap's or_pullup (sense 'or': chain on false edges, same true target) and and_pullup. */
function pullup(g: Graph, b: DNode, sense: 'or' | 'and'): boolean {
  if (!isBranch(b)) return false;
  const ps = g.preds.get(b)!;
  if (ps.length === 0) return false;
  const val = aval(ps[0]);
  if (val === null) return false;
  for (const p of ps) if (aval(p) !== val) return false;
  const chainNext = (n: Branch): DNode => (sense === 'or' ? n.jf : n.jt);
  const exitOf = (n: Branch): DNode => (sense === 'or' ? n.jt : n.jf);
  const setChainNext = (n: Branch, v: DNode): void => {
    if (sense === 'or') n.jf = v;
    else n.jt = v;
  };
  const target = exitOf(b);
  // Walk down from b while nodes test `val`.
  let diffOwner: Branch | null = null; // node whose chain edge points at `diff` (null: b's preds)
  let diff: DNode = b;
  let atTop = true;
  for (;;) {
    if (!isBranch(diff)) return false;
    if (exitOf(diff) !== target) return false;
    if (!g.dom.get(diff)!.has(b)) return false;
    if (aval(diff) !== val) break;
    diffOwner = diff;
    diff = chainNext(diff);
    atTop = false;
  }
  // Find a later node of the chain that tests `val` again.
  let sameOwner: Branch = diff as Branch;
  let same: DNode = chainNext(sameOwner);
  for (;;) {
    if (!isBranch(same)) return false;
    if (exitOf(same) !== target) return false;
    if (!g.dom.get(same)!.has(b)) return false;
    if (aval(same) === val) break;
    sameOwner = same;
    same = chainNext(same);
  }
  const pull = same as Branch;
  setChainNext(sameOwner, chainNext(pull));
  setChainNext(pull, diff);
  if (atTop) {
    for (const p of ps) {
      if (p.jt === b) p.jt = pull;
      if (p.jf === b) p.jf = pull;
    }
  } else {
    setChainNext(diffOwner!, pull);
  }
  return true;
}

function pullups(root: DNode): boolean {
  for (let guard = 0; guard < 10000; guard++) {
    const g = analyse(root);
    const byLevel = [...g.order].filter(isBranch).sort((a, b) => g.level.get(a)! - g.level.get(b)!);
    let moved = false;
    for (const n of byLevel) {
      if (pullup(g, n, 'or') || pullup(g, n, 'and')) {
        moved = true;
        break;
      }
    }
    if (!moved) return guard > 0;
  }
  return true;
}

// ------------------------------------------------------------- interning ---

/** Merge structurally identical nodes and drop tests with equal successors; returns the new root. */
export function intern(root: DNode): DNode {
  const order = topo(root);
  const canon = new Map<DNode, DNode>();
  const table = new Map<string, DNode>();
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i];
    if (!isBranch(n)) {
      const key = n.val ? `ra:${n.val.id}` : `r:${n.k}`;
      const c = table.get(key) ?? n;
      table.set(key, c);
      canon.set(n, c);
      continue;
    }
    const jt = canon.get(n.jt)!;
    const jf = canon.get(n.jf)!;
    if (jt === jf) {
      canon.set(n, jt);
      continue;
    }
    const key = `${branchKey(n)}|${jt.id}|${jf.id}`;
    let c = table.get(key);
    if (!c) {
      n.jt = jt;
      n.jf = jf;
      c = n;
      table.set(key, c);
    }
    canon.set(n, c);
  }
  return canon.get(root)!;
}

/** Optimise a DAG; returns the new root. */
export function optimize(root: DNode): DNode {
  // Phase 1 (libpcap's opt_loop without statements): threading and pull-ups to a fixed point.
  for (let round = 0; round < 1000; round++) {
    let changed = false;
    while (thread(root)) changed = true;
    if (isBranch(root) && root.jt === root.jf) {
      root = root.jt;
      changed = true;
    }
    if (pullups(root)) changed = true;
    if (!changed) break;
  }
  // Merge identical nodes, then thread again across the merged graph.
  root = intern(root);
  while (thread(root)) root = intern(root);
  return root;
}

/** Number of branch nodes reachable from `root`. */
export function countBranches(root: DNode): number {
  return topo(root).filter(isBranch).length;
}
