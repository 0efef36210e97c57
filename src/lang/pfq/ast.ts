/**
 * The PFQ-style combinator language, as data.
 *
 * A program is a computation (`Fn`) applied to every packet. Computations
 * compose left to right (`>->`, `pipe`). Predicates (`PPred`) are
 * tcpdump expressions or user-space packet state (mark, state), combined
 * with and/or/xor/not; a predicate in a pipeline is a filter.
 *
 * See ../../../docs/language.md for the vocabulary.
 */
import type { SteerSpec } from '../steer/spec.js';

export type { SteerSpec };

/** A source span (text syntax only). */
export interface Loc {
  pos: number;
  end: number;
}

export type CmpOp = '<' | '<=' | '==' | '!=' | '>' | '>=';

/** A property: a number read from the packet (tcpdump arithmetic) or from user-space state. */
export interface Prop {
  readonly k: 'prop';
  readonly name: string;
  /** tcpdump arithmetic for the value, e.g. `ip[8]`; absent for meta properties. */
  readonly pcap?: string;
  /** tcpdump expression that must hold for the property to exist, e.g. `ip`. */
  readonly guard?: string;
  readonly meta?: 'mark' | 'state';
}

export type PPred =
  | { readonly k: 'pcap'; readonly text: string; readonly name?: string; readonly loc?: Loc }
  | { readonly k: 'meta'; readonly what: 'mark' | 'state'; readonly op: CmpOp; readonly n: number; readonly name?: string }
  | { readonly k: 'and' | 'or' | 'xor'; readonly a: PPred; readonly b: PPred }
  | { readonly k: 'not'; readonly a: PPred }
  | { readonly k: 'const'; readonly v: boolean };

export type Action =
  | { readonly a: 'drop' }
  | { readonly a: 'pass' }
  | { readonly a: 'broadcast' }
  | { readonly a: 'classify'; readonly n: number }
  | { readonly a: 'count'; readonly name: string; readonly delta: number }
  | { readonly a: 'mark'; readonly n: number }
  | { readonly a: 'state'; readonly n: number }
  | { readonly a: 'log' }
  /** Per-key counters (packets and bytes per flow, address or VLAN) in a hash map: XDP and tc programs. */
  | { readonly a: 'count_by'; readonly key: CountKey }
  /** The frame leaves through `dev` (XDP/tc redirect); `bridge` also makes the attach step forward `dev`'s traffic back. */
  | { readonly a: 'forward' | 'bridge'; readonly dev: string }
  /** A copy leaves through `dev`, the original goes on (tc only). */
  | { readonly a: 'tee'; readonly dev: string }
  /** kernel: the packet also goes to the kernel stack; detour: to the kernel stack only, now. */
  | { readonly a: 'kernel' | 'detour' };

/** What per-key counters are keyed by. */
export type CountKey = 'flow' | 'src' | 'dst' | 'vlan';
export const COUNT_KEYS: readonly CountKey[] = ['flow', 'src', 'dst', 'vlan'];

export type Fn =
  | { readonly k: 'filter'; readonly p: PPred; readonly name?: string; readonly loc?: Loc }
  | { readonly k: 'when'; readonly p: PPred; readonly f: Fn; readonly loc?: Loc }
  | { readonly k: 'cond'; readonly p: PPred; readonly f: Fn; readonly g: Fn; readonly loc?: Loc }
  | { readonly k: 'seq'; readonly fs: readonly Fn[] }
  | { readonly k: 'steer'; readonly s: SteerSpec; readonly name: string; readonly loc?: Loc }
  | { readonly k: 'act'; readonly act: Action; readonly loc?: Loc }
  | { readonly k: 'unit' };

const PRED_KINDS = new Set(['pcap', 'meta', 'and', 'or', 'xor', 'not', 'const']);

export function isPred(x: unknown): x is PPred {
  return !!x && typeof x === 'object' && PRED_KINDS.has((x as { k: string }).k);
}

export function isFn(x: unknown): x is Fn {
  return !!x && typeof x === 'object' && ['filter', 'when', 'cond', 'seq', 'steer', 'act', 'unit'].includes((x as { k: string }).k);
}

/** Render a predicate in the text syntax. */
export function showPred(p: PPred): string {
  switch (p.k) {
    case 'pcap':
      return p.name ?? JSON.stringify(p.text);
    case 'meta':
      return p.name ?? `get_${p.what} ${p.op} ${p.n}`;
    case 'const':
      return p.v ? 'true' : 'false';
    case 'not':
      return `not (${showPred(p.a)})`;
    default: {
      const op = p.k === 'and' ? '&&' : p.k === 'or' ? '||' : '^^';
      return `(${showPred(p.a)} ${op} ${showPred(p.b)})`;
    }
  }
}

function arg(p: PPred): string {
  const s = showPred(p);
  return /^[A-Za-z_][\w']*$/.test(s) || s.startsWith('(') || s.startsWith('"') ? s : `(${s})`;
}

function fnArg(f: Fn): string {
  const s = showFn(f);
  return /^[A-Za-z_][\w']*$/.test(s) ? s : `(${s})`;
}

/** Render a computation in the text syntax. */
export function showFn(f: Fn): string {
  switch (f.k) {
    case 'filter':
      return f.name ?? `filter ${arg(f.p)}`;
    case 'when':
      return `when ${arg(f.p)} ${fnArg(f.f)}`;
    case 'cond':
      return `conditional ${arg(f.p)} ${fnArg(f.f)} ${fnArg(f.g)}`;
    case 'seq':
      return f.fs.map(showFn).join(' >-> ');
    case 'steer':
      return f.name;
    case 'unit':
      return 'unit';
    case 'act':
      switch (f.act.a) {
        case 'drop':
        case 'pass':
        case 'broadcast':
        case 'kernel':
        case 'detour':
          return f.act.a;
        case 'count_by':
          return `count_by ${f.act.key}`;
        case 'forward':
        case 'bridge':
        case 'tee':
          return `${f.act.a} ${/^[A-Za-z_][\w-]*$/.test(f.act.dev) ? f.act.dev : JSON.stringify(f.act.dev)}`;
        case 'log':
          return 'log_packet';
        case 'classify':
          return `classify ${f.act.n}`;
        case 'mark':
          return `mark ${f.act.n}`;
        case 'state':
          return `put_state ${f.act.n}`;
        case 'count':
          return `${f.act.delta < 0 ? 'dec' : 'inc'} ${f.act.name}`;
      }
  }
}
