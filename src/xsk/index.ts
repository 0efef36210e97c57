/** AF_XDP capture and transmit: UMEM and rings read in place, one socket per RX queue. */
export { XskCapture, openXdpCapture } from './capture.js';
export type { XdpCaptureOptions, XdpCaptureStats } from './capture.js';
export { XskBatch, XskPacketView } from './batch.js';
export { XskSocket, rxQueueCount } from './socket.js';
export type { XskOptions, CopyMode, BusyPoll, XskKernelStats } from './socket.js';
export { XdpAttachment } from './attach.js';
export type { XdpMode } from './attach.js';
export { xdpRedirectProgram, xdpRedirectInsns } from './xdp-program.js';
export { XskTxRing, openXskTxRing } from './tx.js';
export type { XskTxOptions } from './tx.js';
