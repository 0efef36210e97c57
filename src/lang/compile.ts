/**
 * One entry point for tools (`netring compile`, `capture -f/--program`):
 * compile either language and get every form the CLI prints.
 */
import { encodeProgram as encode, type BpfInsn as Insn } from '../bpf/classic.js';
import { formatD, formatDD, formatDDD } from '../bpf/text.js';
import { LangError } from './errors.js';
import { compileFilter, compileFilterJs, type CompiledFilter, DEFAULT_SNAPLEN } from './filter.js';
import type { FilterTarget } from './tcpdump/gen.js';
import { parsePcap } from './tcpdump/parser.js';
import { lex } from './tcpdump/lexer.js';
import { compileProgram, type CompiledProgram } from './pfq/compile.js';
import { BUILTINS } from './pfq/vocab.js';

export type Language = 'auto' | 'tcpdump' | 'pfq';

export interface CompileOptions {
  /** Which language `source` is in; 'auto' (default) tries tcpdump first, then the combinator language. */
  language?: Language;
  /** tcpdump expressions: 'kernel' (live socket, default) or 'file' (like `tcpdump -r`). */
  target?: FilterTarget;
  snaplen?: number;
  /** IPv4 netmask for `ip broadcast`. */
  netmask?: number;
  /** Also build the fan-out program for this many sockets (combinator programs that steer). */
  members?: number;
  weights?: number[];
}

/** Everything `netring compile` can print. */
export interface CompileReport {
  language: 'tcpdump' | 'pfq';
  source: string;
  /** Classic BPF to attach to the socket (null: nothing to attach / not kernel-runnable). */
  cbpf: Insn[] | null;
  /** `cbpf` as struct sock_filter records. */
  bytes: Uint8Array | null;
  /** tcpdump -d style listing of `cbpf`. */
  d: string;
  /** tcpdump -dd style listing. */
  dd: string;
  /** tcpdump -ddd style (kernel-ready decimal). */
  ddd: string;
  /** The generated JavaScript. */
  js: string;
  /** Where each part runs and why. */
  explain: string;
  /** Fan-out steering program (combinator programs with steering, when `members` is given). */
  fanout: Insn[] | null;
  filter?: CompiledFilter;
  program?: CompiledProgram;
}

const PFQ_HINT = /(>->|\bsteer_\w+|\bwhen\b|\bunless\b|\bconditional\b|\bis_\w+|\bhas_\w+|\binc\b|\bcount\b|\bfilter\s*["'(])/;

function pickLanguage(source: string, lang: Language): 'tcpdump' | 'pfq' {
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

/** Compile a tcpdump expression or a combinator program. Throws LangError (with caret rendering) on bad input. */
export function compile(source: string, opts: CompileOptions = {}): CompileReport {
  const language = pickLanguage(source, opts.language ?? 'auto');
  if (language === 'pfq') {
    const program = compileProgram(source, { snaplen: opts.snaplen });
    const cbpf = program.socketFilter?.insns ?? null;
    let fanout: Insn[] | null = null;
    if (opts.members && program.steering) fanout = program.fanoutProgram(opts.members, opts.weights);
    return {
      language, source, cbpf, bytes: cbpf ? encode(cbpf) : null,
      d: cbpf ? formatD(cbpf) : '', dd: cbpf ? formatDD(cbpf) : '', ddd: cbpf ? formatDDD(cbpf) : '',
      js: program.residual?.source ?? '', explain: program.explain(), fanout, program,
    };
  }
  const target = opts.target ?? 'kernel';
  const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
  try {
    const filter = compileFilter(source, { target, snaplen, netmask: opts.netmask });
    const explain = [
      `tcpdump expression for a ${target === 'kernel' ? 'Linux packet socket (VLAN tags may be in metadata)' : 'capture file (VLAN tags in the bytes)'}:`,
      `  classic BPF: ${filter.insns.length} instructions, returns ${snaplen} for a match`,
      '  JavaScript: one generated function (same verdicts)',
    ].join('\n');
    return {
      language, source, cbpf: filter.insns, bytes: filter.bytes, d: formatD(filter.insns), dd: formatDD(filter.insns),
      ddd: formatDDD(filter.insns), js: filter.js.body, explain, fanout: null, filter,
    };
  } catch (e) {
    // protochain cannot run in the kernel: the whole filter runs in JavaScript instead.
    if (!(e instanceof LangError) || target !== 'kernel' || !/protochain/.test(e.reason)) throw e;
    const js = compileFilterJs(source, { target, snaplen, netmask: opts.netmask });
    const explain = `tcpdump expression: ${e.reason}\n  kernel socket filter: none (every packet reaches the ring)\n  JavaScript: the whole filter, per packet`;
    return { language, source, cbpf: null, bytes: null, d: '', dd: '', ddd: '', js: js.js.body, explain, fanout: null };
  }
}

/** The forms `netring compile` prints. */
export type ReportPart = 'd' | 'dd' | 'ddd' | 'js' | 'explain' | 'all';

/** Render part of a report as text for the terminal. */
export function formatReport(r: CompileReport, part: ReportPart = 'all'): string {
  switch (part) {
    case 'd':
      return r.d || '(no classic BPF: see --explain)';
    case 'dd':
      return r.dd || '(no classic BPF: see --explain)';
    case 'ddd':
      return r.ddd || '(no classic BPF: see --explain)';
    case 'js':
      return r.js || '(nothing runs in user space)';
    case 'explain':
      return r.explain;
    case 'all': {
      const parts = [`# ${r.language === 'pfq' ? 'program' : 'expression'}: ${r.source}`, '', '# placement', r.explain];
      if (r.language === 'tcpdump') parts.push('', '# classic BPF (tcpdump -d)', formatReport(r, 'd'));
      if (r.fanout) parts.push('', '# fan-out program (tcpdump -d style)', formatD(r.fanout));
      parts.push('', '# JavaScript', formatReport(r, 'js'));
      return parts.join('\n');
    }
  }
}
