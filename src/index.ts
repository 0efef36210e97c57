/**
 * netring: zero-copy packet capture and processing for Linux.
 *
 * Start with {@link openCapture}. Decoders are also at `netring/decode`, file
 * formats at `netring/pcap`.
 */
export * from './ring/index.js';
export { XskCapture, XskBatch, XskPacketView } from './xsk/index.js';
export type { XdpCaptureOptions, XdpCaptureStats, CopyMode, XdpMode, BusyPoll } from './xsk/index.js';
export { NetringError } from './errors.js';
export type { PacketLike } from './packet-like.js';
export {
  openCaptureReader, openCaptureWriter, PcapWriter, PcapngWriter, PcapFormatError, FileRecord, installSignalFlush, LinkType,
} from './pcap/index.js';
export type { CaptureReader, CaptureWriter } from './pcap/index.js';
export { Layers, Layer, DecodeError, Tunnel, summary, flowHash, flowHashSymmetric, flowHashIpv4 } from './decode/index.js';
export { group, defineWorker, FanoutGroup } from './fanout/index.js';
export type { GroupOptions, GroupStats, WorkerStats, CrashInfo, GroupResult, WorkerContext, WorkerModule } from './fanout/index.js';
