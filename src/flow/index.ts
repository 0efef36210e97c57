/**
 * netring/flow: flow metering on the zero-copy path.
 *
 * - {@link FlowTable}: bidirectional (RFC 5103) flows in preallocated typed
 *   arrays, active/idle/TCP-close timeouts, table-full eviction; nothing
 *   allocated per packet.
 * - {@link RecordBuffer}: finished records in one flat buffer, the format the
 *   exporters read and worker threads pass around; {@link readRecord} turns
 *   one into a plain object.
 * - {@link parseFlowPacket}: the flow key of a packet's bytes.
 *
 * @module
 */
export { FlowTable, hashKey, type FlowTableOptions, type FlowTableStats } from './table.js';
export {
  RecordBuffer, readRecord, recordKeyText, addrText, EndReason, RECORD_BYTES, RECORD_WORDS,
  R_COUNTS, R_DOMAIN, R_FLAGS, R_FWD_TIME, R_REV_TIME, type FlowRecord,
} from './record.js';
export { parseFlowPacket, ParsedPacket, KEY_WORDS, keyProto, keyVersion, keyVlan } from './parse.js';
