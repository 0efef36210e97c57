/**
 * Turns the capture command's filter options into a plan: the part the
 * kernel runs (classic BPF attached to the socket) and the residual that runs
 * in JS on each packet view (null when nothing is left for JS).
 */
import type { BpfProgram } from '../ring/cbpf.js';
import type { PacketLike } from '../packet-like.js';
import { UsageError } from './args.js';

/** A compiled per-packet test run in JS. */
export type PacketPredicate = (p: PacketLike) => boolean;

/** Where the filter runs. */
export interface FilterPlan {
  /** Program for SO_ATTACH_FILTER (live) or to interpret (file). */
  kernel?: BpfProgram;
  /** JS residual, or null. */
  residual: PacketPredicate | null;
}

/** Filter options the plan is made from. */
export interface FilterOptions {
  filter?: string;
  program?: string;
  filterBpf?: BpfProgram | string;
  residual?: PacketPredicate | null;
}

/**
 * Make the plan. `mode` 'kernel' compiles for a live socket (VLAN tags in
 * metadata), 'file' for bytes as stored in a capture file (tags inline).
 */
export function packetFilter(opts: FilterOptions, mode: 'kernel' | 'file'): FilterPlan {
  if (opts.filter !== undefined || opts.program !== undefined)
    throw new UsageError('-f and --program need the packet language (not built yet); use --filter-bpf');
  if (mode === 'file' && opts.filterBpf !== undefined)
    throw new UsageError('--filter-bpf with -r needs the BPF interpreter (not built yet)');
  return { residual: opts.residual ?? null };
}
