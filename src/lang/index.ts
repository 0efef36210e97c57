/**
 * netring's packet language: tcpdump (pcap-filter) expressions and a
 * PFQ-style combinator language, compiled through one IR to classic BPF
 * (socket filters and fan-out steering) and to specialised JavaScript.
 *
 * - {@link compileFilter}: tcpdump expression -> classic BPF + JS filter.
 * - {@link compileProgram}: combinator program (text or EDSL) -> socket
 *   filter + fan-out steering + JS residual, with `explain()`.
 * - {@link compile} / {@link formatReport}: what `netring compile` prints.
 * - {@link generateProgram} / {@link loadHookProgram}: a combinator program
 *   as one XDP or tc program (counters in maps, actions), loaded, attached
 *   through BPF links, its counters read live.
 *
 * @module
 */
export { LangError, formatCaret } from './errors.js';
export {
  compileFilter, compileFilterJs, lowerFilter, dumpD, dumpDD, dumpDDD, DEFAULT_SNAPLEN,
  type CompiledFilter, type FilterOptions,
} from './filter.js';
export type { FilterTarget } from './tcpdump/gen.js';
export { compile, formatReport, type CompileOptions, type CompileReport, type Language, type ReportPart } from './compile.js';
export {
  compileProgram, DROP, PASS, BROADCAST,
  type CompiledProgram, type ProgramOptions, type PipelineResult, type PipelineState, type JsPipeline, type PlacedStage,
} from './pfq/compile.js';
export { parsePfq } from './pfq/parser.js';
export { showFn, showPred, type Fn, type PPred, type Prop } from './pfq/ast.js';
export * as pfq from './pfq/edsl.js';
export {
  pipe, filter, when, unless, conditional, inv, par, unit, tcpdump, and, or, xor, not,
  ip, ip6, udp, tcp, sctp, icmp, icmp6, arp, flow, vlan, port, srcPort, dstPort, addr,
  steerFlow, steerP2p, steerIp, steerLink, steerVlan, steerRrobin, steerTo, steerField, steerFieldSymmetric,
  drop, pass, broadcast, logPacket, classify, count, inc, dec, mark, putState, countBy, forward, bridge, tee, kernel, detour,
} from './pfq/edsl.js';
export { runBpf, runBpfOn, type BpfMeta } from '../bpf/interp.js';
export { encodeProgram as encode, decodeProgram as decode, type BpfInsn as Insn } from '../bpf/classic.js';
export { formatD, formatDD, formatDDD, parseDDD } from '../bpf/text.js';
export { genJs, instantiate, type JsProgram, type JsSource } from './js/codegen.js';
export { backends, backendFor, registerBackend, TARGET_ORDER, type Backend, type Target } from './backend.js';
export {
  generate as generateEbpf, unsupported as ebpfUnsupported, XDP, TC, type Hook as EbpfHook, type GenerateOptions as EbpfGenerateOptions,
  type EbpfFilter,
} from './ebpf/codegen.js';
export {
  generateProgram, mirrorOf, type HookProgram, type ProgramOptions as HookProgramOptions, type MapDecl, type Reloc, type KeyedCounter,
} from './ebpf/program.js';
export {
  loadHookProgram, LoadedHookProgram, formatKey, ifindexOf, type XdpMode, type CounterSnapshot, type CounterValue, type KeyedValue,
} from './ebpf/attach.js';
export { steerCpu, CPUMAP_QSIZE } from './ebpf/steer.js';
export { place, pickLanguage, type PlaceOptions, type Placement, type TargetAnswer } from './place.js';
