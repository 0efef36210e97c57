/**
 * TemplateStream: packets from one template, varied per flow and size, with
 * an optional latency stamp. The template is copied into a ring slot once;
 * after that only the fields that vary are rewritten (addresses, ports, VLAN
 * id, lengths, stamp) and the checksums are computed from precomputed
 * partial sums: base + the varying words + a prefix sum of the payload. A
 * slot that already holds the same flow at a fixed size is not touched at all.
 *
 * Packet i of the stream (i counts from `start`) uses flow i mod N and size
 * `sizes.at(i)`, so workers that start at different i share one sequence.
 */
import { NetringError } from '../errors.js';
import { buildPacket, describeHeaders, headerLength, MIN_FRAME, put16, put32, type PacketSpec, type Template, type VlanTag } from '../build/index.js';
import { IPV6_HEADER_LEN } from '../decode/ipv6.js';
import { finish, sum16, sum32 } from '../build/index.js';
import type { RealtimeClock } from './clock.js';
import type { FlowSet } from './flows.js';
import type { SizeSeq } from './size.js';
import type { PacketSource } from '../tx/index.js';
import { STAMP_LEN, writeStamp } from '../latency/index.js';

/** Latency stamping of a stream. */
export interface StampOptions {
  /** Stream id written into every stamp (0..65535). */
  stream: number;
  /** Realtime clock for the send time. */
  clock: RealtimeClock;
  /** Sequence number of the k-th stamped packet (default k). Tests use it to inject gaps and reordering. */
  sequence?: (k: number) => number;
}

/** Options of {@link TemplateStream}. */
export interface StreamOptions {
  /** Header fields other than the flow fields (MACs, protocol, TTL, TCP flags, payload pattern...). */
  packet: PacketSpec;
  /** The flows (one flow = a constant 5-tuple). */
  flows: FlowSet;
  /** Frame sizes. */
  sizes: SizeSeq;
  /** Stamp each packet for latency measurement. */
  stamp?: StampOptions | null;
  /** Index of the first packet in the shared sequence (default 0). */
  start?: number;
}

export class TemplateStream implements PacketSource {
  readonly maxLength: number;
  /** The template at the largest size, flow 0. */
  readonly template: Template;
  /** Packets written so far. */
  written = 0;
  private readonly base: Uint8Array;
  private readonly flows: FlowSet;
  private readonly sizes: SizeSeq;
  private readonly fixedLen: number;
  private readonly dynamic: boolean;
  private flow: number;
  private index: number;
  private readonly nFlows: number;
  // offsets
  private readonly l3Off: number;
  private readonly l4Off: number;
  private readonly payOff: number;
  private readonly srcLow: number;
  private readonly dstLow: number;
  private readonly sportOff: number;
  private readonly dportOff: number;
  private readonly tciOff: number;
  private readonly tciHigh: number;
  private readonly ipCsumOff: number;
  private readonly ipLenOff: number;
  private readonly ipLenBase: number;
  private readonly l4LenOff: number;
  private readonly l4CsumOff: number;
  private readonly isUdp: boolean;
  /** ICMP/ICMPv6 echo: offset of the sequence word (-1 otherwise) and the first packet's sequence. */
  private readonly icmpSeqOff: number;
  private readonly icmpSeqBase: number;
  // checksum parts
  private readonly ipBase: number;
  private readonly l4Base: number;
  private readonly lenMul: number;
  private readonly flowIp: Float64Array;
  private readonly flowL4: Float64Array;
  private readonly prefix: Float64Array;
  // stamp
  private readonly stamp: StampOptions | null;
  private stamped = 0;

  constructor(o: StreamOptions) {
    const f = o.flows;
    this.flows = f;
    this.sizes = o.sizes;
    this.nFlows = f.count;
    this.stamp = o.stamp ?? null;
    const first = f.tuple(0);
    const spec: PacketSpec = { ...firstSpec(o.packet, f), size: o.sizes.max };
    if (spec.payload instanceof Uint8Array) throw new NetringError('a stream needs a payload pattern, not explicit payload bytes', 'EINVAL');
    if (spec.arp !== undefined) throw new NetringError('a stream sends IP packets: build ARP frames with buildPacket', 'EINVAL');
    const need = headerLength(spec) + (this.stamp ? STAMP_LEN : 0);
    if (o.sizes.min < need) {
      throw new NetringError(`size ${o.sizes.min} is smaller than the headers: ${describeHeaders(spec)}${this.stamp ? ' + latency stamp 16' : ''} = ${need} bytes`, 'EINVAL');
    }
    const t = buildPacket(spec);
    this.template = t;
    this.base = t.bytes;
    this.maxLength = t.length;
    this.fixedLen = o.sizes.fixed ? o.sizes.min : 0;
    // an echo request's sequence counts up per packet (as ping's), so every frame is rewritten
    const icmpType = t.bytes[t.l4Off];
    const echo = (t.ipProto === 1 && (icmpType === 8 || icmpType === 0)) || (t.ipProto === 58 && (icmpType === 128 || icmpType === 129));
    this.icmpSeqOff = echo ? t.l4Off + 6 : -1;
    this.icmpSeqBase = echo ? (t.bytes[t.l4Off + 6] << 8) | t.bytes[t.l4Off + 7] : 0;
    this.dynamic = !o.sizes.fixed || this.stamp !== null || echo;
    const start = o.start ?? 0;
    this.index = start;
    this.flow = start % this.nFlows;

    this.l3Off = t.l3Off;
    this.l4Off = t.l4Off;
    this.payOff = t.payloadOff;
    this.srcLow = t.srcOff + t.addrLen - 4;
    this.dstLow = t.dstOff + t.addrLen - 4;
    this.sportOff = t.sportOff;
    this.dportOff = t.dportOff;
    this.tciOff = t.vlanTciOffs.length > 0 ? t.vlanTciOffs[0] : -1;
    this.tciHigh = this.tciOff >= 0 ? ((t.bytes[this.tciOff] << 8) & 0xf000) : 0;
    this.ipCsumOff = t.ipCsumOff;
    this.ipLenOff = t.ipLenOff;
    this.ipLenBase = t.family === 4 ? t.l3Off : t.l3Off + IPV6_HEADER_LEN; // IPv6: the extension headers count in the payload length
    this.l4LenOff = t.l4LenOff;
    this.l4CsumOff = t.l4CsumOff;
    this.isUdp = t.ipProto === 17;

    // Base sums: the template with every varying word zeroed.
    const z = Uint8Array.from(t.bytes.subarray(0, t.payloadOff));
    const zero = (at: number, n: number): void => { if (at >= 0) z.fill(0, at, at + n); };
    const pseudo = t.ipProto !== 1;
    if (t.family === 4) {
      zero(t.ipLenOff, 2); zero(t.ipCsumOff, 2); zero(t.srcOff, 4); zero(t.dstOff, 4);
      this.ipBase = sum16(z, t.l3Off, t.l4Off - t.l3Off); // options included
    } else {
      this.ipBase = 0;
    }
    const hi = t.family === 6 ? sum16(t.bytes, t.srcOff, 12) + sum16(t.bytes, t.dstOff, 12) : 0;
    zero(t.l4CsumOff, 2); zero(t.l4LenOff, 2); zero(t.sportOff, 2); zero(t.dportOff, 2); zero(this.icmpSeqOff, 2);
    this.l4Base = sum16(z, t.l4Off, t.payloadOff - t.l4Off) + (pseudo ? t.ipProto + hi : 0);
    this.lenMul = t.ipProto === 17 ? 2 : pseudo ? 1 : 0;

    this.flowIp = new Float64Array(this.nFlows);
    this.flowL4 = new Float64Array(this.nFlows);
    const ports = t.sportOff >= 0;
    for (let i = 0; i < this.nFlows; i++) {
      const a = sum32(f.src[i]) + sum32(f.dst[i]);
      this.flowIp[i] = t.family === 4 ? a : 0;
      this.flowL4[i] = (pseudo ? a : 0) + (ports ? f.sport[i] + f.dport[i] : 0);
    }
    const pay = t.length - t.payloadOff;
    this.prefix = new Float64Array(pay + 1);
    let s = 0;
    for (let i = 0; i < pay; i++) {
      s += (i & 1) === 0 ? t.bytes[t.payloadOff + i] << 8 : t.bytes[t.payloadOff + i];
      this.prefix[i + 1] = s;
    }
  }

  /** Index (in the shared sequence) of the next packet. */
  get position(): number { return this.index; }

  write(u8: Uint8Array, off: number, slot: number, tags: Int32Array): number {
    const f = this.flow;
    this.flow = f + 1 === this.nFlows ? 0 : f + 1;
    const i = this.index;
    const L = this.fixedLen > 0 ? this.fixedLen : this.sizes.at(i);
    this.index = i + 1;
    this.written++;
    const tag = tags[slot];
    if (tag !== f) {
      if (tag < 0) u8.set(this.base, off);
      this.writeFlow(u8, off, f);
      tags[slot] = f;
    } else if (!this.dynamic) {
      return L;
    }
    this.finishFrame(u8, off, f, L, i);
    return L;
  }

  private writeFlow(u8: Uint8Array, o: number, f: number): void {
    const fl = this.flows;
    const v = fl.varies;
    if (v.src) put32(u8, o + this.srcLow, fl.src[f]);
    if (v.dst) put32(u8, o + this.dstLow, fl.dst[f]);
    if (v.sport) put16(u8, o + this.sportOff, fl.sport[f]);
    if (v.dport) put16(u8, o + this.dportOff, fl.dport[f]);
    if (v.vlan) put16(u8, o + this.tciOff, this.tciHigh | fl.vlan[f]);
  }

  private finishFrame(u8: Uint8Array, o: number, f: number, L: number, i: number): void {
    const ipLen = L - this.ipLenBase;
    put16(u8, o + this.ipLenOff, ipLen);
    if (this.ipCsumOff >= 0) put16(u8, o + this.ipCsumOff, finish(this.ipBase + this.flowIp[f] + ipLen));
    const l4Len = L - this.l4Off;
    if (this.l4LenOff >= 0) put16(u8, o + this.l4LenOff, l4Len);
    let s = this.l4Base + this.flowL4[f] + this.lenMul * l4Len + this.prefix[L - this.payOff];
    if (this.icmpSeqOff >= 0) {
      const seq = (this.icmpSeqBase + i) & 0xffff;
      put16(u8, o + this.icmpSeqOff, seq);
      s += seq;
    }
    const st = this.stamp;
    if (st !== null) {
      const k = this.stamped++;
      const seq = st.sequence === undefined ? k : st.sequence(k);
      const c = st.clock;
      c.read();
      s += writeStamp(u8, o + this.payOff, st.stream, seq >>> 0, c.sec, c.nsec) - this.prefix[STAMP_LEN];
    }
    let c = finish(s);
    if (c === 0 && this.isUdp) c = 0xffff;
    put16(u8, o + this.l4CsumOff, c);
  }
}

/** The packet spec of a stream's first flow (addresses, ports, outer VLAN id from the flow). */
function firstSpec(packet: PacketSpec, flows: FlowSet): PacketSpec {
  const first = flows.tuple(0);
  const spec: PacketSpec = { ...packet, src: first.src, dst: first.dst };
  if (spec.proto !== 'icmp') { spec.sport = first.sport; spec.dport = first.dport; }
  if (first.vlan >= 0) spec.vlan = outerWithId(packet.vlan, first.vlan);
  return spec;
}

/**
 * The smallest frame a stream of these packets can send: the headers (and
 * the latency stamp), at least 60 bytes (the Ethernet minimum without FCS).
 */
export function minimumFrame(packet: PacketSpec, flows: FlowSet, stamp: boolean): number {
  return Math.max(MIN_FRAME, headerLength(firstSpec(packet, flows)) + (stamp ? STAMP_LEN : 0));
}

/** The spec's VLAN tags with the outermost id replaced. */
function outerWithId(v: PacketSpec['vlan'], id: number): VlanTag | VlanTag[] {
  if (v === undefined) return { id };
  const list = (Array.isArray(v) ? v : [v]).map((t) => (typeof t === 'number' ? { id: t } : { ...t }));
  list[0].id = id;
  return Array.isArray(v) ? list : list[0];
}
