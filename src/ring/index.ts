/** Live capture over TPACKET_V3 rings. */
export { Capture, openCapture } from './capture.js';
export type { CaptureOptions, CaptureStats, Direction, TimestampSource } from './capture.js';
export type { LinkChange, LinkState } from './link.js';
export { Batch } from './batch.js';
export type { BatchLike, PacketViewLike } from './batch-like.js';
export { PacketView } from './packet.js';
export type { CopiedPacket } from './packet.js';
export { RingReader } from './reader.js';
export { DEFAULT_GEOMETRY, resolveGeometry } from './geometry.js';
export type { RingGeometry } from './geometry.js';
export { encodeProgram, parseProgram, withSnaplen } from '../bpf/index.js';
export type { BpfInsn, BpfProgram } from '../bpf/index.js';
