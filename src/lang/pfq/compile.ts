/**
 * Compiler of the combinator language: placement and code generation.
 *
 * A program is split into what the kernel can run and what user space runs:
 *
 * 1. socket filter (classic BPF, SO_ATTACH_FILTER / Capture.setFilter): the
 *    longest prefix of pure filter stages (pass/drop only, on packet bytes),
 *    plus the drop decisions of the steering stage when nothing before it
 *    runs in user space;
 * 2. fan-out steering (PACKET_FANOUT_CBPF, through src/fanout): the steering
 *    stage, wherever it is in the pipeline, since steering has no side
 *    effects and reads only packet bytes; conditional steering becomes
 *    classes with match programs;
 * 3. user space (one generated JavaScript function): every stage from the
 *    first one that needs user-space state (counters, marks, classify, log,
 *    predicates on mark/state, protochain loops) on.
 *
 * Semantics, the same in every placement: stages run left to right; a
 * filter that fails drops the packet; reading past the captured bytes drops
 * the packet (libpcap's rule); counters, mark and class are per packet in
 * program order. Programs that cannot be placed are refused with a reason.
 */
import { genCbpf } from '../cbpf/codegen.js';
import { cbpfKernel } from '../backend.js';
import type { BpfInsn as Insn } from '../../bpf/classic.js';
import { formatD } from '../../bpf/text.js';
import { LangError } from '../errors.js';
import { buildDag, type DNode, optimize, ret } from '../ir/dag.js';
import { and, FALSE, not, or, test, TRUE, type Pred } from '../ir/pred.js';
import { JS_MARK, JS_STATE, Values } from '../ir/value.js';
import { genJsInline } from '../js/codegen.js';
import { genPcap } from '../tcpdump/gen.js';
import { parsePcap } from '../tcpdump/parser.js';
import type { PacketLike } from '../../packet-like.js';
import type { Steering, SteerClass, SteerSpec } from '../steer/spec.js';
import { fanoutProgram } from '../steer/codegen.js';
import { type Fn, isFn, isPred, type PPred, showFn, showPred } from './ast.js';
import { filterPred } from './vocab.js';
import { parsePfq } from './parser.js';
import { DEFAULT_SNAPLEN } from '../filter.js';

/** Verdicts returned by the user-space function. */
export const DROP = 0;
export const PASS = 1;
export const BROADCAST = 2;

/** Per-packet outputs of the user-space function (one reused object). */
export interface PipelineResult {
  verdict: number;
  mark: number;
  cls: number;
  log: number;
}

/** Program state shared by all packets: counters (by index of `counters`) and the state word. */
export interface PipelineState {
  counters: Float64Array;
  state: number;
}

/** A generated user-space function. */
export interface JsPipeline {
  /** Body of `function (p, r)` (S = the state object is in scope). */
  readonly source: string;
  /** Run on one packet; fills `r` and returns the verdict (DROP/PASS/BROADCAST). */
  readonly run: (p: PacketLike, r: PipelineResult) => number;
  readonly state: PipelineState;
}

export interface ProgramOptions {
  /** Bytes kept per accepted packet by the socket filter (default 262144). */
  snaplen?: number;
  /** Compile for a single socket (no fan-out group): steering is refused. */
  singleSocket?: boolean;
}

/** One stage's placement, for explain(). */
export interface PlacedStage {
  index: number;
  text: string;
  where: 'socket filter' | 'fan-out' | 'user space';
  why?: string;
}

export interface CompiledProgram {
  readonly source: string;
  readonly fn: Fn;
  /** Kernel socket filter (kernel target), or null when every packet passes the kernel. */
  readonly socketFilter: { insns: Insn[]; pred: Pred; dag: DNode } | null;
  /** Steering for the fan-out group (give it to src/fanout), or null. */
  readonly steering: Steering | null;
  /** What runs in user space per delivered packet, or null when nothing does. */
  readonly residual: JsPipeline | null;
  /** The whole program in JavaScript (for offline files: no kernel involved). */
  readonly full: JsPipeline;
  /** Counter names, in counter-index order. */
  readonly counters: readonly string[];
  readonly placement: readonly PlacedStage[];
  /** Classic BPF fan-out program for `members` sockets (optionally weighted). */
  fanoutProgram(members: number, weights?: readonly number[]): Insn[];
  /** Human-readable account of the split. */
  explain(): string;
}

/** Lowering context: the value table, the source text (for error positions) and how VLAN tags are read. */
export interface Lowering {
  V: Values;
  src: string;
  /** 'kernel' (tags in skb metadata or inline; default) or 'file' (tags inline: capture files and XDP). */
  target?: 'kernel' | 'file';
}

function flatten(f: Fn, out: Fn[] = []): Fn[] {
  if (f.k === 'seq') for (const g of f.fs) flatten(g, out);
  else if (f.k !== 'unit') out.push(f);
  return out;
}

/** Lower a combinator predicate to the IR (VLAN tags as `L.target` says). */
export function lowerPred(p: PPred, L: Lowering): Pred {
  switch (p.k) {
    case 'const':
      return p.v ? TRUE : FALSE;
    case 'not':
      return not(lowerPred(p.a, L));
    case 'and':
      return and(lowerPred(p.a, L), lowerPred(p.b, L));
    case 'or':
      return or(lowerPred(p.a, L), lowerPred(p.b, L));
    case 'xor': {
      const a = lowerPred(p.a, L);
      const b = lowerPred(p.b, L);
      return or(and(a, not(b)), and(not(a), b));
    }
    case 'meta': {
      const v = L.V.anc(p.what === 'mark' ? JS_MARK : JS_STATE);
      switch (p.op) {
        case '==':
          return test(L.V, v, 'jeq', p.n);
        case '!=':
          return not(test(L.V, v, 'jeq', p.n));
        case '>':
          return test(L.V, v, 'jgt', p.n);
        case '>=':
          return test(L.V, v, 'jge', p.n);
        case '<':
          return not(test(L.V, v, 'jge', p.n));
        case '<=':
          return not(test(L.V, v, 'jgt', p.n));
      }
    }
    // falls through (unreachable)
    case 'pcap':
      try {
        const ast = parsePcap(p.text);
        return genPcap(ast, p.text, L.V, { target: L.target ?? 'kernel' }).pred;
      } catch (e) {
        if (!(e instanceof LangError)) throw e;
        const loc = p.loc;
        if (loc && loc.end - loc.pos === p.text.length && L.src.slice(loc.pos, loc.end) === p.text && e.pos >= 0) {
          throw new LangError(e.reason, L.src, loc.pos + e.pos, loc.pos + e.end);
        }
        const where = p.name ? `${p.name} (tcpdump: ${p.text})` : `tcpdump expression "${p.text}"`;
        throw new LangError(`${where}: ${e.reason}`, L.src, loc?.pos ?? -1, loc?.end ?? -1);
      }
  }
}

/** Can the socket-filter target run this IR predicate? Asks its backend (placement's registry); returns the reason when it cannot. */
function kernelReason(p: Pred): string | null {
  if (p.k === 'true' || p.k === 'false') return null;
  return cbpfKernel.unsupported(toDag(p, 1));
}

/** The optimised decision DAG of a predicate: `yes` on a match, 0 otherwise. */
export function toDag(p: Pred, yes: number): DNode {
  return optimize(buildDag(p, ret(yes), ret(0)));
}

/** Steering outcomes of a stage under a guard. */
type Outcome = { guard: PPred; what: 'steer'; spec: SteerSpec; name: string } | { guard: PPred; what: 'pass' | 'drop' };

const T: PPred = { k: 'const', v: true };
function andP(a: PPred, b: PPred): PPred {
  if (a.k === 'const') return a.v ? b : a;
  if (b.k === 'const') return b.v ? a : b;
  return { k: 'and', a, b };
}
function notP(a: PPred): PPred {
  return a.k === 'const' ? { k: 'const', v: !a.v } : { k: 'not', a };
}

/** The first action in `f` that only an XDP or tc program can run (forward, bridge, tee, kernel, detour, count_by), or null. */
export function hookOnlyAction(f: Fn): Fn | null {
  switch (f.k) {
    case 'act':
      return ['forward', 'bridge', 'tee', 'kernel', 'detour', 'count_by'].includes(f.act.a) ? f : null;
    case 'when':
      return hookOnlyAction(f.f);
    case 'cond':
      return hookOnlyAction(f.f) ?? hookOnlyAction(f.g);
    case 'seq':
      for (const g of f.fs) {
        const h = hookOnlyAction(g);
        if (h) return h;
      }
      return null;
    default:
      return null;
  }
}

function containsSteer(f: Fn): boolean {
  switch (f.k) {
    case 'steer':
      return true;
    case 'when':
      return containsSteer(f.f);
    case 'cond':
      return containsSteer(f.f) || containsSteer(f.g);
    case 'seq':
      return f.fs.some(containsSteer);
    default:
      return false;
  }
}

function firstLoc(f: Fn): { pos: number; end: number } | undefined {
  return 'loc' in f ? f.loc : undefined;
}

class Placer {
  constructor(private src: string) {}
  err(msg: string, f?: Fn): never {
    const loc = f ? firstLoc(f) : undefined;
    throw new LangError(msg, this.src, loc?.pos ?? -1, loc?.end ?? -1);
  }
  outcomes(f: Fn, guard: PPred): Outcome[] {
    switch (f.k) {
      case 'steer':
        return [{ guard, what: 'steer', spec: f.s, name: f.name }];
      case 'when':
        return [...this.outcomes(f.f, andP(guard, f.p)), { guard: andP(guard, notP(f.p)), what: 'pass' }];
      case 'cond':
        return [...this.outcomes(f.f, andP(guard, f.p)), ...this.outcomes(f.g, andP(guard, notP(f.p)))];
      case 'seq': {
        const steers = f.fs.filter(containsSteer);
        if (steers.length > 1) this.err('only one steering decision per packet: this sequence steers twice', steers[1]);
        let pass: PPred = T;
        let out: Outcome[] = [];
        for (const g of f.fs) {
          if (containsSteer(g)) {
            out = this.outcomes(g, andP(guard, pass));
            continue;
          }
          const q = filterPred(g);
          if (!q) this.err(`'${showFn(g)}' is a user-space action and cannot be mixed with steering in one stage; put it in its own stage (with >->)`, g);
          pass = andP(pass, q);
        }
        return [...out, { guard: andP(guard, notP(pass)), what: 'drop' }];
      }
      default: {
        const q = filterPred(f);
        if (!q) this.err(`'${showFn(f)}' is a user-space action and cannot be mixed with steering in one stage; put it in its own stage (with >->)`, f);
        return [
          { guard: andP(guard, q), what: 'pass' },
          { guard: andP(guard, notP(q)), what: 'drop' },
        ];
      }
    }
  }
}

/** Parse (when given text) and compile a combinator program. */
export function compileProgram(input: string | Fn | PPred, opts: ProgramOptions = {}): CompiledProgram {
  const src = typeof input === 'string' ? input : '';
  const fn: Fn = typeof input === 'string' ? parsePfq(input) : isPred(input) ? { k: 'filter', p: input } : (input as Fn);
  if (!isFn(fn)) throw new LangError('not a program: expected a computation or a predicate');
  const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
  const L: Lowering = { V: new Values(), src };
  const placer = new Placer(src);
  const stages = flatten(fn);

  const kernelParts: Pred[] = [];
  const placement: PlacedStage[] = [];
  const residualStages: Fn[] = [];
  const allStages: Fn[] = [];
  let steering: Steering | null = null;
  let steerStage = -1;
  let inKernel = true;
  let firstJs = '';

  stages.forEach((st, i) => {
    const text = showFn(st);
    const only = hookOnlyAction(st);
    if (only) placer.err(`'${showFn(only)}' runs in an XDP or tc program (netring xdp, forward, bridge; compile --target xdp|tc), not on a capture socket`, only);
    if (containsSteer(st)) {
      if (opts.singleSocket) placer.err(`'${text}' steers packets between sockets; a single socket (socket filter) cannot steer: use a fan-out group`, st);
      if (steerStage >= 0) placer.err(`only one steering decision per packet: stage ${steerStage + 1} already steers`, st);
      steerStage = i;
      const outs = placer.outcomes(st, T).filter((o) => !(o.guard.k === 'const' && !o.guard.v));
      const classes: SteerClass[] = [];
      let dropPred: PPred | null = null;
      for (const o of outs) {
        const g = lowerPred(o.guard, L);
        const why = kernelReason(g);
        if (why && o.what !== 'pass') placer.err(`steering in '${text}' cannot run in the kernel: ${why}`, st);
        if (o.what === 'drop') dropPred = dropPred ? { k: 'or', a: dropPred, b: o.guard } : o.guard;
        if (o.what === 'steer') {
          if (o.guard.k === 'const' && o.guard.v) classes.push({ steer: o.spec, name: o.name });
          else classes.push({ steer: o.spec, name: o.name, match: genCbpf(toDag(g, snaplen), { target: 'kernel' }) });
        }
      }
      // Outcomes partition all packets: without a 'pass' outcome the last class can take the rest.
      const last = classes[classes.length - 1];
      if (last && last.match && !outs.some((o) => o.what === 'pass')) delete last.match;
      if (classes.length === 1 && classes[0].match === undefined) steering = classes[0].steer;
      else steering = { classes };
      placement.push({ index: i, text, where: 'fan-out' });
      if (dropPred) {
        const filter: Fn = { k: 'filter', p: notP(dropPred), name: `(drops of stage ${i + 1})` };
        allStages.push(filter);
        if (inKernel) kernelParts.push(lowerPred(filter.p, L));
        else residualStages.push(filter);
      }
      return;
    }
    allStages.push(st);
    const q = filterPred(st);
    if (inKernel && q) {
      const p = lowerPred(q, L);
      const why = kernelReason(p);
      if (!why) {
        kernelParts.push(p);
        placement.push({ index: i, text, where: 'socket filter' });
        return;
      }
      inKernel = false;
      firstJs = text;
      placement.push({ index: i, text, where: 'user space', why });
      residualStages.push(st);
      return;
    }
    if (inKernel) {
      inKernel = false;
      firstJs = text;
      placement.push({ index: i, text, where: 'user space', why: 'it changes user-space state (counters, marks, class, log)' });
    } else {
      placement.push({ index: i, text, where: 'user space', why: q ? `it comes after '${firstJs}', which must see every packet that reaches it` : undefined });
    }
    residualStages.push(st);
  });

  let socketFilter: CompiledProgram['socketFilter'] = null;
  const kpred = kernelParts.reduce<Pred>((a, b) => and(a, b), TRUE);
  if (kpred.k !== 'true') {
    const dag = toDag(kpred, snaplen);
    if (dag.kind === 'ret' && dag.k === 0) throw new LangError('this program drops every packet', src, 0, src.length);
    socketFilter = { insns: genCbpf(dag, { target: 'kernel' }), pred: kpred, dag };
  }
  const counters: string[] = [];
  const collect = (f: Fn): void => {
    if (f.k === 'act' && f.act.a === 'count' && !counters.includes(f.act.name)) counters.push(f.act.name);
    if (f.k === 'when') collect(f.f);
    if (f.k === 'cond') {
      collect(f.f);
      collect(f.g);
    }
    if (f.k === 'seq') f.fs.forEach(collect);
  };
  stages.forEach(collect);
  const state: PipelineState = { counters: new Float64Array(Math.max(1, counters.length)), state: 0 };
  const residual = residualStages.length ? genPipeline(residualStages, L, counters, state) : null;
  const full = genPipeline(allStages, L, counters, state);
  const st = steering as Steering | null;
  return {
    source: src || showFn(fn),
    fn,
    socketFilter,
    steering: st,
    residual,
    full,
    counters,
    placement,
    fanoutProgram(members: number, weights?: readonly number[]): Insn[] {
      if (!st) throw new LangError('this program does not steer');
      const s: Steering = weights && !('classes' in st) ? ('steer' in st ? { ...st, weights } : { steer: st as SteerSpec, weights }) : st;
      return fanoutProgram(s, members) as Insn[];
    },
    explain(): string {
      return explainProgram(src || showFn(fn), placement, socketFilter, st, residual, counters);
    },
  };
}

/** Generate the user-space function for `stages`. */
function genPipeline(stages: Fn[], L: Lowering, counters: string[], S: PipelineState): JsPipeline {
  const lines: string[] = [];
  const vars = new Set<string>(['t = 0', 'c = 0', 'verdict = 1', 'mark = 0', 'cls = 0', 'log = 0']);
  let needLen = false;
  let k = 0;
  const FAIL = '{ verdict = 0; break P; }';
  const pred = (p: PPred): string => {
    const dag = toDag(lowerPred(p, L), 1);
    if (dag.kind === 'ret' && !dag.val) return dag.k !== 0 ? 'true' : 'false';
    const e = genJsInline(dag, 'c', `p${k++}_`, FAIL);
    e.vars.forEach((v) => vars.add(v));
    needLen ||= e.needLen;
    lines.push(...e.lines);
    return 'c !== 0';
  };
  const gen = (f: Fn): void => {
    switch (f.k) {
      case 'filter': {
        const c = pred(f.p);
        lines.push(`if (!(${c})) { verdict = 0; break P; }`);
        return;
      }
      case 'when': {
        const c = pred(f.p);
        lines.push(`if (${c}) {`);
        gen(f.f);
        lines.push('}');
        return;
      }
      case 'cond': {
        const c = pred(f.p);
        lines.push(`if (${c}) {`);
        gen(f.f);
        lines.push('} else {');
        gen(f.g);
        lines.push('}');
        return;
      }
      case 'seq':
        f.fs.forEach(gen);
        return;
      case 'unit':
        return;
      case 'steer':
        lines.push(`/* ${f.name}: decided by the kernel fan-out program */`);
        return;
      case 'act':
        switch (f.act.a) {
          case 'drop':
            lines.push('verdict = 0; break P;');
            return;
          case 'pass':
            return;
          case 'broadcast':
            lines.push('verdict = 2;');
            return;
          case 'classify':
            lines.push(`cls = ${f.act.n >>> 0};`);
            return;
          case 'mark':
            lines.push(`mark = ${f.act.n >>> 0};`);
            return;
          case 'state':
            lines.push(`S.state = ${f.act.n >>> 0};`);
            return;
          case 'log':
            lines.push('log = 1;');
            return;
          case 'count':
            lines.push(`S.counters[${counters.indexOf(f.act.name)}] += ${f.act.delta};`);
            return;
        }
    }
  };
  stages.forEach(gen);
  const body = [
    'const d = p.data, o = p.offset, n = p.caplen;',
    needLen ? 'const wl = p.wireLen;' : '',
    `let ${[...vars].join(', ')};`,
    'P: {',
    ...lines,
    '}',
    'r.verdict = verdict; r.mark = mark; r.cls = cls; r.log = log;',
    'return verdict;',
  ].filter(Boolean).join('\n');
  const run = new Function('S', `return function (p, r) {\n${body}\n};`)(S) as JsPipeline['run'];
  return { source: body, run, state: S };
}

function explainProgram(
  src: string,
  placement: readonly PlacedStage[],
  sf: CompiledProgram['socketFilter'],
  steering: Steering | null,
  residual: JsPipeline | null,
  counters: readonly string[],
): string {
  const out: string[] = [`program: ${src}`];
  const list = (where: PlacedStage['where']): PlacedStage[] => placement.filter((p) => p.where === where);
  const k = list('socket filter');
  out.push('');
  if (sf) {
    out.push(`kernel socket filter (classic BPF, SO_ATTACH_FILTER), ${sf.insns.length} instructions:`);
    for (const p of k) out.push(`  stage ${p.index + 1}: ${p.text}`);
    if (k.length === 0) out.push('  the drop decisions of the steering stage');
  } else out.push('kernel socket filter: none (every packet reaches the ring)');
  out.push('');
  if (steering) {
    const p = list('fan-out')[0];
    out.push(`kernel fan-out program (classic BPF, PACKET_FANOUT_CBPF): stage ${p.index + 1}: ${p.text}`);
    if ('classes' in steering) {
      for (const c of steering.classes) out.push(`  class: ${c.name ?? 'steer'}${c.match ? ` when its match program (${c.match.length} instructions) accepts` : ''}`);
      if (steering.classes[steering.classes.length - 1].match) out.push('  packets matched by no class: spread by flow');
    } else out.push(`  every packet that reaches the group is steered by ${p.text}`);
  } else out.push('kernel fan-out program: none');
  out.push('');
  if (residual) {
    out.push('user space (generated JavaScript, per delivered packet):');
    for (const p of list('user space')) out.push(`  stage ${p.index + 1}: ${p.text}${p.why ? `  -- ${p.why}` : ''}`);
  } else out.push('user space: nothing (the kernel does all the work)');
  if (counters.length) out.push('', `counters: ${counters.map((c, i) => `${i}=${c}`).join(', ')}`);
  if (sf) out.push('', 'socket filter code:', formatD(sf.insns));
  return out.join('\n');
}

export { showFn, showPred };
