/**
 * The gather table of one retired ring block: per-record headers built in a
 * reused header arena, interleaved with the packet bytes where they lie in
 * the mapped ring, as (buffer, offset, length) triples for one native
 * writev. JS never copies a packet byte; the kernel copies ring -> page
 * cache once.
 *
 * The records are byte-identical to what {@link PcapWriter} and
 * {@link PcapngWriter} produce for the same packets: same record headers,
 * snaplen cut, VLAN tag re-inserted after the MAC addresses (libpcap's
 * layout: the 4-byte TPID/TCI sits in the arena, the frame is split around
 * it), pcapng padding, epb_flags from the packet type, timestamps in the
 * file's resolution.
 */
import type { Batch } from '../ring/batch.js';
import type { PacketView } from '../ring/packet.js';
import {
  BLK_NUM_PKTS, BLK_OFFSET_TO_FIRST, PKT_LEN, PKT_MAC, PKT_NEXT_OFFSET, PKT_NSEC, PKT_SEC, PKT_SNAPLEN, PKT_STATUS,
  PKT_VLAN_TCI, PKT_VLAN_TPID, SLL_PKTTYPE,
} from '../ring/layout.js';
import { TP_STATUS_VLAN_TPID_VALID, TP_STATUS_VLAN_VALID } from '../constants.js';
import { BlockType, epbFlagsFromPktType } from './constants.js';
import { vlanInsertOffset } from './frame-copy.js';
import { ticksFromTime, type TicksOut } from './time.js';

/** Buffer index of the ring mapping in a table. */
export const RING = 0;
/** Buffer index of the header arena in a table. */
export const ARENA = 1;

/** Most arena bytes one record needs: EPB header 28 + tag 4 + pad 3 + epb_flags 12 + length 4, rounded up. */
const ARENA_PER_RECORD = 56;
/** Most table pieces one record needs: header, head, tag, rest, trailer. */
const PIECES_PER_RECORD = 5;

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
    this.arena = new ArrayBuffer(this.maxRecords * ARENA_PER_RECORD);
    this.u8 = new Uint8Array(this.arena);
    this.dv = new DataView(this.arena);
    this.table = new Uint32Array(this.maxRecords * PIECES_PER_RECORD * 3);
    this.buffers = [ring, this.arena];
    this.ring32 = new Uint32Array(ring, 0, ring.byteLength >>> 2);
    this.ring16 = new Uint16Array(ring, 0, ring.byteLength >>> 1);
    this.ring8 = new Uint8Array(ring);
    this.pcapng = f.format === 'pcapng';
    this.le = !f.bigEndian;
    this.nano = (f.precision ?? 'nano') === 'nano';
    this.snaplen = f.snaplen;
    this.tagAt = vlanInsertOffset(f.linkType);
    this.useFlags = f.directionFromPktType ?? true;
    this.ifaceId = f.ifaceId ?? 0;
  }

  /** Starts on a held batch's block (from its first packet). */
  begin(batch: Batch): void {
    const b = batch._block;
    if (b < 0) throw new RangeError('BlockTable.begin: the batch is not held');
    this.left = this.ring32[(b + BLK_NUM_PKTS) >>> 2];
    this.h = this.left > 0 ? b + this.ring32[(b + BLK_OFFSET_TO_FIRST) >>> 2] : -1;
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
    const dv = this.dv, u8 = this.u8, le = this.le;
    const r32 = this.ring32, r16 = this.ring16, r8 = this.ring8;
    const tagAt = this.tagAt, snaplen = this.snaplen, pcapng = this.pcapng;
    const cap = this.maxRecords;
    let n = 0, a = 0, bytes = 0, rejected = 0, wire = 0;
    let h = this.h, left = this.left;
    this.cursor = 0;
    this.pieces = 0;
    while (left > 0 && n < maxRecords && n < cap && bytes < maxBytes) {
      const cur = h;
      left--;
      h = left > 0 ? h + r32[(h + PKT_NEXT_OFFSET) >>> 2] : -1;
      if (match !== null && view !== null) {
        view._h = cur;
        if (!match(view)) { rejected++; continue; }
      }
      const off = cur + r16[(cur + PKT_MAC) >>> 1];
      let caplen = r32[(cur + PKT_SNAPLEN) >>> 2];
      let wireLen = r32[(cur + PKT_LEN) >>> 2];
      wire += wireLen;
      const sec = r32[(cur + PKT_SEC) >>> 2];
      const nsec = r32[(cur + PKT_NSEC) >>> 2];
      const st = r32[(cur + PKT_STATUS) >>> 2];
      let tag = -1;
      if ((st & TP_STATUS_VLAN_VALID) !== 0 && tagAt >= 0 && caplen >= tagAt) {
        tag = tagAt;
        caplen += 4;
        wireLen += 4;
      }
      if (wireLen < caplen) wireLen = caplen;
      const out = snaplen !== 0 && caplen > snaplen ? snaplen : caplen;
      const hdr = a;
      let total = 0;
      if (pcapng) {
        const flags = this.useFlags ? epbFlagsFromPktType(r8[cur + SLL_PKTTYPE]) : 0;
        const padded = (out + 3) & ~3;
        total = 32 + padded + (flags !== 0 ? 12 : 0);
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
        // trailer goes after the tag (if any) in the arena; written below
        n = this.pieceFrame(n, hdr, off, out, tag, st, cur, a);
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
      } else {
        total = 16 + out;
        dv.setUint32(a, sec, le);
        dv.setUint32(a + 4, this.nano ? nsec : Math.floor(nsec / 1000), le);
        dv.setUint32(a + 8, out, le);
        dv.setUint32(a + 12, wireLen, le);
        a += 16;
        n = this.pieceFrame(n, hdr, off, out, tag, st, cur, a);
        if (tag >= 0 && out > tag) a += 4;
      }
      bytes += total;
      if (this.firstSec < 0) { this.firstSec = sec; this.firstNsec = nsec; }
      this.lastSec = sec; this.lastNsec = nsec;
    }
    this.h = h;
    this.left = left;
    this.pieces = this.cursor / 3;
    this.records = n;
    this.bytes = bytes;
    this.rejected = rejected;
    this.walked = n + rejected;
    this.wireBytes = wire;
    return n;
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
   * Returns n + 1.
   */
  private pieceFrame(n: number, hdr: number, off: number, out: number, tag: number, st: number, cur: number, tagPos: number): number {
    this.piece(ARENA, hdr, tagPos - hdr);
    if (tag < 0) {
      this.piece(RING, off, out);
      return n + 1;
    }
    const head = out < tag ? out : tag;
    this.piece(RING, off, head);
    if (out <= tag) return n + 1;
    const tpid = (st & TP_STATUS_VLAN_TPID_VALID) !== 0 ? this.ring16[(cur + PKT_VLAN_TPID) >>> 1] || 0x8100 : 0x8100;
    const tci = this.ring32[(cur + PKT_VLAN_TCI) >>> 2] & 0xffff;
    const u8 = this.u8;
    u8[tagPos] = tpid >>> 8; u8[tagPos + 1] = tpid & 0xff; u8[tagPos + 2] = tci >>> 8; u8[tagPos + 3] = tci & 0xff;
    const tagBytes = out - tag < 4 ? out - tag : 4;
    this.piece(ARENA, tagPos, tagBytes);
    const rest = out - tag - 4;
    if (rest > 0) this.piece(RING, off + tag, rest);
    return n + 1;
  }
}
