/**
 * Everything BPF in one place, below every other module: classic and
 * extended instruction models and their encodings, text forms (tcpdump's
 * -d/-dd/-ddd, an eBPF listing), a classic assembler and an eBPF one, the
 * classic interpreter (one, parameterised by the hook's skb model), the
 * kernel's rules for classic programs, the classic -> eBPF translator, and
 * the loader (programs, maps, per-CPU sums).
 * @module
 */
export {
  type BpfInsn, type BpfProgram, insn, encodeProgram, decodeProgram, withSnaplen, outgoingOnly, REJECT_ALL,
  BPF_MAXINSNS, BPF_MEMWORDS,
} from './classic.js';
export { SKF_AD_OFF, SKF_NET_OFF, SKF_LL_OFF, AD, AD_NAMES, ad, ll, net, ancillaryField } from './ancillary.js';
export { image, formatD, formatDD, formatDDD, parseProgram, parseDDD } from './text.js';
export { Asm } from './asm.js';
export { runClassic, runBpf, runBpfOn, skbOf, socketSkb, MAX_STEPS, type SkbModel, type SkbMeta, type BpfMeta } from './interp.js';
export { checkClassic, assertClassic } from './validate.js';
export { type EbpfInsn, encodeEbpf, decodeEbpf, formatEbpf, formatEbpfInsn, HELPER, EBPF_MAXINSNS } from './ebpf.js';
export { EAsm, type ELabel } from './easm.js';
export { translateClassic, cbpfToEbpf, SKB_FIELD, type TranslateOptions } from './translate.js';
export {
  progLoad, testRun, linkCreate, attachSocket, BpfMap, sumPerCpu, possibleCpus, PROG_TYPE, ATTACH_TYPE, XDP_FLAGS, MAP_TYPE,
  BPF_ANY, BPF_NOEXIST, BPF_EXIST, type LoadOptions, type LoadedProg, type MapSpec, type TestRunResult, type BpfLink,
} from './loader.js';
