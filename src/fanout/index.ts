/**
 * Multi-core fan-out: PACKET_FANOUT groups (every kernel mode and flag), the
 * steering program generator (PFQ's steer_* functions, weights, classes),
 * and the worker runtime (`group()`).
 * @module
 */
export { FANOUT_MODES, fanoutWord, decodeFanoutWord } from '../ring/fanout-mode.js';
export type { FanoutMode, FanoutFlags, FanoutSettings } from '../ring/fanout-mode.js';
export { joinFanout, setFanoutProgram, setFanoutEbpf, fanoutSettingsOf, fanoutWordOf, rolloverStats } from '../ring/fanout-join.js';
export type { FanoutJoin, RolloverStats } from '../ring/fanout-join.js';
export { parseSteer, checkSteer, toClasses, needsProgram } from '../lang/steer/spec.js';
export type { SteerSpec, SteerPlan, SteerClass, Steering } from '../lang/steer/spec.js';
export { steeringProgram, fanoutProgram, emitSteer, inlinePredicate, MAX_WEIGHT_SUM } from '../lang/steer/codegen.js';
export type { Slots } from '../lang/steer/codegen.js';
export { Asm, runClassic, skbOf, cbpfToEbpf } from '../bpf/index.js';
export type { SkbModel, BpfInsn, BpfProgram } from '../bpf/index.js';
export { group, FanoutGroup } from './group.js';
export type { GroupOptions, GroupStats, WorkerStats, CrashInfo, StallInfo, GroupResult, GroupLinkChange, GroupXdpOptions } from './group.js';
export { planFanout, parseFanout, programFor } from './plan.js';
export type { GroupFanout, FanoutObject, FanoutPlan, KernelMode } from './plan.js';
export { defineWorker } from './worker-api.js';
export type { WorkerContext, WorkerModule } from './worker-api.js';
export { SlotTable } from './slots.js';
export { USER_COUNTERS } from './shared.js';
export type { WorkerStateName } from './shared.js';
export { tableProgram, tableValues, TableAlloc } from '../lang/steer/codegen.js';
export type { TableSegment } from '../lang/steer/codegen.js';
export { SteerTableMap } from './table-map.js';
