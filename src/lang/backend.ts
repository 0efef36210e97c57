/**
 * The seam between the compiler's middle end and its code generators.
 *
 * Every front end (tcpdump expressions, the combinator language) ends in an
 * optimised decision DAG (`ir/dag.ts`): test nodes over hash-consed values
 * (`ir/value.ts`) and return nodes. A backend turns a DAG into a program.
 * Today: classic BPF for files and for Linux sockets, and JavaScript. An
 * eBPF backend (XDP / AF_XDP) implements the same interface, declares what
 * it cannot do in `unsupported`, and registers itself; placement code asks
 * the registered kernel backends in order.
 */
import { genCbpf } from './cbpf/codegen.js';
import { checkClassic } from '../bpf/validate.js';
import type { BpfInsn as Insn } from '../bpf/classic.js';
import { type DNode, topo } from './ir/dag.js';
import { genJs, instantiate, type JsProgram } from './js/codegen.js';

export interface Backend<Program = unknown> {
  readonly name: string;
  /** Runs in the kernel (placement may hoist work into it). */
  readonly kernel: boolean;
  /** Why this backend cannot run the DAG, or null when it can. */
  unsupported(dag: DNode): string | null;
  /** Generate the program (throws LangError when it cannot). */
  generate(dag: DNode): Program;
}

function hasChain(dag: DNode): boolean {
  return topo(dag).some((n) => n.kind === 'chain');
}

/** Classic BPF as the Linux socket-filter checker accepts it (no backward jumps, <= 4096 instructions). */
export const cbpfKernel: Backend<Insn[]> = {
  name: 'cbpf-kernel',
  kernel: true,
  unsupported(dag) {
    if (hasChain(dag)) return 'protochain loops with a backward jump, which the kernel rejects';
    try {
      return checkClassic(genCbpf(dag, { target: 'kernel' }));
    } catch (e) {
      return (e as Error).message;
    }
  },
  generate: (dag) => genCbpf(dag, { target: 'kernel' }),
};

/** Classic BPF as libpcap's userland interpreter runs it (backward jumps allowed). */
export const cbpfFile: Backend<Insn[]> = {
  name: 'cbpf-file',
  kernel: false,
  unsupported: () => null,
  generate: (dag) => genCbpf(dag, { target: 'file' }),
};

/** Specialised JavaScript. */
export const js: Backend<JsProgram> = {
  name: 'js',
  kernel: false,
  unsupported: () => null,
  generate: (dag) => instantiate(genJs(dag)),
};

const registry: Backend[] = [cbpfKernel, cbpfFile, js];

/** Add a backend (e.g. eBPF); kernel backends registered later are preferred by placement. */
export function registerBackend(b: Backend): void {
  registry.unshift(b);
}

/** Registered backends, preferred first. */
export function backends(): readonly Backend[] {
  return registry;
}
