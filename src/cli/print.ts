/**
 * One text line per packet, as tcpdump prints it: the timestamp (-t, -tt,
 * -ttt, -tttt, -ttttt), the protocol summary (relative TCP sequence numbers
 * unless -S, link-level header with -e) and the hex/ASCII dumps of -x, -xx,
 * -X, -XX and -A. Allocates strings: printing is not the hot path.
 */
import { Layers, summary } from '../decode/index.js';
import { native } from '../native.js';
import { TcpSeqTracker } from '../decode/tcp-seq.js';
import type { PacketLike } from '../packet-like.js';

/** tcpdump's printing flags, as counts of their repeats. */
export interface PrintOptions {
  /** Number of -t: 0 local HH:MM:SS.us, 1 none, 2 epoch, 3 delta to previous, 4 date and time, 5 delta to first. */
  t?: number;
  /** -S: absolute TCP sequence numbers. */
  absoluteSeq?: boolean;
  /** -e: link-level header. */
  link?: boolean;
  /** Number of -x (1: hex from the network header, 2: from the link header). */
  x?: number;
  /** Number of -X (hex and ASCII; 1 from the network header, 2 from the link header). */
  X?: number;
  /** -A: ASCII from the network header. */
  A?: boolean;
  /** -l: write each line as soon as it is formatted (default: once per ring batch). */
  lineBuffered?: boolean;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

const LINKTYPE_LINUX_SLL2 = 276;
/** sll_pkttype as tcpdump prints it. */
const PKT_TYPE_WORD = ['In', 'B', 'M', 'P', 'Out'];

/** Formats packets one at a time; keeps the state tcpdump keeps (previous/first timestamp, TCP conversations). */
export class PacketPrinter {
  private readonly layers = new Layers();
  private readonly seq: TcpSeqTracker | undefined;
  private firstUs = -1;
  private prevUs = -1;
  private readonly names = new Map<number, string>();

  constructor(private readonly o: PrintOptions = {}) {
    this.seq = o.absoluteSeq ? undefined : new TcpSeqTracker();
  }

  /** The text for one packet (no trailing newline; dumps add lines). */
  format(p: PacketLike): string {
    const l = this.layers;
    l.decodePacket(p);
    let ts = this.stamp(p.sec, Math.floor(p.nsec / 1000));
    if (p.linkType === LINKTYPE_LINUX_SLL2 && p.caplen >= 20) ts += this.cookedPrefix(p.data, p.offset);
    let s = ts + summary(l, p.data, { tcpdump: true, link: this.o.link === true, wireLen: p.wireLen, tcpSeq: this.seq });
    const x = Math.max(this.o.x ?? 0, this.o.X ?? 0);
    if (x > 0 || this.o.A) {
      const end = p.offset + p.caplen;
      const from = x >= 2 ? p.offset : this.networkOffset(p);
      if (this.o.A && x === 0) s += asciiDump(p.data, from, end);
      else s += hexDump(p.data, from, end, (this.o.X ?? 0) > 0);
    }
    return s;
  }

  /**
   * tcpdump's prefix for an SLL2 packet (tcpdump -i any, or a file of it):
   * the interface name (`?` when this host has no such index) in 5 columns,
   * then the direction in 3: In, B, M, P, Out.
   */
  private cookedPrefix(d: Uint8Array, o: number): string {
    const ifindex = ((d[o + 4] << 24) | (d[o + 5] << 16) | (d[o + 6] << 8) | d[o + 7]) >>> 0;
    let name = this.names.get(ifindex);
    if (name === undefined) {
      try { name = native.ifname(ifindex); } catch { name = '?'; }
      this.names.set(ifindex, name);
    }
    return `${name.padEnd(5)} ${(PKT_TYPE_WORD[d[o + 10]] ?? '?').padEnd(3)} `;
  }

  /** Where the network-layer header starts (after Ethernet and its VLAN tags, or the cooked header). */
  private networkOffset(p: PacketLike): number {
    const l = this.layers;
    if (l.l3Offset > p.offset) return l.l3Offset;
    return Math.min(p.offset + p.caplen, l.payloadOffset >= 0 && l.ipVersion === 0 ? l.payloadOffset : p.offset);
  }

  private stamp(sec: number, us: number): string {
    const t = this.o.t ?? 0;
    const now = sec * 1e6 + us;
    switch (t) {
      case 0: {
        const d = new Date(sec * 1000);
        return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(us, 6)} `;
      }
      case 1: return '';
      case 2: return `${sec}.${pad(us, 6)} `;
      case 4: {
        const d = new Date(sec * 1000);
        return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(us, 6)} `;
      }
      default: {
        if (this.firstUs < 0) { this.firstUs = now; this.prevUs = now; }
        const delta = now - (t === 3 ? this.prevUs : this.firstUs);
        this.prevUs = now;
        const a = Math.abs(delta);
        const s = Math.floor(a / 1e6);
        return `${delta < 0 ? '-' : ' '}${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}.${pad(a % 1e6, 6)} `;
      }
    }
  }
}

/** tcpdump -x / -X lines: `\n\t0x0000:  4500 0054 ...` (with -X the ASCII column). */
export function hexDump(d: Uint8Array, from: number, end: number, ascii: boolean): string {
  let out = '';
  for (let o = from; o < end; o += 16) {
    const stop = Math.min(o + 16, end);
    let hex = '';
    let txt = '';
    for (let i = o; i < stop; i += 2) {
      hex += ` ${d[i]!.toString(16).padStart(2, '0')}${i + 1 < stop ? d[i + 1]!.toString(16).padStart(2, '0') : ''}`;
    }
    for (let i = o; i < stop; i++) { const c = d[i]!; txt += c > 0x20 && c < 0x7f ? String.fromCharCode(c) : '.'; }
    out += `\n\t0x${(o - from).toString(16).padStart(4, '0')}: ${ascii ? `${hex.padEnd(40)}  ${txt}` : hex}`;
  }
  return out;
}

/** tcpdump -A: the bytes as text on the next lines (non-printables as '.', newlines and tabs kept, CR dropped before LF). */
export function asciiDump(d: Uint8Array, from: number, end: number): string {
  let out = '\n';
  for (let i = from; i < end; i++) {
    const c = d[i]!;
    if (c === 0x0d) { if (i + 1 >= end || d[i + 1] !== 0x0a) out += '.'; }
    else out += (c > 0x20 && c < 0x7f) || c === 0x09 || c === 0x20 || c === 0x0a ? String.fromCharCode(c) : '.';
  }
  return out;
}
