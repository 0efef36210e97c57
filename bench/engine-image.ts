/**
 * The engine benchmark's input: a TPACKET_V3 ring image, built with
 * test/helpers/ring-image.ts exactly as the kernel lays a ring out, every block full
 * of 64-byte Ethernet/IPv4/UDP frames from many flows.
 *
 * Flow i: 10.99.(i/64/250).(1 + (i/64)%250):(10000 + i%64) -> 10.99.1.1,
 * destination port 5001 except for every fourth flow (port 53), so the
 * benchmark filter `udp dport 5001` keeps exactly 3 of 4 packets.
 */
import { buildRingImage, FRAME_MAC_OFFSET, type ImageFrame } from '../test/helpers/ring-image.js';
import { tpacketAlign, BLK_HDR_LEN } from '../src/ring/layout.js';

export const MATCH_PORT = 5001;

export interface EngineImage {
  buffer: ArrayBuffer;
  blockSize: number;
  blockCount: number;
  packets: number;
  /** Packets with UDP destination port MATCH_PORT. */
  matching: number;
}

/** Bytes one frame of `len` bytes takes in a block (header, sockaddr_ll, alignment). */
export function slotBytes(len: number): number {
  return tpacketAlign(FRAME_MAC_OFFSET + len);
}

/** Write the 64-byte frame of flow `i` into `f` (checksums left 0: nobody verifies them here). */
function fillFrame(f: Uint8Array, i: number): void {
  f.fill(0x5a);
  f.set([0x02, 0, 0, 0, 0xff, 0x02, 0x02, 0, 0, 0, 0x0b, 0x01, 0x08, 0x00], 0); // eth, type IPv4
  const ipLen = f.length - 14;
  f.set([0x45, 0, ipLen >> 8, ipLen & 0xff, 0, 0, 0x40, 0, 64, 17, 0, 0], 14); // v4, ihl 5, DF, ttl 64, UDP
  f.set([10, 99, (i / 64 / 250) & 0xff, 1 + ((i / 64) | 0) % 250], 26); // saddr
  f.set([10, 99, 1, 1], 30); // daddr
  const sport = 10000 + (i % 64);
  const dport = i % 4 === 3 ? 53 : MATCH_PORT;
  const udpLen = ipLen - 20;
  f.set([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, udpLen >> 8, udpLen & 0xff, 0, 0], 34);
}

/** An image of `blockCount` blocks of `blockSize` bytes, every block as full as the kernel would fill it. */
export function buildEngineImage(blockSize: number, blockCount: number, frameLen = 64, flows = 1024): EngineImage {
  const perBlock = Math.floor((blockSize - BLK_HDR_LEN) / slotBytes(frameLen));
  const total = perBlock * blockCount;
  const bytes = new Uint8Array(frameLen);
  const frame: ImageFrame = { bytes, sec: 0, nsec: 0, ifindex: 2, pktType: 3 };
  let matching = 0;
  function* frames(): Generator<ImageFrame> {
    for (let n = 0; n < total; n++) {
      const i = n % flows;
      fillFrame(bytes, i);
      if (i % 4 !== 3) matching++;
      frame.sec = 1_700_000_000 + Math.floor(n / 1_000_000);
      frame.nsec = (n % 1_000_000) * 1000;
      yield frame;
    }
  }
  const img = buildRingImage(frames(), { blockSize, blockCount });
  if (img.blocksUsed !== blockCount || img.packets !== total)
    throw new Error(`image layout: ${img.blocksUsed} blocks / ${img.packets} packets, expected ${blockCount} / ${total}`);
  return { buffer: img.buffer, blockSize, blockCount, packets: total, matching };
}
