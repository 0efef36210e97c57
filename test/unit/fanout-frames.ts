/**
 * Frame builders for the fan-out tests (no native code; headers laid out by
 * the protocol modules' writers that the TX builder uses): Ethernet with
 * optional VLAN tags, IPv4/IPv6 with TCP/UDP/ICMP/other payloads, fragments,
 * ARP (by the shared crafter in test/helpers/frames.ts). Checksums are not
 * filled (steering never reads them).
 */
import { prng as rng } from '../../src/util/random.js';
import { arpFrame } from '../helpers/frames.js';
import { put16 } from '../../src/decode/bytes.js';
import { EthField, EtherType, writeEthernet } from '../../src/decode/ethernet.js';
import { writeIcmp } from '../../src/decode/icmp.js';
import { writeIpv4, writeIpv4Options } from '../../src/decode/ipv4.js';
import { writeIpv6, writeIpv6HopByHop } from '../../src/decode/ipv6.js';
import { writeTcp } from '../../src/decode/tcp.js';
import { writeUdp } from '../../src/decode/udp.js';
import { VLAN_TAG_LEN, writeVlanTag } from '../../src/decode/vlan.js';

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

const DST_MAC = [2, 0, 0, 0, 0xff, 2];
const SRC_MAC = [2, 0, 0, 0, 0x0a, 1];
const u32 = (a: number[]): number => ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0;

/** Build the frame described by `s` (every header by the protocol modules' writers). */
export function frame(s: FrameSpec): Uint8Array {
  const srcMac = s.srcMac ?? SRC_MAC, dstMac = s.dstMac ?? DST_MAC;
  const tail = s.tail ?? new Uint8Array(0);
  if (s.src === undefined) {
    const a = arpFrame({ srcMac, dstMac, tags: s.tags });
    if (tail.length === 0) return a;
    const f = new Uint8Array(a.length + tail.length);
    f.set(a);
    f.set(tail, a.length);
    return f;
  }
  const tags = s.tags ?? [];
  const proto = s.proto ?? 17;
  const body = s.payload ?? 8;
  const l4Len = (proto === 6 ? 20 : proto === 17 || proto === 132 || proto === 1 ? 8 : 0) + body;
  const v4 = s.src.length === 4;
  const ihl = s.ihl ?? 5;
  const l3Len = v4 ? ihl * 4 : 40 + (s.ext ? 8 : 0);
  const f = new Uint8Array(14 + VLAN_TAG_LEN * tags.length + l3Len + l4Len + tail.length);
  const type = v4 ? EtherType.IPv4 : EtherType.IPv6;
  writeEthernet(f, 0, dstMac, srcMac, type);
  let o = EthField.Type;
  for (const [tpid, tci] of tags) o = writeVlanTag(f, o, tpid, tci);
  put16(f, o, type);
  o += 2;
  if (v4) {
    const end = writeIpv4(f, o, { headerLength: ihl * 4, totalLength: l3Len + l4Len, id: 1, flagsFragment: s.frag ?? 0, protocol: proto, src: u32(s.src), dst: u32(s.dst!) });
    o = writeIpv4Options(f, o, end); // NOP options
  } else {
    o = writeIpv6(f, o, { payloadLength: l3Len - 40 + l4Len, nextHeader: s.ext ? 0 : proto, src: s.src, dst: s.dst! });
    if (s.ext) o = writeIpv6HopByHop(f, o, proto); // one PadN option over the other 6 bytes
  }
  if (proto === 6) o = writeTcp(f, o, { sport: s.sport ?? 1000, dport: s.dport ?? 80, seq: 1, flags: 0x10 });
  else if (proto === 17 || proto === 132) o = writeUdp(f, o, s.sport ?? 1000, s.dport ?? 53, 8 + body);
  else if (proto === 1) o = writeIcmp(f, o, 8, 0, 1, 1);
  f.fill(0x5a, o, o + body);
  f.set(tail, o + body);
  return f;
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
