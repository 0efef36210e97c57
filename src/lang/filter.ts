/**
 * tcpdump-expression compiler: text -> IR -> optimised DAG -> classic BPF
 * (and, through `js/codegen.ts`, a specialised JavaScript function).
 */
import { genCbpf } from './cbpf/codegen.js';
import { checkClassic } from '../bpf/validate.js';
import { encodeProgram as encode, type BpfInsn as Insn } from '../bpf/classic.js';
import { formatD, formatDD, formatDDD } from '../bpf/text.js';
import { LangError } from './errors.js';
import { buildDag, type DNode, optimize, ret } from './ir/dag.js';
import type { Pred } from './ir/pred.js';
import { Values } from './ir/value.js';
import { type FilterTarget, genPcap } from './tcpdump/gen.js';
import { parsePcap } from './tcpdump/parser.js';
import { genJs, instantiate, type JsProgram, type JsSource } from './js/codegen.js';

/** libpcap's default snapshot length (what `tcpdump -d` returns for a match). */
export const DEFAULT_SNAPLEN = 262144;

export interface FilterOptions {
  /** 'file' (tags inline, like `tcpdump -r`, the default) or 'kernel' (Linux packet socket). */
  target?: FilterTarget;
  /** Value returned for an accepted packet (bytes to keep). Default 262144. */
  snaplen?: number;
  /** IPv4 netmask, needed only by `ip broadcast`. */
  netmask?: number;
  /** Run the optimiser (default true); false keeps the literal translation. */
  optimize?: boolean;
}

/** A compiled tcpdump expression. */
export interface CompiledFilter {
  readonly expression: string;
  readonly target: FilterTarget;
  readonly snaplen: number;
  /** The optimised decision DAG (input of every backend). */
  readonly dag: DNode;
  /** The IR predicate before optimisation. */
  readonly pred: Pred;
  /** Classic BPF instructions. */
  readonly insns: Insn[];
  /** The program as struct sock_filter records (for SO_ATTACH_FILTER / setFilter). */
  readonly bytes: Uint8Array;
  /** True when the expression uses `protochain` (loops: not kernel-loadable). */
  readonly usesChain: boolean;
  /** Generated JavaScript (body of `function (p)`). */
  readonly js: JsSource;
  /** The JavaScript filter: returns `snaplen` for a match, 0 otherwise. */
  readonly match: JsProgram;
}

/** Parse and lower an expression to the optimised DAG without generating code. */
export function lowerFilter(expression: string, opts: FilterOptions = {}): { dag: DNode; pred: Pred; usesChain: boolean } {
  const target = opts.target ?? 'file';
  const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
  const V = new Values();
  const ast = parsePcap(expression);
  const { pred, usesChain } = genPcap(ast, expression, V, { target, netmask: opts.netmask });
  let dag = buildDag(pred, ret(snaplen), ret(0));
  if (opts.optimize !== false) {
    dag = optimize(dag);
    if (!usesChain && dag.kind === 'ret' && dag.val === null && dag.k === 0) {
      throw new LangError('expression rejects all packets', expression, 0, expression.length);
    }
  }
  return { dag, pred, usesChain };
}

/** Compile a tcpdump/pcap-filter expression to classic BPF. Throws LangError with a caret on bad input. */
export function compileFilter(expression: string, opts: FilterOptions = {}): CompiledFilter {
  const target = opts.target ?? 'file';
  const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
  const { dag, pred, usesChain } = lowerFilter(expression, opts);
  let insns: Insn[];
  try {
    insns = genCbpf(dag, { target });
  } catch (e) {
    if (e instanceof LangError && e.pos < 0) throw new LangError(e.reason, expression, 0, expression.length);
    throw e;
  }
  if (target === 'kernel') {
    const why = checkClassic(insns);
    if (why) throw new LangError(`the kernel would reject this filter: ${why}`, expression, 0, expression.length);
  }
  const js = genJs(dag);
  return { expression, target, snaplen, dag, pred, insns, bytes: encode(insns), usesChain, js, match: instantiate(js) };
}

/** Compile an expression to the JavaScript backend only (no BPF; protochain allowed for any target). */
export function compileFilterJs(expression: string, opts: FilterOptions = {}): { js: JsSource; match: JsProgram; dag: DNode } {
  const { dag } = lowerFilter(expression, opts);
  const js = genJs(dag);
  return { js, match: instantiate(js), dag };
}

/** tcpdump -d style listing of a compiled filter. */
export function dumpD(f: { insns: Insn[] }): string {
  return formatD(f.insns);
}
/** tcpdump -dd style C array. */
export function dumpDD(f: { insns: Insn[] }): string {
  return formatDD(f.insns);
}
/** tcpdump -ddd style decimal program (kernel-ready). */
export function dumpDDD(f: { insns: Insn[] }): string {
  return formatDDD(f.insns);
}
