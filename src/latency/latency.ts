/**
 * Receive-side analysis of stamped traffic (`generate({ stamp: true })`):
 * per stream, packets received, duplicates, reordered (arrived after a higher
 * sequence number), lost (expected - distinct received), and one-way latency
 * = receive timestamp (the kernel's, hardware when the capture has it) - the
 * send time in the stamp, as an HDR histogram with p50/p90/p99/p99.9/max.
 *
 *   const a = new LatencyAnalyser();
 *   for await (const batch of capture) batch.forEach((p) => a.observe(p));
 *   a.expect(0, summary.sent);      // the sender's count makes tail losses visible
 *   console.log(a.report());
 *
 * Without `expect`, the expected count of a stream is its highest sequence
 * number + 1, so packets lost after the last one received are not counted.
 */
import { build, type Histogram } from 'hdr-histogram-js';
import { Layers } from '../decode/index.js';
import type { PacketLike } from '../packet-like.js';
import type { Capture } from '../ring/index.js';
import { openCaptureReader } from '../pcap/index.js';
import { isStamp, STAMP_LEN, stampNsec, stampSec, stampSeq, stampStream } from './stamp.js';

/** Latency percentiles in nanoseconds. */
export interface LatencyStats {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Counts of one stream (or of all streams together). */
export interface LossStats {
  /** Stamped packets received (duplicates included). */
  received: number;
  /** Distinct sequence numbers received. */
  unique: number;
  /** Packets whose sequence number was already seen. */
  duplicates: number;
  /** Packets that arrived after a packet with a higher sequence number. */
  reordered: number;
  /** Packets the stream should have delivered (sender's count, or highest sequence + 1). */
  expected: number;
  /** expected - unique. */
  lost: number;
  /** lost / expected, percent. */
  lossPct: number;
}

export interface StreamReport extends LossStats {
  stream: number;
  latency: LatencyStats;
}

export interface LatencyReport extends LossStats {
  streams: StreamReport[];
  /** Over all streams. */
  latency: LatencyStats;
  /** Receive stamps earlier than the send stamp (clock offset): recorded as 0. */
  negative: number;
  /** Packets without a stamp (other traffic). */
  ignored: number;
}

class StreamState {
  received = 0;
  unique = 0;
  duplicates = 0;
  reordered = 0;
  maxSeq = -1;
  expected = -1;
  seen = new Uint8Array(1024);
  readonly hist: Histogram = newHistogram();
}

function newHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: 3 });
}

function percentiles(h: Histogram): LatencyStats {
  if (h.totalCount === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  return {
    count: h.totalCount, min: h.getValueAtPercentile(0), mean: h.mean,
    p50: h.getValueAtPercentile(50), p90: h.getValueAtPercentile(90), p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9), max: h.maxValue,
  };
}

/** Options of {@link LatencyAnalyser}. */
export interface AnalyserOptions {
  /** Packets sent per stream id, when known. */
  expected?: Record<number, number>;
}

export class LatencyAnalyser {
  private readonly layers = new Layers();
  private readonly streams = new Map<number, StreamState>();
  private negative = 0;
  private ignored = 0;
  /** Stamped packets seen so far (all streams). */
  stamped = 0;

  constructor(o: AnalyserOptions = {}) {
    if (o.expected) for (const [k, v] of Object.entries(o.expected)) this.expect(Number(k), v);
  }

  /** Set how many packets stream `stream` sent (the sender's count). */
  expect(stream: number, sent: number): void {
    this.state(stream).expected = sent;
  }

  private state(stream: number): StreamState {
    let s = this.streams.get(stream);
    if (s === undefined) {
      s = new StreamState();
      this.streams.set(stream, s);
    }
    return s;
  }

  /** Feed a received packet (its timestamp is the receive time). Returns true when it carried a stamp. */
  observe(p: PacketLike): boolean {
    const L = this.layers;
    L.decodePacket(p);
    const off = L.payloadOffset;
    if (off < 0 || L.payloadLength < STAMP_LEN || !isStamp(p.data, off)) { this.ignored++; return false; }
    return this.record(p.data, off, p.sec, p.nsec);
  }

  /** Feed a stamp found at data[off] received at (sec, nsec). */
  record(data: Uint8Array, off: number, sec: number, nsec: number): boolean {
    const stream = stampStream(data, off);
    const seq = stampSeq(data, off);
    const lat = (sec - stampSec(data, off)) * 1e9 + (nsec - stampNsec(data, off));
    const s = this.state(stream);
    s.received++;
    this.stamped++;
    const byte = seq >>> 3;
    if (byte >= s.seen.length) {
      let n = s.seen.length;
      while (n <= byte) n *= 2;
      const g = new Uint8Array(n);
      g.set(s.seen);
      s.seen = g;
    }
    const bit = 1 << (seq & 7);
    if ((s.seen[byte] & bit) !== 0) {
      s.duplicates++;
    } else {
      s.seen[byte] |= bit;
      s.unique++;
      if (seq < s.maxSeq) s.reordered++;
    }
    if (seq > s.maxSeq) s.maxSeq = seq;
    if (lat < 0) {
      this.negative++;
      s.hist.recordValue(0);
    } else {
      s.hist.recordValue(Math.round(lat));
    }
    return true;
  }

  /** The report so far. */
  report(): LatencyReport {
    const streams: StreamReport[] = [];
    const all = newHistogram();
    const tot: LossStats = { received: 0, unique: 0, duplicates: 0, reordered: 0, expected: 0, lost: 0, lossPct: 0 };
    for (const [id, s] of [...this.streams].sort((x, y) => x[0] - y[0])) {
      const expected = s.expected >= 0 ? s.expected : s.maxSeq + 1;
      const lost = Math.max(0, expected - s.unique);
      streams.push({
        stream: id, received: s.received, unique: s.unique, duplicates: s.duplicates, reordered: s.reordered, expected, lost,
        lossPct: expected > 0 ? (100 * lost) / expected : 0, latency: percentiles(s.hist),
      });
      all.add(s.hist);
      tot.received += s.received;
      tot.unique += s.unique;
      tot.duplicates += s.duplicates;
      tot.reordered += s.reordered;
      tot.expected += expected;
      tot.lost += lost;
    }
    tot.lossPct = tot.expected > 0 ? (100 * tot.lost) / tot.expected : 0;
    return { ...tot, streams, latency: percentiles(all), negative: this.negative, ignored: this.ignored };
  }
}

/**
 * Analyse a live capture until `until()` says stop (checked after every
 * batch and every `pollMs`), then return the report. The capture stays open.
 */
export async function analyseCapture(cap: Capture, a: LatencyAnalyser, until: () => boolean, pollMs = 20): Promise<LatencyReport> {
  const observe = (p: PacketLike): void => { a.observe(p); };
  while (!until()) {
    const b = cap.tryBatch();
    if (b === null) {
      await new Promise((r) => setTimeout(r, pollMs));
      continue;
    }
    b.forEach(observe);
  }
  for (let b = cap.tryBatch(); b !== null; b = cap.tryBatch()) b.forEach(observe);
  return a.report();
}

/** Analyse a capture file of stamped traffic (file timestamps are the receive times). */
export function analyseFile(path: string, o: AnalyserOptions = {}): LatencyReport {
  const a = new LatencyAnalyser(o);
  const r = openCaptureReader(path);
  try {
    r.forEach((rec) => { a.observe(rec); });
  } finally {
    r.close();
  }
  return a.report();
}
