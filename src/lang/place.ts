/**
 * Placement: one entry point that decides where each part of a filter or
 * program runs. It lowers the source once (tcpdump expression -> optimised
 * DAG; combinator program -> stages), then asks the available targets in
 * {@link TARGET_ORDER} (xdp, tc, socket filter, fan-out program, file,
 * JavaScript) which part each can run, through the backend registered for
 * it (`backend.ts`); it encodes what the kernel runs once, applies the
 * snaplen in one place (the accept value of the lowering), and builds the
 * JavaScript residual only when the caller asks for it.
 *
 * Used by `compile()` (netring compile), the capture command's filter plan
 * and, for combinator programs, by the PFQ front end's stage placement.
 */
import type { BpfInsn as Insn } from '../bpf/classic.js';
import type { PacketLike } from '../packet-like.js';
import { backendFor, loweringFor, TARGET_ORDER, type Target } from './backend.js';
import type { EbpfFilter } from './ebpf/codegen.js';
import { LangError } from './errors.js';
import { DEFAULT_SNAPLEN, lowerFilter } from './filter.js';
import type { DNode } from './ir/dag.js';
import { genJs, instantiate, type JsProgram, type JsSource } from './js/codegen.js';
import { compileProgram, type CompiledProgram } from './pfq/compile.js';
import { BUILTINS } from './pfq/vocab.js';
import { lex } from './tcpdump/lexer.js';
import { parsePcap } from './tcpdump/parser.js';

export type Language = 'auto' | 'tcpdump' | 'pfq';

/** Options of {@link place}. */
export interface PlaceOptions {
  /** Which language `source` is in; 'auto' (default) tries tcpdump first, then the combinator language. */
  language?: Language;
  /** How tcpdump expressions read VLAN tags: 'kernel' (live socket, tags in metadata; default) or 'file' (tags inline, like `tcpdump -r`). */
  mode?: 'kernel' | 'file';
  /** Targets that exist for this use, asked in TARGET_ORDER. Default: ['socket', 'fanout', 'js'] live, ['file', 'js'] for files. */
  targets?: readonly Target[];
  /** Value a kernel program returns for an accepted packet (bytes kept). Default 262144. */
  snaplen?: number;
  /** IPv4 netmask for `ip broadcast`. */
  netmask?: number;
  /** Combinator programs: compile for one socket (steering refused). */
  singleSocket?: boolean;
}

/** What one target said about the source. */
export interface TargetAnswer {
  target: Target;
  /** Null: it runs its part; otherwise why it cannot. */
  why: string | null;
}

/** The result of {@link place}. */
export interface Placement {
  readonly language: 'tcpdump' | 'pfq';
  readonly source: string;
  readonly mode: 'kernel' | 'file';
  readonly snaplen: number;
  /** tcpdump expressions: the optimised DAG every backend starts from. */
  readonly dag: DNode | null;
  /** The kernel-side target that runs the expression, or the program's filter prefix (null: none). */
  readonly kernelTarget: Target | null;
  /** Classic BPF for the socket filter (live) or the libpcap listing (files), null when none. */
  readonly cbpf: Insn[] | null;
  /** eBPF for the xdp or tc target, when one of them runs the expression. */
  readonly ebpf: EbpfFilter | null;
  /** The targets asked, in order, and their answers. */
  readonly answers: readonly TargetAnswer[];
  /** Does anything run in JavaScript? */
  readonly needsJs: boolean;
  /** Combinator programs: the compiled program (stages, counters, steering, residual). */
  readonly program: CompiledProgram | null;
  /** The JavaScript for the whole expression (built on first call). */
  js(): { source: JsSource; match: JsProgram };
  /** Human-readable account of the split. */
  explain(): string;
}

const PFQ_HINT = /(>->|\bsteer_\w+|\bwhen\b|\bunless\b|\bconditional\b|\bis_\w+|\bhas_\w+|\binc\b|\bcount\b|\bfilter\s*["'(])/;

/** Which language a source is in (`auto`: tcpdump unless only the combinator language parses it). */
export function pickLanguage(source: string, lang: Language = 'auto'): 'tcpdump' | 'pfq' {
  if (lang !== 'auto') return lang;
  if (/>->/.test(source)) return 'pfq';
  try {
    parsePcap(source);
    return 'tcpdump';
  } catch {
    // Both languages share names (ip, tcp, port, ...): only PFQ-only words decide for the combinator language.
    const first = /^\s*([A-Za-z_][\w']*)/.exec(source)?.[1];
    const pcapKeyword = first !== undefined && (() => {
      try {
        return lex(first)[0].kind === 'kw';
      } catch {
        return false;
      }
    })();
    return PFQ_HINT.test(source) || (first !== undefined && BUILTINS.has(first) && !pcapKeyword) ? 'pfq' : 'tcpdump';
  }
}

/** Place a tcpdump expression or a combinator program. Throws LangError (with caret rendering) on bad input. */
export function place(source: string, opts: PlaceOptions = {}): Placement {
  const language = pickLanguage(source, opts.language ?? 'auto');
  const mode = opts.mode ?? 'kernel';
  const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
  const available = new Set<Target>(opts.targets ?? (mode === 'kernel' ? ['socket', 'fanout', 'js'] : ['file', 'js']));
  const order = TARGET_ORDER.filter((t) => available.has(t));
  if (language === 'pfq') return placeProgram(source, mode, snaplen, order, opts);

  const { dag } = lowerFilter(source, { target: mode, snaplen, netmask: opts.netmask });
  const answers: TargetAnswer[] = [];
  let kernelTarget: Target | null = null;
  let cbpf: Insn[] | null = null;
  let ebpf: EbpfFilter | null = null;
  for (const t of order) {
    if (t === 'js' || t === 'fanout') continue; // fan-out programs steer; a filter is not one
    const b = backendFor(t);
    if (!b) {
      answers.push({ target: t, why: 'no backend for this target in this build' });
      continue;
    }
    const why = loweringFor(t) !== mode
      ? `it needs the ${loweringFor(t)} lowering (VLAN tags ${loweringFor(t) === 'file' ? 'in the bytes' : 'in skb metadata'}), this placement lowers for ${mode === 'file' ? 'files' : 'sockets'}`
      : b.unsupported(dag);
    answers.push({ target: t, why });
    if (why) continue;
    if (t === 'socket' || t === 'file') cbpf = rethrowAt(source, () => b.generate(dag) as Insn[]);
    else ebpf = rethrowAt(source, () => b.generate(dag) as EbpfFilter);
    kernelTarget = t;
    break;
  }
  const needsJs = kernelTarget === null || kernelTarget === 'file';
  if (needsJs && available.has('js')) answers.push({ target: 'js', why: null });
  let built: { source: JsSource; match: JsProgram } | null = null;
  return {
    language, source, mode, snaplen, dag, kernelTarget, cbpf, ebpf, answers, needsJs, program: null,
    js() {
      if (!built) {
        const s = genJs(dag);
        built = { source: s, match: instantiate(s) };
      }
      return built;
    },
    explain() {
      const where = mode === 'kernel' ? 'skb hooks: a Linux packet socket or tc (VLAN tags may be in metadata)' : 'frames as stored in a capture file or seen at XDP (VLAN tags in the bytes)';
      const out = [`tcpdump expression for ${where}:`];
      for (const a of answers) {
        if (a.target === 'js') out.push(`  JavaScript: ${kernelTarget === 'file' ? 'one generated function (same verdicts)' : 'the whole filter, per packet'}`);
        else if (a.why) out.push(`  ${label(a.target)}: none (${a.why})`);
        else if (ebpf) out.push(`  ${label(a.target)}: ${ebpf.insns.length} instructions, ${a.target === 'xdp' ? 'XDP_PASS' : 'TC_ACT_OK'} for a match, ${a.target === 'xdp' ? 'XDP_DROP' : 'TC_ACT_SHOT'} otherwise`);
        else out.push(`  ${label(a.target)}: ${cbpf ? `${cbpf.length} instructions, ` : ''}returns ${snaplen} for a match`);
      }
      if (kernelTarget === null && mode === 'kernel') out.push('  every packet reaches the ring');
      return out.join('\n');
    },
  };
}

function label(t: Target): string {
  switch (t) {
    case 'xdp': return 'XDP program (eBPF)';
    case 'tc': return 'tc program (eBPF)';
    case 'socket': return 'kernel socket filter (classic BPF)';
    case 'fanout': return 'fan-out program';
    case 'file': return 'classic BPF (libpcap, files)';
    case 'js': return 'JavaScript';
  }
}

function rethrowAt<T>(source: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof LangError && e.pos < 0) throw new LangError(e.reason, source, 0, source.length);
    throw e;
  }
}

function placeProgram(source: string, mode: 'kernel' | 'file', snaplen: number, order: readonly Target[], opts: PlaceOptions): Placement {
  const program = compileProgram(source, { snaplen, singleSocket: opts.singleSocket });
  const onSocket = order.includes('socket') || order.includes('file');
  const cbpf = onSocket ? program.socketFilter?.insns ?? null : null;
  const answers: TargetAnswer[] = order.map((t) => ({
    target: t,
    why: t === 'socket' || t === 'file' ? (cbpf ? null : 'no stage is a pure filter on packet bytes')
      : t === 'fanout' ? (program.steering ? null : 'the program does not steer')
      : t === 'js' ? null
      : 'combinator programs are placed on sockets and fan-out groups',
  }));
  const pipe = onSocket ? program.residual : program.full;
  return {
    language: 'pfq', source, mode, snaplen, dag: null, kernelTarget: cbpf ? 'socket' : null, cbpf, ebpf: null, answers,
    needsJs: pipe !== null, program,
    js() {
      const r = { verdict: 0, mark: 0, cls: 0, log: 0 };
      const full = program.full;
      return { source: { body: full.source }, match: (p: PacketLike) => full.run(p, r) };
    },
    explain: () => program.explain(),
  };
}
