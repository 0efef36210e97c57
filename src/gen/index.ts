/**
 * netring/gen: traffic generation on TX rings.
 *
 * - {@link makeFlows}, {@link parseSize} (IMIX), {@link TemplateStream}:
 *   per-packet variation with incremental checksums;
 * - {@link runSender}: the paced send loop (token bucket); {@link generate}:
 *   the same on worker threads with live progress;
 * - {@link openReplay}: pcap/pcapng replay at recorded timing.
 *
 * @module
 */
export { parseSize, SizeSeq, IMIX } from './size.js';
export { parseAddrRange, parseIntRange, type AddrRange, type ValueRange } from './ranges.js';
export { makeFlows, FlowSet, MAX_FLOWS, type FlowFields, type FlowOptions, type FlowTuple } from './flows.js';
export { TemplateStream, type StreamOptions, type StampOptions } from './stream.js';
export { parseRate, formatRate, TokenBucket, type Rate } from './rate.js';
export { runSender, type SenderOptions, type SenderResult, type StopReason } from './sender.js';
export { generate, Generation, type GenProgress, type GenSummary } from './generate.js';
export { prepareJob, type GenerateOptions, type Job } from './job.js';
export { openReplay, scanReplay, ReplaySource, type ReplayOptions, type ReplayInfo } from './replay.js';
export { RealtimeClock, monotonicNs } from './clock.js';
export { formatSummary, statusLine } from './report.js';
