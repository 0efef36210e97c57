/**
 * Turns the capture command's filter options into a plan: the part the
 * kernel runs (classic BPF attached to the socket) and the residual that runs
 * in JS on each packet view (null when nothing is left for JS).
 *
 * Both come from the language's placement (`place()`, src/lang/place.ts):
 *   -f EXPR live      targets socket, js: the socket filter runs it; no residual
 *                      (protochain loops are not kernel-loadable: JS only)
 *   -f EXPR  -r FILE   target js: the generated JS function (file lowering)
 *   --filter-bpf -r    residual: the BPF interpreter
 */
import type { BpfProgram } from '../ring/index.js';
import type { PacketLike } from '../packet-like.js';
import { place, runBpfOn } from '../lang/index.js';

/** A compiled per-packet test run in JS. */
export type PacketPredicate = (p: PacketLike) => boolean;

/** Where the filter runs. */
export interface FilterPlan {
  /** Program for SO_ATTACH_FILTER (live only). */
  kernel?: BpfProgram;
  /** JS residual, or null. */
  residual: PacketPredicate | null;
  /** Counters of a --program (names and live values), when it has any. */
  counters?: () => Record<string, number>;
}

/** Filter options the plan is made from. */
export interface FilterOptions {
  filter?: string;
  program?: string;
  filterBpf?: BpfProgram;
  snaplen?: number;
  /** IPv4 netmask for `ip broadcast` (live: the interface's; files: 0, as tcpdump -r). */
  netmask?: number;
}

/**
 * Make the plan. `mode` 'kernel' compiles for a live socket (VLAN tags in
 * metadata), 'file' for bytes as stored in a capture file (tags inline).
 */
export function packetFilter(opts: FilterOptions, mode: 'kernel' | 'file'): FilterPlan {
  if (opts.program !== undefined) return programPlan(opts.program, mode, opts.snaplen);
  if (opts.filterBpf !== undefined) {
    if (mode === 'kernel') return { kernel: opts.filterBpf, residual: null };
    const prog = opts.filterBpf;
    return { residual: (p) => runBpfOn(prog, p, false) !== 0 };
  }
  if (opts.filter === undefined) return { residual: null };
  const pl = place(opts.filter, { language: 'tcpdump', mode, snaplen: opts.snaplen, netmask: opts.netmask, targets: mode === 'kernel' ? ['socket', 'js'] : ['js'] });
  if (pl.kernelTarget === 'socket' && pl.cbpf) return { kernel: pl.cbpf, residual: null };
  const { match } = pl.js();
  return { residual: (p) => match(p) !== 0 };
}

/**
 * A PFQ-style program on one socket: its longest pure-filter prefix becomes the
 * socket filter, the rest (actions, counters, marks) runs in the generated JS
 * pipeline; offline the whole program runs in JS. Steering needs a fan-out
 * group and is refused here with the compiler's reason.
 */
function programPlan(text: string, mode: 'kernel' | 'file', snaplen?: number): FilterPlan {
  const pl = place(text, { language: 'pfq', mode, snaplen, singleSocket: true, targets: mode === 'kernel' ? ['socket', 'js'] : ['js'] });
  const prog = pl.program!;
  const pipe = pl.kernelTarget === 'socket' ? prog.residual : prog.full;
  const r = { verdict: 0, mark: 0, cls: 0, log: 0 };
  const counters = (): Record<string, number> => {
    const out: Record<string, number> = {};
    const values = pipe?.state.counters;
    prog.counters.forEach((name, i) => { out[name] = values ? values[i] : 0; });
    return out;
  };
  return {
    kernel: pl.cbpf ?? undefined,
    residual: pipe === null ? null : (p) => pipe.run(p, r) !== 0,
    counters: prog.counters.length > 0 ? counters : undefined,
  };
}
