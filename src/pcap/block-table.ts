/**
 * The gather table of one retired ring block, as (byte offset, buffer << 29
 * | length) pairs for one native writev: record headers from a reused header arena,
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
 *   record's header are adjacent, one piece: two pieces per record. The
 *   slots, the general path's headers and the table share one buffer.
 * - The general path (big-endian files, a VLAN tag to re-insert, a pcapng
 *   packet type without direction flags; pcapng without epb_flags uses its
 *   slot loop) builds headers byte by byte after
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
/** Second word of an arena piece's table pair: the buffer index in the top 3 bits over the length (a ring piece's is its length). */
const enum Piece { Shift = 29, Arena = 1 << 29, Words = 2 }
/** Buffer index of the ring mapping in a table. */
export const RING = Buf.Ring;
/** Buffer index of the header arena in a table. */
export const ARENA = Buf.Arena;

/** Most arena bytes one record needs: EPB header 28 + tag 4 + pad 3 + epb_flags 12 + length 4, rounded up. */
const ARENA_PER_RECORD = 56;
/** Most table pieces one record needs: header, head, tag, rest, trailer (two words each). */
const PIECES_PER_RECORD = 5;
/** Length of a pcap record header. */
const enum Pcap { Hdr = 16 }
const PCAP_HDR = Pcap.Hdr;
/** The pcapng fast path's slot: EPB header 28, zero word (padding), epb_flags option 12, length 4. */
const enum Slot { Bytes = 48, Words = 12, /** a record's length besides its padded frame: EPB header 28 + epb_flags option 12 + length 4 */ Fixed = 44 }
/** epb_flags of sll_pkttype 0..4, 5 bits each (the pcapng loop shifts instead of loading). */
const enum Epb { FlagsPacked = 5 | (13 << 5) | (9 << 10) | (17 << 15) | (2 << 20) }
if ([0, 1, 2, 3, 4].some((t) => ((Epb.FlagsPacked >>> (t * 5)) & 31) !== epbFlagsFromPktType(t))) throw new Error('block-table: packed epb_flags out of date');
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
  /** The (byte offset, buffer << 29 | length) pairs; `pieces` of them are valid. */
  readonly table: Uint32Array;
  /** The header arena (buffer index {@link ARENA}). */
  readonly arena: ArrayBuffer;
  /** Buffers for the native call: [ring, arena]. */
  readonly buffers: ArrayBuffer[];
  /** Valid pairs in `table` after {@link fill}. */
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
  /** The whole arena buffer as words: slots, general headers, then the table from word {@link tableBase}. */
  private readonly arena32: Uint32Array;
  /** Word index of the table in {@link arena32}. */
  private readonly tableBase: number;
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
    // one buffer: the slots, the general path's headers, then the table (the loops index both through one array)
    const arenaBytes = this.generalBase + this.maxRecords * ARENA_PER_RECORD;
    this.tableBase = arenaBytes >>> 2;
    this.arena = new ArrayBuffer(arenaBytes + this.maxRecords * PIECES_PER_RECORD * Piece.Words * 4);
    this.u8 = new Uint8Array(this.arena);
    this.dv = new DataView(this.arena);
    this.arena32 = new Uint32Array(this.arena);
    this.table = new Uint32Array(this.arena, arenaBytes, this.maxRecords * PIECES_PER_RECORD * Piece.Words);
    this.buffers = [ring, this.arena];
    this.ring32 = new Uint32Array(ring, 0, ring.byteLength >>> 2);
    this.ring16 = new Uint16Array(ring, 0, ring.byteLength >>> 1);
    this.ring8 = new Uint8Array(ring);
    this.le = !f.bigEndian;
    this.nano = (f.precision ?? 'nano') === 'nano';
    this.snaplen = f.snaplen;
    this.tagAt = vlanInsertOffset(f.linkType);
    this.fast = !this.le || !HOST_LE ? 0 : this.pcapng ? (this.useFlags ? 2 : 0) : this.nano ? 3 : 1;
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
    this.pieces = this.cursor / Piece.Words;
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
        t[c] = h + Tp3.Sec; t[c + 1] = Pcap.Hdr;
      } else {
        // snaplen cut: the header in arena slot n
        const w = n << 2;
        out = snap;
        a32[w] = r32[(h + Tp3.Sec) >>> 2]; a32[w + 1] = r32[(h + Tp3.Nsec) >>> 2]; a32[w + 2] = out; a32[w + 3] = len;
        t[c] = n << 4; t[c + 1] = Piece.Arena | Pcap.Hdr;
      }
      t[c + 2] = h + r16[(h + Tp3.Mac) >>> 1]; t[c + 3] = out;
      c += 4;
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
   * pcapng, little-endian, epb_flags from the packet type: record n's EPB
   * header and trailer (padding, epb_flags, length) sit in arena slot n,
   * whose constant words were written once; the trailer ends where slot
   * n + 1 begins, so it and the next record's header are one piece. Stops
   * before a packet it cannot take. The records of one second are built by
   * {@link runPcapng}; this loop sets the timestamp base between them.
   */
  private fillPcapng(lim: number, mb: number): void {
    const r32 = this.ring32, m = this.arena32;
    const vlan = this.tagAt >= 0 ? TpStatus.VlanValid : 0;
    const n0 = this.records, tb = this.tableBase, h0 = this.h;
    const r = this.run;
    r.h = h0; r.bytes = this.bytes; r.wire = this.wireBytes; r.last = -1;
    r.c = tb + this.cursor; r.w = n0 * Slot.Words;
    let k = lim - n0 < this.left ? lim - n0 : this.left;
    // the open piece (a trailer) covers the next slot's 28-byte header, else the header is a piece of its own;
    // both taken back at the end if no record follows
    const open0 = this.open;
    if (open0 >= 0) m[tb + open0 + 1] += 28;
    else { m[r.c] = r.w << 2; m[r.c + 1] = Piece.Arena | 28; r.c += 2; }
    for (;;) {
      k -= this.runPcapng(k, mb);
      if (k <= 0 || r.bytes >= mb) break;
      const h = r.h;
      const st = r32[(h + Tp3.Status) >>> 2], pt = (r32[(h + Sll.Hatype) >>> 2] >>> 16) & 0xff;
      if ((st & vlan) !== 0 || pt > 4) break;
      // a new second: timestamps in 32-bit integer arithmetic from here, lo = baseLo + sub wraps and carries once sub >= room
      const sec = r32[(h + Tp3.Sec) >>> 2];
      ticksFromTime(sec, 0, this.nano ? 1e9 : 1e6, this.ts);
      this.baseSec = sec; this.baseHi = this.ts.hi; this.baseLo = this.ts.lo;
    }
    let c = r.c;
    const n = (r.w / Slot.Words) | 0, taken = n - n0;
    let open = open0;
    if (taken > 0) open = c - tb - 2;
    else if (open0 < 0) c -= 2;
    if (open >= 0) m[tb + open + 1] -= 28;
    const left = this.left - taken;
    this.h = left > 0 ? r.h : -1; this.left = left; this.records = n; this.bytes = r.bytes; this.cursor = c - tb; this.wireBytes = r.wire;
    this.open = open;
    const last = r.last;
    if (last >= 0) {
      if (this.firstSec < 0) { this.firstSec = r32[(h0 + Tp3.Sec) >>> 2]; this.firstNsec = r32[(h0 + Tp3.Nsec) >>> 2]; }
      this.lastSec = r32[(last + Tp3.Sec) >>> 2]; this.lastNsec = r32[(last + Tp3.Nsec) >>> 2];
    }
  }

  /** State of {@link runPcapng} between its calls (ring offset, table and slot word indexes, sums, last record). */
  private readonly run = { h: 0, c: 0, w: 0, bytes: 0, wire: 0, last: -1 };

  /**
   * The records of {@link fillPcapng} while the timestamp base holds (at
   * most `k`, until `mb` bytes): two table pieces and seven slot words a
   * record. Returns the records taken. Kept apart from the rest (not
   * inlined) so that the optimizing compiler keeps its few live values in
   * registers: one array for the slots and the table, the ring read as
   * words only, integer loop-invariant tests, wrapping integer adds.
   */
  private runPcapng(k: number, mb: number): number {
    const r32 = this.ring32, m = this.arena32, r = this.run;
    const vlan = this.tagAt >= 0 ? TpStatus.VlanValid : 0;
    const snap = this.snaplen === 0 ? 0x7fffffff : this.snaplen;
    // 0 = nanoseconds (an integer: a boolean field is tested as any value in optimized code)
    const micro = this.nano ? 0 : 1;
    const baseSec = this.baseSec, baseHi = this.baseHi | 0, loI = this.baseLo | 0;
    const room = 4294967296 - this.baseLo > 0x7fffffff ? 0x7fffffff : (4294967296 - this.baseLo) | 0;
    let h = r.h, c = r.c | 0, w = r.w | 0, bytes = r.bytes, wire = r.wire, last = r.last, i = 0;
    while (i < k && bytes < mb) {
      const st = r32[(h + Tp3.Status) >>> 2];
      // sll_pkttype: byte 2 of the word at sockaddr_ll + 8 (little-endian)
      const pt = (r32[(h + Sll.Hatype) >>> 2] >>> 16) & 0xff;
      const sec = r32[(h + Tp3.Sec) >>> 2];
      if ((st & vlan) !== 0 || pt > 4 || sec !== baseSec) break;
      const caplen = r32[(h + Tp3.Snaplen) >>> 2];
      let wireLen = r32[(h + Tp3.Len) >>> 2];
      wire += wireLen;
      if (wireLen < caplen) wireLen = caplen;
      const out = caplen > snap ? snap : caplen;
      const nsec = r32[(h + Tp3.Nsec) >>> 2];
      const sub = micro === 0 ? nsec : (nsec / 1000) | 0;
      const padded = (out + 3) & ~3;
      const total = (padded + Slot.Fixed) | 0;
      m[(w + 1) | 0] = total;
      m[(w + 3) | 0] = sub >= room ? (baseHi + 1) | 0 : baseHi;
      m[(w + 4) | 0] = (loI + sub) | 0;
      m[(w + 5) | 0] = out;
      m[(w + 6) | 0] = wireLen;
      m[(w + 9) | 0] = (Epb.FlagsPacked >>> (pt * 5)) & 31;
      m[(w + 11) | 0] = total;
      // the padding comes from the end of the zero word 7; the trailer piece runs on over the next slot's header
      const tr = ((w << 2) + 32 - (padded - out)) | 0;
      m[c] = h + (r32[(h + Tp3.Mac) >>> 2] & 0xffff); m[(c + 1) | 0] = out;
      m[(c + 2) | 0] = tr; m[(c + 3) | 0] = ((w << 2) + (Piece.Arena + Slot.Bytes + 28) - tr) | 0;
      c = (c + 4) | 0;
      w = (w + Slot.Words) | 0;
      bytes += total;
      i = (i + 1) | 0;
      last = h;
      h = h + r32[(h + Tp3.NextOffset) >>> 2];
    }
    r.h = h; r.c = c; r.w = w; r.bytes = bytes; r.wire = wire; r.last = last;
    return i;
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
        t[c] = n << 4; t[c + 1] = Piece.Arena | Pcap.Hdr;
        t[c + 2] = off; t[c + 3] = out;
        c += 4;
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
          if (open >= 0) t[open + 1] += 28;
          else { t[c] = s0; t[c + 1] = Piece.Arena | 28; c += 2; }
          // the padding comes from the end of the zero word 7
          const tr = s0 + 32 - (padded - out);
          t[c] = off; t[c + 1] = out;
          t[c + 2] = tr; t[c + 3] = Piece.Arena | (s0 + slot - tr);
          open = c + 2;
          c += 4;
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
    t[i] = off; t[i + 1] = (buf << Piece.Shift) | len;
    this.cursor = i + Piece.Words;
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
