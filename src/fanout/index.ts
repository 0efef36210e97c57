/**
 * Multi-core fan-out: PACKET_FANOUT groups (every kernel mode and flag), the
 * steering program generator (PFQ's steer_* functions, weights, classes),
 * and the worker runtime (`group()`).
 * @module
 */
export { FANOUT_MODES, fanoutWord, decodeFanoutWord } from './mode.js';
export type { FanoutMode, FanoutFlags, FanoutSettings } from './mode.js';
export { joinFanout, setFanoutProgram, setFanoutEbpf, fanoutSettingsOf, fanoutWordOf, rolloverStats } from './join.js';
export type { FanoutJoin, RolloverStats } from './join.js';
export { parseSteer, checkSteer, toClasses, needsProgram } from './steer-spec.js';
export type { SteerSpec, SteerPlan, SteerClass, Steering } from './steer-spec.js';
export { steeringProgram, fanoutProgram, emitSteer, inlinePredicate, MAX_WEIGHT_SUM } from './steering.js';
export type { Slots } from './steering.js';
export { Asm } from './bpf-asm.js';
export { runClassic, skbOf } from './interp.js';
export type { SkbModel } from './interp.js';
export type { BpfInsn, BpfProgram } from '../ring/cbpf.js';
export { group, FanoutGroup } from './group.js';
export type { GroupOptions, GroupStats, WorkerStats, CrashInfo, GroupResult } from './group.js';
export { planFanout, parseFanout, programFor } from './plan.js';
export type { GroupFanout, FanoutObject, FanoutPlan, KernelMode } from './plan.js';
export { defineWorker } from './worker-api.js';
export type { WorkerContext, WorkerModule } from './worker-api.js';
export { SlotTable } from './slots.js';
export { USER_COUNTERS } from './shared.js';
export type { WorkerStateName } from './shared.js';
export { tableProgram, tableValues, TableAlloc } from './steering.js';
export type { TableSegment } from './steering.js';
export { cbpfToEbpf, loadSocketFilter, SteerTableMap } from './ebpf.js';
export type { EbpfOptions } from './ebpf.js';
