import * as os from 'node:os';
import type { PacketLike } from '../packet-like.js';
import { BlockType, epbFlagsFromPktType, LinkType, MAX_SNAPLEN, PCAPNG_BOM } from './constants.js';
import { vlanInsertOffset, writeFrame } from './frame-copy.js';
import { ByteSink, type WriteTarget } from './sink.js';
import { ticksFromTime, type TicksOut } from './time.js';
import type { CaptureWriter, HasEpbFlags, WriterStatistics } from './writer-types.js';

/** One capture interface of a pcapng file (an Interface Description Block). */
export interface PcapngInterfaceSpec {
  /** LINKTYPE_* (default 1, Ethernet). */
  linkType?: number;
  /** Snapshot length; 0 = no limit (default 262144). */
  snaplen?: number;
  /** if_name, e.g. "eth0". */
  name?: string;
  /** if_description. */
  description?: string;
  /** Timestamp resolution: 'nano' (if_tsresol = 9, the default) or 'micro' (6). */
  precision?: 'nano' | 'micro';
  /** if_fcslen, when known. */
  fcsLen?: number;
}

/** Options of {@link PcapngWriter}. */
export interface PcapngWriterOptions extends PcapngInterfaceSpec {
  /** Interfaces to declare up front; default one interface from the flat fields above. */
  interfaces?: PcapngInterfaceSpec[];
  /** shb_userappl (default "netring"). */
  application?: string;
  /** shb_os (default from node:os). */
  os?: string;
  /** shb_hardware (default the CPU architecture). */
  hardware?: string;
  /** Write big-endian sections (default little-endian). */
  bigEndian?: boolean;
  /** Size of the reusable output buffer (default 1 MiB). */
  bufferSize?: number;
  /**
   * Derive epb_flags (direction and reception type) from `PacketLike.pktType`
   * in `writePacket` (default true). Records read from pcapng files carry their own flags.
   */
  directionFromPktType?: boolean;
}

interface IfaceState {
  tagAt: number;
  snaplen: number;
  scale: number;
  /** First and last packet timestamps, for ISB start/end defaults (-1 = none yet). */
  firstSec: number; firstNsec: number; lastSec: number; lastNsec: number;
  statsSource: (() => WriterStatistics | undefined) | null;
}

const encoder = new TextEncoder();

function osName(): string {
  return `${os.type()} ${os.release()}`;
}

/**
 * pcapng writer: one Section Header Block (shb_userappl "netring"),
 * Interface Description Blocks with if_name and if_tsresol = 9, Enhanced
 * Packet Blocks (with epb_flags when the direction is known) and Interface
 * Statistics Blocks (written on demand and on close), streamed through one
 * reusable buffer.
 */
export class PcapngWriter implements CaptureWriter {
  readonly format = 'pcapng' as const;
  private readonly sink: ByteSink;
  private readonly le: boolean;
  private readonly ifaces: IfaceState[] = [];
  private readonly useDirection: boolean;
  private readonly ts: TicksOut = { hi: 0, lo: 0 };
  private count = 0;
  private baseSec = -1;
  private baseScale = 0;
  private baseHi = 0;
  private baseLo = 0;

  constructor(target: WriteTarget, options: PcapngWriterOptions = {}) {
    this.le = !options.bigEndian;
    this.useDirection = options.directionFromPktType ?? true;
    this.sink = new ByteSink(target, options.bufferSize);
    this.writeShb(options.application ?? 'netring', options.os ?? osName(), options.hardware ?? process.arch);
    const specs = options.interfaces ?? [options];
    for (const spec of specs) this.addInterface(spec);
    this.sink.flush(); // headers on disk: an empty capture is already a valid file
  }

  get packets(): number { return this.count; }
  get bytes(): number { return this.sink.flushed + this.sink.pos; }
  get closed(): boolean { return this.sink.closed; }
  /** Number of interfaces declared so far. */
  get interfaceCount(): number { return this.ifaces.length; }

  /** Declares another interface (writes its IDB now); returns its interface id. */
  addInterface(spec: PcapngInterfaceSpec = {}): number {
    const linkType = spec.linkType ?? LinkType.Ethernet;
    const snaplen = spec.snaplen ?? MAX_SNAPLEN;
    if (!(snaplen >= 0 && snaplen <= 0x7fffffff)) throw new RangeError(`pcapng snaplen must be 0..2^31-1, got ${snaplen}`);
    const nano = (spec.precision ?? 'nano') === 'nano';
    const name = spec.name !== undefined ? encoder.encode(spec.name) : null;
    const desc = spec.description !== undefined ? encoder.encode(spec.description) : null;
    let optLen = 4 + 8; // if_tsresol + opt_endofopt
    if (name) optLen += 4 + pad4(name.length);
    if (desc) optLen += 4 + pad4(desc.length);
    if (spec.fcsLen !== undefined) optLen += 8;
    const total = 20 + optLen;
    const s = this.sink;
    s.reserve(total);
    const v = s.view, le = this.le;
    let p = s.pos;
    v.setUint32(p, BlockType.IDB, le);
    v.setUint32(p + 4, total, le);
    v.setUint16(p + 8, linkType, le);
    v.setUint16(p + 10, 0, le);
    v.setUint32(p + 12, snaplen, le);
    p += 16;
    if (name) p = this.putOption(p, 2, name);
    if (desc) p = this.putOption(p, 3, desc);
    v.setUint16(p, 9, le); v.setUint16(p + 2, 1, le); v.setUint32(p + 4, 0, le); s.buf[p + 4] = nano ? 9 : 6;
    p += 8;
    if (spec.fcsLen !== undefined) {
      v.setUint16(p, 13, le); v.setUint16(p + 2, 1, le); v.setUint32(p + 4, 0, le); s.buf[p + 4] = spec.fcsLen;
      p += 8;
    }
    v.setUint32(p, 0, le); // opt_endofopt
    v.setUint32(p + 4, total, le);
    s.pos = p + 8;
    this.ifaces.push({
      tagAt: vlanInsertOffset(linkType), snaplen, scale: nano ? 1e9 : 1e6,
      firstSec: -1, firstNsec: 0, lastSec: -1, lastNsec: 0, statsSource: null,
    });
    return this.ifaces.length - 1;
  }

  write(
    data: Uint8Array, offset: number, caplen: number, wireLen: number, sec: number, nsec: number,
    vlanTci = -1, vlanTpid = 0, ifaceId = 0, epbFlags = 0,
  ): void {
    const ifc = this.ifaces[ifaceId];
    if (ifc === undefined) throw new RangeError(`pcapng interface id ${ifaceId} was not declared`);
    let tagAt = -1;
    if (vlanTci >= 0 && ifc.tagAt >= 0 && caplen >= ifc.tagAt) {
      tagAt = ifc.tagAt;
      caplen += 4;
      wireLen += 4;
    }
    const out = ifc.snaplen !== 0 && caplen > ifc.snaplen ? ifc.snaplen : caplen;
    const padded = (out + 3) & ~3;
    const total = 32 + padded + (epbFlags !== 0 ? 12 : 0);
    const s = this.sink;
    s.reserve(total);
    const v = s.view, le = this.le;
    let p = s.pos;
    // sec * scale changes once a second: cache it, add the sub-second part.
    if (sec !== this.baseSec || ifc.scale !== this.baseScale) {
      ticksFromTime(sec, 0, ifc.scale, this.ts);
      this.baseSec = sec;
      this.baseScale = ifc.scale;
      this.baseHi = this.ts.hi;
      this.baseLo = this.ts.lo;
    }
    let lo = this.baseLo + (ifc.scale === 1e9 ? nsec : Math.floor(nsec / 1000));
    let hi = this.baseHi;
    if (lo >= 4294967296) { const c = Math.floor(lo / 4294967296); lo -= c * 4294967296; hi += c; } // nsec may exceed 1e9 (a pcap file's usec >= 1e6)
    v.setUint32(p, BlockType.EPB, le);
    v.setUint32(p + 4, total, le);
    v.setUint32(p + 8, ifaceId, le);
    v.setUint32(p + 12, hi, le);
    v.setUint32(p + 16, lo, le);
    v.setUint32(p + 20, out, le);
    v.setUint32(p + 24, wireLen, le);
    writeFrame(s.buf, v, p + 28, data, offset, out, tagAt, vlanTpid || 0x8100, vlanTci);
    p += 28 + out;
    for (let i = out; i < padded; i++) s.buf[p++] = 0;
    if (epbFlags !== 0) {
      v.setUint16(p, 2, le); v.setUint16(p + 2, 4, le); v.setUint32(p + 4, epbFlags >>> 0, le);
      v.setUint32(p + 8, 0, le);
      p += 12;
    }
    v.setUint32(p, total, le);
    s.pos = p + 4;
    if (ifc.firstSec < 0) { ifc.firstSec = sec; ifc.firstNsec = nsec; }
    ifc.lastSec = sec; ifc.lastNsec = nsec;
    this.count++;
  }

  writePacket(p: PacketLike, ifaceId = 0): void {
    let flags = 0;
    const f = (p as Partial<HasEpbFlags>).epbFlags;
    if (f !== undefined) flags = f > 0 ? f : 0;
    else if (this.useDirection) flags = epbFlagsFromPktType(p.pktType);
    this.write(p.data, p.offset, p.caplen, p.wireLen, p.sec, p.nsec,
      p.vlanValid ? p.vlanTci : -1, p.vlanTpid, ifaceId, flags);
  }

  setStatisticsSource(source: (() => WriterStatistics | undefined) | null, ifaceId = 0): void {
    const ifc = this.ifaces[ifaceId];
    if (ifc === undefined) throw new RangeError(`pcapng interface id ${ifaceId} was not declared`);
    ifc.statsSource = source;
  }

  /** Writes an Interface Statistics Block now; returns true. */
  writeStatistics(stats: WriterStatistics, ifaceId = 0): boolean {
    const ifc = this.ifaces[ifaceId];
    if (ifc === undefined) throw new RangeError(`pcapng interface id ${ifaceId} was not declared`);
    const startSec = stats.startSec ?? (ifc.firstSec >= 0 ? ifc.firstSec : undefined);
    const startNsec = stats.startSec !== undefined ? (stats.startNsec ?? 0) : ifc.firstNsec;
    const endSec = stats.endSec ?? (ifc.lastSec >= 0 ? ifc.lastSec : undefined);
    const endNsec = stats.endSec !== undefined ? (stats.endNsec ?? 0) : ifc.lastNsec;
    const counters: Array<[number, number | undefined]> = [
      [4, stats.received], [5, stats.dropped], [6, stats.filterAccept], [7, stats.osDrop], [8, stats.delivered],
    ];
    let optLen = 4;
    if (startSec !== undefined) optLen += 12;
    if (endSec !== undefined) optLen += 12;
    for (const [, val] of counters) if (val !== undefined) optLen += 12;
    const total = 24 + optLen;
    const s = this.sink;
    s.reserve(total);
    const v = s.view, le = this.le;
    let p = s.pos;
    const nowNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    const nowSec = Number(nowNs / 1000000000n), nowNsec = Number(nowNs % 1000000000n);
    v.setUint32(p, BlockType.ISB, le);
    v.setUint32(p + 4, total, le);
    v.setUint32(p + 8, ifaceId, le);
    this.putTime(p + 12, nowSec, nowNsec, ifc.scale);
    p += 20;
    if (startSec !== undefined) { v.setUint16(p, 2, le); v.setUint16(p + 2, 8, le); this.putTime(p + 4, startSec, startNsec, ifc.scale); p += 12; }
    if (endSec !== undefined) { v.setUint16(p, 3, le); v.setUint16(p + 2, 8, le); this.putTime(p + 4, endSec, endNsec, ifc.scale); p += 12; }
    for (const [code, val] of counters) {
      if (val === undefined) continue;
      v.setUint16(p, code, le); v.setUint16(p + 2, 8, le);
      v.setBigUint64(p + 4, BigInt(Math.max(0, Math.floor(val))), le);
      p += 12;
    }
    v.setUint32(p, 0, le);
    v.setUint32(p + 4, total, le);
    s.pos = p + 8;
    return true;
  }

  flush(): void { this.sink.flush(); }

  close(): void {
    if (this.sink.closed) return;
    try {
      for (let i = 0; i < this.ifaces.length; i++) {
        const src = this.ifaces[i].statsSource;
        if (src === null) continue;
        const st = src();
        if (st) this.writeStatistics(st, i);
      }
    } finally {
      this.sink.close();
    }
  }

  private putTime(p: number, sec: number, nsec: number, scale: number): void {
    ticksFromTime(sec, scale === 1e9 ? nsec : Math.floor(nsec / 1000), scale, this.ts);
    this.sink.view.setUint32(p, this.ts.hi, this.le);
    this.sink.view.setUint32(p + 4, this.ts.lo, this.le);
  }

  private putOption(p: number, code: number, value: Uint8Array): number {
    const s = this.sink;
    s.view.setUint16(p, code, this.le);
    s.view.setUint16(p + 2, value.length, this.le);
    s.buf.set(value, p + 4);
    const end = p + 4 + pad4(value.length);
    for (let i = p + 4 + value.length; i < end; i++) s.buf[i] = 0;
    return end;
  }

  private writeShb(app: string, os: string, hw: string): void {
    const opts: Array<[number, Uint8Array]> = [[2, encoder.encode(hw)], [3, encoder.encode(os)], [4, encoder.encode(app)]];
    let optLen = 4;
    for (const [, val] of opts) optLen += 4 + pad4(val.length);
    const total = 28 + optLen;
    const s = this.sink;
    s.reserve(total);
    const v = s.view, le = this.le;
    let p = s.pos;
    v.setUint32(p, BlockType.SHB, le);
    v.setUint32(p + 4, total, le);
    v.setUint32(p + 8, PCAPNG_BOM, le);
    v.setUint16(p + 12, 1, le);
    v.setUint16(p + 14, 0, le);
    v.setInt32(p + 16, -1, le); // section length unknown (streamed)
    v.setInt32(p + 20, -1, le);
    p += 24;
    for (const [code, val] of opts) p = this.putOption(p, code, val);
    v.setUint32(p, 0, le);
    v.setUint32(p + 4, total, le);
    s.pos = p + 8;
  }
}

function pad4(n: number): number { return (n + 3) & ~3; }
