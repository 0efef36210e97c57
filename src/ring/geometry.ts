/**
 * Ring geometry: validation with messages that say which constraint was
 * broken (the kernel only answers EINVAL), and the tpacket_req3 bytes.
 */
import { PAGE_SIZE } from '../constants.js';
import { NetringError } from '../errors.js';
import { BLK_HDR_LEN, TPACKET3_HDRLEN, TPACKET_ALIGNMENT, tpacketAlign } from './layout.js';

/** Shape of a TPACKET_V3 ring. */
export interface RingGeometry {
  /** Bytes per block: a multiple of the page size (4096). Default 1 MiB. */
  blockSize: number;
  /** Number of blocks. Default 64. */
  blockCount: number;
  /** Frame size hint (V3 packs variable-size frames): multiple of 16, >= 80. Default 2048. */
  frameSize: number;
  /** Block retire timeout in ms: a partly filled block is handed over after this. Default 10. */
  blockTimeoutMs: number;
}

export const DEFAULT_GEOMETRY: Readonly<RingGeometry> = Object.freeze({
  blockSize: 1 << 20,
  blockCount: 64,
  frameSize: 2048,
  blockTimeoutMs: 10,
});

/** Largest ring netring maps by default (the kernel may allow more with memory to spare). */
export const MAX_RING_BYTES = 4 * 1024 * 1024 * 1024;

function bad(msg: string): NetringError {
  return new NetringError(`bad ring geometry: ${msg}`, 'EGEOMETRY');
}

/** Fill defaults and check every constraint the kernel enforces; throws NetringError EGEOMETRY. */
export function resolveGeometry(g: Partial<RingGeometry> = {}): RingGeometry {
  const r: RingGeometry = { ...DEFAULT_GEOMETRY, ...stripUndefined(g) };
  for (const k of ['blockSize', 'blockCount', 'frameSize', 'blockTimeoutMs'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 0) throw bad(`${k} must be a non-negative integer (got ${String(r[k])})`);
  }
  if (r.blockSize === 0 || r.blockSize % PAGE_SIZE !== 0)
    throw bad(`blockSize ${r.blockSize} must be a positive multiple of the page size (${PAGE_SIZE})`);
  if (r.blockCount < 1) throw bad('blockCount must be at least 1');
  if (r.frameSize % TPACKET_ALIGNMENT !== 0)
    throw bad(`frameSize ${r.frameSize} must be a multiple of ${TPACKET_ALIGNMENT}`);
  const minFrame = tpacketAlign(TPACKET3_HDRLEN);
  if (r.frameSize < minFrame) throw bad(`frameSize ${r.frameSize} is below the minimum ${minFrame} (header + sockaddr_ll)`);
  if (r.blockSize < BLK_HDR_LEN + r.frameSize)
    throw bad(`blockSize ${r.blockSize} cannot hold one frame of ${r.frameSize} bytes after the ${BLK_HDR_LEN}-byte block header`);
  if (r.blockSize * r.blockCount > MAX_RING_BYTES)
    throw bad(`the ring (${r.blockSize} x ${r.blockCount} bytes) is larger than ${MAX_RING_BYTES} bytes`);
  if (r.blockTimeoutMs > 0xffffffff) throw bad('blockTimeoutMs too large');
  return r;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** struct tpacket_req3 bytes for PACKET_RX_RING / PACKET_TX_RING. */
export function tpacketReq3(g: RingGeometry, sizeofPriv = 0, featureReqWord = 0): Uint32Array {
  const framesPerBlock = Math.floor(g.blockSize / g.frameSize);
  return new Uint32Array([
    g.blockSize,
    g.blockCount,
    g.frameSize,
    framesPerBlock * g.blockCount,
    g.blockTimeoutMs,
    sizeofPriv,
    featureReqWord,
  ]);
}
