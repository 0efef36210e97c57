/**
 * eBPF code generation straight from the optimised decision DAG (no classic
 * BPF in between, no clang at run time), for three hooks:
 *
 * - `xdp`: XDP program; packet bytes read directly between xdp_md->data and
 *   data_end. The frame is what the driver received: a VLAN tag is in the
 *   bytes (no hardware offload on the paths netring uses), so the DAG must be
 *   lowered like a capture file (tags inline).
 * - `tc`: SCHED_CLS program (clsact/tcx); direct packet access through
 *   __sk_buff->data/data_end; skb metadata (VLAN tag, packet type, ifindex)
 *   from __sk_buff fields, so the kernel lowering (tags in metadata or
 *   inline) applies.
 * - `socket`: SOCKET_FILTER program (SO_ATTACH_BPF, PACKET_FANOUT_DATA);
 *   socket filters may not read skb->data directly, so packet bytes come
 *   through the legacy LD_ABS/LD_IND instructions at SKF_LL_OFF-relative
 *   offsets (the same bytes whether skb->data is at the MAC or the network
 *   header); metadata from __sk_buff fields; kernel lowering.
 *
 * What the verifier needs, and what this generator guarantees: one packet
 * bounds check per block covering every direct load in it, skipped where
 * every path already checked as far (`data + N > data_end` -> miss); the
 * packet pointer stays in r6 and indirect loads go through a bounded
 * (<= 0xffff) index added to a copy; divisors are checked for zero; only
 * forward jumps (blocks in topological order), no unreachable block, 16-bit
 * jump offsets checked by the assembler.
 *
 * Semantics are the classic ones: a load outside the packet or a division by
 * zero ends the program as a non-match; values are 32-bit unsigned; shifts
 * use the low five bits of the amount.
 *
 * Interface: {@link generate} returns an {@link EbpfFilter} whose program
 * ends in the `onMatch` / `onMiss` epilogues the caller chose; a caller that
 * needs more than a return value (actions, counters) passes `epilogue` and
 * emits its own code at the match label.
 */
import { AD } from '../../bpf/ancillary.js';
import {
  E_ADD, E_AND, E_B, E_DIV, E_H, E_JEQ, E_JGE, E_JGT, E_JLE, E_JLT, E_JNE, E_JSET, E_LSH, E_MOD, E_MUL, E_OR, E_RSH, E_SUB, E_W, E_XOR,
  R0, R1, R2, R6, R7, R8, R10, type EbpfInsn, E_LD, E_ABS, E_IND, E_DW,
} from '../../bpf/ebpf.js';
import { EAsm, type ELabel } from '../../bpf/easm.js';
import { SKB_FIELD } from '../../bpf/translate.js';
import { LangError } from '../errors.js';
import { type Branch, type DNode, isBranch, topo } from '../ir/dag.js';
import type { Test } from '../ir/pred.js';
import { JS_MARK, JS_STATE, type Val } from '../ir/value.js';

/** Where the program runs. */
export type Hook = 'xdp' | 'tc' | 'socket';

/** XDP verdicts (enum xdp_action). */
export const XDP = Object.freeze({ ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 });
/** tc verdicts (TC_ACT_*). */
export const TC = Object.freeze({ OK: 0, SHOT: 2, REDIRECT: 7 });

/** Options of {@link generate}. */
export interface GenerateOptions {
  hook: Hook;
  /** Return value for a match (default: XDP_PASS, TC_ACT_OK, or 0xffffffff bytes for a socket). */
  onMatch?: number;
  /** Return value for a non-match (default: XDP_DROP, TC_ACT_SHOT, or 0). */
  onMiss?: number;
  /**
   * Socket filters: where skb->data is when the program runs: 'mac' on a
   * packet socket (default), 'net' on a fan-out group's receive path and in
   * BPF_PROG_TEST_RUN. Only `len` depends on it (skb->len counts from skb->data).
   */
  skbData?: 'mac' | 'net';
  /**
   * Emit the match path yourself: called with the assembler right at the
   * match label (r6 = packet start for xdp/tc, ctx in r8 for tc, r6 = ctx for
   * socket); it must end every path with exit. The miss path still returns `onMiss`.
   */
  epilogue?: (a: EAsm) => void;
}

/** A generated program. */
export interface EbpfFilter {
  readonly hook: Hook;
  readonly insns: EbpfInsn[];
}

/** Most bytes a direct load may reach past the packet start. */
const MAX_OFF = 0xffff;
/**
 * Stack slots for intermediate values and 'store' values (8 bytes each,
 * below r10); the 192 bytes below them are free for callers (map keys).
 * Kept values take slots from the bottom of this area, at most
 * {@link MAX_KEPT}; spills use the ones above.
 */
const MAX_DEPTH = 40;
const MAX_KEPT = 16;

/** Why the generator cannot run `dag` at `hook`, or null. */
export function unsupported(dag: DNode, hook: Hook): string | null {
  for (const n of topo(dag)) {
    if (n.kind === 'chain') return 'protochain loops (not generated for eBPF yet)';
    if (n.kind === 'ret' && n.val) return 'the program returns a computed value (steering), not a verdict';
    if (n.kind === 'test') {
      for (const v of [n.t.val, typeof n.t.rhs === 'number' ? null : n.t.rhs]) {
        const why = v && valReason(v, hook);
        if (why) return why;
      }
    }
  }
  return null;
}

function valReason(v: Val, hook: Hook): string | null {
  switch (v.op) {
    case 'k': case 'len': return null;
    case 'mem': return 'scratch memory words belong to steering programs';
    case 'anc':
      if (v.which === JS_MARK || v.which === JS_STATE) return 'it reads the packet mark or program state, which exist only in user space';
      if (hook === 'xdp') return `XDP sees no skb metadata (ancillary field ${v.which})`;
      return ANC_FIELD[v.which] === undefined ? `ancillary field ${v.which} has no __sk_buff equivalent` : null;
    case 'ld': return v.base ? valReason(v.base, hook) : null;
    case 'neg': case 'store': return valReason(v.a, hook);
    case 'alu': return valReason(v.a, hook) ?? valReason(v.b, hook);
  }
}

/** Ancillary fields as __sk_buff fields: [offset, byte-swap 16]. */
const ANC_FIELD: Record<number, [number, boolean]> = {
  [AD.PROTOCOL]: [SKB_FIELD.protocol, true],
  [AD.PKTTYPE]: [SKB_FIELD.pkt_type, false],
  [AD.IFINDEX]: [SKB_FIELD.ifindex, false],
  [AD.MARK]: [SKB_FIELD.mark, false],
  [AD.QUEUE]: [SKB_FIELD.queue_mapping, false],
  [AD.RXHASH]: [SKB_FIELD.hash, false],
  [AD.VLAN_TAG]: [SKB_FIELD.vlan_tci, false],
  [AD.VLAN_TAG_PRESENT]: [SKB_FIELD.vlan_present, false],
  [AD.VLAN_TPID]: [SKB_FIELD.vlan_proto, true],
};

const ALU_OP: Record<string, number> = { add: E_ADD, sub: E_SUB, mul: E_MUL, div: E_DIV, mod: E_MOD, and: E_AND, or: E_OR, xor: E_XOR, lsh: E_LSH, rsh: E_RSH };
const JMP_OP: Record<string, number> = { jeq: E_JEQ, jgt: E_JGT, jge: E_JGE, jset: E_JSET };
/** The jump taken exactly when `op` is not (none for jset). */
const INVERSE: Record<number, number> = { [E_JEQ]: E_JNE, [E_JGT]: E_JLE, [E_JGE]: E_JLT };
const bswap16 = (k: number): number => ((k & 0xff) << 8) | ((k >>> 8) & 0xff);
const bswap32 = (k: number): number => (((k & 0xff) << 24) | ((k & 0xff00) << 8) | ((k >>> 8) & 0xff00) | (k >>> 24)) | 0;

/** Does the DAG read the frame length? */
function usesLen(dag: DNode): boolean {
  const has = (v: Val | number): boolean => typeof v !== 'number' && (v.op === 'len' || (v.op === 'ld' && v.base !== null && has(v.base))
    || (v.op === 'alu' && (has(v.a) || has(v.b))) || ((v.op === 'neg' || v.op === 'store') && has(v.a)));
  return topo(dag).some((n) => n.kind === 'test' && (has(n.t.val) || has(n.t.rhs)));
}
const SIZE = (n: 1 | 2 | 4): number => (n === 1 ? E_B : n === 2 ? E_H : E_W);
const SKF_LL_OFF = -0x200000;

/** Largest end (offset + size) of the absolute loads in `v`, 0 when none. */
function absEnd(v: Val | number): number {
  if (typeof v === 'number') return 0;
  switch (v.op) {
    case 'ld': return v.base ? absEnd(v.base) : v.off + v.size;
    case 'alu': return Math.max(absEnd(v.a), absEnd(v.b));
    case 'neg': case 'store': return absEnd(v.a);
    default: return 0;
  }
}

/** An upper bound of `v` (the verifier derives at least as tight a one from the same instructions); Infinity when unknown. */
function maxOf(v: Val): number {
  switch (v.op) {
    case 'k': return v.k >>> 0;
    case 'ld': return 2 ** (8 * v.size) - 1;
    case 'store': return maxOf(v.a); // kept in a stack slot: the verifier tracks a spilled scalar's bounds
    case 'alu': {
      const a = maxOf(v.a);
      if (v.b.op !== 'k') return Infinity;
      const k = v.b.k >>> 0;
      const r = v.alu === 'and' ? Math.min(a, k) : v.alu === 'lsh' ? a * 2 ** (k & 31) : v.alu === 'rsh' ? Math.floor(a / 2 ** (k & 31)) : v.alu === 'add' ? a + k : Infinity;
      return r <= 0xffffffff ? r : Infinity;
    }
    default: return Infinity;
  }
}

/** Does `v` contain an indirect load whose constant offset alone leaves any packet? */
function impossible(v: Val | number): boolean {
  if (typeof v === 'number') return false;
  switch (v.op) {
    case 'ld': return v.base !== null && (v.off + v.size > MAX_OFF || impossible(v.base));
    case 'alu': return impossible(v.a) || impossible(v.b);
    case 'neg': case 'store': return impossible(v.a);
    default: return false;
  }
}

/** Generate the program for `dag` (lowered for the hook: file lowering for xdp, kernel lowering for tc and socket). */
export function generate(dag: DNode, opts: GenerateOptions): EbpfFilter {
  const hook = opts.hook;
  const why = unsupported(dag, hook);
  if (why) throw new LangError(`eBPF (${hook}): ${why}`);
  const onMatch = opts.onMatch ?? (hook === 'xdp' ? XDP.PASS : hook === 'tc' ? TC.OK : 0xffffffff);
  const onMiss = opts.onMiss ?? (hook === 'xdp' ? XDP.DROP : hook === 'tc' ? TC.SHOT : 0);
  const a = new EAsm();
  prologue(a, hook, { len: usesLen(dag) });
  const MISS = a.label('miss');
  const MATCH = a.label('match');
  const used = emitTest(a, dag, { hook, skbData: opts.skbData, matchNext: true }, MATCH, MISS);
  if (used.match) {
    a.here(MATCH);
    if (opts.epilogue) opts.epilogue(a);
    else a.ret(onMatch);
  }
  if (used.miss) a.here(MISS).ret(onMiss);
  return { hook, insns: a.assemble() };
}

/**
 * The prologue every generated program starts with: xdp: r6 = data,
 * r7 = data_end, r8 = frame length (left out with `len: false`: a program
 * that never reads the length); tc: r8 = ctx, r6 = data, r7 = data_end;
 * socket: r6 = ctx. {@link emitTest} relies on it.
 */
export function prologue(a: EAsm, hook: Hook, opts: { len?: boolean } = {}): void {
  if (hook === 'xdp') {
    a.ldx(E_W, R7, R1, 4).ldx(E_W, R6, R1, 0); // r7 = data_end, r6 = data
    if (opts.len !== false) a.mov64X(R8, R7).alu64X(E_SUB, R8, R6); // r8 = length of the frame
  } else if (hook === 'tc') {
    a.mov64X(R8, R1).ldx(E_W, R7, R1, SKB_FIELD.data_end).ldx(E_W, R6, R1, SKB_FIELD.data);
  } else {
    a.mov64X(R6, R1);
  }
}

/**
 * Emit the decision DAG at the current position: every path ends in a jump
 * to `match` or `miss` (labels the caller places; the result says which
 * were used; `matchNext`: the caller places `match` right after, so the last
 * block may fall through to it). Needs the registers of {@link prologue}; clobbers r0-r2 (and
 * r7 for socket filters) and the stack slots above -8 * 40.
 */
export function emitTest(a: EAsm, dag: DNode, opts: { hook: Hook; skbData?: 'mac' | 'net'; matchNext?: boolean }, MATCH: ELabel, MISS: ELabel): { match: boolean; miss: boolean } {
  const hook = opts.hook;
  const why = unsupported(dag, hook);
  if (why) throw new LangError(`eBPF (${hook}): ${why}`);
  const direct = hook !== 'socket';
  const label = new Map<DNode, ELabel>();
  if (dag.kind === 'ret') {
    a.ja(dag.k !== 0 ? MATCH : MISS);
    return { match: dag.k !== 0, miss: dag.k === 0 };
  }
  // Which nodes are reachable (a node whose loads can never succeed goes straight to miss).
  const order = topo(dag);
  let missUsed = false;
  const miss = (): ELabel => { missUsed = true; return MISS; };
  const need = new Map<DNode, number>();
  const dead = new Set<DNode>();
  for (const n of order) {
    if (n.kind !== 'test') continue;
    const e = direct ? Math.max(absEnd(n.t.val), absEnd(n.t.rhs)) : 0;
    if (e > MAX_OFF || impossible(n.t.val) || impossible(n.t.rhs)) dead.add(n);
    need.set(n, e);
  }
  const reach = new Set<DNode>([dag]);
  for (const n of order) {
    if (!reach.has(n) || !isBranch(n) || dead.has(n)) continue;
    reach.add(n.jt);
    reach.add(n.jf);
  }
  // Bytes already checked on every path into each node (direct access only).
  const checked = new Map<DNode, number>();
  checked.set(dag, 0);
  for (const n of order) {
    if (!reach.has(n) || !isBranch(n) || dead.has(n)) continue;
    const out = Math.max(checked.get(n) ?? 0, need.get(n) ?? 0);
    for (const s of [n.jt, n.jf]) checked.set(s, Math.min(checked.get(s) ?? Infinity, out));
  }

  // A 16- or 32-bit load that is only ever compared for equality or masked against constants is
  // left in network byte order and the constants are swapped instead: no byte swap per test.
  const raw = new Set<Val>();
  if (direct) {
    const no = new Set<Val>();
    for (const n of order) {
      if (n.kind !== 'test' || !reach.has(n) || dead.has(n)) continue;
      const v = n.t.val;
      if (v.op !== 'ld' || v.size === 1) continue;
      const k = n.t.rhs;
      const fits = typeof k === 'number' && (v.size === 4 || n.t.jop === 'jset' || k >>> 0 <= 0xffff);
      if (fits && (n.t.jop === 'jeq' || n.t.jop === 'jset')) raw.add(v);
      else no.add(v);
    }
    for (const v of no) raw.delete(v);
  }
  const swapped = (v: Val, k: number): number => {
    if (!raw.has(v) || v.op !== 'ld') return k;
    return v.size === 2 ? bswap16(k & 0xffff) : bswap32(k);
  };

  let depth = 0;
  const slot = (d: number): number => -8 * (d + 1);
  // 'store' values: one stack slot each for the whole program; `kept` holds those stored on every path to here
  const keptSlot = new Map<Val, number>();
  let kept = new Set<Val>();
  const keptIn = new Map<DNode, Set<Val>>();
  const spill = (): number => {
    if (depth >= MAX_DEPTH - keptSlot.size) throw new LangError(`eBPF (${hook}): expression too deep`);
    a.stx(E_DW, R10, slot(depth), R0);
    return depth++;
  };
  const unspill = (d: number, into: number): void => {
    a.ldx(E_DW, into, R10, slot(d));
    depth--;
  };

  /** Compute `v` into r0 (32-bit value, upper half zero); `asRaw`: a load in {@link raw} stays in network order. */
  const gen = (v: Val, asRaw = false): void => {
    switch (v.op) {
      case 'k':
        a.mov32(R0, v.k);
        return;
      case 'len':
        if (hook === 'xdp') a.mov32X(R0, R8);
        else {
          a.ldx(E_W, R0, hook === 'tc' ? R8 : R6, SKB_FIELD.len);
          if (hook === 'socket' && opts.skbData === 'net') a.alu32(E_ADD, R0, 14);
        }
        return;
      case 'anc': {
        const [off, swap] = ANC_FIELD[v.which];
        a.ldx(E_W, R0, hook === 'tc' ? R8 : R6, off);
        if (swap) a.be(R0, 16);
        return;
      }
      case 'mem':
        throw new LangError('eBPF: scratch memory is not supported');
      case 'store': {
        let d = keptSlot.get(v);
        if (d !== undefined && kept.has(v)) {
          a.ldx(E_DW, R0, R10, slot(d));
          return;
        }
        gen(v.a);
        if (d === undefined && keptSlot.size < MAX_KEPT && depth < MAX_DEPTH - keptSlot.size - 1) {
          d = MAX_DEPTH - 1 - keptSlot.size;
          keptSlot.set(v, d);
        }
        if (d !== undefined) {
          a.stx(E_DW, R10, slot(d), R0);
          kept.add(v);
        }
        return;
      }
      case 'neg':
        gen(v.a);
        a.neg32(R0);
        return;
      case 'alu': {
        const op = ALU_OP[v.alu];
        if (v.b.op === 'k') {
          gen(v.a);
          const k = v.alu === 'lsh' || v.alu === 'rsh' ? v.b.k & 31 : v.b.k;
          a.alu32(op, R0, k);
          return;
        }
        gen(v.a);
        const d = spill();
        gen(v.b);
        a.mov64X(R1, R0);
        unspill(d, R0);
        if (v.alu === 'div' || v.alu === 'mod') a.jmp(E_JEQ, R1, 0, miss());
        if (v.alu === 'lsh' || v.alu === 'rsh') a.alu32(E_AND, R1, 31);
        a.alu32X(op, R0, R1);
        return;
      }
      case 'ld':
        if (!direct) {
          if (v.base === null) a.raw(E_LD | E_ABS | SIZE(v.size), 0, 0, 0, (SKF_LL_OFF + v.off) | 0);
          else {
            gen(v.base);
            a.mov64X(R7, R0);
            // X + k must stay in the link-layer window: an index past 0xffff cannot be inside a packet.
            a.jmp(E_JGT, R7, MAX_OFF, miss());
            a.raw(E_LD | E_IND | SIZE(v.size), 0, R7, 0, (SKF_LL_OFF + v.off) | 0);
          }
          return;
        }
        if (v.base === null) a.ldx(SIZE(v.size), R0, R6, v.off);
        else {
          gen(v.base);
          // bounds the index for the verifier, and fails loads past 64 KiB; not needed when the value cannot exceed it
          if (maxOf(v.base) > MAX_OFF - v.off - v.size) a.jmp(E_JGT, R0, MAX_OFF - v.off - v.size, miss());
          a.mov64X(R1, R6).alu64X(E_ADD, R1, R0);
          a.mov64X(R2, R1).alu64(E_ADD, R2, v.off + v.size);
          a.jmpX(E_JGT, R2, R7, miss());
          a.ldx(SIZE(v.size), R0, R1, v.off);
        }
        if (asRaw && raw.has(v)) return;
        if (v.size === 2) a.be(R0, 16);
        else if (v.size === 4) a.be(R0, 32);
        return;
    }
  };

  const target = (n: DNode): ELabel => {
    if (n.kind === 'ret') return n.k !== 0 ? MATCH : miss();
    let l = label.get(n);
    if (!l) { l = a.label('n'); label.set(n, l); }
    return l;
  };

  const branches = order.filter((n): n is Branch => reach.has(n) && isBranch(n));
  // r0 still holds a test's value on both of its edges: a block whose every predecessor tested the same value reuses it.
  const preds = new Map<DNode, Branch[]>();
  for (const n of branches) {
    if (dead.has(n)) continue;
    for (const s of [n.jt, n.jf]) preds.set(s, [...(preds.get(s) ?? []), n]);
  }
  const inR0 = (n: Branch): boolean => n !== dag && n.kind === 'test' && (preds.get(n) ?? []).every((p) => p.kind === 'test' && p.t.val === n.t.val);
  branches.forEach((n, i) => {
    a.here(target(n));
    if (dead.has(n)) { a.ja(miss()); return; }
    kept = new Set(keptIn.get(n) ?? []);
    emitBranch(n, i);
    // what this block kept holds on both of its edges
    for (const s of [n.jt, n.jf]) {
      const prev = keptIn.get(s);
      keptIn.set(s, prev ? new Set([...prev].filter((v) => kept.has(v))) : new Set(kept));
    }
  });
  function emitBranch(n: Branch, i: number): void {
    if (n.kind === 'chain') throw new LangError('eBPF: protochain is not supported');
    const t: Test = n.t;
    const e = need.get(n) ?? 0;
    if (direct && e > (checked.get(n) ?? 0)) {
      a.mov64X(R1, R6).alu64(E_ADD, R1, e).jmpX(E_JGT, R1, R7, miss());
    }
    const next = branches[i + 1];
    const jt = target(n.jt), jf = target(n.jf);
    const op = JMP_OP[t.jop];
    if (typeof t.rhs === 'number') {
      if (!inR0(n)) gen(t.val, true);
      const k = swapped(t.val, t.rhs);
      // a 32-bit compare takes the immediate's 32 bits as they are
      const fallsToJt = next ? jt === target(next) : opts.matchNext === true && jt === MATCH;
      if (fallsToJt && jf !== jt && INVERSE[op] !== undefined) {
        a.jmp32(INVERSE[op], R0, k, jf); // the true edge falls through
        return;
      }
      a.jmp32(op, R0, k, jt);
    } else {
      gen(t.val);
      const d = spill();
      gen(t.rhs);
      a.mov64X(R1, R0);
      unspill(d, R0);
      a.jmp32X(op, R0, R1, jt);
    }
    if (!(next && jf === target(next))) a.ja(jf);
  }

  const usedMatch = order.some((n) => reach.has(n) && n.kind === 'ret' && n.k !== 0);
  return { match: usedMatch, miss: missUsed };
}
