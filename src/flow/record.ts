/**
 * Finished flow records in one flat buffer: the flow table writes them, the
 * exporters (IPFIX, NetFlow v9, JSON, Kafka) read them, worker threads send
 * whole buffers to the main thread. One record is {@link RECORD_BYTES} bytes:
 *
 *   u32[0..9]    key in the initiator's direction (see parse.ts)
 *   u32[10..13]  forward first sec, first nsec, last sec, last nsec
 *   u32[14..17]  reverse first sec, first nsec, last sec, last nsec (0 when no reverse packet)
 *   u32[18]      forward TCP flags | reverse TCP flags << 8 | end reason << 16
 *   u32[19]      observation domain (worker) id
 *   f64[10..13]  forward packets, reverse packets, forward bytes, reverse bytes
 */
import { KEY_WORDS, keyProto, keyVersion, keyVlan } from './parse.js';

/** Bytes per record. */
export const RECORD_BYTES = 112;
/** u32 words per record. */
export const RECORD_WORDS = RECORD_BYTES >>> 2;
/** Offsets in u32 words inside a record. */
export const R_FWD_TIME = 10;
export const R_REV_TIME = 14;
export const R_FLAGS = 18;
export const R_DOMAIN = 19;
/** Offset in f64 words inside a record. */
export const R_COUNTS = 10;

/** Why a flow record was exported (IPFIX flowEndReason, IANA IE 136). */
export const EndReason = {
  /** No packet for the idle timeout. */
  idle: 1,
  /** The flow lasted the active timeout (it continues in a new record). */
  active: 2,
  /** TCP FIN in both directions or RST. */
  end: 3,
  /** Forced out: shutdown, end of the file. */
  forced: 4,
  /** The table was full: evicted to make room. */
  lackOfResources: 5,
} as const;

const REASON_NAMES = ['', 'idle', 'active', 'end', 'forced', 'evicted'];

/** A growable-by-flush buffer of records. */
export class RecordBuffer {
  readonly buffer: ArrayBuffer;
  readonly u32: Uint32Array;
  readonly f64: Float64Array;
  /** Records in the buffer. */
  count = 0;
  readonly capacity: number;

  constructor(capacity = 1024, buffer?: ArrayBuffer, count = 0) {
    this.buffer = buffer ?? new ArrayBuffer(capacity * RECORD_BYTES);
    this.capacity = Math.floor(this.buffer.byteLength / RECORD_BYTES);
    this.u32 = new Uint32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
    this.count = count;
  }

  get full(): boolean { return this.count >= this.capacity; }
}

/** A flow record as a plain object (for JSON, Kafka and tests; allocates). */
export interface FlowRecord {
  /** 4 or 6. */
  ipVersion: number;
  /** IP protocol number. */
  proto: number;
  /** VLAN id, 0 when untagged. */
  vlan: number;
  /** Initiator (the first packet's source). */
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** Initiator -> responder. */
  packets: number;
  bytes: number;
  /** Responder -> initiator (0 for unidirectional records). */
  rpackets: number;
  rbytes: number;
  /** Forward first/last packet time, ns since the epoch (as a decimal string: exact). */
  firstNs: string;
  lastNs: string;
  /** Reverse first/last (empty when there was no reverse packet). */
  rfirstNs: string;
  rlastNs: string;
  /** TCP flags seen (union), forward and reverse. */
  tcpFlags: number;
  rtcpFlags: number;
  /** Why the record ended. */
  end: 'idle' | 'active' | 'end' | 'forced' | 'evicted';
  /** Observation domain (worker index). */
  domain: number;
}

function v4(n: number): string { return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`; }

function v6(w: Uint32Array, i: number): string {
  const parts: number[] = [];
  for (let j = 0; j < 4; j++) { parts.push(w[i + j] >>> 16, w[i + j] & 0xffff); }
  // longest run of zeros -> ::
  let best = -1, bestLen = 0;
  for (let s = 0; s < 8;) {
    if (parts[s] !== 0) { s++; continue; }
    let e = s;
    while (e < 8 && parts[e] === 0) e++;
    if (e - s > bestLen && e - s > 1) { best = s; bestLen = e - s; }
    s = e;
  }
  const hex = parts.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** The address of key word offset `i` (1 = source, 5 = destination) as text. */
export function addrText(w: Uint32Array, i: number, version: number): string {
  return version === 4 ? v4(w[i]) : v6(w, i);
}

function ns(sec: number, nsec: number): string {
  if (sec === 0 && nsec === 0) return '';
  return (BigInt(sec) * 1_000_000_000n + BigInt(nsec)).toString();
}

/** Record `i` of `rb` as an object. */
export function readRecord(rb: RecordBuffer, i: number): FlowRecord {
  const w = rb.u32;
  const b = i * RECORD_WORDS;
  const f = rb.f64;
  const c = i * (RECORD_BYTES >>> 3) + R_COUNTS;
  const version = keyVersion(w, b);
  const fl = w[b + R_FLAGS];
  return {
    ipVersion: version, proto: keyProto(w, b), vlan: keyVlan(w, b),
    src: addrText(w, b + 1, version), dst: addrText(w, b + 5, version),
    sport: w[b + 9] >>> 16, dport: w[b + 9] & 0xffff,
    packets: f[c], bytes: f[c + 2], rpackets: f[c + 1], rbytes: f[c + 3],
    firstNs: ns(w[b + R_FWD_TIME], w[b + R_FWD_TIME + 1]), lastNs: ns(w[b + R_FWD_TIME + 2], w[b + R_FWD_TIME + 3]),
    rfirstNs: ns(w[b + R_REV_TIME], w[b + R_REV_TIME + 1]), rlastNs: ns(w[b + R_REV_TIME + 2], w[b + R_REV_TIME + 3]),
    tcpFlags: fl & 0xff, rtcpFlags: (fl >>> 8) & 0xff,
    end: REASON_NAMES[(fl >>> 16) & 0xff] as FlowRecord['end'], domain: w[b + R_DOMAIN],
  };
}

/** The flow key of record `i` as a short string "proto src:sport-dst:dport[/vlan]" (Kafka message key). */
export function recordKeyText(rb: RecordBuffer, i: number): string {
  const w = rb.u32;
  const b = i * RECORD_WORDS;
  const version = keyVersion(w, b);
  const vlan = keyVlan(w, b);
  const a = addrText(w, b + 1, version);
  const z = addrText(w, b + 5, version);
  const sep = version === 6 ? (x: string, p: number): string => `[${x}]:${p}` : (x: string, p: number): string => `${x}:${p}`;
  return `${keyProto(w, b)} ${sep(a, w[b + 9] >>> 16)}-${sep(z, w[b + 9] & 0xffff)}${vlan ? `/${vlan}` : ''}`;
}

export { KEY_WORDS };
