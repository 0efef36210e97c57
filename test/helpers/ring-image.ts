/**
 * Build TPACKET_V3 ring images in memory, laid out exactly as the kernel
 * lays them out: for unit tests of the walker and for the engine benchmark
 * (which measures our per-packet cost with no kernel involved).
 */
import { TP_STATUS_TS_SOFTWARE, TP_STATUS_USER, TP_STATUS_VLAN_TPID_VALID, TP_STATUS_VLAN_VALID } from '../../src/constants.js';
import type { RingGeometry } from '../../src/ring/geometry.js';
import {
  BLK_HDR_LEN, BLK_LEN, BLK_NUM_PKTS, BLK_OFFSET_TO_FIRST, BLK_SEQ_NUM, BLK_STATUS, PKT_LEN, PKT_MAC,
  PKT_NET, PKT_NEXT_OFFSET, PKT_NSEC, PKT_SEC, PKT_SNAPLEN, PKT_STATUS, PKT_VLAN_TCI, PKT_VLAN_TPID, SLL_IFINDEX,
  SLL_PKTTYPE, TPACKET3_HDRLEN, tpacketAlign,
} from '../../src/ring/layout.js';

/** A frame to place in an image. */
export interface ImageFrame {
  bytes: Uint8Array;
  /** Length on the wire; defaults to bytes.length. */
  wireLen?: number;
  sec?: number;
  nsec?: number;
  vlanTci?: number;
  vlanTpid?: number;
  ifindex?: number;
  pktType?: number;
}

/** Where the kernel puts the frame: tp_mac = TPACKET_ALIGN(TPACKET3_HDRLEN) + 16 - 14 (net header aligned). */
export const FRAME_MAC_OFFSET = tpacketAlign(TPACKET3_HDRLEN + 16) - 14;

/**
 * Lay frames into blocks (each block filled until the next frame would not fit),
 * mark every filled block as retired (TP_STATUS_USER). Returns the buffer and how
 * many blocks were used. Throws if the frames need more blocks than the geometry has.
 */
export function buildRingImage(frames: Iterable<ImageFrame>, g: Pick<RingGeometry, 'blockSize' | 'blockCount'>):
  { buffer: ArrayBuffer; blocksUsed: number; packets: number } {
  const buffer = new ArrayBuffer(g.blockSize * g.blockCount);
  const u8 = new Uint8Array(buffer);
  const dv = new DataView(buffer);
  let block = 0;
  let pos = BLK_HDR_LEN;
  let n = 0;
  let last = -1;
  let packets = 0;
  const close = (): void => {
    const b = block * g.blockSize;
    if (last >= 0) dv.setUint32(last + PKT_NEXT_OFFSET, 0, true);
    dv.setUint32(b + BLK_STATUS, TP_STATUS_USER, true);
    dv.setUint32(b + BLK_NUM_PKTS, n, true);
    dv.setUint32(b + BLK_OFFSET_TO_FIRST, BLK_HDR_LEN, true);
    dv.setUint32(b + BLK_LEN, pos, true);
    dv.setUint32(b + BLK_SEQ_NUM, block + 1, true);
  };
  for (const f of frames) {
    const need = tpacketAlign(FRAME_MAC_OFFSET + f.bytes.length);
    if (need > g.blockSize - BLK_HDR_LEN) throw new RangeError(`frame of ${f.bytes.length} bytes cannot fit a block`);
    if (pos + need > g.blockSize) {
      close();
      block++;
      if (block >= g.blockCount) throw new RangeError('ring image too small for the frames');
      pos = BLK_HDR_LEN;
      n = 0;
      last = -1;
    }
    const h = block * g.blockSize + pos;
    if (last >= 0) dv.setUint32(last + PKT_NEXT_OFFSET, h - last, true);
    dv.setUint32(h + PKT_SEC, f.sec ?? 0, true);
    dv.setUint32(h + PKT_NSEC, f.nsec ?? 0, true);
    dv.setUint32(h + PKT_SNAPLEN, f.bytes.length, true);
    dv.setUint32(h + PKT_LEN, f.wireLen ?? f.bytes.length, true);
    let st = TP_STATUS_USER | TP_STATUS_TS_SOFTWARE;
    if (f.vlanTci !== undefined) {
      st |= TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID;
      dv.setUint32(h + PKT_VLAN_TCI, f.vlanTci, true);
      dv.setUint16(h + PKT_VLAN_TPID, f.vlanTpid ?? 0x8100, true);
    }
    dv.setUint32(h + PKT_STATUS, st >>> 0, true);
    dv.setUint16(h + PKT_MAC, FRAME_MAC_OFFSET, true);
    dv.setUint16(h + PKT_NET, FRAME_MAC_OFFSET + 14, true);
    dv.setInt32(h + SLL_IFINDEX, f.ifindex ?? 1, true);
    u8[h + SLL_PKTTYPE] = f.pktType ?? 0;
    u8.set(f.bytes, h + FRAME_MAC_OFFSET);
    last = h;
    pos += need;
    n++;
    packets++;
  }
  if (n > 0) close();
  return { buffer, blocksUsed: n > 0 ? block + 1 : block, packets };
}

/** Mark every block of an image as retired again (for re-walking it in a benchmark). */
export function rearmImage(buffer: ArrayBuffer, g: Pick<RingGeometry, 'blockSize'>, blocks: number): void {
  const dv = new DataView(buffer);
  for (let b = 0; b < blocks; b++) dv.setUint32(b * g.blockSize + BLK_STATUS, TP_STATUS_USER, true);
}

