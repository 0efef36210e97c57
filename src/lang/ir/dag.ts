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
    case 'or': {
      // operands of the whole same-operator subtree, left to right, built from the right (no deep recursion)
      const ops = operands(p);
      let c = p.k === 'and' ? T : F;
      for (let i = ops.length - 1; i >= 0; i--) c = p.k === 'and' ? buildDag(ops[i], c, F) : buildDag(ops[i], T, c);
      return c;
    }
    case 'not':
      return buildDag(p.a, F, T);
  }
}

/** The operands of an and/or subtree (nested nodes of the same operator flattened), left to right. */
function operands(p: Pred & { k: 'and' | 'or' }): Pred[] {
  const out: Pred[] = [];
  const stack: Pred[] = [p];
  while (stack.length) {
    const q = stack.pop()!;
    if (q.k === p.k) {
      const qq = q as Pred & { k: 'and' | 'or' };
      stack.push(qq.b, qq.a);
    } else out.push(q);
  }
  return out;
}

/** Nodes reachable from `root` in topological order (a node before its successors). */
export function topo(root: DNode): DNode[] {
  const seen = new Set<DNode>();
  const post: DNode[] = [];
  const nodes: DNode[] = [root];
  const states: number[] = [0];
  seen.add(root);
  while (nodes.length) {
    const top = nodes.length - 1;
    const n = nodes[top];
    const state = states[top];
    if (isBranch(n) && state < 2) {
      states[top] = state + 1;
      // Visit jf first so that, in reverse post-order, jt comes right after its parent.
      const c = state === 0 ? n.jf : n.jt;
      if (!seen.has(c)) {
        seen.add(c);
        nodes.push(c);
        states.push(0);
      }
      continue;
    }
    nodes.pop();
    states.pop();
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
  return decideRange(s, K.values());
}

/** Outcome of `s` from the range and bit facts among `facts` (constant comparisons of the same value). */
function decideRange(s: TestNode, facts: Iterable<Fact>): boolean | undefined {
  const t = s.t;
  if (typeof t.rhs !== 'number') return undefined;
  const c = t.rhs;
  // Range [lo, hi] and known bits of the value from constant-comparison facts.
  let lo = 0;
  let hi = 0xffffffff;
  let zeros = 0; // bits known clear (from jset false)
  const someOf: number[] = []; // masks of which at least one bit is set (jset true)
  const ne: number[] = [];
  for (const f of facts) {
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

/**
 * Jump threading for large DAGs, linear in their size: the facts known at a
 * node are those of the chain of single-entry edges that leads to it (a node
 * entered by one edge inherits its predecessor's facts plus that edge's),
 * kept in one scoped table during a walk of that forest instead of a copied
 * set per node. Weaker than {@link thread} (facts that hold on every path
 * into a join are missed), never unsound.
 */
/** Longest run of decided tests one edge of {@link threadLarge} skips in one pass. */
const LARGE_WALK = 32;

function threadLarge(root: DNode): boolean {
  const order = topo(root);
  const n = order.length;
  order.forEach((x, i) => {
    (x as Indexed)[IX] = i;
  });
  const npred = new Int32Array(n);
  const parent = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const x = order[i];
    if (!isBranch(x)) continue;
    const t = ixOf(x.jt);
    npred[t]++;
    parent[t] = i;
    if (x.jf !== x.jt) {
      const f = ixOf(x.jf);
      npred[f]++;
      parent[f] = i;
    }
  }
  // a node entered by exactly one edge inherits the facts above it plus that edge's: a forest of such edges
  const firstKid = new Int32Array(n).fill(-1);
  const nextSib = new Int32Array(n).fill(-1);
  const tops: number[] = [];
  for (let i = n - 1; i >= 0; i--) {
    if (npred[i] !== 1) { tops.push(i); continue; }
    nextSib[i] = firstKid[parent[i]];
    firstKid[parent[i]] = i;
  }
  const inFact = (i: number): Fact | null => {
    if (npred[i] !== 1) return null;
    const p = order[parent[i]] as Branch;
    return { key: branchKey(p), node: p, out: p.jt === order[i] };
  };
  const known = new Map<string, boolean>();
  /** Per value: its facts other than `jeq false` (those are found by key), most recent last. */
  const byVal = new Map<Val, Fact[]>();
  // undo log: key and its previous value, and the value whose list got a fact (or null)
  const uKey: string[] = [];
  const uPrev: Array<boolean | undefined> = [];
  const uVal: Array<Val | null> = [];
  const push = (f: Fact): void => {
    uKey.push(f.key);
    uPrev.push(known.get(f.key));
    known.set(f.key, f.out);
    if (f.node.kind === 'test' && !(f.node.t.jop === 'jeq' && !f.out)) {
      const v = f.node.t.val;
      (byVal.get(v) ?? byVal.set(v, []).get(v)!).push(f);
      uVal.push(v);
    } else uVal.push(null);
  };
  const rollback = (mark: number): void => {
    while (uKey.length > mark) {
      const k = uKey.pop()!;
      const prev = uPrev.pop();
      const v = uVal.pop()!;
      if (prev === undefined) known.delete(k);
      else known.set(k, prev);
      if (v !== null) byVal.get(v)!.pop();
    }
  };
  const decideLarge = (s: Branch): boolean | undefined => {
    const same = known.get(branchKey(s));
    if (same !== undefined) return same;
    if (s.kind === 'chain') return undefined;
    const list = byVal.get(s.t.val);
    if (list === undefined || list.length === 0 || typeof s.t.rhs !== 'number') return undefined;
    return decideRange(s, list.length > 64 ? list.slice(-64) : list);
  };
  let changed = false;
  const stack: Array<{ i: number; mark: number; next: number }> = [];
  const enter = (i: number): void => {
    const mark = uKey.length;
    const f = inFact(i);
    if (f) push(f);
    const x = order[i];
    if (isBranch(x)) {
      const key = branchKey(x);
      for (const out of [true, false]) {
        const orig = out ? x.jt : x.jf;
        const m = uKey.length;
        push({ key, node: x, out });
        let s = orig;
        // a bounded walk (the next pass goes on from where it stopped): a packet that is neither IPv4 nor
        // IPv6 skips every term of `port 1 or port 2 or ...`, and walking all of them from every edge is quadratic
        for (let step = 0; step < LARGE_WALK; step++) {
          if (!isBranch(s)) break;
          if (s.jt === s.jf) { s = s.jt; continue; }
          const d = decideLarge(s);
          if (d === undefined) break;
          s = d ? s.jt : s.jf;
        }
        rollback(m);
        if (s !== orig) {
          if (out) x.jt = s;
          else x.jf = s;
          changed = true;
        }
      }
    }
    stack.push({ i, mark, next: firstKid[i] });
  };
  for (const t of tops) {
    enter(t);
    while (stack.length) {
      const top = stack[stack.length - 1];
      if (top.next >= 0) {
        const k = top.next;
        top.next = nextSib[k];
        enter(k);
        continue;
      }
      rollback(top.mark);
      stack.pop();
    }
  }
  return changed;
}

// --------------------------------------------------------------- pull-ups ---

interface Graph {
  order: DNode[];
  preds: Map<DNode, Branch[]>;
  /** Does `a` dominate `b` (every path from the root to `b` passes `a`)? */
  dominates(a: DNode, b: DNode): boolean;
  level: Map<DNode, number>;
  /** Immediate dominator of order[i] (index into order; -1 for the root). */
  idom: Int32Array;
}

/** Scratch index of a node in the current analysis (set by analyse). */
const IX = Symbol('ix');
type Indexed = DNode & { [IX]?: number };
const ixOf = (n: DNode): number => (n as Indexed)[IX]!;

function analyse(root: DNode): Graph {
  const order = topo(root);
  const n = order.length;
  order.forEach((x, i) => {
    (x as Indexed)[IX] = i;
  });
  const preds = new Map<DNode, Branch[]>();
  for (const x of order) preds.set(x, []);
  for (const x of order) {
    if (!isBranch(x)) continue;
    preds.get(x.jt)!.push(x);
    if (x.jf !== x.jt) preds.get(x.jf)!.push(x);
  }
  // Immediate dominators (Cooper, Harvey, Kennedy), one pass in topological order.
  const idom = new Int32Array(n).fill(-1);
  for (let i = 1; i < n; i++) {
    const ps = preds.get(order[i])!;
    let d = ixOf(ps[0]);
    for (let j = 1; j < ps.length; j++) {
      let a = ixOf(ps[j]);
      let b = d;
      while (a !== b) {
        while (a > b) a = idom[a];
        while (b > a) b = idom[b];
      }
      d = a;
    }
    idom[i] = d;
  }
  // Dominator-tree intervals: a dominates b iff b's interval nests in a's.
  const firstKid = new Int32Array(n).fill(-1);
  const nextSib = new Int32Array(n).fill(-1);
  for (let i = n - 1; i >= 1; i--) {
    nextSib[i] = firstKid[idom[i]];
    firstKid[idom[i]] = i;
  }
  const enter = new Int32Array(n);
  const exit = new Int32Array(n);
  let clock = 0;
  const stack: number[] = [0];
  const cursor = new Int32Array(n).fill(-2);
  enter[0] = clock++;
  while (stack.length) {
    const t = stack[stack.length - 1];
    const c = cursor[t] === -2 ? firstKid[t] : nextSib[cursor[t]];
    if (c >= 0) {
      cursor[t] = c;
      enter[c] = clock++;
      stack.push(c);
    } else {
      exit[t] = clock++;
      stack.pop();
    }
  }
  const dominates = (a: DNode, b: DNode): boolean => {
    const ia = ixOf(a);
    const ib = ixOf(b);
    return enter[ia] <= enter[ib] && exit[ib] <= exit[ia];
  };
  const level = new Map<DNode, number>();
  for (let i = n - 1; i >= 0; i--) {
    const x = order[i];
    level.set(x, isBranch(x) ? Math.max(level.get(x.jt)!, level.get(x.jf)!) + 1 : 0);
  }
  return { order, preds, dominates, level, idom };
}

/** A-register value a branch leaves behind (its tested value), or null for opaque nodes. */
function aval(n: DNode): Val | null {
  return n.kind === 'test' ? n.t.val : null;
}

/**
 * libpcap's or_pullup (sense 'or': chain on false edges, same true target)
 * and and_pullup. Nodes touched by an earlier pull of the same round are in
 * `dirty` (the analysis is stale around them) and stop the walk.
 */
function pullup(g: Graph, b: DNode, sense: 'or' | 'and', dirty: Map<DNode, DNode>): 'none' | 'inner' | 'top' {
  const foreign = (x: DNode): boolean => {
    const o = dirty.get(x);
    return o !== undefined && o !== b;
  };
  if (!isBranch(b) || foreign(b)) return 'none';
  const seen: DNode[] = [b];
  const ps = g.preds.get(b)!;
  if (ps.length === 0) return 'none';
  const val = aval(ps[0]);
  if (val === null) return 'none';
  for (const p of ps) if (aval(p) !== val) return 'none';
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
    if (!isBranch(diff) || foreign(diff)) return 'none';
    seen.push(diff);
    if (exitOf(diff) !== target) return 'none';
    if (!g.dominates(b, diff)) return 'none';
    if (aval(diff) !== val) break;
    diffOwner = diff;
    diff = chainNext(diff);
    atTop = false;
  }
  // Find a later node of the chain that tests `val` again.
  let sameOwner: Branch = diff as Branch;
  let same: DNode = chainNext(sameOwner);
  for (;;) {
    if (!isBranch(same) || foreign(same)) return 'none';
    seen.push(same);
    if (exitOf(same) !== target) return 'none';
    if (!g.dominates(b, same)) return 'none';
    if (aval(same) === val) break;
    sameOwner = same;
    same = chainNext(same);
  }
  const pull = same as Branch;
  for (const x of seen) dirty.set(x, b);
  dirty.set(chainNext(pull), b);
  setChainNext(sameOwner, chainNext(pull));
  setChainNext(pull, diff);
  if (atTop) {
    for (const p of ps) {
      if (p.jt === b) p.jt = pull;
      if (p.jf === b) p.jf = pull;
    }
    return 'top'; // b's predecessors changed: the analysis no longer holds for b
  }
  setChainNext(diffOwner!, pull);
  return 'inner';
}

/**
 * Rounds of pull-ups (as libpcap: every node by level, one analysis per
 * round) until none applies or the budget of rounds is spent (huge
 * expressions: each round is linear, and the corpus needs at most 6).
 */
function pullups(root: DNode, budget: { rounds: number }): boolean {
  for (let round = 0; budget.rounds > 0; round++, budget.rounds--) {
    const g = analyse(root);
    const byLevel = [...g.order].filter(isBranch).sort((a, b) => g.level.get(a)! - g.level.get(b)!);
    const dirty = new Map<DNode, DNode>();
    let moved = false;
    for (const n of byLevel) {
      // Repeated pulls under the same head keep its chain dominated by it, so they can go on.
      for (const sense of ['or', 'and'] as const) {
        for (let r = pullup(g, n, sense, dirty); r !== 'none'; r = r === 'top' ? 'none' : pullup(g, n, sense, dirty)) moved = true;
      }
    }
    if (!moved) return round > 0;
  }
  return false;
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

/**
 * The fixed point pull-ups tend to, reached directly: in every chain of ORed
 * (ANDed) tests that is entered only at its head, put tests of the same
 * value next to each other (first the value its head's predecessors leave in
 * A, then by first appearance, stable). Used on huge expressions once the
 * pull-up budget is spent.
 */
function groupChains(root: DNode): { root: DNode; changed: boolean } {
  let changed = false;
  for (let guard = 0; guard < 100000; guard++) {
    const r = groupOneChain(root);
    if (!r) break;
    root = r;
    changed = true;
  }
  return { root, changed };
}

/** Regroup the first chain that needs it; returns the (possibly new) root, or null when none did. */
function groupOneChain(root: DNode): DNode | null {
  for (const sense of ['or', 'and'] as const) {
    const g = analyse(root);
    const next = (n: Branch): DNode => (sense === 'or' ? n.jf : n.jt);
    const exitOf = (n: Branch): DNode => (sense === 'or' ? n.jt : n.jf);
    const inChain = new Set<DNode>();
    for (const h of g.order) {
      if (h.kind !== 'test' || inChain.has(h)) continue;
      const chain: TestNode[] = [h];
      let c = next(h);
      while (c.kind === 'test' && exitOf(c) === exitOf(h) && g.preds.get(c)!.length === 1 && c.jt !== c.jf) {
        chain.push(c);
        c = next(c);
      }
      const tail = c;
      for (const x of chain) inChain.add(x);
      if (chain.length < 3) continue;
      const ps = g.preds.get(h)!;
      const lead = ps.length > 0 && ps.every((p) => aval(p) === aval(ps[0])) ? aval(ps[0]) : null;
      const groups = new Map<Val, TestNode[]>();
      if (lead) groups.set(lead, []);
      for (const x of chain) (groups.get(x.t.val) ?? groups.set(x.t.val, []).get(x.t.val)!).push(x);
      const order = [...groups.values()].flat();
      if (order.every((x, i) => x === chain[i])) continue;
      for (let i = 0; i < order.length; i++) {
        const to = i + 1 < order.length ? order[i + 1] : tail;
        if (sense === 'or') order[i].jf = to;
        else order[i].jt = to;
      }
      for (const p of ps) {
        if (p.jt === h) p.jt = order[0];
        if (p.jf === h) p.jf = order[0];
      }
      return root === h ? order[0] : root;
    }
  }
  return null;
}

/** Total pull-up rounds per optimisation (bounds compile time on huge expressions). */
export const PULLUP_ROUNDS = 48;

/**
 * DAGs with more nodes than this (filters of hundreds of ORed terms) are
 * optimised with work linear in their size: jump threading along
 * single-entry edges only ({@link threadLarge}), no pull-ups, a bounded
 * number of passes, then merging of identical nodes. Every smaller DAG gets
 * the full optimiser.
 */
export const LARGE_DAG = 10000;

/** Optimise a DAG; returns the new root. */
export function optimize(root: DNode): DNode {
  const size = topo(root).length;
  const large = size > LARGE_DAG;
  const threadFn = large ? threadLarge : thread;
  // Phase 1 (libpcap's opt_loop without statements): threading and pull-ups to a fixed point.
  const budget = { rounds: PULLUP_ROUNDS };
  const maxRounds = large ? 2 : 1000;
  for (let round = 0; round < maxRounds; round++) {
    let changed = false;
    for (let pass = 0; pass < (large ? 2 : Infinity) && threadFn(root); pass++) changed = true;
    if (isBranch(root) && root.jt === root.jf) {
      root = root.jt;
      changed = true;
    }
    // (pull-ups need the dominator tree, whose construction is not linear on long chains)
    if (!large && pullups(root, budget)) changed = true;
    if (budget.rounds <= 0 && !large) {
      const gc = groupChains(root);
      root = gc.root;
      if (gc.changed) while (threadFn(root)) changed = true;
    }
    if (!changed) break;
  }
  // Merge identical nodes, then thread again across the merged graph.
  root = intern(root);
  for (let pass = 0; pass < (large ? 2 : Infinity) && threadFn(root); pass++) root = intern(root);
  return root;
}

/** Number of branch nodes reachable from `root`. */
export function countBranches(root: DNode): number {
  return topo(root).filter(isBranch).length;
}
