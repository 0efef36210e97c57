/**
 * netring/tx: zero-copy transmit rings.
 *
 * - {@link openTxRing}: a PACKET_TX_RING mapped into JS (write frames in
 *   place, one kick per batch, completion tracking);
 * - {@link openTxSocket}: the plain one-send-per-frame path;
 * - {@link openXskTxRing}: an AF_XDP TX ring (UMEM frames, completion ring) with the same slot interface.
 *
 * Frames come from `netring/build` (one packet) or `netring/gen` (paced,
 * varied traffic and replay); stamped traffic is analysed by `netring/latency`.
 *
 * @module
 */
export { openTxRing, TxRing, type TxRingOptions, type TxRingStats, type TxFailure } from './ring.js';
export { openTxSocket, TxSocket, type TxSocketOptions } from './socket.js';
export { resolveTxGeometry, MAX_TX_FRAME, type TxGeometry } from './geometry.js';
export type { PacketSource, TxSink } from './source.js';
export { openXskTxRing, XskTxRing, type XskTxOptions } from '../xsk/tx.js';
