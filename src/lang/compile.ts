/**
 * One entry point for tools (`netring compile`, `capture -f/--program`):
 * compile either language and get every form the CLI prints.
 */
import { encodeProgram as encode, type BpfInsn as Insn } from '../bpf/classic.js';
import { formatD, formatDD, formatDDD } from '../bpf/text.js';
import type { CompiledProgram } from './pfq/compile.js';
import { place, type Language, type Placement } from './place.js';
import type { FilterTarget } from './tcpdump/gen.js';

export type { Language };

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
  /** The placement the report was made from. */
  placement: Placement;
  program?: CompiledProgram;
}

/** Compile a tcpdump expression or a combinator program through {@link place}. Throws LangError (with caret rendering) on bad input. */
export function compile(source: string, opts: CompileOptions = {}): CompileReport {
  const mode = opts.target ?? 'kernel';
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
      js: program.residual?.source ?? '', explain: pl.explain(), fanout, placement: pl, program,
    };
  }
  return {
    language: 'tcpdump', source, cbpf, bytes: cbpf ? encode(cbpf) : null, ...listings,
    js: pl.js().source.body, explain: pl.explain(), fanout: null, placement: pl,
  };
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
