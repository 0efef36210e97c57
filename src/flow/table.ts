/**
 * FlowTable: bidirectional flow metering in preallocated typed arrays.
 *
 * - Open addressing (linear probing, backward-shift deletion) over a slot
 *   array of (flow id, hash) pairs. Each flow's state (key, hash, state,
 *   TCP flags, timestamps, counters) is one 128-byte block, aligned: a
 *   packet of a known flow touches one slot and two cache lines, however
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
import { KEY_WORDS, ParsedPacket, parseFlowPacket } from './parse.js';
import { EndReason, R_COUNTS, R_DOMAIN, R_FLAGS, R_FWD_TIME, RECORD_BYTES, RECORD_WORDS, RecordBuffer } from './record.js';
import type { PacketLike } from '../packet-like.js';

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

const S_INIT_REV = 1;
const S_FIN_FWD = 2;
const S_FIN_REV = 4;
const S_CLOSED = 8;

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

const NS = 1e9;
const SAMPLE = 8;

// The flow block: 32 32-bit words (128 bytes) per flow, in the order the per-packet update reads them.
const BLOCK_WORDS = 32;
/** Words 0..9: the canonical key. */
const B_KEY = 0;
/** Word 10: the key's hash. */
const B_HASH = 10;
/** Word 11: S_* state bits (bits 0-7), TCP flags seen forward (8-15) and reverse (16-23). */
const B_STATE = 11;
/** Words 12..19: forward first s, ns, last s, ns; reverse first s, ns, last s, ns. */
const B_TIME = 12;
/** Float64 index (within the block's 16) of the first packet's time in ns. */
const B_FIRST_NS = 10;
/** Float64 index of the last packet's time in ns. */
const B_LAST_NS = 11;
/** Float64 indexes 12..15: forward packets, reverse packets, forward bytes, reverse bytes. */
const B_COUNTS = 12;

function nextPow2(n: number): number { let p = 1; while (p < n) p *= 2; return p; }

export class FlowTable {
  readonly maxFlows: number;
  activeNs: number;
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

  private readonly mask: number;
  /** Two words per slot: flow id (-1 = empty), then the key's hash. */
  private readonly slots: Int32Array;
  /** The flow blocks (BLOCK_WORDS words per flow), as words and as doubles. */
  private readonly blk: Uint32Array;
  private readonly blkF: Float64Array;
  private readonly ids: Int32Array; // ids[0..n) in use, ids[n..max) free
  private readonly pos: Int32Array;
  private n = 0;
  private hand = 0;
  private readonly pp = new ParsedPacket();
  private readonly ck = new Uint32Array(KEY_WORDS);

  constructor(opts: FlowTableOptions = {}) {
    const max = opts.maxFlows ?? 65536;
    if (!Number.isInteger(max) || max < 1 || max > (1 << 26)) throw new RangeError(`maxFlows must be an integer in 1..${1 << 26} (got ${max})`);
    this.maxFlows = max;
    this.activeNs = (opts.activeTimeout ?? 60) * NS;
    this.idleNs = (opts.idleTimeout ?? 15) * NS;
    this.closeNs = (opts.closeTimeout ?? 1) * NS;
    this.domain = opts.domain ?? 0;
    this.out = new RecordBuffer(opts.recordBatch ?? 512);
    this.onFull = opts.onFull ?? ((rb) => { rb.count = 0; });
    const cap = nextPow2(max * 2);
    this.mask = cap - 1;
    this.slots = new Int32Array(cap * 2);
    for (let i = 0; i < cap; i++) this.slots[i * 2] = -1;
    const buf = new ArrayBuffer(max * BLOCK_WORDS * 4);
    this.blk = new Uint32Array(buf);
    this.blkF = new Float64Array(buf);
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
    this.addBytes(p.data, p.offset, p.caplen, p.linkType, p.vlanValid ? p.vlanTci : -1, p.wireLen, p.sec, p.nsec);
  }

  /** Meter one packet given as bytes and metadata (vlanTci -1 = no metadata tag). */
  addBytes(data: Uint8Array, offset: number, caplen: number, linkType: number, vlanTci: number, wireLen: number, sec: number, nsec: number): void {
    const pp = this.pp;
    if (parseFlowPacket(data, offset, caplen, linkType, vlanTci, wireLen, pp) === 0) { this.ignored++; return; }
    this.packets++;
    const k = pp.key;
    const ck = this.ck;
    // canonical order: the smaller (address, port) endpoint first
    const v6 = ((k[0] >>> 12) & 0xf) === 6;
    let cmp = k[1] - k[5];
    if (cmp === 0 && v6) {
      cmp = k[2] - k[6];
      if (cmp === 0) { cmp = k[3] - k[7]; if (cmp === 0) cmp = k[4] - k[8]; }
    }
    if (cmp === 0) cmp = (k[9] >>> 16) - (k[9] & 0xffff);
    const swap = cmp > 0;
    ck[0] = k[0];
    if (swap) {
      ck[1] = k[5]; ck[2] = k[6]; ck[3] = k[7]; ck[4] = k[8];
      ck[5] = k[1]; ck[6] = k[2]; ck[7] = k[3]; ck[8] = k[4];
      ck[9] = ((k[9] << 16) | (k[9] >>> 16)) >>> 0;
    } else {
      ck[1] = k[1]; ck[2] = k[2]; ck[3] = k[3]; ck[4] = k[4];
      ck[5] = k[5]; ck[6] = k[6]; ck[7] = k[7]; ck[8] = k[8];
      ck[9] = k[9];
    }
    const h = hashKey(ck, v6);
    const t = sec * NS + nsec;
    let id = this.find(ck, h);
    const flags = pp.tcpFlags;
    const blk = this.blk;
    const f = this.blkF;
    if (id >= 0) {
      const b = id * BLOCK_WORDS;
      if ((blk[b + B_STATE] & S_CLOSED) !== 0 && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
        this.finish(id, EndReason.end); // a new connection on the same ports
        id = -1;
      } else if (t - f[(b >>> 1) + B_FIRST_NS] >= this.activeNs) {
        this.emit(id, EndReason.active); // the record ends BEFORE this packet
        this.reset(id);
        f[(b >>> 1) + B_FIRST_NS] = t;
      }
    }
    if (id < 0) id = this.insert(ck, h, swap, t);
    const b = id * BLOCK_WORDS;
    const bf = b >>> 1;
    const st = blk[b + B_STATE];
    const dir = (swap ? 1 : 0) ^ (st & S_INIT_REV);
    f[bf + B_COUNTS + dir]++;
    f[bf + B_COUNTS + 2 + dir] += pp.ipBytes;
    const m = b + B_TIME + dir * 4;
    if (blk[m] === 0 && blk[m + 1] === 0) { blk[m] = sec; blk[m + 1] = nsec; }
    blk[m + 2] = sec; blk[m + 3] = nsec;
    if (t > f[bf + B_LAST_NS]) f[bf + B_LAST_NS] = t;
    if (flags !== 0) {
      let s = st | (flags << (8 + dir * 8));
      if ((flags & TCP_RST) !== 0) s |= S_CLOSED;
      else if ((flags & TCP_FIN) !== 0) {
        s |= dir === 0 ? S_FIN_FWD : S_FIN_REV;
        if ((s & (S_FIN_FWD | S_FIN_REV)) === (S_FIN_FWD | S_FIN_REV)) s |= S_CLOSED;
      }
      blk[b + B_STATE] = s;
    }
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
      const b = id * BLOCK_WORDS;
      const idle = nowNs - this.blkF[(b >>> 1) + B_LAST_NS];
      let reason = 0;
      if ((this.blk[b + B_STATE] & S_CLOSED) !== 0 && idle >= this.closeNs) reason = EndReason.end;
      else if (idle >= this.idleNs) reason = EndReason.idle;
      else if (nowNs - this.blkF[(b >>> 1) + B_FIRST_NS] >= this.activeNs) reason = EndReason.active;
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
  flowKey(id: number): Uint32Array { return this.blk.subarray(id * BLOCK_WORDS + B_KEY, id * BLOCK_WORDS + B_KEY + KEY_WORDS); }
  /** Packets and bytes of flow `id` in both directions: [fwd pkts, rev pkts, fwd bytes, rev bytes]. */
  flowCounts(id: number): Float64Array { return this.blkF.subarray(id * (BLOCK_WORDS >>> 1) + B_COUNTS, id * (BLOCK_WORDS >>> 1) + B_COUNTS + 4); }
  /** True when the canonical key's first endpoint is the responder. */
  flowReversed(id: number): boolean { return (this.blk[id * BLOCK_WORDS + B_STATE] & S_INIT_REV) !== 0; }

  // --- internals -----------------------------------------------------------

  private find(ck: Uint32Array, h: number): number {
    const slots = this.slots;
    const key = this.blk;
    const mask = this.mask;
    let s = h & mask;
    for (;;) {
      const id = slots[s * 2];
      if (id < 0) return -1;
      if (slots[s * 2 + 1] === h) {
        const b = id * BLOCK_WORDS + B_KEY;
        if (key[b] === ck[0] && key[b + 1] === ck[1] && key[b + 5] === ck[5] && key[b + 9] === ck[9] &&
          key[b + 2] === ck[2] && key[b + 3] === ck[3] && key[b + 4] === ck[4] &&
          key[b + 6] === ck[6] && key[b + 7] === ck[7] && key[b + 8] === ck[8]) return id;
      }
      s = (s + 1) & mask;
    }
  }

  private insert(ck: Uint32Array, h: number, swap: boolean, t: number): number {
    if (this.n === this.maxFlows) this.evictOne();
    const id = this.ids[this.n++];
    const b = id * BLOCK_WORDS;
    const blk = this.blk;
    for (let i = 0; i < KEY_WORDS; i++) blk[b + B_KEY + i] = ck[i];
    blk[b + B_HASH] = h;
    blk[b + B_STATE] = swap ? S_INIT_REV : 0;
    this.reset(id);
    this.blkF[(b >>> 1) + B_FIRST_NS] = t;
    this.blkF[(b >>> 1) + B_LAST_NS] = t;
    const slots = this.slots;
    let s = h & this.mask;
    while (slots[s * 2] >= 0) s = (s + 1) & this.mask;
    slots[s * 2] = id;
    slots[s * 2 + 1] = h;
    this.created++;
    return id;
  }

  /** Zero the counters, timestamps and TCP flags of flow `id` (a new record starts). */
  private reset(id: number): void {
    const b = id * BLOCK_WORDS;
    const f = this.blkF;
    const c = (b >>> 1) + B_COUNTS;
    f[c] = 0; f[c + 1] = 0; f[c + 2] = 0; f[c + 3] = 0;
    this.blk.fill(0, b + B_TIME, b + B_TIME + 8);
    this.blk[b + B_STATE] &= 0xff;
  }

  /** Evict the least recently seen flow of a small sample (approximate LRU). */
  private evictOne(): void {
    let best = -1;
    let bestT = Infinity;
    for (let j = 0; j < SAMPLE && j < this.n; j++) {
      this.hand = this.hand + 1 >= this.n ? 0 : this.hand + 1;
      const id = this.ids[this.hand];
      const last = this.blkF[id * (BLOCK_WORDS >>> 1) + B_LAST_NS];
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
    const slots = this.slots;
    let i = this.blk[id * BLOCK_WORDS + B_HASH] & mask;
    while (slots[i * 2] !== id) i = (i + 1) & mask;
    // backward-shift deletion
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const o = slots[j * 2];
      if (o < 0) break;
      const home = slots[j * 2 + 1] & mask;
      // move o into the hole i if its home is not in (i, j]
      const inRange = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!inRange) {
        slots[i * 2] = o;
        slots[i * 2 + 1] = slots[j * 2 + 1];
        i = j;
      }
    }
    slots[i * 2] = -1;
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
    const b = id * BLOCK_WORDS;
    const fb = b >>> 1;
    const cnt = this.blkF;
    const c = fb + B_COUNTS;
    if (cnt[c] === 0 && cnt[c + 1] === 0) return; // nothing since the last record
    const rb = this.out;
    if (rb.count >= rb.capacity) { this.onFull(rb); rb.count = 0; }
    const w = rb.u32;
    const r = rb.count * RECORD_WORDS;
    const key = this.blk;
    const k = b + B_KEY;
    const st = key[b + B_STATE];
    const rev = (st & S_INIT_REV) !== 0;
    w[r] = key[k];
    if (rev) {
      for (let i = 1; i < 5; i++) { w[r + i] = key[k + 4 + i]; w[r + 4 + i] = key[k + i]; }
      w[r + 9] = ((key[k + 9] << 16) | (key[k + 9] >>> 16)) >>> 0;
    } else {
      for (let i = 1; i < KEY_WORDS; i++) w[r + i] = key[k + i];
    }
    for (let i = 0; i < 8; i++) w[r + R_FWD_TIME + i] = key[b + B_TIME + i];
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

/** 32-bit hash (signed int32, so it stays a small integer in V8) of a canonical key (murmur3-style mixing; IPv4 keys skip the zero words). */
export function hashKey(k: Uint32Array, v6: boolean): number {
  let h = mix(0x9747b28c, k[0]);
  h = mix(h, k[1]);
  h = mix(h, k[5]);
  h = mix(h, k[9]);
  if (v6) {
    h = mix(h, k[2]); h = mix(h, k[3]); h = mix(h, k[4]);
    h = mix(h, k[6]); h = mix(h, k[7]); h = mix(h, k[8]);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}
