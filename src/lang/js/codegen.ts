/**
 * JavaScript backend: one straight-line, specialised function per program.
 *
 * The optimised DAG is laid out in topological order and each node becomes
 * a few statements; forward jumps are `break label` out of nested labelled
 * blocks (so there is no interpreter loop, no switch and no per-node
 * closure). Values computed on every path to a node are kept in local
 * variables and reused (availability analysis), and packet bounds checks
 * already implied by earlier loads are dropped. A load past the captured
 * bytes returns 0, like BPF. The function allocates nothing per packet.
 *
 * Packet metadata (VLAN tag moved out by the kernel, packet type, ifindex)
 * is read from the PacketLike for programs compiled for the 'kernel'
 * target; 'file' programs only read bytes.
 */
import { LangError } from '../errors.js';
import { type Branch, type DNode, isBranch, type RetNode, topo } from '../ir/dag.js';
import { ANC, JS_MARK, JS_STATE, type Val } from '../ir/value.js';
import type { PacketLike } from '../../packet-like.js';
import { Ipv4Field } from '../../decode/ipv4.js';
import { Ipv6Ext, Ipv6ExtField, Ipv6ExtLen, Ipv6Field, IPV6_HEADER_LEN } from '../../decode/ipv6.js';

/** Upper bound on protochain iterations in generated code (libpcap has none and can loop forever). */
export const CHAIN_MAX_STEPS = 4096;

/** A compiled JS program: returns the filter's value (0 = drop) for a packet. */
export type JsProgram = (p: PacketLike) => number;

export interface JsSource {
  /** Body of `function (p) { ... }`. */
  body: string;
}

interface Ctx {
  out: string[];
  avail: Set<number>; // Val ids available in variables
  known: number; // bytes known to be captured
  used: Set<number>;
  needLen: boolean;
  /** Statement run when a load leaves the packet (or X division by zero). */
  fail: string;
  /** Variable name prefix (distinct per inlined DAG). */
  pre: string;
}

function varOf(c: Ctx, v: Val): string {
  return `${c.pre}v${v.id}`;
}

/** Emit statements that make `v` available as an expression; returns that expression. */
function expr(c: Ctx, v: Val): string {
  if (v.op === 'k') return String(v.k);
  // a 'store' value is its operand, which availability analysis already keeps in a local once computed
  if (v.op === 'store') return expr(c, v.a);
  if (c.avail.has(v.id)) return varOf(c, v);
  const name = varOf(c, v);
  c.used.add(v.id);
  switch (v.op) {
    case 'len':
      c.needLen = true;
      c.out.push(`${name} = wl;`);
      break;
    case 'anc':
      c.out.push(`${name} = ${ancExpr(v.which)};`);
      break;
    case 'mem':
      throw new LangError('scratch memory values are not supported by the JS backend');
    case 'ld': {
      if (v.base === null) {
        const end = v.off + v.size;
        if (end > c.known) {
          c.out.push(`if (n < ${end}) ${c.fail}`);
          c.known = end;
        }
        c.out.push(`${name} = ${loadExpr(`o + ${v.off}`, v.size)};`);
      } else {
        const b = expr(c, v.base);
        c.out.push(`t = ${b} + ${v.off}; if (t + ${v.size} > n) ${c.fail}`);
        c.out.push(`${name} = ${loadExpr('o + t', v.size)};`);
      }
      break;
    }
    case 'neg':
      c.out.push(`${name} = (-${expr(c, v.a)}) >>> 0;`);
      break;
    case 'alu': {
      const a = expr(c, v.a);
      const b = expr(c, v.b);
      const bc = v.b.op === 'k';
      let e: string;
      switch (v.alu) {
        case 'add':
          e = `(${a} + ${b}) >>> 0`;
          break;
        case 'sub':
          e = `(${a} - ${b}) >>> 0`;
          break;
        case 'mul':
          e = `Math.imul(${a}, ${b}) >>> 0`;
          break;
        case 'div':
          if (!bc) c.out.push(`if (${b} === 0) ${c.fail}`);
          e = `Math.floor(${a} / ${b})`;
          break;
        case 'mod':
          if (!bc) c.out.push(`if (${b} === 0) ${c.fail}`);
          e = `${a} % ${b}`;
          break;
        case 'and':
          e = `(${a} & ${b}) >>> 0`;
          break;
        case 'or':
          e = `(${a} | ${b}) >>> 0`;
          break;
        case 'xor':
          e = `(${a} ^ ${b}) >>> 0`;
          break;
        case 'lsh':
          e = bc ? `(${a} << ${(v.b as { k: number }).k & 31}) >>> 0` : `(${a} << (${b} & 31)) >>> 0`;
          break;
        case 'rsh':
          e = bc ? `${a} >>> ${(v.b as { k: number }).k & 31}` : `${a} >>> (${b} & 31)`;
          break;
      }
      c.out.push(`${name} = ${e};`);
      break;
    }
  }
  c.avail.add(v.id);
  return name;
}

function loadExpr(at: string, size: number): string {
  if (size === 1) return `d[${at}]`;
  if (size === 2) return `(d[${at}] << 8 | d[${at} + 1])`;
  return `((d[${at}] << 24 | d[${at} + 1] << 16 | d[${at} + 2] << 8 | d[${at} + 3]) >>> 0)`;
}

function ancExpr(which: number): string {
  switch (which) {
    case ANC.VLAN_TAG_PRESENT:
      return '(p.vlanValid ? 1 : 0)';
    case ANC.VLAN_TAG:
      return '(p.vlanValid ? p.vlanTci : 0)';
    case ANC.VLAN_TPID:
      return '(p.vlanValid ? p.vlanTpid : 0)';
    case ANC.PKTTYPE:
      return 'p.pktType';
    case ANC.IFINDEX:
      return 'p.ifindex';
    case ANC.HATYPE:
      return '1';
    case JS_MARK:
      return 'mark';
    case JS_STATE:
      return 'S.state';
    default:
      return '0';
  }
}

function condOf(c: Ctx, n: Branch): string {
  if (n.kind === 'chain') return chainCode(c, n);
  const a = expr(c, n.t.val);
  const b = typeof n.t.rhs === 'number' ? String(n.t.rhs) : expr(c, n.t.rhs);
  switch (n.t.jop) {
    case 'jeq':
      return `${a} === ${b}`;
    case 'jgt':
      return `${a} > ${b}`;
    case 'jge':
      return `${a} >= ${b}`;
    case 'jset':
      return `(${a} & ${b}) !== 0`;
  }
}

/** libpcap's protochain loop, bounded (see cbpf/codegen.ts). */
function chainCode(c: Ctx, n: Extract<Branch, { kind: 'chain' }>): string {
  const b = n.base;
  const s: string[] = [];
  if (n.family === 6) {
    s.push(`if (n < ${b + Ipv6Field.NextHeader + 1}) ${c.fail} ca = d[o + ${b + Ipv6Field.NextHeader}]; cx = ${IPV6_HEADER_LEN};`);
  } else {
    s.push(`if (n < ${b + Ipv4Field.Protocol + 1}) ${c.fail} ca = d[o + ${b + Ipv4Field.Protocol}]; cx = (d[o + ${b}] & 15) << 2;`);
  }
  s.push(`for (let i = 0; ; i++) {`);
  s.push(`  if (i > ${CHAIN_MAX_STEPS}) ${c.fail}`);
  const nh = b + Ipv6ExtField.NextHeader;
  const len = b + Ipv6ExtField.Length;
  s.push(`  if (ca === ${n.proto} || ca === ${Ipv6Ext.NoNext}) break;`);
  if (n.family === 6) {
    s.push(`  if (ca === ${Ipv6Ext.HopByHop} || ca === ${Ipv6Ext.DestOpts} || ca === ${Ipv6Ext.Routing} || ca === ${Ipv6Ext.Fragment}) {`);
    s.push(`    if (cx + ${len + 1} > n) ${c.fail}`);
    s.push(`    ca = d[o + cx + ${nh}]; cx = ((d[o + cx + ${len}] + ${Ipv6ExtLen.Bias}) * ${Ipv6ExtLen.Unit} + cx) >>> 0; continue;`);
    s.push(`  }`);
  }
  s.push(`  if (ca !== ${Ipv6Ext.AH}) break;`);
  s.push(`  if (cx + ${len + 1} > n) ${c.fail}`);
  s.push(`  ca = d[o + cx + ${nh}]; cx = ((d[o + cx + ${len}] + ${Ipv6ExtLen.AhBias}) * ${Ipv6ExtLen.AhUnit}) >>> 0;`);
  s.push(`}`);
  c.out.push(...s);
  return `ca === ${n.proto}`;
}

function intersect(a: Set<number>, b: Set<number>): Set<number> {
  const out = new Set<number>();
  for (const x of a) if (b.has(x)) out.add(x);
  return out;
}

/** How an emitted DAG ends: what a return node and a failed load turn into. */
export interface EmitMode {
  /** Statement for a return node (its value expression is given). */
  onRet(valueExpr: string): string;
  /** Statement for a failed load. */
  fail: string;
  /** Prefix of variables and labels (unique per DAG in one function). */
  pre: string;
}

/** Emitted code of one DAG: statements plus the `let` variables they need. */
export interface EmittedDag {
  lines: string[];
  vars: string[];
  needLen: boolean;
}

/** Emit a DAG as straight-line statements (see the module comment). */
export function emitDag(root: DNode, mode: EmitMode): EmittedDag {
  const order = topo(root);
  const branches = order.filter(isBranch);
  const pos = new Map<DNode, number>();
  branches.forEach((b, i) => pos.set(b, i));
  const L = (j: number): string => `${mode.pre}L${j}`;
  // Which labels are jumped to (by a non-adjacent branch)?
  const targeted = new Set<number>();
  for (const b of branches) {
    for (const s of [b.jt, b.jf]) {
      if (!isBranch(s)) continue;
      const j = pos.get(s)!;
      if (j !== pos.get(b)! + 1) targeted.add(j);
    }
  }
  const entryAvail = new Map<DNode, Set<number>>();
  const entryKnown = new Map<DNode, number>();
  entryAvail.set(root, new Set());
  entryKnown.set(root, 0);
  const used = new Set<number>();
  let needLen = false;
  let usesChain = false;
  const lines: string[] = [];
  const retStmt = (r: RetNode, c: Ctx): string => mode.onRet(r.val ? expr(c, r.val) : String(r.k));
  const action = (from: number, s: DNode, c: Ctx): string => {
    if (!isBranch(s)) return retStmt(s as RetNode, c);
    const j = pos.get(s)!;
    return j === from + 1 ? '' : `break ${L(j)};`;
  };
  const ctx = (n: DNode): Ctx => ({ out: lines, avail: new Set(entryAvail.get(n) ?? []), known: entryKnown.get(n) ?? 0, used, needLen: false, fail: mode.fail, pre: mode.pre });
  // Open labelled blocks for targeted nodes, outermost = highest index.
  const opens: string[] = [];
  for (let j = branches.length - 1; j >= 1; j--) if (targeted.has(j)) opens.push(`${L(j)}: {`);
  if (opens.length) lines.push(opens.join(' '));
  if (branches.length === 0) {
    const c = ctx(root);
    lines.push(retStmt(root as RetNode, c));
    needLen = c.needLen;
  }
  for (let i = 0; i < branches.length; i++) {
    const n = branches[i];
    if (i > 0 && targeted.has(i)) lines.push('}');
    const c = ctx(n);
    if (n.kind === 'chain') usesChain = true;
    const cond = condOf(c, n);
    const at = action(i, n.jt, c);
    const af = action(i, n.jf, c);
    needLen ||= c.needLen;
    if (at && af) lines.push(`if (${cond}) { ${at} } else { ${af} }`);
    else if (at) lines.push(`if (${cond}) { ${at} }`);
    else if (af) lines.push(`if (!(${cond})) { ${af} }`);
    for (const s of [n.jt, n.jf]) {
      if (!isBranch(s)) continue;
      const prevA = entryAvail.get(s);
      entryAvail.set(s, prevA ? intersect(prevA, c.avail) : new Set(c.avail));
      const prevK = entryKnown.get(s);
      entryKnown.set(s, prevK === undefined ? c.known : Math.min(prevK, c.known));
    }
  }
  const vars = [...used].map((id) => `${mode.pre}v${id} = 0`);
  if (usesChain) vars.push('ca = 0', 'cx = 0');
  return { lines, vars, needLen };
}

/** Generate the body of `function (p)` for the DAG rooted at `root` (returns the program's value). */
export function genJs(root: DNode): JsSource {
  const e = emitDag(root, { onRet: (v) => `return ${v};`, fail: 'return 0;', pre: '' });
  const decl: string[] = ['const d = p.data, o = p.offset, n = p.caplen;'];
  if (e.needLen) decl.push('const wl = p.wireLen;');
  decl.push(`let ${[...e.vars, 't = 0'].join(', ')};`);
  return { body: [...decl, ...e.lines, 'return 0;'].join('\n') };
}

/**
 * Emit a DAG inline: its verdict (the return value, 0 on a failed load)
 * lands in variable `into`, then control continues after the block.
 * The caller declares `d`, `o`, `n`, `wl`, `t` and the returned vars.
 */
export function genJsInline(root: DNode, into: string, pre: string, fail?: string): EmittedDag {
  const exit = `${pre}X`;
  const e = emitDag(root, { onRet: (v) => `{ ${into} = ${v}; break ${exit}; }`, fail: fail ?? `{ ${into} = 0; break ${exit}; }`, pre });
  return { lines: [`${exit}: {`, ...e.lines, '}'], vars: e.vars, needLen: e.needLen };
}

/** Compile generated source into a callable function. */
export function instantiate(src: JsSource): JsProgram {
  return new Function('p', src.body) as JsProgram;
}
