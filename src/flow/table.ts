/**
 * FlowTable: bidirectional flow metering in preallocated typed arrays.
 *
 * - Open addressing (linear probing, backward-shift deletion) over a slot
 *   array of 4-byte tags (high bits of the hash as a fingerprint, low bits
 *   the flow id), so the probe stays in one small array and a flow's block
 *   is read only when its fingerprint matches. Each flow's state (key, hash,
 *   state, TCP flags, timestamps, counters) is one 128-byte block, aligned:
 *   a packet of a known flow touches one tag and two cache lines, however
 *   many flows are active. Nothing is allocated per packet or per flow
 *   after construction.
 * - A flow is keyed by VLAN, IP version, addresses, protocol and ports in a
 *   canonical order, so both directions meet in one entry (RFC 5103 biflow).
 *   The initiator (the first packet's source) is the forward direction.
 * - Records leave through {@link FlowTable.out} (a {@link RecordBuffer});
 *   `onFull` is called when it fills, and by {@link FlowTable.flushRecords}.
 *
 * Time is the packets' own (ns since the epoch, as a double): the active
 * timeout is checked before a packet is added, so the packet that crosses it
 * starts the next record. {@link FlowTable.expire} ends idle, too-long and
 * closed flows; call it with the current time (packet or wall clock).
 */
import { Key, ParsedPacket, parseFlowPacket } from './parse.js';
import { EndReason, R_COUNTS, R_DOMAIN, R_FLAGS, R_FWD_TIME, RECORD_BYTES, RECORD_WORDS, RecordBuffer } from './record.js';
import type { PacketLike } from '../packet-like.js';
import { Batch } from '../ring/batch.js';
import { Blk, Tp3 } from '../ring/layout.js';
import { TpStatus } from '../constants.js';

/** Flow table settings. */
export interface FlowTableOptions {
  /** Most flows tracked at once (default 65536). When full, the least recently seen of a sample is evicted (counted). */
  maxFlows?: number;
  /** Active timeout in seconds (default 60): a longer flow is exported and continues in a new record. */
  activeTimeout?: number;
  /** Idle timeout in seconds (default 15). */
  idleTimeout?: number;
  /** Seconds a TCP flow is kept after FIN both ways or RST, for the last ACKs (default 1). */
  closeTimeout?: number;
  /** Observation domain written in the records (e.g. the worker index). */
  domain?: number;
  /** Records buffered before onFull is called (default 512). */
  recordBatch?: number;
  /** Called with the record buffer when it is full or flushed; must consume it (the table resets `count` after). */
  onFull?: (records: RecordBuffer) => void;
}

/** Counters of a table (all monotonic except `active`). */
export interface FlowTableStats {
  /** Packets metered. */
  packets: number;
  /** Packets that were not IP (not metered). */
  ignored: number;
  /** Flows created. */
  created: number;
  /** Records written (one flow can make several: active timeout). */
  records: number;
  /** Flows evicted because the table was full. */
  evicted: number;
  /** Flows in the table now. */
  active: number;
}

/**
 * The table's constants as a const enum, compiled to literals: a module
 * constant is reloaded and hole-checked at every use in optimized code.
 */
const enum F {
  S_INIT_REV = 1,
  S_FIN_FWD = 2,
  S_FIN_REV = 4,
  S_CLOSED = 8,

  TCP_FIN = 0x01,
  TCP_SYN = 0x02,
  TCP_RST = 0x04,
  TCP_ACK = 0x10,

  NS = 1e9,
  SAMPLE = 8,
  /** Packets parsed ahead by addBatch (and addRing on a large table) before their lookups (a power of two). */
  STAGE = 32,
  /** On a large table, ring batches are metered in epochs of at least this many packets, each epoch one way. */
  EPOCH = 1 << 16,
  /** One epoch in this many (a power of two) goes the way that is not the cheaper one. */
  EXPLORE = 32,
  /** Epochs remembered each way (a power of two); a way's cost is the least of them. */
  WINDOW = 4,
  /** Words per packet in the ring stage: key words k0, a1, b1, port pair, hash, swap | flags << 1, IP bytes, ring header. */
  R_WORDS = 8,
  /**
   * Ring batches are metered packet by packet while the table holds at most
   * this many flows (2 MiB of flow blocks: tags and blocks mostly stay in
   * cache); beyond it, the cheaper of that and the ring stage, measured.
   */
  DIRECT_FLOWS = 1 << 14,

  // The flow block: 32 32-bit words (128 bytes) per flow, in the order the per-packet update reads them.
  BLOCK_WORDS = 32,
  /** Words 0..9: the canonical key. */
  B_KEY = 0,
  /** Word 10: the key's hash. */
  B_HASH = 10,
  /** Word 11: S_* state bits (bits 0-7), TCP flags seen forward (8-15) and reverse (16-23). */
  B_STATE = 11,
  /** Words 12..19: forward first s, ns, last s, ns; reverse first s, ns, last s, ns. */
  B_TIME = 12,
  /** Float64 index (within the block's 16) of the first packet's time in ns. */
  B_FIRST_NS = 10,
  /**
   * Word 22: floor((first + active timeout) / 1 s) - 1: a packet whose second
   * is below it cannot cross the active timeout (a second of margin for the
   * doubles' rounding) and skips the exact check. Word 23 is free. (The last
   * packet's time, for idle expiry and eviction, is the later of the two
   * directions' last times.)
   */
  B_ACTIVE_SEC = 22,
  /** Float64 indexes 12..15: forward packets, reverse packets, forward bytes, reverse bytes. */
  B_COUNTS = 12,
}

/** Modes of FlowTable.ringRun. */
const enum Run { Direct, Stage, Count }

function nextPow2(n: number): number { let p = 1; while (p < n) p *= 2; return p; }

export class FlowTable {
  readonly maxFlows: number;
  readonly activeNs: number;
  idleNs: number;
  closeNs: number;
  domain: number;
  /** Finished records waiting for onFull. */
  readonly out: RecordBuffer;
  onFull: (records: RecordBuffer) => void;

  // counters
  packets = 0;
  ignored = 0;
  created = 0;
  records = 0;
  evicted = 0;
  /** Wire bytes of every packet offered (metered or not). */
  wireBytes = 0;

  private readonly mask: number;
  /** One word per slot: 0 = empty, else the hash's fingerprint bits (fpMask) | flow id + 1. */
  private readonly tags: Int32Array;
  /** The bits of a tag that hold the hash fingerprint (the rest hold id + 1). */
  private readonly fpMask: number;
  /** The flow blocks (F.BLOCK_WORDS words per flow), as words and as doubles. */
  private readonly blk: Uint32Array;
  private readonly blkF: Float64Array;
  private readonly blkI: Int32Array;
  private readonly ids: Int32Array; // ids[0..n) in use, ids[n..max) free
  private readonly pos: Int32Array;
  private n = 0;
  private hand = 0;
  private readonly pp = new ParsedPacket();
  // the stage: up to F.STAGE parsed packets (canonical key, hash, swap | flags << 1, IP bytes, sec, nsec)
  private readonly sKey = new Int32Array(F.STAGE * Key.Words);
  private readonly sHash = new Int32Array(F.STAGE);
  private readonly sInfo = new Int32Array(F.STAGE * 2);
  private readonly sTime = new Uint32Array(F.STAGE * 2);
  /** The ring stage of addRing on a large table: F.STAGE entries of F.R_WORDS words. */
  private readonly rStage = new Int32Array(F.STAGE * F.R_WORDS);
  // addRing on a large table: epochs so far each way, the current one (ms, packets),
  // the costs of the last F.WINDOW epochs each way (ns per packet; direct first), and the way chosen
  private epochsDirect = 0;
  private epochsStaged = 0;
  private epochMs = 0;
  private epochPackets = 0;
  private readonly costs = new Float64Array(2 * F.WINDOW).fill(Infinity);
  private stagedWins = true;
  /** addRing's place in the batch: the next packet, and its header. */
  private rNext = 0;
  private rHead = 0;
  /** @internal ring batches are metered packet by packet up to this many flows (tests set it to check every way). */
  _directMax: number = F.DIRECT_FLOWS;
  /** @internal packets in an epoch of addRing on a large table (tests make it small, so the ways alternate). */
  _epoch: number = F.EPOCH;
  /** Sink of the prefetch loads (so they are not optimised away). */
  private touched = 0;
  // word views of the ring last seen by addBatch (made once per ring)
  private ringBuf: ArrayBufferLike | null = null;
  private ringU32: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  private ringU16: Uint16Array<ArrayBufferLike> = new Uint16Array(0);
  private ringDv: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

  constructor(opts: FlowTableOptions = {}) {
    const max = opts.maxFlows ?? 65536;
    if (!Number.isInteger(max) || max < 1 || max > (1 << 26)) throw new RangeError(`maxFlows must be an integer in 1..${1 << 26} (got ${max})`);
    this.maxFlows = max;
    this.activeNs = (opts.activeTimeout ?? 60) * F.NS;
    this.idleNs = (opts.idleTimeout ?? 15) * F.NS;
    this.closeNs = (opts.closeTimeout ?? 1) * F.NS;
    this.domain = opts.domain ?? 0;
    this.out = new RecordBuffer(opts.recordBatch ?? 512);
    this.onFull = opts.onFull ?? ((rb) => { rb.count = 0; });
    const cap = nextPow2(max * 2);
    this.mask = cap - 1;
    this.tags = new Int32Array(cap);
    let idBits = 1;
    while ((1 << idBits) <= max) idBits++;
    this.fpMask = ~((1 << idBits) - 1);
    const buf = new ArrayBuffer(max * F.BLOCK_WORDS * 4);
    this.blk = new Uint32Array(buf);
    this.blkF = new Float64Array(buf);
    this.blkI = new Int32Array(buf);
    this.ids = new Int32Array(max);
    this.pos = new Int32Array(max);
    for (let i = 0; i < max; i++) { this.ids[i] = i; this.pos[i] = i; }
  }

  /** Flows in the table now. */
  get active(): number { return this.n; }

  /** A snapshot of the counters. */
  stats(): FlowTableStats {
    return { packets: this.packets, ignored: this.ignored, created: this.created, records: this.records, evicted: this.evicted, active: this.n };
  }

  /** Meter one packet (a ring view or a file record). */
  add(p: PacketLike): void {
    if (this.stage(p.data, p.offset, p.caplen, p.linkType, p.vlanValid ? p.vlanTci : -1, p.wireLen, p.sec, p.nsec, 0)) this.apply(0);
  }

  /** Meter one packet given as bytes and metadata (vlanTci -1 = no metadata tag). */
  addBytes(data: Uint8Array, offset: number, caplen: number, linkType: number, vlanTci: number, wireLen: number, sec: number, nsec: number): void {
    if (this.stage(data, offset, caplen, linkType, vlanTci, wireLen, sec, nsec, 0)) this.apply(0);
  }

  /**
   * Meter every packet of a batch (a ring batch or anything with the same
   * `next()`), in order: the same result as {@link FlowTable.add} on each,
   * faster. A ring batch is read straight from the ring (see
   * {@link FlowTable.addRing}). Other batches, and ring batches of large
   * tables, are taken in groups: keys and hashes of a group are computed
   * first, then the group's slot tags and flow blocks are read in two short
   * loops whose loads do not depend on each other (so the CPU overlaps their
   * cache misses), then each packet is applied in order.
   */
  addBatch(batch: { next(): PacketLike | null }): void {
    if (batch instanceof Batch && batch._block >= 0 && batch.packet._pre === 0) { this.addRing(batch); return; }
    for (let more = true; more;) {
      let n = 0;
      while (n < F.STAGE) {
        const p = batch.next();
        if (p === null) { more = false; break; }
        if (this.stage(p.data, p.offset, p.caplen, p.linkType, p.vlanValid ? p.vlanTci : -1, p.wireLen, p.sec, p.nsec, n)) n++;
      }
      if (n !== 0) this.lookup(n);
    }
  }

  /**
   * addBatch on a ring block: the packet headers are read straight from the
   * ring (no view getters), and untagged Ethernet/IPv4 packets are parsed in
   * place with big-endian word loads ({@link FlowTable.ringRun}); anything
   * else goes through {@link FlowTable.addRingSlow}. Up to F.DIRECT_FLOWS
   * flows each packet is counted as soon as it is parsed.
   *
   * On a larger table a packet's slot tag and flow block may miss the cache,
   * and a packet's lookup cannot start before the previous packet's came
   * back. The ring stage ({@link FlowTable.addRingStaged}) overlaps those
   * misses, at a cost (about 20 ns per packet) that pays only when the CPU
   * does not hide them by itself. Which one wins depends on the traffic and
   * the machine: live, with the generator's core and the ring's stream
   * sharing the last-level cache, the stage costs 100-120 ns per packet at
   * 100 000 flows against 155-180 for the packet-by-packet loop; on a ring
   * image of flows read in the order they were made (the prefetcher follows
   * the blocks) it is the other way round, 52 against 31. So the table
   * measures: it meters in epochs of F.EPOCH packets, each one way, timed;
   * the first 2 * F.WINDOW alternate, then one epoch in F.EXPLORE goes the
   * other way, and the way with the lower cost (the least of its last
   * F.WINDOW epochs, so neither the table's filling nor a preempted epoch
   * counts) meters the rest. Leaves the batch as a loop of next() would: at
   * its end.
   */
  private addRing(batch: Batch): void {
    const data = batch.packet.data;
    if (data.buffer !== this.ringBuf) {
      this.ringBuf = data.buffer;
      this.ringU32 = new Uint32Array(data.buffer, 0, data.buffer.byteLength >>> 2);
      this.ringU16 = new Uint16Array(data.buffer, 0, data.buffer.byteLength >>> 1);
      this.ringDv = new DataView(data.buffer);
    }
    const u32 = this.ringU32;
    const linkType = batch.packet.linkType;
    const count = batch.count;
    const b0 = batch._block;
    this.rNext = batch.index + 1;
    this.rHead = this.rNext === 0 ? b0 + u32[(b0 + Blk.OffsetToFirst) >>> 2] : batch.packet._h + u32[(batch.packet._h + Tp3.NextOffset) >>> 2];
    if (this.n <= this._directMax) this.ringRun(data, linkType, count, Run.Direct);
    else {
      // a large table: the cheaper way, measured in epochs (see above)
      const e = this.epochsDirect + this.epochsStaged;
      const staged = e < 2 * F.WINDOW ? (e & 1) === 0 : (e & (F.EXPLORE - 1)) === F.EXPLORE - 1 ? !this.stagedWins : this.stagedWins;
      const t0 = performance.now();
      const p0 = this.rNext;
      if (staged) this.addRingStaged(data, linkType, count);
      else this.ringRun(data, linkType, count, Run.Direct);
      this.epochMs += performance.now() - t0;
      this.epochPackets += count - p0;
      if (this.epochPackets >= this._epoch) {
        const w = this.costs;
        const side = staged ? F.WINDOW : 0;
        const k = staged ? this.epochsStaged++ : this.epochsDirect++;
        w[side + (k & (F.WINDOW - 1))] = (this.epochMs * 1e6) / this.epochPackets;
        // (a way with no epoch yet costs Infinity)
        let d = Infinity;
        let st = Infinity;
        for (let j = 0; j < F.WINDOW; j++) { if (w[j] < d) d = w[j]; if (w[F.WINDOW + j] < st) st = w[F.WINDOW + j]; }
        this.stagedWins = st <= d;
        this.epochMs = 0; this.epochPackets = 0;
      }
    }
    batch.index = count - 1;
    batch.packet._h = -1;
  }

  /**
   * addRing on a large table, through the ring stage: packets in groups of
   * up to F.STAGE, each group parsed into the stage first, then its slot
   * tags and flow blocks read in two short loops whose loads do not depend
   * on each other (so the CPU overlaps their misses), then counted in order.
   */
  private addRingStaged(data: Uint8Array, linkType: number, count: number): void {
    const u32 = this.ringU32;
    while (this.rNext < count) {
      const n = this.ringRun(data, linkType, count, Run.Stage);
      if (n !== 0) {
        this.touch(this.rStage, F.R_WORDS, 4, n);
        this.ringRun(data, linkType, n, Run.Count);
      }
      if (n < F.STAGE && this.rNext < count) {
        // packet rNext (header at rHead) is not plain Ethernet/IPv4
        this.addRingSlow(data, this.rHead, linkType);
        if (++this.rNext < count) this.rHead += u32[(this.rHead + Tp3.NextOffset) >>> 2];
      }
    }
  }

  /**
   * The ring loop of addRing, in one of three modes:
   * - Run.Direct: packets rNext..end (header of rNext at rHead), each parsed
   *   and counted in one pass; the others go through addRingSlow in order.
   * - Run.Stage: parses plain Ethernet/IPv4 packets from rNext into the ring
   *   stage, until it holds F.STAGE, the batch ends (`end`) or a packet of
   *   another kind comes (left at rNext); returns how many it staged.
   * - Run.Count: counts stage entries 0..end in order.
   * A packet is counted in the loop when its flow is in the table and it
   * neither crosses the active timeout nor reopens a closed TCP key; any
   * other goes through addRingSlow. The inner loop makes no call, so the JIT
   * keeps the arrays' bases in registers.
   */
  private ringRun(data: Uint8Array, linkType: number, end: number, mode: Run): number {
    const u32 = this.ringU32;
    const u16 = this.ringU16;
    const dv = this.ringDv;
    const blk = this.blk;
    const f = this.blkF;
    const rs = this.rStage;
    let pk = 0;
    let wb = 0;
    let i = mode === Run.Count ? 0 : this.rNext;
    let h = this.rHead;
    let n = 0;
    while (i < end) {
      /** Header of a packet the loop declined (-1: packet i is not plain Ethernet/IPv4). */
      let slow = -1;
      for (; i < end; i++) {
        let k0 = 0; let a1 = 0; let b1 = 0; let pt = 0; let hh = 0; let info = 0; let bytes = 0; let hp = 0;
        if (mode !== Run.Count) {
          const off = h + u16[(h + Tp3.Mac) >>> 1];
          const caplen = u32[(h + Tp3.Snaplen) >>> 2];
          let w = 0;
          if (linkType !== 1 || caplen < 38 || ((w = dv.getUint32(off + 12)) >>> 12) !== 0x08004 || (w & 0xf00) < 0x500 || 14 + ((w >>> 6) & 0x3c) > caplen) break;
          // Ethernet + IPv4 with a whole header: the same key and hash as stage()
          const vlanTci = (u32[(h + Tp3.Status) >>> 2] & TpStatus.VlanValid) !== 0 ? u32[(h + Tp3.VlanTci) >>> 2] & 0xfff : 0;
          const l4 = off + 14 + ((w >>> 6) & 0x3c);
          const last = off + caplen;
          const w2 = dv.getUint32(off + 20); // flags + fragment offset, TTL, protocol
          const proto = w2 & 0xff;
          a1 = dv.getInt32(off + 26);
          b1 = dv.getInt32(off + 30);
          let flags = 0;
          if ((w2 & 0x1fff0000) === 0) {
            if (proto === 6 || proto === 17 || proto === 132 || proto === 136) {
              if (l4 + 4 <= last) pt = dv.getInt32(l4);
              if (proto === 6 && l4 + 14 <= last) flags = dv.getUint8(l4 + 13);
            } else if (proto === 1 || proto === 58) {
              if (l4 + 2 <= last) pt = dv.getUint16(l4);
            }
          }
          k0 = vlanTci | (4 << 12) | (proto << 16);
          const swap = a1 > b1 || (a1 === b1 && (pt >>> 16) > (pt & 0xffff));
          if (swap) {
            const x = a1; a1 = b1; b1 = x;
            pt = (pt << 16) | (pt >>> 16);
          }
          hh = Math.imul(k0 ^ a1, 0x9e3779b1);
          hh = Math.imul(hh ^ (hh >>> 15) ^ b1, 0x85ebca77);
          hh = Math.imul(hh ^ (hh >>> 13) ^ pt, 0xc2b2ae3d);
          hh ^= hh >>> 16;
          info = (swap ? 1 : 0) | (flags << 1);
          const total = dv.getUint16(off + 16);
          bytes = total !== 0 ? total : u32[(h + Tp3.Len) >>> 2] - 14;
          hp = h;
          if (i + 1 < end) h += u32[(h + Tp3.NextOffset) >>> 2];
          if (mode === Run.Stage) {
            const o = n * F.R_WORDS;
            rs[o] = k0; rs[o + 1] = a1; rs[o + 2] = b1; rs[o + 3] = pt; rs[o + 4] = hh; rs[o + 5] = info; rs[o + 6] = bytes; rs[o + 7] = hp;
            if (++n === F.STAGE) { i++; break; }
            continue;
          }
        } else {
          const o = i * F.R_WORDS;
          k0 = rs[o]; a1 = rs[o + 1]; b1 = rs[o + 2]; pt = rs[o + 3]; hh = rs[o + 4]; info = rs[o + 5]; bytes = rs[o + 6];
          hp = rs[o + 7] >>> 0; // a ring header offset (rings reach 4 GiB): stored as int32, read back unsigned
        }
        // count the packet (header at hp) in its flow
        const b = this.find(hh, k0, a1, b1, pt, false, 0);
        if (b < 0) { slow = hp; break; }
        const flags = info >>> 1;
        const st = blk[b + F.B_STATE];
        const sec = u32[(hp + Tp3.Sec) >>> 2];
        if (((flags & (F.TCP_SYN | F.TCP_ACK)) === F.TCP_SYN && (st & F.S_CLOSED) !== 0) || sec >= blk[b + F.B_ACTIVE_SEC]) { slow = hp; break; }
        const nsec = u32[(hp + Tp3.Nsec) >>> 2];
        pk++;
        wb += u32[(hp + Tp3.Len) >>> 2];
        const dir = (info & 1) ^ (st & F.S_INIT_REV);
        const pc = (b >>> 1) + F.B_COUNTS + dir;
        const c = f[pc];
        f[pc] = c + 1;
        f[pc + 2] += bytes;
        const m = b + F.B_TIME + dir * 4;
        if (c === 0) { blk[m] = sec; blk[m + 1] = nsec; }
        blk[m + 2] = sec; blk[m + 3] = nsec;
        if (flags !== 0) {
          // as tcpState()
          let s = st | (flags << (8 + dir * 8));
          if ((flags & F.TCP_RST) !== 0) s |= F.S_CLOSED;
          else if ((flags & F.TCP_FIN) !== 0) {
            s |= dir === 0 ? F.S_FIN_FWD : F.S_FIN_REV;
            if ((s & (F.S_FIN_FWD | F.S_FIN_REV)) === (F.S_FIN_FWD | F.S_FIN_REV)) s |= F.S_CLOSED;
          }
          blk[b + F.B_STATE] = s;
        }
      }
      this.packets += pk; this.wireBytes += wb; pk = 0; wb = 0;
      if (mode === Run.Stage || i === end) break;
      // a new flow, a closed TCP key reopened or the active timeout crossed (slow: its header,
      // already passed); or packet i is not plain Ethernet/IPv4 (header at h)
      if (slow >= 0) this.addRingSlow(data, slow, linkType);
      else {
        this.addRingSlow(data, h, linkType);
        if (i + 1 < end) h += u32[(h + Tp3.NextOffset) >>> 2];
      }
      i++;
    }
    if (mode !== Run.Count) { this.rNext = i; this.rHead = h; }
    return n;
  }

  /** Meter the ring packet whose header is at `h` through stage() and apply(). */
  private addRingSlow(data: Uint8Array, h: number, linkType: number): void {
    const u32 = this.ringU32;
    const st = u32[(h + Tp3.Status) >>> 2];
    const vlanTci = (st & TpStatus.VlanValid) !== 0 ? u32[(h + Tp3.VlanTci) >>> 2] & 0xffff : -1;
    if (this.stage(data, h + this.ringU16[(h + Tp3.Mac) >>> 1], u32[(h + Tp3.Snaplen) >>> 2], linkType, vlanTci,
      u32[(h + Tp3.Len) >>> 2], u32[(h + Tp3.Sec) >>> 2], u32[(h + Tp3.Nsec) >>> 2], 0)) this.apply(0);
  }

  /** Fold a packet's TCP flags (non-zero) into the state word of the flow block at `b` (state `st`, direction `dir`). */
  private tcpState(b: number, st: number, flags: number, dir: number): void {
    let s = st | (flags << (8 + dir * 8));
    if ((flags & F.TCP_RST) !== 0) s |= F.S_CLOSED;
    else if ((flags & F.TCP_FIN) !== 0) {
      s |= dir === 0 ? F.S_FIN_FWD : F.S_FIN_REV;
      if ((s & (F.S_FIN_FWD | F.S_FIN_REV)) === (F.S_FIN_FWD | F.S_FIN_REV)) s |= F.S_CLOSED;
    }
    this.blk[b + F.B_STATE] = s;
  }

  /**
   * Look up the `n` staged packets: their slot tags, then their flow blocks,
   * are read in two short loops whose loads do not depend on each other (so
   * the CPU overlaps their cache misses), then each packet is applied in order.
   */
  private lookup(n: number): void {
    this.touch(this.sHash, 1, 0, n);
    for (let i = 0; i < n; i++) this.apply(i);
  }

  /**
   * Read the slot tags, then the flow blocks, of `n` staged packets whose
   * hashes are at `words[at + j * stride]`, in two short loops whose loads do
   * not depend on each other, so the CPU overlaps their cache misses (the
   * lookups that follow then hit).
   */
  private touch(words: Int32Array, stride: number, at: number, n: number): void {
    const tags = this.tags;
    const key = this.blkI;
    const mask = this.mask;
    const idOf = ~this.fpMask;
    let acc = 0;
    for (let j = 0; j < n; j++) acc ^= tags[words[at + j * stride] & mask];
    for (let j = 0; j < n; j++) {
      const tg = tags[words[at + j * stride] & mask];
      if (tg !== 0) { const c = ((tg & idOf) - 1) * F.BLOCK_WORDS; acc ^= key[c + 9] ^ key[c + 24]; }
    }
    this.touched = acc;
  }

  /**
   * Parse one packet into stage entry `i`: its canonical key (the smaller
   * endpoint first, as signed words: any fixed total order will do), hash,
   * direction, TCP flags, bytes and time. Counts it (packets or ignored);
   * false when it is not metered.
   */
  private stage(data: Uint8Array, offset: number, caplen: number, linkType: number, vlanTci: number, wireLen: number, sec: number, nsec: number, i: number): boolean {
    const pp = this.pp;
    this.wireBytes += wireLen;
    if (parseFlowPacket(data, offset, caplen, linkType, vlanTci, wireLen, pp) === 0) { this.ignored++; return false; }
    this.packets++;
    const k = pp.keyI;
    const k0 = k[0];
    const v6 = ((k0 >>> 12) & 0xf) === 6;
    let a1 = k[1]; let a2 = k[2]; let a3 = k[3]; let a4 = k[4];
    let b1 = k[5]; let b2 = k[6]; let b3 = k[7]; let b4 = k[8];
    let pt = k[9];
    let swap = a1 > b1;
    if (a1 === b1) {
      if (v6 && (a2 !== b2 || a3 !== b3 || a4 !== b4)) swap = a2 !== b2 ? a2 > b2 : a3 !== b3 ? a3 > b3 : a4 > b4;
      else swap = (pt >>> 16) > (pt & 0xffff);
    }
    if (swap) {
      let x = a1; a1 = b1; b1 = x;
      x = a2; a2 = b2; b2 = x;
      x = a3; a3 = b3; b3 = x;
      x = a4; a4 = b4; b4 = x;
      pt = (pt << 16) | (pt >>> 16);
    }
    // hash (multiply-xorshift; IPv6 folds the other address words in first): as hashKey()
    let h = Math.imul(k0 ^ a1, 0x9e3779b1);
    if (v6) h = Math.imul(h ^ a2 ^ (a3 << 7) ^ (a4 << 13) ^ b2 ^ (b3 << 11) ^ (b4 << 17), 0x7feb352d);
    h = Math.imul(h ^ (h >>> 15) ^ b1, 0x85ebca77);
    h = Math.imul(h ^ (h >>> 13) ^ pt, 0xc2b2ae3d);
    h ^= h >>> 16;
    const sk = this.sKey;
    const o = i * Key.Words;
    sk[o] = k0; sk[o + 1] = a1; sk[o + 2] = a2; sk[o + 3] = a3; sk[o + 4] = a4;
    sk[o + 5] = b1; sk[o + 6] = b2; sk[o + 7] = b3; sk[o + 8] = b4; sk[o + 9] = pt;
    this.sHash[i] = h;
    this.sInfo[i * 2] = (swap ? 1 : 0) | (pp.tcpFlags << 1);
    this.sInfo[i * 2 + 1] = pp.ipBytes;
    this.sTime[i * 2] = sec;
    this.sTime[i * 2 + 1] = nsec;
    return true;
  }

  /**
   * Find a flow by its canonical key and hash: the first word of its block
   * (flow id times F.BLOCK_WORDS), or -1. The slot tags are read first (one
   * word per slot: hash fingerprint | id + 1), then the key of a fingerprint
   * match; an IPv6 key (`v6`) also compares address words 2-4 and 6-8 with
   * stage entry `o`. Small, so the JIT inlines it into the ring loop.
   */
  private find(hh: number, k0: number, a1: number, b1: number, pt: number, v6: boolean, o: number): number {
    const tags = this.tags;
    const key = this.blkI;
    const mask = this.mask;
    const fpMask = this.fpMask;
    const fp = hh & fpMask;
    for (let s = hh & mask; ; s = (s + 1) & mask) {
      const tg = tags[s];
      if (tg === 0) return -1;
      if ((tg & fpMask) === fp) {
        const c = ((tg & ~fpMask) - 1) * F.BLOCK_WORDS;
        if (key[c + 9] === pt && key[c + 1] === a1 && key[c + 5] === b1 && key[c] === k0) {
          const sk = this.sKey;
          if (!v6 || (key[c + 2] === sk[o + 2] && key[c + 3] === sk[o + 3] && key[c + 4] === sk[o + 4] &&
            key[c + 6] === sk[o + 6] && key[c + 7] === sk[o + 7] && key[c + 8] === sk[o + 8])) return c;
        }
      }
    }
  }

  /** Look up (or create) the flow of stage entry `i` and count the packet in it. */
  private apply(i: number): void {
    const sk = this.sKey;
    const o = i * Key.Words;
    const k0 = sk[o];
    const v6 = ((k0 >>> 12) & 0xf) === 6;
    const a1 = sk[o + 1];
    const b1 = sk[o + 5];
    const pt = sk[o + 9];
    const h = this.sHash[i];
    const info = this.sInfo[i * 2];
    const swap = (info & 1) !== 0;
    const flags = info >>> 1;
    const sec = this.sTime[i * 2];
    const nsec = this.sTime[i * 2 + 1];
    const found = this.find(h, k0, a1, b1, pt, v6, o);
    let id = found < 0 ? -1 : found / F.BLOCK_WORDS;
    const t = sec * F.NS + nsec;
    const blk = this.blk;
    const f = this.blkF;
    if (id >= 0) {
      const b = id * F.BLOCK_WORDS;
      if ((flags & (F.TCP_SYN | F.TCP_ACK)) === F.TCP_SYN && (blk[b + F.B_STATE] & F.S_CLOSED) !== 0) {
        this.finish(id, EndReason.end); // a new connection on the same ports
        id = -1;
      } else if (t - f[(b >>> 1) + F.B_FIRST_NS] >= this.activeNs) {
        this.emit(id, EndReason.active); // the record ends BEFORE this packet
        this.reset(id);
        this.startRecord(b, t);
      }
    }
    if (id < 0) id = this.insert(o, h, swap, t);
    const b = id * F.BLOCK_WORDS;
    const bf = b >>> 1;
    const st = blk[b + F.B_STATE];
    const dir = (swap ? 1 : 0) ^ (st & F.S_INIT_REV);
    const pc = bf + F.B_COUNTS + dir;
    const c = f[pc];
    f[pc] = c + 1;
    f[pc + 2] += this.sInfo[i * 2 + 1];
    const m = b + F.B_TIME + dir * 4;
    if (c === 0) { blk[m] = sec; blk[m + 1] = nsec; }
    blk[m + 2] = sec; blk[m + 3] = nsec;
    if (flags !== 0) this.tcpState(b, st, flags, dir);
  }

  /**
   * End every flow that is idle (no packet for the idle timeout), too long
   * (active timeout) or closed and quiet for the close timeout, as of `nowNs`.
   * Returns how many records were written.
   */
  expire(nowNs: number): number {
    let done = 0;
    for (let i = 0; i < this.n;) {
      const id = this.ids[i];
      const b = id * F.BLOCK_WORDS;
      const idle = nowNs - this.lastNs(b);
      let reason = 0;
      if ((this.blk[b + F.B_STATE] & F.S_CLOSED) !== 0 && idle >= this.closeNs) reason = EndReason.end;
      else if (idle >= this.idleNs) reason = EndReason.idle;
      else if (nowNs - this.blkF[(b >>> 1) + F.B_FIRST_NS] >= this.activeNs) reason = EndReason.active;
      if (reason !== 0) { this.finish(id, reason); done++; } // finish moves another id into slot i
      else i++;
    }
    return done;
  }

  /** End every flow (shutdown, end of file) with the given reason (default forced end). */
  flushAll(reason: number = EndReason.forced): void {
    while (this.n > 0) this.finish(this.ids[this.n - 1], reason);
    this.flushRecords();
  }

  /** Hand the buffered records to onFull now. */
  flushRecords(): void {
    if (this.out.count > 0) { this.onFull(this.out); this.out.count = 0; }
  }

  /** Visit the flows in the table (for live views): fn gets the id; read with the getters below. */
  forEachFlow(fn: (id: number) => void): void {
    for (let i = 0; i < this.n; i++) fn(this.ids[i]);
  }

  /** Key words of flow `id` (canonical order, a view: copy what you keep). */
  flowKey(id: number): Uint32Array { return this.blk.subarray(id * F.BLOCK_WORDS + F.B_KEY, id * F.BLOCK_WORDS + F.B_KEY + Key.Words); }
  /** Packets and bytes of flow `id` in both directions: [fwd pkts, rev pkts, fwd bytes, rev bytes]. */
  flowCounts(id: number): Float64Array { return this.blkF.subarray(id * (F.BLOCK_WORDS >>> 1) + F.B_COUNTS, id * (F.BLOCK_WORDS >>> 1) + F.B_COUNTS + 4); }
  /** True when the canonical key's first endpoint is the responder. */
  flowReversed(id: number): boolean { return (this.blk[id * F.BLOCK_WORDS + F.B_STATE] & F.S_INIT_REV) !== 0; }

  // --- internals -----------------------------------------------------------

  /** Create the flow of stage entry key `o` (its hash `h`). */
  private insert(o: number, h: number, swap: boolean, t: number): number {
    if (this.n === this.maxFlows) this.evictOne();
    const id = this.ids[this.n++];
    const b = id * F.BLOCK_WORDS;
    const blk = this.blk;
    const sk = this.sKey;
    for (let i = 0; i < Key.Words; i++) this.blkI[b + F.B_KEY + i] = sk[o + i];
    blk[b + F.B_HASH] = h;
    blk[b + F.B_STATE] = swap ? F.S_INIT_REV : 0;
    this.reset(id);
    this.startRecord(b, t);
    const tags = this.tags;
    let s = h & this.mask;
    while (tags[s] !== 0) s = (s + 1) & this.mask;
    tags[s] = (h & this.fpMask) | (id + 1);
    this.created++;
    return id;
  }

  /** Set the first-packet time of the record of the flow block at `b` (and its active deadline). */
  private startRecord(b: number, t: number): void {
    this.blkF[(b >>> 1) + F.B_FIRST_NS] = t;
    const d = Math.floor((t + this.activeNs) / F.NS) - 1;
    this.blk[b + F.B_ACTIVE_SEC] = d > 0 ? (d < 0xffffffff ? d : 0xffffffff) : 0;
  }

  /** Time of the last packet of the flow block at `b` (ns): the later of both directions' last. */
  private lastNs(b: number): number {
    const blk = this.blk;
    const fwd = blk[b + F.B_TIME + 2] * F.NS + blk[b + F.B_TIME + 3];
    const rev = blk[b + F.B_TIME + 6] * F.NS + blk[b + F.B_TIME + 7];
    return fwd > rev ? fwd : rev;
  }

  /** Zero the counters, timestamps and TCP flags of flow `id` (a new record starts). */
  private reset(id: number): void {
    const b = id * F.BLOCK_WORDS;
    const f = this.blkF;
    const c = (b >>> 1) + F.B_COUNTS;
    f[c] = 0; f[c + 1] = 0; f[c + 2] = 0; f[c + 3] = 0;
    this.blk.fill(0, b + F.B_TIME, b + F.B_TIME + 8);
    this.blk[b + F.B_STATE] &= 0xff;
  }

  /** Evict the least recently seen flow of a small sample (approximate LRU). */
  private evictOne(): void {
    let best = -1;
    let bestT = Infinity;
    for (let j = 0; j < F.SAMPLE && j < this.n; j++) {
      this.hand = this.hand + 1 >= this.n ? 0 : this.hand + 1;
      const id = this.ids[this.hand];
      const last = this.lastNs(id * F.BLOCK_WORDS);
      if (last < bestT) { bestT = last; best = id; }
    }
    this.evicted++;
    this.finish(best, EndReason.lackOfResources);
  }

  /** Write the record and remove the flow. */
  private finish(id: number, reason: number): void {
    this.emit(id, reason);
    this.remove(id);
  }

  private remove(id: number): void {
    // slot of id
    const mask = this.mask;
    const tags = this.tags;
    const idOf = ~this.fpMask;
    let i = this.blk[id * F.BLOCK_WORDS + F.B_HASH] & mask;
    while ((tags[i] & idOf) !== id + 1) i = (i + 1) & mask;
    // backward-shift deletion (the home slot of a moved entry comes from its block's hash)
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const tg = tags[j];
      if (tg === 0) break;
      const home = this.blk[((tg & idOf) - 1) * F.BLOCK_WORDS + F.B_HASH] & mask;
      // move it into the hole i if its home is not in (i, j]
      const inRange = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!inRange) {
        tags[i] = tg;
        i = j;
      }
    }
    tags[i] = 0;
    // dense id set: swap with the last in-use id
    const p = this.pos[id];
    const last = this.ids[--this.n];
    this.ids[p] = last;
    this.pos[last] = p;
    this.ids[this.n] = id;
    this.pos[id] = this.n;
  }

  /** Append flow id's record to `out` (initiator first). */
  private emit(id: number, reason: number): void {
    const b = id * F.BLOCK_WORDS;
    const fb = b >>> 1;
    const cnt = this.blkF;
    const c = fb + F.B_COUNTS;
    if (cnt[c] === 0 && cnt[c + 1] === 0) return; // nothing since the last record
    const rb = this.out;
    if (rb.count >= rb.capacity) { this.onFull(rb); rb.count = 0; }
    const w = rb.u32;
    const r = rb.count * RECORD_WORDS;
    const key = this.blk;
    const k = b + F.B_KEY;
    const st = key[b + F.B_STATE];
    const rev = (st & F.S_INIT_REV) !== 0;
    w[r] = key[k];
    if (rev) {
      for (let i = 1; i < 5; i++) { w[r + i] = key[k + 4 + i]; w[r + 4 + i] = key[k + i]; }
      w[r + 9] = ((key[k + 9] << 16) | (key[k + 9] >>> 16)) >>> 0;
    } else {
      for (let i = 1; i < Key.Words; i++) w[r + i] = key[k + i];
    }
    for (let i = 0; i < 8; i++) w[r + R_FWD_TIME + i] = key[b + F.B_TIME + i];
    w[r + R_FLAGS] = ((st >>> 8) & 0xffff) | (reason << 16);
    w[r + R_DOMAIN] = this.domain;
    const f = rb.count * (RECORD_BYTES >>> 3) + R_COUNTS;
    rb.f64[f] = cnt[c];
    rb.f64[f + 1] = cnt[c + 1];
    rb.f64[f + 2] = cnt[c + 2];
    rb.f64[f + 3] = cnt[c + 3];
    rb.count++;
    this.records++;
  }
}

/**
 * The table's 32-bit hash (a signed int32) of a canonical key (as the table
 * stores it: see {@link FlowTable.flowKey}); multiply-xorshift mixing, IPv4
 * keys skip the zero words. The table computes the same value inline.
 */
export function hashKey(k: Uint32Array, v6: boolean): number {
  let h = Math.imul(k[0] ^ k[1], 0x9e3779b1);
  if (v6) h = Math.imul(h ^ k[2] ^ (k[3] << 7) ^ (k[4] << 13) ^ k[6] ^ (k[7] << 11) ^ (k[8] << 17), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15) ^ k[5], 0x85ebca77);
  h = Math.imul(h ^ (h >>> 13) ^ k[9], 0xc2b2ae3d);
  return (h ^ (h >>> 16)) | 0;
}
