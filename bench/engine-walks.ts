/**
 * The per-packet loops of the engine benchmark, over a RingReader (one pass
 * = every retired block of the ring, each batch released as the loop moves
 * on). bench/engine.c has the same loops in C over the same image.
 *
 *   walk           the count-only receiver: every packet's wire length
 *   tuple+filter   + the IPv4/UDP 5-tuple read with src/decode's accessor
 *                  functions and the filter `udp dst port 5001` (IHL-aware,
 *                  as a compiled cBPF filter would be)
 *   decode+filter  the same with the full layered decoder (src/decode Layers:
 *                  every layer of every packet decoded, error checked)
 *   forEach        tuple+filter through Batch.forEach (callback form)
 *   pcapng write   every packet into a PcapngWriter whose file is /dev/null
 *                  (the `netring capture -w` work, minus the kernel)
 * Every loop checks what it saw (packet and match counts, a checksum of the
 * bytes read), so nothing can be optimised away or read wrongly unnoticed.
 */
import type { RingReader, PacketView } from '../src/ring/index.js';
import {
  ethType, ipv4Dst, ipv4HeaderLength, ipv4Protocol, ipv4Src, Layers, udpDstPort, udpSrcPort,
} from '../src/decode/index.js';
import { u32 } from '../src/decode/bytes.js';
import { PcapngWriter } from '../src/pcap/index.js';
import { MATCH_PORT } from './engine-image.js';

/** What a pass saw: packets, packets passing the filter, and a checksum of what was read. */
export interface PassResult { packets: number; matches: number; sink: number }

export type Walk = (r: RingReader, out: PassResult) => void;

export const walkCount: Walk = (r, out) => {
  let n = 0;
  let bytes = 0;
  for (let b = r.acquire(); b !== null; b = r.acquire()) {
    for (let p = b.next(); p !== null; p = b.next()) bytes += p.wireLen;
    n += b.count;
  }
  out.packets = n;
  out.matches = 0;
  out.sink = bytes;
};

export const walkTuple: Walk = (r, out) => {
  let n = 0;
  let m = 0;
  let x = 0;
  for (let b = r.acquire(); b !== null; b = r.acquire()) {
    for (let p = b.next(); p !== null; p = b.next()) {
      n++;
      const d = p.data;
      const o = p.offset;
      if (p.caplen < 42 || ethType(d, o) !== 0x0800 || ipv4Protocol(d, o + 14) !== 17) continue;
      const l4 = o + 14 + ipv4HeaderLength(d, o + 14);
      if (udpDstPort(d, l4) !== MATCH_PORT) continue;
      m++;
      x ^= ipv4Src(d, o + 14) ^ ipv4Dst(d, o + 14) ^ udpSrcPort(d, l4);
    }
  }
  out.packets = n;
  out.matches = m;
  out.sink = x;
};

const layers = new Layers();

export const walkDecode: Walk = (r, out) => {
  const l = layers;
  let n = 0;
  let m = 0;
  let x = 0;
  for (let b = r.acquire(); b !== null; b = r.acquire()) {
    for (let p = b.next(); p !== null; p = b.next()) {
      n++;
      // The full decode of every packet (decodePacket: every layer, error checked), then the fields a filter reads.
      if (l.decodePacket(p) !== 0 || l.ipProto !== 17 || l.dstPort !== MATCH_PORT) continue;
      m++;
      // What a user reads: both addresses (through their offsets), both ports, the TCP flags (0 on UDP).
      x ^= u32(l.data, l.srcAddrOffset) ^ u32(l.data, l.dstAddrOffset) ^ l.srcPort ^ l.tcpFlags;
    }
  }
  out.packets = n;
  out.matches = m;
  out.sink = x;
};

let feN = 0;
let feM = 0;
let feX = 0;
function onePacket(p: PacketView): void {
  feN++;
  const d = p.data;
  const o = p.offset;
  if (p.caplen < 42 || ethType(d, o) !== 0x0800 || ipv4Protocol(d, o + 14) !== 17) return;
  const l4 = o + 14 + ipv4HeaderLength(d, o + 14);
  if (udpDstPort(d, l4) !== MATCH_PORT) return;
  feM++;
  feX ^= ipv4Src(d, o + 14) ^ ipv4Dst(d, o + 14) ^ udpSrcPort(d, l4);
}

export const walkForEach: Walk = (r, out) => {
  feN = 0; feM = 0; feX = 0;
  for (let b = r.acquire(); b !== null; b = r.acquire()) b.forEach(onePacket);
  out.packets = feN;
  out.matches = feM;
  out.sink = feX;
};

let writer: PcapngWriter | null = null;

export const walkPcapng: Walk = (r, out) => {
  if (writer === null) writer = new PcapngWriter('/dev/null', { name: 'engine' });
  const w = writer;
  const before = w.packets;
  for (let b = r.acquire(); b !== null; b = r.acquire()) {
    for (let p = b.next(); p !== null; p = b.next()) w.writePacket(p);
  }
  out.packets = w.packets - before;
  out.matches = 0;
  out.sink = 0;
};

export const WALKS: ReadonlyArray<[string, Walk]> = [
  ['walk', walkCount],
  ['tuple+filter', walkTuple],
  ['decode+filter', walkDecode],
  ['forEach tuple+filter', walkForEach],
  ['pcapng write', walkPcapng],
];
