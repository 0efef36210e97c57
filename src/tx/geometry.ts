/**
 * TX ring geometry: frame slots of a fixed size packed into page-sized (or
 * larger) blocks, validated with messages that say which constraint broke.
 */
import { PAGE_SIZE } from '../constants.js';
import { NetringError } from '../errors.js';
import { TPACKET2_HDRLEN, TX_DATA } from './layout.js';

/** Shape of a TX ring. */
export interface TxGeometry {
  /** Bytes per frame slot, header included: a multiple of 16, >= 64. */
  frameSize: number;
  /** Number of frame slots. */
  frameCount: number;
  /** Bytes per kernel block: a multiple of the page size holding whole slots. */
  blockSize: number;
  /** Number of blocks. */
  blockCount: number;
}

/** Largest frame netring sends (jumbo frames). */
export const MAX_TX_FRAME = 9216;
/** Ring bytes aimed at when the slot count is not given. */
const TARGET_RING_BYTES = 1 << 20;

function bad(msg: string): NetringError {
  return new NetringError(`bad TX ring geometry: ${msg}`, 'EGEOMETRY');
}

/** Slot size for frames of up to `maxFrameLen` bytes: header + frame, a power of two up to a page (never crossing one). */
export function frameSizeFor(maxFrameLen: number): number {
  const need = (TX_DATA + maxFrameLen + 15) & ~15;
  if (need > PAGE_SIZE) return need;
  let s = 64;
  while (s < need) s <<= 1;
  return s;
}

/**
 * Fill in and check a geometry. `maxFrameLen` (default 1514) plus `headroom`
 * (bytes before each frame, e.g. a virtio_net_hdr) picks the slot size when
 * `frameSize` is not given; `frameCount` defaults to about 1 MiB of ring and
 * is rounded up to whole blocks.
 */
export function resolveTxGeometry(o: { frameSize?: number; frameCount?: number; maxFrameLen?: number; headroom?: number } = {}): TxGeometry {
  const maxLen = o.maxFrameLen ?? 1514;
  const room = o.headroom ?? 0;
  if (!Number.isInteger(maxLen) || maxLen < 14 || maxLen > MAX_TX_FRAME)
    throw bad(`maxFrameLen must be an integer in 14..${MAX_TX_FRAME} (got ${String(maxLen)})`);
  const frameSize = o.frameSize ?? frameSizeFor(maxLen + room);
  if (!Number.isInteger(frameSize) || frameSize <= 0) throw bad(`frameSize must be a positive integer (got ${String(frameSize)})`);
  if (frameSize % 16 !== 0) throw bad(`frameSize ${frameSize} must be a multiple of 16`);
  if (frameSize < Math.max(64, TPACKET2_HDRLEN)) throw bad(`frameSize ${frameSize} is below the minimum 64`);
  if (frameSize - TX_DATA - room < maxLen)
    throw bad(`frameSize ${frameSize} holds frames of ${frameSize - TX_DATA - room} bytes, less than maxFrameLen ${maxLen}`);
  const blockSize = Math.ceil(frameSize / PAGE_SIZE) * PAGE_SIZE;
  const perBlock = Math.floor(blockSize / frameSize);
  const want = o.frameCount ?? Math.min(8192, Math.max(64, Math.floor(TARGET_RING_BYTES / frameSize)));
  if (!Number.isInteger(want) || want < 1) throw bad(`frameCount must be a positive integer (got ${String(want)})`);
  const blockCount = Math.ceil(want / perBlock);
  if (blockSize * blockCount > 1 << 30) throw bad(`the ring (${blockCount} x ${blockSize} bytes) is larger than 1 GiB`);
  return { frameSize, frameCount: blockCount * perBlock, blockSize, blockCount };
}

/** struct tpacket_req bytes for PACKET_TX_RING (TPACKET_V2). */
export function tpacketReq(g: TxGeometry): Uint32Array {
  return new Uint32Array([g.blockSize, g.blockCount, g.frameSize, g.frameCount]);
}

/** Byte offset of every slot in the mapping (slots never straddle blocks). */
export function slotOffsets(g: TxGeometry): Int32Array {
  const perBlock = Math.floor(g.blockSize / g.frameSize);
  const out = new Int32Array(g.frameCount);
  for (let i = 0; i < g.frameCount; i++) out[i] = Math.floor(i / perBlock) * g.blockSize + (i % perBlock) * g.frameSize;
  return out;
}
