/**
 * The seam between the compiler's middle end and its code generators, and
 * the targets placement asks.
 *
 * Every front end (tcpdump expressions, the combinator language) ends in an
 * optimised decision DAG (`ir/dag.ts`): test nodes over hash-consed values
 * (`ir/value.ts`) and return nodes. A backend turns a DAG into a program for
 * one target and says, in `unsupported`, why it cannot run a given DAG.
 * Placement (`place.ts`) asks the targets in {@link TARGET_ORDER}, each
 * through the backend registered for it.
 */
import { genCbpf } from './cbpf/codegen.js';
import type { BpfInsn as Insn } from '../bpf/classic.js';
import { checkClassic } from '../bpf/validate.js';
import { type DNode, topo } from './ir/dag.js';
import { JS_MARK, JS_STATE, type Val } from './ir/value.js';
import { genJs, instantiate, type JsProgram } from './js/codegen.js';
import { generate as genEbpf, unsupported as ebpfUnsupported, type EbpfFilter } from './ebpf/codegen.js';

/**
 * Where a program runs: the XDP hook, tc (clsact), a packet socket's filter,
 * a fan-out group's steering program, libpcap-style classic BPF for files,
 * or JavaScript on the packet view.
 */
export type Target = 'xdp' | 'tc' | 'socket' | 'fanout' | 'file' | 'js';

/** The order placement asks the targets in (earlier = closer to the wire). */
export const TARGET_ORDER: readonly Target[] = ['xdp', 'tc', 'socket', 'fanout', 'file', 'js'];

export interface Backend<Program = unknown> {
  readonly name: string;
  /** The target this backend generates for. */
  readonly target: Target;
  /** Runs in the kernel. */
  readonly kernel: boolean;
  /** Why this backend cannot run the DAG, or null when it can. */
  unsupported(dag: DNode): string | null;
  /** Generate the program (throws LangError when it cannot). */
  generate(dag: DNode): Program;
}

/** Why a kernel program cannot evaluate the DAG (user-space state, loops), or null. */
export function kernelReason(dag: DNode, loops: boolean): string | null {
  const uses = (v: Val): boolean => {
    switch (v.op) {
      case 'anc': return v.which === JS_MARK || v.which === JS_STATE;
      case 'alu': return uses(v.a) || uses(v.b);
      case 'neg': case 'store': return uses(v.a);
      case 'ld': return v.base !== null && uses(v.base);
      default: return false;
    }
  };
  for (const n of topo(dag)) {
    if (n.kind === 'chain' && !loops) return 'protochain loops with a backward jump, which the kernel rejects';
    if (n.kind === 'test' && (uses(n.t.val) || (typeof n.t.rhs !== 'number' && uses(n.t.rhs)))) return 'it reads the packet mark or program state, which exist only in user space';
    if (n.kind === 'ret' && n.val && uses(n.val)) return 'it reads the packet mark or program state, which exist only in user space';
  }
  return null;
}

/** Classic BPF as the Linux socket-filter checker accepts it (no backward jumps, <= 4096 instructions). */
export const cbpfKernel: Backend<Insn[]> = {
  name: 'cbpf-kernel',
  target: 'socket',
  kernel: true,
  unsupported(dag) {
    const why = kernelReason(dag, false);
    if (why) return why;
    try {
      return checkClassic(genCbpf(dag, { target: 'kernel' }));
    } catch (e) {
      return (e as Error).message;
    }
  },
  generate: (dag) => genCbpf(dag, { target: 'kernel' }),
};

/** Classic BPF as libpcap's userland interpreter runs it (backward jumps allowed): what tcpdump -d prints for files. */
export const cbpfFile: Backend<Insn[]> = {
  name: 'cbpf-file',
  target: 'file',
  kernel: false,
  unsupported: (dag) => kernelReason(dag, true),
  generate: (dag) => genCbpf(dag, { target: 'file' }),
};

/** Specialised JavaScript. */
export const js: Backend<JsProgram> = {
  name: 'js',
  target: 'js',
  kernel: false,
  unsupported: () => null,
  generate: (dag) => instantiate(genJs(dag)),
};

/** eBPF for the XDP hook (frames as a capture file stores them: lower with the file target). */
export const ebpfXdp: Backend<EbpfFilter> = {
  name: 'ebpf-xdp',
  target: 'xdp',
  kernel: true,
  unsupported: (dag) => ebpfUnsupported(dag, 'xdp'),
  generate: (dag) => genEbpf(dag, { hook: 'xdp' }),
};

/** eBPF for tc (clsact/tcx; skb metadata: lower with the kernel target). */
export const ebpfTc: Backend<EbpfFilter> = {
  name: 'ebpf-tc',
  target: 'tc',
  kernel: true,
  unsupported: (dag) => ebpfUnsupported(dag, 'tc'),
  generate: (dag) => genEbpf(dag, { hook: 'tc' }),
};

/** eBPF socket filter (SO_ATTACH_BPF); registered after the classic one, which placement prefers for sockets. */
export const ebpfSocket: Backend<EbpfFilter> = {
  name: 'ebpf-socket',
  target: 'socket',
  kernel: true,
  unsupported: (dag) => ebpfUnsupported(dag, 'socket'),
  generate: (dag) => genEbpf(dag, { hook: 'socket' }),
};

const registry: Backend[] = [ebpfXdp, ebpfTc, cbpfKernel, ebpfSocket, cbpfFile, js];

/** Add a backend; for its target it is preferred over those registered before. */
export function registerBackend(b: Backend): void {
  registry.unshift(b);
}

/** Registered backends, preferred first. */
export function backends(): readonly Backend[] {
  return registry;
}

/** The preferred backend for `target` (or the one named `name`), or undefined when none is registered. */
export function backendFor(target: Target, name?: string): Backend | undefined {
  return registry.find((b) => b.target === target && (name === undefined || b.name === name));
}

/** How a target's programs read VLAN tags: XDP and files see them in the bytes, skb hooks in metadata (or the bytes). */
export function loweringFor(target: Target): 'file' | 'kernel' {
  return target === 'xdp' || target === 'file' ? 'file' : 'kernel';
}
