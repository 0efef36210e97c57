/**
 * Frame builders for the fan-out tests (no native code): Ethernet with
 * optional VLAN tags, IPv4/IPv6 with TCP/UDP/ICMP/other payloads, fragments,
 * ARP (by the shared crafter in test/helpers/frames.ts). Checksums are not
 * filled (steering never reads them).
 */
import { prng as rng } from '../../src/util/random.js';
import { arpFrame } from '../helpers/frames.js';

export { rng };

export interface FrameSpec {
  srcMac?: number[];
  dstMac?: number[];
  /** VLAN tags, outermost first: [tpid, tci]. */
  tags?: Array<[number, number]>;
  /** 4 bytes = IPv4, 16 bytes = IPv6; omit for ARP. */
  src?: number[];
  dst?: number[];
  proto?: number;
  sport?: number;
  dport?: number;
  /** IPv4 flags/fragment offset word (e.g. 0x2000 = MF). */
  frag?: number;
  /** IPv4 header length in 32-bit words (default 5). */
  ihl?: number;
  /** IPv6: put a hop-by-hop extension header before the upper layer. */
  ext?: boolean;
  payload?: number;
  /** Bytes appended after the headers. */
  tail?: Uint8Array;
}

/** Build the frame described by `s`. */
export function frame(s: FrameSpec): Uint8Array {
  if (s.src === undefined) {
    const a = arpFrame({ srcMac: s.srcMac ?? [2, 0, 0, 0, 0x0a, 1], dstMac: s.dstMac ?? [2, 0, 0, 0, 0xff, 2], tags: s.tags });
    if (s.tail === undefined) return a;
    const f = new Uint8Array(a.length + s.tail.length);
    f.set(a);
    f.set(s.tail, a.length);
    return f;
  }
  const out: number[] = [];
  out.push(...(s.dstMac ?? [2, 0, 0, 0, 0xff, 2]), ...(s.srcMac ?? [2, 0, 0, 0, 0x0a, 1]));
  for (const [tpid, tci] of s.tags ?? []) out.push(tpid >> 8, tpid & 0xff, tci >> 8, tci & 0xff);
  const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
  const l4 = (): number[] => {
    const p = s.proto ?? 17;
    const body = new Array(s.payload ?? 8).fill(0x5a);
    if (p === 6) return [...u16(s.sport ?? 1000), ...u16(s.dport ?? 80), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0, ...body];
    if (p === 17 || p === 132) return [...u16(s.sport ?? 1000), ...u16(s.dport ?? 53), ...u16(8 + body.length), 0, 0, ...body];
    if (p === 1) return [8, 0, 0, 0, 0, 1, 0, 1, ...body];
    return body;
  };
  if (s.src.length === 4) {
    const ihl = s.ihl ?? 5;
    const l = l4();
    out.push(0x08, 0x00, 0x40 | ihl, 0, ...u16(ihl * 4 + l.length), 0, 1, ...u16(s.frag ?? 0), 64, s.proto ?? 17, 0, 0, ...s.src, ...s.dst!);
    for (let i = 5; i < ihl; i++) out.push(1, 1, 1, 1); // NOP options
    out.push(...l);
  } else {
    const l = l4();
    const nh = s.ext ? 0 : (s.proto ?? 17);
    const ext = s.ext ? [s.proto ?? 17, 0, 1, 4, 0, 0, 0, 0] : [];
    out.push(0x86, 0xdd, 0x60, 0, 0, 0, ...u16(ext.length + l.length), nh, 64, ...s.src, ...s.dst!, ...ext, ...l);
  }
  if (s.tail) out.push(...s.tail);
  return new Uint8Array(out);
}

/** The same conversation in the other direction (addresses, ports and MACs swapped). */
export function reverse(s: FrameSpec): FrameSpec {
  return { ...s, src: s.dst, dst: s.src, sport: s.dport, dport: s.sport, srcMac: s.dstMac ?? [2, 0, 0, 0, 0xff, 2], dstMac: s.srcMac ?? [2, 0, 0, 0, 0x0a, 1] };
}

/** A random flow: IPv4 or IPv6, TCP or UDP, random addresses and ports. */
export function randomFlow(r: () => number, v6 = r() < 0.3): FrameSpec {
  const bytes = (n: number): number[] => Array.from({ length: n }, () => Math.floor(r() * 256));
  return {
    srcMac: [2, ...bytes(5)], dstMac: [2, ...bytes(5)],
    src: bytes(v6 ? 16 : 4), dst: bytes(v6 ? 16 : 4),
    proto: r() < 0.5 ? 6 : 17, sport: 1 + Math.floor(r() * 65535), dport: 1 + Math.floor(r() * 65535),
  };
}
