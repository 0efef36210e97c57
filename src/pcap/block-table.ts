/**
 * The gather table of one retired ring block, as (buffer, offset, length)
 * triples for one native writev: record headers from a reused header arena,
 * interleaved with the packet bytes where they lie in the mapped ring. JS
 * never copies a packet byte and never writes into the ring; the kernel
 * copies ring -> page cache once.
 *
 * - Fast paths (little-endian files, no VLAN tag to re-insert), one tight
 *   loop per format. pcap with nanosecond stamps: the tpacket3_hdr words
 *   tp_sec, tp_nsec, tp_snaplen, tp_len are the record header, so the header
 *   piece points into the ring and nothing is stored but the table (a snaplen
 *   cut, or microsecond stamps: the 16-byte header in arena slot n); then the
 *   frame: two pieces. pcapng: record n's 28-byte
 *   EPB header and the trailer (padding, epb_flags, length) in one slot whose
 *   constant words are written once; a record's trailer and the next
 *   record's header are adjacent, one piece: two pieces per record.
 * - The general path (big-endian files, a VLAN tag to re-insert, a pcapng
 *   packet type without direction flags) builds headers byte by byte after
 *   the slots, the frame split around a re-inserted tag (libpcap's layout:
 *   the 4-byte TPID/TCI sits in the arena).
 *
 * The records are byte-identical to what {@link PcapWriter} and
 * {@link PcapngWriter} produce for the same packets: same record headers,
 * snaplen cut, VLAN tag re-inserted after the MAC addresses, pcapng padding,
 * epb_flags from the packet type, timestamps in the file's resolution.
 */
import type { Batch } from '../ring/batch.js';
import type { PacketView } from '../ring/packet.js';
import { Blk, Sll, Tp3 } from '../ring/layout.js';
import { TpStatus } from '../constants.js';
import { BlockType, epbFlagsFromPktType } from './constants.js';
import { vlanInsertOffset } from './frame-copy.js';
import { ticksFromTime, type TicksOut } from './time.js';

/** Buffer indexes of a table (literals in the loops). */
const enum Buf { Ring = 0, Arena = 1 }
/** Buffer index of the ring mapping in a table. */
export const RING = Buf.Ring;
/** Buffer index of the header arena in a table. */
export const ARENA = Buf.Arena;

/** Most arena bytes one record needs: EPB header 28 + tag 4 + pad 3 + epb_flags 12 + length 4, rounded up. */
const ARENA_PER_RECORD = 56;
/** Most table pieces one record needs: header, head, tag, rest, trailer. */
const PIECES_PER_RECORD = 5;
/** Length of a pcap record header. */
const enum Pcap { Hdr = 16 }
const PCAP_HDR = Pcap.Hdr;
/** epb_flags of every sll_pkttype byte value (a load instead of a switch in the pcapng loop). */
const EPB_FLAGS = new Uint8Array(256).map((_, i) => epbFlagsFromPktType(i));
/** Typed arrays are little-endian here (the arena words of the fast paths). */
const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Format of the records a {@link BlockTable} builds. */
export interface BlockTableFormat {
  format: 'pcap' | 'pcapng';
  /** LINKTYPE_* (decides where a VLAN tag goes back in). */
  linkType: number;
  /** Snapshot length of the file (pcapng: 0 = none). */
  snaplen: number;
  /** 'nano' (default) or 'micro' timestamps. */
  precision?: 'nano' | 'micro';
  /** Big-endian records (default little-endian). */
  bigEndian?: boolean;
  /** pcapng: write epb_flags from the packet type (default true). */
  directionFromPktType?: boolean;
  /** pcapng interface id of every record (default 0). */
  ifaceId?: number;
}

/**
 * Builds the table of a block, possibly in several parts (a record budget,
 * a byte budget for rotation, or a full table end a part; {@link fill}
 * continues where the last part stopped).
 */
export class BlockTable {
  /** The (buffer, offset, length) triples; `pieces` of them are valid. */
  readonly table: Uint32Array;
  /** The header arena (buffer index {@link ARENA}). */
  readonly arena: ArrayBuffer;
  /** Buffers for the native call: [ring, arena]. */
  readonly buffers: ArrayBuffer[];
  /** Valid triples in `table` after {@link fill}. */
  pieces = 0;
  /** Records in the current part. */
  records = 0;
  /** Bytes of the current part. */
  bytes = 0;
  /** Packets of the current part that the predicate rejected. */
  rejected = 0;
  /** Packets of the current part walked (records + rejected). */
  walked = 0;
  /** Wire length (tp_len) of the current part's records. */
  wireBytes = 0;
  /** First and last timestamps of the records put in a table so far (-1 = none). */
  firstSec = -1; firstNsec = 0; lastSec = -1; lastNsec = 0;

  private readonly u8: Uint8Array;
  private readonly dv: DataView;
  private readonly arena32: Uint32Array;
  private readonly ring32: Uint32Array;
  private readonly ring16: Uint16Array;
  private readonly ring8: Uint8Array;
  private readonly maxRecords: number;
  private readonly pcapng: boolean;
  private readonly le: boolean;
  private readonly nano: boolean;
  private readonly snaplen: number;
  private readonly tagAt: number;
  private readonly useFlags: boolean;
  private readonly ifaceId: number;
  /** Bytes of one fast-path arena slot: pcap record header 16; pcapng EPB header 28, zero word, [epb_flags option 12,] length 4. */
  private readonly slot: number;
  /** Arena offset where the general path's headers start. */
  private readonly generalBase: number;
  /** Tight loop of fill(): 3 = pcap straight from the ring, 2 = pcapng, 1 = pcap little-endian, 0 = none (general). */
  private readonly fast: number;
  /** Part state between the loops of fill(): the last piece when it is an arena piece the next header joins (-1 = none), the general path's next arena offset. */
  private open = -1;
  private genA = 0;
  private readonly ts: TicksOut = { hi: 0, lo: 0 };
  private baseSec = -1;
  private baseHi = 0;
  private baseLo = 0;
  // walk state of the current block
  private h = -1;
  private left = 0;

  /**
   * @param ring the ring mapping (or an image of one)
   * @param blockSize ring block size: sizes the arena and table for the densest block
   */
  constructor(ring: ArrayBuffer, blockSize: number, f: BlockTableFormat) {
    // A TPACKET_V3 slot is at least 80 bytes (aligned tpacket3_hdr + sockaddr_ll); 64 leaves margin.
    this.maxRecords = Math.max(16, Math.ceil(blockSize / 64));
    this.pcapng = f.format === 'pcapng';
    this.useFlags = f.directionFromPktType ?? true;
    this.ifaceId = f.ifaceId ?? 0;
    this.slot = this.pcapng ? (this.useFlags ? 48 : 36) : PCAP_HDR;
    this.generalBase = this.maxRecords * this.slot;
    this.arena = new ArrayBuffer(this.generalBase + this.maxRecords * ARENA_PER_RECORD);
    this.u8 = new Uint8Array(this.arena);
    this.dv = new DataView(this.arena);
    this.arena32 = new Uint32Array(this.arena);
    this.table = new Uint32Array(this.maxRecords * PIECES_PER_RECORD * 3);
    this.buffers = [ring, this.arena];
    this.ring32 = new Uint32Array(ring, 0, ring.byteLength >>> 2);
    this.ring16 = new Uint16Array(ring, 0, ring.byteLength >>> 1);
    this.ring8 = new Uint8Array(ring);
    this.le = !f.bigEndian;
    this.nano = (f.precision ?? 'nano') === 'nano';
    this.snaplen = f.snaplen;
    this.tagAt = vlanInsertOffset(f.linkType);
    this.fast = !this.le || !HOST_LE ? 0 : this.pcapng ? 2 : this.nano ? 3 : 1;
    if (this.pcapng) {
      // constant words of the fast path's slots: block type, interface, zero word (padding), option header, end of options
      const a32 = this.arena32;
      for (let w = 0; w < this.generalBase >>> 2; w += this.slot >>> 2) {
        a32[w] = BlockType.EPB;
        a32[w + 2] = this.ifaceId;
        a32[w + 7] = 0;
        if (this.useFlags) { a32[w + 8] = 2 | (4 << 16); a32[w + 10] = 0; }
      }
    }
  }

  /** Starts on a held batch's block (from its first packet). */
  begin(batch: Batch): void {
    const b = batch._block;
    if (b < 0) throw new RangeError('BlockTable.begin: the batch is not held');
    this.left = this.ring32[(b + Blk.NumPkts) >>> 2];
    this.h = this.left > 0 ? b + this.ring32[(b + Blk.OffsetToFirst) >>> 2] : -1;
  }

  /** Packets of the block not yet walked. */
  get remaining(): number { return this.left; }

  /**
   * Builds the next part of the block's table: walks packets until the block
   * ends, `maxRecords` records were added, or the part reaches `maxBytes`
   * (checked before each record, as tcpdump checks -C: the record that
   * crosses the limit is the last). `match`, when given, sees each packet
   * through `view` (the batch's reused view) and rejected ones are skipped.
   * Returns the number of records in the part.
   */
  fill(maxRecords = Infinity, maxBytes = Infinity, match: ((p: PacketView) => boolean) | null = null, view: PacketView | null = null): number {
    this.records = 0; this.bytes = 0; this.cursor = 0; this.rejected = 0; this.wireBytes = 0;
    this.open = -1; this.genA = this.generalBase;
    const lim = maxRecords < this.maxRecords ? maxRecords : this.maxRecords;
    // parts are smaller than a block: a budget above 2^30 - 1 never binds (and small integers compare fastest)
    const mb = maxBytes < 0x3fffffff ? maxBytes : 0x3fffffff;
    const fast = this.fast;
    if (match === null && fast !== 0) {
      // a tight loop per format; a packet it does not take (VLAN tag to re-insert, pcapng packet type
      // without flags, a snaplen cut) is built the general way, then the tight loop goes on
      for (;;) {
        if (fast === 3) this.fillPcapRing(lim, mb);
        else if (fast === 2) this.fillPcapng(lim, mb);
        else this.fillGeneral(lim, mb, null, null, false);
        if (this.left <= 0 || this.records >= lim || this.bytes >= mb) break;
        this.fillGeneral(lim, mb, null, null, true);
      }
    } else this.fillGeneral(lim, mb, match, view, false);
    this.pieces = this.cursor / 3;
    this.walked = this.records + this.rejected;
    return this.records;
  }

  /**
   * pcap, little-endian, nanoseconds: the tpacket3_hdr words
   * tp_sec, tp_nsec, tp_snaplen, tp_len (header bytes 4..20) are the record
   * header, so both pieces of a record point into the ring and nothing is
   * stored but the table (a record cut to the snaplen has its header in
   * arena slot n). Stops before a packet it cannot take.
   */
  private fillPcapRing(lim: number, mb: number): void {
    const r32 = this.ring32, r16 = this.ring16, a32 = this.arena32, t = this.table;
    const vlan = this.tagAt >= 0 ? TpStatus.VlanValid : 0;
    const snap = this.snaplen === 0 ? 0x7fffffff : this.snaplen;
    let h = this.h, left = this.left, n = this.records, bytes = this.bytes, c = this.cursor, wire = this.wireBytes;
    let first = -1, last = -1;
    while (left > 0 && n < lim && bytes < mb) {
      const caplen = r32[(h + Tp3.Snaplen) >>> 2];
      const len = r32[(h + Tp3.Len) >>> 2];
      if ((r32[(h + Tp3.Status) >>> 2] & vlan) !== 0 || len < caplen) break;
      let out = caplen;
      if (caplen <= snap) {
        t[c] = Buf.Ring; t[c + 1] = h + Tp3.Sec; t[c + 2] = Pcap.Hdr;
      } else {
        // snaplen cut: the header in arena slot n
        const w = n << 2;
        out = snap;
        a32[w] = r32[(h + Tp3.Sec) >>> 2]; a32[w + 1] = r32[(h + Tp3.Nsec) >>> 2]; a32[w + 2] = out; a32[w + 3] = len;
        t[c] = Buf.Arena; t[c + 1] = n << 4; t[c + 2] = Pcap.Hdr;
      }
      t[c + 3] = Buf.Ring; t[c + 4] = h + r16[(h + Tp3.Mac) >>> 1]; t[c + 5] = out;
      c += 6;
      bytes += Pcap.Hdr + out;
      wire += len;
      n++;
      if (first < 0) first = h;
      last = h;
      left--;
      h = left > 0 ? h + r32[(h + Tp3.NextOffset) >>> 2] : -1;
    }
    this.h = h; this.left = left; this.records = n; this.bytes = bytes; this.cursor = c; this.wireBytes = wire;
    this.open = -1;
    if (last >= 0) {
      if (this.firstSec < 0) { this.firstSec = r32[(first + Tp3.Sec) >>> 2]; this.firstNsec = r32[(first + Tp3.Nsec) >>> 2]; }
      this.lastSec = r32[(last + Tp3.Sec) >>> 2]; this.lastNsec = r32[(last + Tp3.Nsec) >>> 2];
    }
  }

  /**
   * pcapng, little-endian: record n's EPB header and trailer (padding,
   * epb_flags, length) sit in arena slot n, whose constant words were
   * written once; the trailer ends where slot n + 1 begins, so it and the
   * next record's header are one piece. Stops before a packet it cannot take.
   */
  private fillPcapng(lim: number, mb: number): void {
    const r32 = this.ring32, r16 = this.ring16, r8 = this.ring8, a32 = this.arena32, t = this.table;
    const vlan = this.tagAt >= 0 ? TpStatus.VlanValid : 0;
    const snap = this.snaplen === 0 ? 0x7fffffff : this.snaplen;
    const useFlags = this.useFlags, nano = this.nano, slot = this.slot, trailer = useFlags ? 12 : 0;
    const epbFlags = EPB_FLAGS; // a local: a module binding is reloaded and hole-checked at every use
    let h = this.h, left = this.left, n = this.records, bytes = this.bytes, c = this.cursor, wire = this.wireBytes;
    // the open piece (a trailer) already covers the next slot's 28-byte header; taken back at the end if no record follows
    let open = this.open;
    if (open >= 0) t[open + 2] += 28;
    // timestamps in 32-bit integer arithmetic: lo = baseLo + sub wraps, and carries once sub >= room (2^32 - baseLo)
    let baseSec = this.baseSec, baseHi = this.baseHi | 0, loI = this.baseLo | 0;
    let room = 4294967296 - this.baseLo > 0x7fffffff ? 0x7fffffff : (4294967296 - this.baseLo) | 0;
    let first = -1, last = -1;
    while (left > 0 && n < lim && bytes < mb) {
      const st = r32[(h + Tp3.Status) >>> 2];
      const flags = useFlags ? epbFlags[r8[h + Sll.PktType]] : 0;
      if ((st & vlan) !== 0 || (useFlags && flags === 0)) break;
      const caplen = r32[(h + Tp3.Snaplen) >>> 2];
      let wireLen = r32[(h + Tp3.Len) >>> 2];
      wire += wireLen;
      if (wireLen < caplen) wireLen = caplen;
      const out = caplen > snap ? snap : caplen;
      const sec = r32[(h + Tp3.Sec) >>> 2];
      const nsec = r32[(h + Tp3.Nsec) >>> 2];
      if (sec !== baseSec) {
        ticksFromTime(sec, 0, nano ? 1e9 : 1e6, this.ts);
        baseSec = sec;
        baseHi = this.ts.hi | 0;
        loI = this.ts.lo | 0;
        room = 4294967296 - this.ts.lo > 0x7fffffff ? 0x7fffffff : (4294967296 - this.ts.lo) | 0;
      }
      const sub = nano ? nsec : (nsec / 1000) | 0;
      const padded = (out + 3) & ~3;
      const total = 32 + padded + trailer;
      const s0 = n * slot;
      const w = s0 >>> 2;
      a32[w + 1] = total;
      a32[w + 3] = sub >= room ? baseHi + 1 : baseHi;
      a32[w + 4] = (loI + sub) | 0;
      a32[w + 5] = out;
      a32[w + 6] = wireLen;
      if (useFlags) { a32[w + 9] = flags; a32[w + 11] = total; } else a32[w + 8] = total;
      if (open < 0) { t[c] = Buf.Arena; t[c + 1] = s0; t[c + 2] = 28; c += 3; }
      // the padding comes from the end of the zero word 7
      const tr = s0 + 32 - (padded - out);
      t[c] = Buf.Ring; t[c + 1] = h + r16[(h + Tp3.Mac) >>> 1]; t[c + 2] = out;
      t[c + 3] = Buf.Arena; t[c + 4] = tr; t[c + 5] = s0 + slot + 28 - tr;
      open = c + 3;
      c += 6;
      bytes += total;
      n++;
      if (first < 0) first = h;
      last = h;
      left--;
      h = left > 0 ? h + r32[(h + Tp3.NextOffset) >>> 2] : -1;
    }
    if (open >= 0) t[open + 2] -= 28;
    this.h = h; this.left = left; this.records = n; this.bytes = bytes; this.cursor = c; this.wireBytes = wire;
    this.open = open;
    if (baseSec !== this.baseSec) { this.baseSec = baseSec; this.baseHi = this.ts.hi; this.baseLo = this.ts.lo; }
    if (last >= 0) {
      if (this.firstSec < 0) { this.firstSec = r32[(first + Tp3.Sec) >>> 2]; this.firstNsec = r32[(first + Tp3.Nsec) >>> 2]; }
      this.lastSec = r32[(last + Tp3.Sec) >>> 2]; this.lastNsec = r32[(last + Tp3.Nsec) >>> 2];
    }
  }

  /**
   * The general loop (every format, a predicate): continues the part from
   * the fields; with `one`, stops after one packet.
   */
  private fillGeneral(maxRecords: number, maxBytes: number, match: ((p: PacketView) => boolean) | null, view: PacketView | null, one: boolean): void {
    const r32 = this.ring32, r16 = this.ring16, r8 = this.ring8;
    const a32 = this.arena32, t = this.table;
    const tagAt = this.tagAt, snaplen = this.snaplen;
    // loop-invariant mode: 1 = pcap little-endian, 2 = pcapng little-endian, 0 = general
    const mode = this.le && HOST_LE ? (this.pcapng ? 2 : 1) : 0;
    const nano = this.nano, useFlags = this.useFlags, ifaceId = this.ifaceId;
    let n = this.records, bytes = this.bytes, rejected = this.rejected, wire = this.wireBytes;
    // the general path's arena part comes after the fast path's slots
    let a = this.genA, c = this.cursor;
    const slot = this.slot;
    // table index of the last piece when it is an arena piece ending at `a` (the next header joins it), else -1
    let open = this.open;
    let h = this.h, left = this.left;
    let firstSec = this.firstSec, lastSec = this.lastSec, lastNsec = this.lastNsec;
    let baseSec = this.baseSec, baseHi = this.baseHi, baseLo = this.baseLo;
    let once = false;
    while (left > 0 && n < maxRecords && bytes < maxBytes) {
      if (one && once) break;
      once = true;
      const cur = h;
      left--;
      h = left > 0 ? h + r32[(h + Tp3.NextOffset) >>> 2] : -1;
      if (match !== null && view !== null) {
        view._h = cur;
        if (!match(view)) { rejected++; continue; }
      }
      const mac = r16[(cur + Tp3.Mac) >>> 1];
      const off = cur + mac;
      let caplen = r32[(cur + Tp3.Snaplen) >>> 2];
      let wireLen = r32[(cur + Tp3.Len) >>> 2];
      wire += wireLen;
      const sec = r32[(cur + Tp3.Sec) >>> 2];
      const nsec = r32[(cur + Tp3.Nsec) >>> 2];
      const st = r32[(cur + Tp3.Status) >>> 2];
      let tag = -1;
      if ((st & TpStatus.VlanValid) !== 0 && tagAt >= 0 && caplen >= tagAt) {
        tag = tagAt;
        caplen += 4;
        wireLen += 4;
      }
      if (wireLen < caplen) wireLen = caplen;
      const out = snaplen !== 0 && caplen > snaplen ? snaplen : caplen;
      if (firstSec < 0) { firstSec = sec; this.firstNsec = nsec; }
      lastSec = sec; lastNsec = nsec;
      if (mode === 1 && tag < 0) {
        // pcap: record n's 16-byte header in arena slot n, then the frame from the ring
        const w = n << 2;
        a32[w] = sec;
        a32[w + 1] = nano ? nsec : Math.floor(nsec / 1000);
        a32[w + 2] = out;
        a32[w + 3] = wireLen;
        t[c] = Buf.Arena; t[c + 1] = n << 4; t[c + 2] = Pcap.Hdr;
        t[c + 3] = Buf.Ring; t[c + 4] = off; t[c + 5] = out;
        c += 6;
        bytes += Pcap.Hdr + out;
        n++;
        continue;
      }
      if (mode === 2 && tag < 0) {
        // pcapng: record n's EPB header and trailer (padding, epb_flags, length) sit in arena slot n,
        // whose constant words were written once; the trailer ends where slot n + 1 begins, so it and
        // the next record's header are one piece
        const flags = useFlags ? epbFlagsFromPktType(r8[cur + Sll.PktType]) : 0;
        if (flags !== 0 || !useFlags) {
          const padded = (out + 3) & ~3;
          const total = 32 + padded + (useFlags ? 12 : 0);
          if (sec !== baseSec) {
            ticksFromTime(sec, 0, nano ? 1e9 : 1e6, this.ts);
            baseSec = sec;
            baseHi = this.ts.hi;
            baseLo = this.ts.lo;
          }
          let lo = baseLo + (nano ? nsec : Math.floor(nsec / 1000));
          let hi = baseHi;
          if (lo >= 4294967296) { lo -= 4294967296; hi++; }
          const s0 = n * slot;
          const w = s0 >>> 2;
          a32[w + 1] = total;
          a32[w + 3] = hi;
          a32[w + 4] = lo;
          a32[w + 5] = out;
          a32[w + 6] = wireLen;
          if (useFlags) { a32[w + 9] = flags; a32[w + 11] = total; } else a32[w + 8] = total;
          if (open >= 0) t[open + 2] += 28;
          else { t[c] = Buf.Arena; t[c + 1] = s0; t[c + 2] = 28; c += 3; }
          // the padding comes from the end of the zero word 7
          const tr = s0 + 32 - (padded - out);
          t[c] = Buf.Ring; t[c + 1] = off; t[c + 2] = out;
          t[c + 3] = Buf.Arena; t[c + 4] = tr; t[c + 5] = s0 + slot - tr;
          open = c + 3;
          c += 6;
          bytes += total;
          n++;
          continue;
        }
      }
      // general record (big-endian, VLAN tag re-inserted, pcapng without flags for its packet type)
      this.cursor = c;
      a = this.record(a, cur, off, out, wireLen, tag, st, sec, nsec);
      c = this.cursor;
      open = -1;
      bytes += this.lastTotal;
      n++;
    }
    this.h = h;
    this.left = left;
    this.cursor = c;
    this.records = n;
    this.bytes = bytes;
    this.rejected = rejected;
    this.wireBytes = wire;
    this.open = open;
    this.genA = a;
    this.firstSec = firstSec; this.lastSec = lastSec; this.lastNsec = lastNsec;
    if (mode === 2) { this.baseSec = baseSec; this.baseHi = baseHi; this.baseLo = baseLo; }
  }

  /** Total length of the record {@link record} built last. */
  private lastTotal = 0;

  /**
   * One record the general way (any endianness, VLAN tag re-inserted):
   * header (and trailer) at arena offset `a`, pieces from {@link cursor}.
   * Returns the next free arena offset.
   */
  private record(a: number, cur: number, off: number, out: number, wireLen: number, tag: number, st: number, sec: number, nsec: number): number {
    const dv = this.dv, u8 = this.u8, le = this.le;
    const hdr = a;
    if (this.pcapng) {
      const flags = this.useFlags ? epbFlagsFromPktType(this.ring8[cur + Sll.PktType]) : 0;
      const padded = (out + 3) & ~3;
      const total = 32 + padded + (flags !== 0 ? 12 : 0);
      if (sec !== this.baseSec) {
        ticksFromTime(sec, 0, this.nano ? 1e9 : 1e6, this.ts);
        this.baseSec = sec;
        this.baseHi = this.ts.hi;
        this.baseLo = this.ts.lo;
      }
      let lo = this.baseLo + (this.nano ? nsec : Math.floor(nsec / 1000));
      let hi = this.baseHi;
      if (lo >= 4294967296) { lo -= 4294967296; hi++; }
      dv.setUint32(a, BlockType.EPB, le);
      dv.setUint32(a + 4, total, le);
      dv.setUint32(a + 8, this.ifaceId, le);
      dv.setUint32(a + 12, hi, le);
      dv.setUint32(a + 16, lo, le);
      dv.setUint32(a + 20, out, le);
      dv.setUint32(a + 24, wireLen, le);
      a += 28;
      // trailer goes after the tag (if any) in the arena
      this.pieceFrame(hdr, off, out, tag, st, cur, a);
      if (tag >= 0 && out > tag) a += 4;
      const tr = a;
      for (let i = out; i < padded; i++) u8[a++] = 0;
      if (flags !== 0) {
        dv.setUint16(a, 2, le); dv.setUint16(a + 2, 4, le); dv.setUint32(a + 4, flags >>> 0, le);
        dv.setUint32(a + 8, 0, le);
        a += 12;
      }
      dv.setUint32(a, total, le);
      a += 4;
      this.piece(ARENA, tr, a - tr);
      this.lastTotal = total;
    } else {
      dv.setUint32(a, sec, le);
      dv.setUint32(a + 4, this.nano ? nsec : Math.floor(nsec / 1000), le);
      dv.setUint32(a + 8, out, le);
      dv.setUint32(a + 12, wireLen, le);
      a += 16;
      this.pieceFrame(hdr, off, out, tag, st, cur, a);
      if (tag >= 0 && out > tag) a += 4;
      this.lastTotal = 16 + out;
    }
    return a;
  }

  private cursor = 0;

  private piece(buf: number, off: number, len: number): void {
    const i = this.cursor;
    const t = this.table;
    t[i] = buf; t[i + 1] = off; t[i + 2] = len;
    this.cursor = i + 3;
  }

  /**
   * Adds the record header (arena hdr..tagPos) and the frame pieces; the
   * VLAN tag, when re-inserted, is written at `tagPos` in the arena.
   */
  private pieceFrame(hdr: number, off: number, out: number, tag: number, st: number, cur: number, tagPos: number): void {
    this.piece(ARENA, hdr, tagPos - hdr);
    if (tag < 0) {
      this.piece(RING, off, out);
      return;
    }
    const head = out < tag ? out : tag;
    this.piece(RING, off, head);
    if (out <= tag) return;
    const tpid = (st & TpStatus.VlanTpidValid) !== 0 ? this.ring16[(cur + Tp3.VlanTpid) >>> 1] || 0x8100 : 0x8100;
    const tci = this.ring32[(cur + Tp3.VlanTci) >>> 2] & 0xffff;
    const u8 = this.u8;
    u8[tagPos] = tpid >>> 8; u8[tagPos + 1] = tpid & 0xff; u8[tagPos + 2] = tci >>> 8; u8[tagPos + 3] = tci & 0xff;
    const tagBytes = out - tag < 4 ? out - tag : 4;
    this.piece(ARENA, tagPos, tagBytes);
    const rest = out - tag - 4;
    if (rest > 0) this.piece(RING, off + tag, rest);
  }
}
