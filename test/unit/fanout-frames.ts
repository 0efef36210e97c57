/**
 * Frame builders for the fan-out tests (no native code): Ethernet with
 * optional VLAN tags, IPv4/IPv6 with TCP/UDP/ICMP, IPv4 options and
 * fragments, an IPv6 hop-by-hop header, ARP; all by the TX builder
 * (src/build, through the shared crafters in test/helpers/frames.ts).
 */
import { prng as rng } from '../../src/util/random.js';
import { formatIPv6, type L4Proto } from '../../src/build/index.js';
import { arpFrame, packetFrame, tagOf } from '../helpers/frames.js';

export { rng };

export interface FrameSpec {
  srcMac?: number[];
  dstMac?: number[];
  /** VLAN tags, outermost first: [tpid, tci]. */
  tags?: Array<[number, number]>;
  /** 4 bytes = IPv4, 16 bytes = IPv6; omit for ARP. */
  src?: number[];
  dst?: number[];
  /** 6 (TCP), 17 (UDP, the default) or 1 (ICMP, IPv4). */
  proto?: number;
  sport?: number;
  dport?: number;
  /** IPv4 flags/fragment offset word (e.g. 0x2000 = MF). */
  frag?: number;
  /** IPv4 header length in 32-bit words (default 5; more: NOP options). */
  ihl?: number;
  /** IPv6: put a hop-by-hop extension header before the upper layer. */
  ext?: boolean;
  payload?: number;
  /** Bytes appended after the IP packet. */
  tail?: Uint8Array;
}

const DST_MAC = [2, 0, 0, 0, 0xff, 2];
const SRC_MAC = [2, 0, 0, 0, 0x0a, 1];
const L4: Record<number, L4Proto> = { 6: 'tcp', 17: 'udp', 1: 'icmp' };

/** Build the frame described by `s`. */
export function frame(s: FrameSpec): Uint8Array {
  const srcMac = s.srcMac ?? SRC_MAC, dstMac = s.dstMac ?? DST_MAC;
  const tail = s.tail ?? new Uint8Array(0);
  let f: Uint8Array;
  if (s.src === undefined) {
    f = arpFrame({ srcMac, dstMac, tags: s.tags });
  } else {
    const proto = s.proto ?? 17;
    const v4 = s.src.length === 4;
    const l4 = L4[proto];
    if (l4 === undefined || (l4 === 'icmp' && !v4)) throw new Error(`frame: IP protocol ${proto} is not built (6, 17, or 1 over IPv4)`);
    const addr = (a: number[]): string => (v4 ? a.join('.') : formatIPv6(Uint8Array.from(a)));
    const frag = s.frag ?? 0;
    f = packetFrame({
      srcMac: Uint8Array.from(srcMac), dstMac: Uint8Array.from(dstMac), vlan: (s.tags ?? []).map(([tpid, tci]) => tagOf(tpid, tci)),
      src: addr(s.src), dst: addr(s.dst!), proto: l4, sport: s.sport ?? 1000, dport: s.dport ?? (proto === 6 ? 80 : 53),
      ...(v4
        ? { ipId: 1, df: (frag & 0x4000) !== 0, mf: (frag & 0x2000) !== 0, fragOffset: (frag & 0x1fff) << 3, ipOptions: new Array<number>(((s.ihl ?? 5) - 5) * 4).fill(1) }
        : { ipv6Ext: s.ext ? [{ type: 'hop-by-hop' as const }] : undefined }),
      tcpFlags: 0x10, payload: new Uint8Array(s.payload ?? 8).fill(0x5a),
    });
  }
  if (tail.length === 0) return f;
  const out = new Uint8Array(f.length + tail.length);
  out.set(f);
  out.set(tail, f.length);
  return out;
}

/** The same conversation in the other direction (addresses, ports and MACs swapped). */
export function reverse(s: FrameSpec): FrameSpec {
  return { ...s, src: s.dst, dst: s.src, sport: s.dport, dport: s.sport, srcMac: s.dstMac ?? [...DST_MAC], dstMac: s.srcMac ?? [...SRC_MAC] };
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
