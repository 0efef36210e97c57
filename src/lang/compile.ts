/**
 * One entry point for tools (`netring compile`, `capture -f/--program`):
 * compile either language and get every form the CLI prints.
 */
import { encodeProgram as encode, type BpfInsn as Insn } from '../bpf/classic.js';
import { formatD, formatDD, formatDDD } from '../bpf/text.js';
import type { CompiledProgram } from './pfq/compile.js';
import { pickLanguage, place, type Language, type Placement } from './place.js';
import type { FilterTarget } from './tcpdump/gen.js';
import { formatEbpf } from '../bpf/ebpf.js';
import { generate, type EbpfFilter, type Hook as EbpfHook } from './ebpf/codegen.js';
import { LangError } from './errors.js';
import { generateProgram } from './ebpf/program.js';
import { DEFAULT_SNAPLEN } from './filter.js';

export type { Language };

export interface CompileOptions {
  /** Which language `source` is in; 'auto' (default) tries tcpdump first, then the combinator language. */
  language?: Language;
  /**
   * tcpdump expressions: 'kernel' (live socket, classic BPF; default), 'file' (like `tcpdump -r`),
   * or an eBPF hook: 'xdp' (frames as stored, tags in the bytes), 'tc' or 'socket' (skb metadata).
   */
  target?: FilterTarget | EbpfHook;
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
  /** eBPF listing (targets xdp, tc, socket), '' otherwise. */
  ebpf: string;
  /** The eBPF program (targets xdp, tc, socket). */
  ebpfProgram: EbpfFilter | null;
  /** Where each part runs and why. */
  explain: string;
  /** Fan-out steering program (combinator programs with steering, when `members` is given). */
  fanout: Insn[] | null;
  /** The placement the report was made from. */
  placement: Placement;
  program?: CompiledProgram;
}

/** Compile a tcpdump expression or a combinator program through {@link place}. Throws LangError (with caret rendering) on bad input. */
export function compile(source: string, opts: CompileOptions = {}): CompileReport {
  const target = opts.target ?? 'kernel';
  if (target === 'xdp' || target === 'tc' || target === 'socket') return compileEbpf(source, target, opts);
  const mode = target;
  const pl = place(source, {
    language: opts.language, mode, snaplen: opts.snaplen, netmask: opts.netmask,
    targets: mode === 'kernel' ? ['socket', 'fanout', 'js'] : ['file', 'js'],
  });
  const cbpf = pl.cbpf;
  const listings = { d: cbpf ? formatD(cbpf) : '', dd: cbpf ? formatDD(cbpf) : '', ddd: cbpf ? formatDDD(cbpf) : '' };
  if (pl.program) {
    const program = pl.program;
    const fanout = opts.members && program.steering ? program.fanoutProgram(opts.members, opts.weights) : null;
    return {
      language: 'pfq', source, cbpf, bytes: cbpf ? encode(cbpf) : null, ...listings,
      js: program.residual?.source ?? '', ebpf: '', ebpfProgram: null, explain: pl.explain(), fanout, placement: pl, program,
    };
  }
  return {
    language: 'tcpdump', source, cbpf, bytes: cbpf ? encode(cbpf) : null, ...listings,
    js: pl.js().source.body, ebpf: '', ebpfProgram: null, explain: pl.explain(), fanout: null, placement: pl,
  };
}

/** `compile --target xdp|tc|socket`: the eBPF program for one hook, through the same placement. */
function compileEbpf(source: string, hook: EbpfHook, opts: CompileOptions): CompileReport {
  if (pickLanguage(source, opts.language ?? 'auto') !== 'tcpdump') {
    if (hook === 'socket') throw new LangError('--target socket: combinator programs are placed on sockets by the default target (kernel); give a tcpdump expression');
    // the whole combinator program as one XDP or tc program
    const code = generateProgram(source, { hook });
    const pl: Placement = {
      language: 'pfq', source, mode: hook === 'xdp' ? 'file' : 'kernel', snaplen: opts.snaplen ?? DEFAULT_SNAPLEN, dag: null, kernelTarget: hook,
      cbpf: null, ebpf: code, answers: [{ target: hook, why: null }], needsJs: false, program: null,
      js() { throw new LangError(`--target ${hook}: the whole program runs in the kernel; nothing runs in JavaScript`); },
      explain: () => code.explain(),
    };
    return {
      language: 'pfq', source, cbpf: null, bytes: null, d: '', dd: '', ddd: '', js: '', ebpf: code.listing(), ebpfProgram: code,
      explain: code.explain(), fanout: null, placement: pl,
    };
  }
  const mode = hook === 'xdp' ? 'file' : 'kernel';
  const pl = place(source, { language: 'tcpdump', mode, snaplen: opts.snaplen, netmask: opts.netmask, targets: [hook === 'socket' ? 'socket' : hook, 'js'] });
  const prog = hook === 'socket'
    ? (pl.answers.find((a) => a.target === 'socket')?.why ? null : generate(pl.dag!, { hook: 'socket', onMatch: pl.snaplen }))
    : pl.ebpf;
  const note = hook === 'socket' && prog ? `\n  as eBPF (SO_ATTACH_BPF): ${prog.insns.length} instructions, returns ${pl.snaplen} for a match` : '';
  return {
    language: 'tcpdump', source, cbpf: null, bytes: null, d: '', dd: '', ddd: '',
    js: pl.needsJs ? pl.js().source.body : '', ebpf: prog ? formatEbpf(prog.insns) : '', ebpfProgram: prog,
    explain: pl.explain() + note, fanout: null, placement: pl,
  };
}

/** The forms `netring compile` prints. */
export type ReportPart = 'd' | 'dd' | 'ddd' | 'js' | 'ebpf' | 'explain' | 'all';

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
    case 'ebpf':
      return r.ebpf || '(no eBPF program: see --explain)';
    case 'explain':
      return r.explain;
    case 'all': {
      const parts = [`# ${r.language === 'pfq' ? 'program' : 'expression'}: ${r.source}`, '', '# placement', r.explain];
      if (r.ebpfProgram || r.ebpf === '' && r.placement.answers.some((a) => a.target === 'xdp' || a.target === 'tc')) parts.push('', `# eBPF (${r.ebpfProgram?.hook ?? 'none'})`, formatReport(r, 'ebpf'));
      else if (r.language === 'tcpdump') parts.push('', '# classic BPF (tcpdump -d)', formatReport(r, 'd'));
      if (r.fanout) parts.push('', '# fan-out program (tcpdump -d style)', formatD(r.fanout));
      parts.push('', '# JavaScript', formatReport(r, 'js'));
      return parts.join('\n');
    }
  }
}
