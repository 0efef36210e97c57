/**
 * netring/tx: zero-copy transmit.
 *
 * - {@link openTxRing}: a PACKET_TX_RING mapped into JS (write frames in
 *   place, one kick per batch, completion tracking); {@link openTxSocket}:
 *   the plain one-send-per-frame path.
 * - {@link buildPacket}: Ethernet/VLAN/IPv4/IPv6/UDP/TCP/ICMP frames with
 *   correct checksums; {@link makeFlows}, {@link parseSize} (IMIX),
 *   {@link TemplateStream}: per-packet variation with incremental checksums.
 * - {@link runSender}: the paced send loop (token bucket); {@link generate}:
 *   the same on worker threads with live progress; {@link openReplay}:
 *   pcap/pcapng replay at recorded timing.
 * - {@link LatencyAnalyser}: loss, reordering, duplicates and one-way latency
 *   percentiles of stamped traffic (`stamp: true`) from a capture.
 *
 * @module
 */
export { openTxRing, TxRing, type TxRingOptions, type TxRingStats, type TxFailure } from './ring.js';
export { openTxSocket, TxSocket, type TxSocketOptions } from './socket.js';
export { resolveTxGeometry, type TxGeometry } from './geometry.js';
export {
  buildPacket, buildFrame, headerLength, describeHeaders, writeChecksums, parseTcpFlags, MIN_FRAME, MAX_FRAME,
  type PacketSpec, type Template, type VlanTag, type L4Proto,
} from './builder.js';
export { checksum, sum16, fold, finish, updateChecksum16, updateChecksum32, checksumValid } from './checksum.js';
export { parseMac, parseIPv4, parseIPv6, formatIPv4, formatIPv6 } from './addr.js';
export { parsePayload, fillPayload, type PayloadPattern } from './payload.js';
export { parseSize, SizeSeq, IMIX } from './size.js';
export { parseAddrRange, parseIntRange, type AddrRange, type ValueRange } from './ranges.js';
export { makeFlows, FlowSet, MAX_FLOWS, type FlowFields, type FlowOptions, type FlowTuple } from './flows.js';
export { TemplateStream, type StreamOptions, type StampOptions } from './stream.js';
export type { PacketSource } from './source.js';
export { parseRate, formatRate, TokenBucket, type Rate } from './rate.js';
export { runSender, type SenderOptions, type SenderResult, type StopReason } from './sender.js';
export { generate, Generation, type GenProgress, type GenSummary } from './generate.js';
export { prepareJob, type GenerateOptions, type Job } from './job.js';
export { openReplay, scanReplay, ReplaySource, type ReplayOptions, type ReplayInfo } from './replay.js';
export { RealtimeClock, monotonicNs } from './clock.js';
export { STAMP_LEN, STAMP_MAGIC, writeStamp, isStamp, stampSeq, stampStream, stampSec, stampNsec } from './stamp.js';
export {
  LatencyAnalyser, analyseCapture, analyseFile,
  type LatencyReport, type LatencyStats, type LossStats, type StreamReport, type AnalyserOptions,
} from './latency.js';
export { formatSummary, formatLatency } from './report.js';
