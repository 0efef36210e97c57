/**
 * Replay a pcap or pcapng file: every record, in order, at its recorded
 * timing (optionally `speed` times faster), or paced by a fixed rate, or as
 * fast as possible; `loop` times over (0 = until stopped). Each loop starts
 * right after the previous one's last packet.
 *
 * Opening scans the file once: it checks that every interface is Ethernet
 * (LINKTYPE_ETHERNET; other link types cannot go out of an Ethernet device
 * unchanged) and finds the largest frame, which sizes the ring slots.
 */
import { openCaptureReader, PcapFormatError, type CaptureReader, type FileRecord } from '../pcap/index.js';
import { NetringError } from '../errors.js';
import { MAX_TX_FRAME } from '../tx/index.js';
import type { PacketSource } from '../tx/index.js';

/** Options of a replay. */
export interface ReplayOptions {
  /** pcap or pcapng file. */
  file: string;
  /** Multiple of the recorded speed (default 1; 2 = twice as fast). Ignored when the sender has a rate. */
  speed?: number;
  /** Ignore the recorded timing: send as fast as the sender's rate (or the kernel) allows. */
  ignoreTiming?: boolean;
  /** Times to play the file (default 1; 0 = until stopped). */
  loop?: number;
}

/** What a scan of the file found. */
export interface ReplayInfo {
  records: number;
  maxLength: number;
  meanLength: number;
  /** Recorded duration (last - first timestamp), ns. */
  durationNs: number;
  /** Records whose captured length is below the wire length (sent as captured). */
  truncated: number;
}

const LINK_NAMES: Record<number, string> = { 0: 'NULL', 101: 'RAW', 113: 'LINUX_SLL', 105: 'IEEE802_11', 127: 'IEEE802_11_RADIOTAP', 228: 'IPV4', 229: 'IPV6', 276: 'LINUX_SLL2' };

function checkLinkTypes(file: string, r: CaptureReader, from: number): number {
  for (let i = from; i < r.interfaces.length; i++) {
    const lt = r.interfaces[i].linkType;
    if (lt !== 1) {
      const name = LINK_NAMES[lt] ?? 'unsupported';
      throw new NetringError(`${file}: interface ${i} has link type ${name} (${lt}); only Ethernet (LINKTYPE_ETHERNET, 1) captures can be replayed on an Ethernet device`, 'EINVAL');
    }
  }
  return r.interfaces.length;
}

function open(file: string): CaptureReader {
  try {
    return openCaptureReader(file);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === 'ENOENT') throw new NetringError(`${file}: no such file`, 'ENOENT');
    throw new NetringError(`${file}: ${err.message ?? String(e)}`, err.code ?? 'EINVAL');
  }
}

/** Scan a file: link types, record count, sizes, duration. Throws NetringError for files netring cannot replay. */
export function scanReplay(file: string): ReplayInfo {
  const r = open(file);
  try {
    return scan(file, r);
  } catch (e) {
    // a truncated or corrupt record: say which file (the reader only knows the offset)
    if (e instanceof PcapFormatError) throw new NetringError(`${file}: ${e.message}`, 'EINVAL');
    throw e;
  } finally {
    r.close();
  }
}

function scan(file: string, r: CaptureReader): ReplayInfo {
  {
    let checked = checkLinkTypes(file, r, 0);
    let n = 0, max = 0, sum = 0, truncated = 0, first = -1, last = 0, sec0 = 0;
    for (let rec = r.next(); rec !== null; rec = r.next()) {
      if (r.interfaces.length > checked) checked = checkLinkTypes(file, r, checked);
      if (rec.linkType !== 1) checkLinkTypes(file, r, 0);
      if (rec.caplen > MAX_TX_FRAME) throw new NetringError(`${file}: record ${n} is ${rec.caplen} bytes, above the ${MAX_TX_FRAME}-byte frame limit`, 'EINVAL');
      if (rec.caplen < 14) throw new NetringError(`${file}: record ${n} has only ${rec.caplen} bytes, less than an Ethernet header`, 'EINVAL');
      if (first < 0) { sec0 = rec.sec; first = rec.nsec; }
      last = (rec.sec - sec0) * 1e9 + rec.nsec - first;
      if (rec.caplen < rec.wireLen) truncated++;
      if (rec.caplen > max) max = rec.caplen;
      sum += rec.caplen;
      n++;
    }
    if (r.interfaces.length === 0 && n === 0) throw new NetringError(`${file}: no packets`, 'EINVAL');
    return { records: n, maxLength: max, meanLength: n > 0 ? sum / n : 0, durationNs: Math.max(0, last), truncated };
  }
}

/** A capture file as a PacketSource. Create with {@link openReplay}. */
export class ReplaySource implements PacketSource {
  readonly file: string;
  readonly info: ReplayInfo;
  readonly maxLength: number;
  readonly meanLength: number;
  /** Present when the recorded timing is followed. */
  readonly due?: () => number;
  /** Records sent so far (over all loops). */
  written = 0;
  /** Loops started so far. */
  loopsStarted = 0;
  private reader: CaptureReader | null;
  private rec: FileRecord | null = null;
  private readonly loops: number;
  private readonly perNs: number; // 1 / speed
  private sec0 = 0;
  private nsec0 = 0;
  private loopOffset = 0;
  private lastDue = 0;

  constructor(o: ReplayOptions) {
    if (!o || typeof o.file !== 'string' || o.file === '') throw new NetringError('replay needs a file', 'EINVAL');
    const speed = o.speed ?? 1;
    if (!(speed > 0) || !Number.isFinite(speed)) throw new NetringError(`speed must be a positive number (got ${String(o.speed)})`, 'EINVAL');
    const loop = o.loop ?? 1;
    if (!Number.isInteger(loop) || loop < 0) throw new NetringError(`loop must be a whole number >= 0 (got ${String(o.loop)}; 0 = forever)`, 'EINVAL');
    this.file = o.file;
    this.info = scanReplay(o.file);
    this.maxLength = Math.max(60, this.info.maxLength);
    this.meanLength = this.info.meanLength;
    this.loops = loop === 0 ? Infinity : loop;
    this.perNs = 1 / speed;
    this.reader = null;
    if (!o.ignoreTiming) this.due = () => this.nextDue();
  }

  /** Advance to the next record (opening the file for the next loop as needed); null at the very end. */
  private advance(): FileRecord | null {
    for (;;) {
      if (this.reader === null) {
        if (this.loopsStarted >= this.loops || this.info.records === 0) return null;
        this.reader = open(this.file);
        this.loopsStarted++;
        if (this.loopsStarted > 1) this.loopOffset = this.lastDue;
        const first = this.reader.next();
        if (first === null) { this.reader.close(); this.reader = null; return null; }
        this.sec0 = first.sec;
        this.nsec0 = first.nsec;
        return first;
      }
      const r = this.reader.next();
      if (r !== null) return r;
      this.reader.close();
      this.reader = null;
    }
  }

  private nextDue(): number {
    if (this.rec === null) {
      this.rec = this.advance();
      if (this.rec === null) return -1;
    }
    const r = this.rec;
    const d = this.loopOffset + ((r.sec - this.sec0) * 1e9 + (r.nsec - this.nsec0)) * this.perNs;
    this.lastDue = d;
    return d;
  }

  write(u8: Uint8Array, off: number): number {
    let r = this.rec;
    if (r === null) {
      r = this.advance();
      if (r === null) return 0;
    }
    this.rec = null;
    const n = r.caplen;
    const d = r.data;
    const s = r.offset;
    if (n <= 128) for (let i = 0; i < n; i++) u8[off + i] = d[s + i];
    else u8.set(d.subarray(s, s + n), off);
    this.written++;
    return n;
  }

  /** Close the file. Idempotent. */
  close(): void {
    if (this.reader !== null) { this.reader.close(); this.reader = null; }
    this.rec = null;
  }
}

/** Open a replay source (scans the file first; see the module doc). */
export function openReplay(o: ReplayOptions): ReplaySource {
  return new ReplaySource(o);
}
