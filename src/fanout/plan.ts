/**
 * A group's `fanout` option, in all its forms, resolved to what each member
 * does when it joins: kernel mode, flags, and (for steered groups) the program
 * to generate for the current member layout. Also the command-line text form.
 */
import { NetringError } from '../errors.js';
import type { BpfProgram, BpfInsn } from '../bpf/classic.js';
import type { FanoutFlags, FanoutMode } from '../ring/fanout-mode.js';
import { needsProgram, parseSteer, toClasses, type Steering } from '../lang/steer/spec.js';
import { fanoutProgram, type Slots } from '../lang/steer/codegen.js';

/** A kernel mode that needs no program. */
export type KernelMode = Exclude<FanoutMode, 'cbpf' | 'ebpf'>;

/**
 * The `fanout` option of a group:
 * - a string: a kernel mode (`hash`, `lb`, `cpu`, `qm`, `rollover`, `rnd`) or a
 *   steering function (`flow`, `ip`, `mac`, `vlan`, `rrobin`, `to:N`,
 *   `field:OFF:SIZE[:PAIR]`), each optionally followed by flags
 *   `+defrag`, `+rollover`, `+ignore-outgoing` (see {@link parseFanout});
 * - `{ mode, ...flags }` for a kernel mode;
 * - `{ steering, ...flags }` for a generated program (PFQ functions, weights,
 *   classes), regenerated whenever members come and go; with `ebpf: true` the
 *   program is eBPF and picks through a table map the group rewrites in place
 *   (live weights, no reload; `tableEntries` per plan, default 256);
 * - `{ mode: 'cbpf', program }` or `{ mode: 'ebpf', ebpfFd }` for your own program.
 */
export type GroupFanout =
  | string
  | (FanoutFlags & { mode: KernelMode })
  | (FanoutFlags & { steering: Steering; ebpf?: boolean; tableEntries?: number })
  | (FanoutFlags & { mode: 'cbpf'; program: BpfProgram })
  | (FanoutFlags & { mode: 'ebpf'; ebpfFd: number });

/** The object forms of {@link GroupFanout}. */
export type FanoutObject = Exclude<GroupFanout, string>;

/** What every member of a group joins with. */
export interface FanoutPlan {
  mode: FanoutMode;
  flags: FanoutFlags;
  steering?: Steering;
  program?: BpfProgram;
  ebpfFd?: number;
  /** eBPF table mode: entries per plan of the steering table. */
  table?: { entries: number };
  /** Human-readable summary, e.g. "cbpf steering flow (weights 1:3)". */
  describe: string;
}

const KERNEL_MODES: readonly string[] = ['hash', 'lb', 'cpu', 'rollover', 'rnd', 'qm'];

function flagsOf(f: FanoutFlags): FanoutFlags {
  const out: FanoutFlags = {};
  if (f.defrag) out.defrag = true;
  if (f.rollover) out.rollover = true;
  if (f.ignoreOutgoing) out.ignoreOutgoing = true;
  return out;
}

/**
 * Parse the command-line form: `MODE[+FLAG...]`, e.g. `hash`, `hash+defrag`,
 * `lb+rollover`, `flow`, `ip+ignore-outgoing`, `field:26:4:30`, `to:0`.
 * `weights` (e.g. from `--weights 1,3`) turn a steering function into a weighted plan.
 */
export function parseFanout(text: string, weights?: readonly number[]): FanoutObject {
  const [head, ...rest] = text.trim().split('+');
  const flags: FanoutFlags = {};
  let ebpf = false;
  for (const f of rest) {
    const n = f.trim().toLowerCase();
    if (n === 'ebpf') ebpf = true;
    else if (n === 'defrag') flags.defrag = true;
    else if (n === 'rollover') flags.rollover = true;
    else if (n === 'ignore-outgoing' || n === 'ignore_outgoing' || n === 'in') flags.ignoreOutgoing = true;
    else throw new NetringError(`unknown fanout flag "${f}" (defrag, rollover, ignore-outgoing, ebpf)`, 'EINVAL');
  }
  const h = head.trim().toLowerCase();
  if (KERNEL_MODES.includes(h)) {
    if (ebpf) throw new NetringError(`+ebpf needs a steering function (flow, ip, mac, ...), not kernel mode ${h}`, 'EINVAL');
    if (weights !== undefined) throw new NetringError(`weights need a steering function (flow, ip, mac, ...), not kernel mode ${h}`, 'EINVAL');
    return { mode: h as KernelMode, ...flags };
  }
  if (h === 'cbpf' || h === 'ebpf') throw new NetringError(`fanout ${h} needs a program: give a steering function (flow, ip, ...) or a program file`, 'EINVAL');
  const steer = parseSteer(h);
  const out: FanoutObject = { steering: weights === undefined ? steer : { steer, weights }, ...flags };
  if (ebpf) (out as { ebpf?: boolean }).ebpf = true;
  return out;
}

function describeSteering(s: Steering): string {
  const cls = toClasses(s);
  const one = (c: (typeof cls)[number]): string => {
    const st = c.steer;
    let d: string = st.kind;
    if (st.kind === 'to') d = `to ${st.index}`;
    if (st.kind === 'field') d = `field ${st.offset}:${st.size}${st.pairOffset !== undefined ? `:${st.pairOffset}` : ''}`;
    if (c.members) d += ` over [${c.members.join(',')}]`;
    if (c.weights) d += ` (weights ${c.weights.join(':')})`;
    return c.name ? `${c.name}: ${d}` : d;
  };
  return cls.length === 1 && cls[0].match === undefined ? one(cls[0]) : `classes {${cls.map(one).join('; ')}}`;
}

/** Resolve a group's `fanout` option (default `hash`). */
export function planFanout(f: GroupFanout | undefined): FanoutPlan {
  const spec: FanoutObject = typeof f === 'string' ? parseFanout(f) : f ?? { mode: 'hash' };
  const flags = flagsOf(spec);
  if ('steering' in spec) {
    toClasses(spec.steering); // validates shape early
    if (spec.ebpf) {
      const entries = spec.tableEntries ?? 256;
      return { mode: 'ebpf', flags, steering: spec.steering, table: { entries }, describe: `ebpf steering ${describeSteering(spec.steering)} (table of ${entries} entries per plan)` };
    }
    if (!needsProgram(spec.steering)) return { mode: 'lb', flags, describe: 'lb (round robin, kernel)' };
    return { mode: 'cbpf', flags, steering: spec.steering, describe: `cbpf steering ${describeSteering(spec.steering)}` };
  }
  if (spec.mode === 'cbpf') {
    if (!Array.isArray(spec.program)) throw new NetringError('fanout mode cbpf needs `program` (classic BPF instructions)', 'EINVAL');
    return { mode: 'cbpf', flags, program: spec.program, describe: `cbpf (your program, ${spec.program.length} instructions)` };
  }
  if (spec.mode === 'ebpf') {
    if (!Number.isInteger(spec.ebpfFd) || spec.ebpfFd < 0) throw new NetringError('fanout mode ebpf needs `ebpfFd` (a loaded SOCKET_FILTER program)', 'EINVAL');
    return { mode: 'ebpf', flags, ebpfFd: spec.ebpfFd, describe: `ebpf (program fd ${spec.ebpfFd})` };
  }
  if (!KERNEL_MODES.includes(spec.mode)) throw new NetringError(`unknown fanout mode "${String(spec.mode)}" (${KERNEL_MODES.join(', ')}, cbpf, ebpf)`, 'EINVAL');
  const fl = Object.keys(flags).map((k) => `+${k}`).join('');
  return { mode: spec.mode, flags, describe: `${spec.mode}${fl} (kernel)` };
}

/** The program a cbpf group needs for the current member layout (undefined when it needs none). */
export function programFor(plan: FanoutPlan, members: number, slots: Slots): BpfInsn[] | undefined {
  if (plan.table !== undefined) return undefined; // eBPF table mode: one program, the table follows the layout
  if (plan.steering !== undefined) return fanoutProgram(plan.steering, members, slots);
  if (plan.program !== undefined) return [...plan.program];
  return undefined;
}
