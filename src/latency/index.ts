/**
 * netring/latency: sequence/time stamps carried in generated packets, and
 * the receive side's analysis of them.
 *
 * - {@link writeStamp} and the readers: the 16-byte stamp `netring gen
 *   --stamp` and `netring ping` put in payloads;
 * - {@link LatencyAnalyser}: loss, reordering, duplicates and one-way latency
 *   percentiles of stamped traffic from a live capture or a file.
 *
 * @module
 */
export { STAMP_LEN, STAMP_MAGIC, writeStamp, isStamp, stampSeq, stampStream, stampSec, stampNsec } from './stamp.js';
export {
  LatencyAnalyser, analyseCapture, analyseFile,
  type LatencyReport, type LatencyStats, type LossStats, type StreamReport, type AnalyserOptions,
} from './latency.js';
export { formatLatency } from './report.js';
