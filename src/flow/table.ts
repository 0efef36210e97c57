/**
 * FlowTable: bidirectional flow metering in preallocated typed arrays.
 *
 * - Open addressing (linear probing, backward-shift deletion) over a slot
 *   array of flow ids; per-flow state lives in flat arrays indexed by id.
 *   Nothing is allocated per packet or per flow after construction.
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
  private readonly slots: Int32Array;
  private readonly slotHash: Int32Array;
  private readonly key: Uint32Array;
  private readonly hash: Int32Array;
  private readonly tm: Uint32Array; // 8 per flow: fwd first s/ns, last s/ns, rev first s/ns, last s/ns
  private readonly cnt: Float64Array; // 4 per flow: fwd pkts, rev pkts, fwd bytes, rev bytes
  private readonly firstNs: Float64Array;
  private readonly lastNs: Float64Array;
  private readonly tcp: Uint8Array; // 2 per flow
  private readonly state: Uint8Array;
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
    this.slots = new Int32Array(cap).fill(-1);
    this.slotHash = new Int32Array(cap);
    this.key = new Uint32Array(max * KEY_WORDS);
    this.hash = new Int32Array(max);
    this.tm = new Uint32Array(max * 8);
    this.cnt = new Float64Array(max * 4);
    this.firstNs = new Float64Array(max);
    this.lastNs = new Float64Array(max);
    this.tcp = new Uint8Array(max * 2);
    this.state = new Uint8Array(max);
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
    if (id >= 0) {
      const st = this.state[id];
      if ((st & S_CLOSED) !== 0 && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
        this.finish(id, EndReason.end); // a new connection on the same ports
        id = -1;
      } else if (t - this.firstNs[id] >= this.activeNs) {
        this.emit(id, EndReason.active); // the record ends BEFORE this packet
        this.reset(id);
        this.firstNs[id] = t;
      }
    }
    if (id < 0) id = this.insert(ck, h, swap, t);
    const dir = (swap ? 1 : 0) ^ (this.state[id] & S_INIT_REV);
    const c = id * 4;
    this.cnt[c + dir]++;
    this.cnt[c + 2 + dir] += pp.ipBytes;
    const m = id * 8 + dir * 4;
    const tm = this.tm;
    if (tm[m] === 0 && tm[m + 1] === 0) { tm[m] = sec; tm[m + 1] = nsec; }
    tm[m + 2] = sec; tm[m + 3] = nsec;
    if (t > this.lastNs[id]) this.lastNs[id] = t;
    if (flags !== 0) {
      this.tcp[id * 2 + dir] |= flags;
      if ((flags & TCP_RST) !== 0) this.state[id] |= S_CLOSED;
      else if ((flags & TCP_FIN) !== 0) {
        let s = this.state[id] | (dir === 0 ? S_FIN_FWD : S_FIN_REV);
        if ((s & (S_FIN_FWD | S_FIN_REV)) === (S_FIN_FWD | S_FIN_REV)) s |= S_CLOSED;
        this.state[id] = s;
      }
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
      const idle = nowNs - this.lastNs[id];
      let reason = 0;
      if ((this.state[id] & S_CLOSED) !== 0 && idle >= this.closeNs) reason = EndReason.end;
      else if (idle >= this.idleNs) reason = EndReason.idle;
      else if (nowNs - this.firstNs[id] >= this.activeNs) reason = EndReason.active;
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
  flowKey(id: number): Uint32Array { return this.key.subarray(id * KEY_WORDS, id * KEY_WORDS + KEY_WORDS); }
  /** Packets and bytes of flow `id` in both directions: [fwd pkts, rev pkts, fwd bytes, rev bytes]. */
  flowCounts(id: number): Float64Array { return this.cnt.subarray(id * 4, id * 4 + 4); }
  /** True when the canonical key's first endpoint is the responder. */
  flowReversed(id: number): boolean { return (this.state[id] & S_INIT_REV) !== 0; }

  // --- internals -----------------------------------------------------------

  private find(ck: Uint32Array, h: number): number {
    const slots = this.slots;
    const key = this.key;
    let s = h & this.mask;
    for (;;) {
      const id = slots[s];
      if (id < 0) return -1;
      if (this.slotHash[s] === h) {
        const b = id * KEY_WORDS;
        if (key[b] === ck[0] && key[b + 1] === ck[1] && key[b + 5] === ck[5] && key[b + 9] === ck[9] &&
          key[b + 2] === ck[2] && key[b + 3] === ck[3] && key[b + 4] === ck[4] &&
          key[b + 6] === ck[6] && key[b + 7] === ck[7] && key[b + 8] === ck[8]) return id;
      }
      s = (s + 1) & this.mask;
    }
  }

  private insert(ck: Uint32Array, h: number, swap: boolean, t: number): number {
    if (this.n === this.maxFlows) this.evictOne();
    const id = this.ids[this.n++];
    const b = id * KEY_WORDS;
    for (let i = 0; i < KEY_WORDS; i++) this.key[b + i] = ck[i];
    this.hash[id] = h;
    this.state[id] = swap ? S_INIT_REV : 0;
    this.reset(id);
    this.firstNs[id] = t;
    this.lastNs[id] = t;
    let s = h & this.mask;
    while (this.slots[s] >= 0) s = (s + 1) & this.mask;
    this.slots[s] = id;
    this.slotHash[s] = h;
    this.created++;
    return id;
  }

  private reset(id: number): void {
    const c = id * 4;
    this.cnt[c] = 0; this.cnt[c + 1] = 0; this.cnt[c + 2] = 0; this.cnt[c + 3] = 0;
    this.tm.fill(0, id * 8, id * 8 + 8);
    this.tcp[id * 2] = 0;
    this.tcp[id * 2 + 1] = 0;
  }

  /** Evict the least recently seen flow of a small sample (approximate LRU). */
  private evictOne(): void {
    let best = -1;
    let bestT = Infinity;
    for (let j = 0; j < SAMPLE && j < this.n; j++) {
      this.hand = this.hand + 1 >= this.n ? 0 : this.hand + 1;
      const id = this.ids[this.hand];
      if (this.lastNs[id] < bestT) { bestT = this.lastNs[id]; best = id; }
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
    let i = this.hash[id] & mask;
    while (slots[i] !== id) i = (i + 1) & mask;
    // backward-shift deletion
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const o = slots[j];
      if (o < 0) break;
      const home = this.slotHash[j] & mask;
      // move o into the hole i if its home is not in (i, j]
      const inRange = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!inRange) {
        slots[i] = o;
        this.slotHash[i] = this.slotHash[j];
        i = j;
      }
    }
    slots[i] = -1;
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
    const c = id * 4;
    if (this.cnt[c] === 0 && this.cnt[c + 1] === 0) return; // nothing since the last record
    const rb = this.out;
    if (rb.count >= rb.capacity) { this.onFull(rb); rb.count = 0; }
    const w = rb.u32;
    const r = rb.count * RECORD_WORDS;
    const b = id * KEY_WORDS;
    const key = this.key;
    const rev = (this.state[id] & S_INIT_REV) !== 0;
    w[r] = key[b];
    if (rev) {
      for (let i = 1; i < 5; i++) { w[r + i] = key[b + 4 + i]; w[r + 4 + i] = key[b + i]; }
      w[r + 9] = ((key[b + 9] << 16) | (key[b + 9] >>> 16)) >>> 0;
    } else {
      for (let i = 1; i < KEY_WORDS; i++) w[r + i] = key[b + i];
    }
    const m = id * 8;
    for (let i = 0; i < 8; i++) w[r + R_FWD_TIME + i] = this.tm[m + i];
    w[r + R_FLAGS] = this.tcp[id * 2] | (this.tcp[id * 2 + 1] << 8) | (reason << 16);
    w[r + R_DOMAIN] = this.domain;
    const f = rb.count * (RECORD_BYTES >>> 3) + R_COUNTS;
    rb.f64[f] = this.cnt[c];
    rb.f64[f + 1] = this.cnt[c + 1];
    rb.f64[f + 2] = this.cnt[c + 2];
    rb.f64[f + 3] = this.cnt[c + 3];
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
