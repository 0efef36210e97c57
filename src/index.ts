/**
 * netring: zero-copy packet capture and processing for Linux.
 *
 * Start with {@link openCapture}; decoders live in `netring/decode`, file
 * formats in `netring/pcap`.
 */
export * from './ring/index.js';
export { NetringError } from './errors.js';
export type { PacketLike } from './packet-like.js';
