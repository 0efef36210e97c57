/**
 * The classic BPF interpreter, one for every hook. What differs between the
 * hooks is the skb the program sees, so the interpreter takes an
 * {@link SkbModel}:
 *
 * - {@link socketSkb}: a packet socket's filter (SO_ATTACH_FILTER). skb->data
 *   is the link-layer header, `len` the wire length, and on the receive path
 *   a VLAN tag lives in metadata. With `kernel: false` the same bytes are
 *   seen as libpcap's userland filter sees a capture file: no metadata.
 * - {@link skbOf}: the PACKET_FANOUT hook. Absolute loads are relative to
 *   skb->data, which is the network header on receive (the tag moved to
 *   metadata) and the MAC header on send.
 *
 * Kernel models (`kernel: true`): loads at SKF_AD_OFF + n read metadata,
 * SKF_NET_OFF / SKF_LL_OFF loads read relative to the network / MAC header,
 * `X + k` of an indirect load wraps at 32 bits. Userland (`kernel: false`):
 * negative offsets fail and `X + k` does not wrap, as in libpcap.
 * Both: A, X and M[] start at 0; a load outside the packet, or a division or
 * modulus by zero, ends the program with 0; shifts by X use the low five bits
 * of X (the kernel's JIT and interpreter); `ja` offsets wrap at 32 bits so
 * libpcap's backward jumps (protochain) run, with a step budget.
 */
import { NetringError } from '../errors.js';
import type { PacketLike } from '../packet-like.js';
import { AD, SKF_AD_OFF, SKF_LL_OFF, SKF_NET_OFF } from './ancillary.js';
import type { BpfProgram } from './classic.js';

/** skb metadata visible to ancillary loads (Linux SKF_AD_*). */
export interface SkbMeta {
  /** skb->protocol (EtherType, host order). */
  protocol: number;
  pktType: number;
  ifindex: number;
  mark: number;
  queue: number;
  hatype: number;
  rxhash: number;
  cpu: number;
  vlanPresent: boolean;
  vlanTci: number;
  vlanTpid: number;
  /** Source of SKF_AD_RANDOM (default Math.random). */
  random?: () => number;
}

/** The parts of an skb a classic BPF program can see at one hook. */
export interface SkbModel extends SkbMeta {
  /** Bytes; the link-layer header starts at `base`. */
  frame: Uint8Array;
  /** Offset of the link-layer header in `frame` (default 0). */
  base?: number;
  /** Bytes available from `base` (default frame.length - base). */
  caplen?: number;
  /** Offset of skb->data from the link-layer header: where absolute loads start. */
  data: number;
  /** Offset of the network header from the link-layer header. */
  net: number;
  /** What `ld #len` reads (skb->len). Default: caplen - data. */
  len?: number;
  /** Kernel semantics (metadata and negative offsets) or libpcap's userland ones. */
  kernel: boolean;
}

/** Upper bound on executed instructions before a program is declared looping. */
export const MAX_STEPS = 1 << 20;

const NO_META: SkbMeta = Object.freeze({
  protocol: 0, pktType: 0, ifindex: 0, mark: 0, queue: 0, hatype: 1, rxhash: 0, cpu: 0, vlanPresent: false, vlanTci: 0, vlanTpid: 0,
});

/**
 * Model a frame as the fan-out hook sees it. Receive path ('in'): an in-frame
 * 802.1Q/802.1ad tag is moved to metadata (as the kernel's untagging does) and
 * skb->data points at the network header. Send path ('out'): the frame is
 * left as it is and skb->data points at the MAC header.
 */
export function skbOf(frame: Uint8Array, direction: 'in' | 'out', meta: Partial<SkbModel> = {}): SkbModel {
  let f = frame;
  let vlanPresent = false, vlanTci = 0, vlanTpid = 0;
  const et = (o: number): number => (f[o] << 8) | f[o + 1];
  if (direction === 'in' && f.length >= 18 && (et(12) === 0x8100 || et(12) === 0x88a8)) {
    vlanPresent = true;
    vlanTpid = et(12);
    vlanTci = et(14);
    const g = new Uint8Array(f.length - 4);
    g.set(f.subarray(0, 12), 0);
    g.set(f.subarray(16), 12);
    f = g;
  }
  return {
    ...NO_META, frame: f, data: direction === 'in' ? 14 : 0, net: 14, vlanTci, vlanPresent, vlanTpid,
    protocol: f.length >= 14 ? et(12) : 0, pktType: direction === 'in' ? 0 : 4, kernel: true, ...meta,
  };
}

/**
 * Model a captured packet as a packet socket's filter sees it (`kernel`
 * true: VLAN tag and packet type from the ring's metadata) or as libpcap's
 * userland filter does (`kernel` false). Fills and returns `into` when given,
 * so a per-packet loop allocates nothing.
 */
export function socketSkb(p: PacketLike, kernel: boolean, into?: SkbModel): SkbModel {
  const m = into ?? { ...NO_META, frame: p.data, data: 0, net: 14, kernel };
  m.frame = p.data;
  m.base = p.offset;
  m.caplen = p.caplen;
  m.len = p.wireLen;
  m.data = 0;
  m.net = 14;
  m.kernel = kernel;
  m.pktType = kernel ? p.pktType : 0;
  m.ifindex = kernel ? p.ifindex : 0;
  m.vlanPresent = kernel && p.vlanValid;
  m.vlanTci = kernel ? p.vlanTci : 0;
  m.vlanTpid = kernel ? p.vlanTpid : 0;
  return m;
}

/** Run `prog` on a PacketLike with packet-socket (`kernel`) or libpcap userland semantics. */
export function runBpfOn(prog: BpfProgram, p: PacketLike, kernel = false): number {
  return runClassic(prog, socketSkb(p, kernel, scratch));
}
const scratch: SkbModel = { ...NO_META, frame: new Uint8Array(0), data: 0, net: 14, kernel: false };

/** VLAN metadata for {@link runBpf}: absent = libpcap userland semantics. */
export type BpfMeta = Partial<SkbMeta>;

/**
 * Run `prog` on `data[off .. off+caplen)` as a packet socket's filter
 * (`meta` given: kernel semantics, metadata visible) or as libpcap's
 * userland filter (no `meta`). Returns the filter's result (0 = drop).
 */
export function runBpf(prog: BpfProgram, data: Uint8Array, off: number, caplen: number, wireLen: number, meta?: BpfMeta): number {
  return runClassic(prog, { ...NO_META, ...meta, frame: data, base: off, caplen, len: wireLen, data: 0, net: 14, kernel: meta !== undefined });
}

class Fail { }
const FAIL = new Fail();

/** Run a classic BPF program on a modelled skb; returns the program's u32 result (0 when a load fails). */
export function runClassic(prog: BpfProgram, skb: SkbModel): number {
  const f = skb.frame;
  const base = skb.base ?? 0;
  const caplen = skb.caplen ?? f.length - base;
  const kernel = skb.kernel;
  const load = (off: number, sz: number): number => {
    // `off` is the signed 32-bit offset (kernel) or the unsigned one (userland).
    let at: number;
    if (off >= 0) at = skb.data + off;
    else if (!kernel) throw FAIL;
    else if (off >= SKF_AD_OFF) throw FAIL;
    else if (off >= SKF_NET_OFF) at = skb.net + (off - SKF_NET_OFF);
    else if (off >= SKF_LL_OFF) at = off - SKF_LL_OFF;
    else throw FAIL;
    if (at < 0 || at + sz > caplen) throw FAIL;
    const p = base + at;
    if (sz === 1) return f[p];
    if (sz === 2) return (f[p] << 8) | f[p + 1];
    return ((f[p] << 24) | (f[p + 1] << 16) | (f[p + 2] << 8) | f[p + 3]) >>> 0;
  };
  let A = 0, X = 0;
  const M = new Uint32Array(16);
  const n = prog.length;
  let steps = 0;
  try {
    for (let pc = 0; pc >= 0 && pc < n; pc++) {
      if (++steps > MAX_STEPS) return 0;
      const { code, jt, jf } = prog[pc];
      const k = prog[pc].k >>> 0;
      const ks = k | 0;
      const sz = (code & 0x18) === 0x00 ? 4 : (code & 0x18) === 0x08 ? 2 : 1;
      switch (code & 0x07) {
        case 0x00: // LD
          switch (code & 0xe0) {
            case 0x00: A = k; break;
            case 0x20: A = kernel && ks >= SKF_AD_OFF && ks < 0 ? ancillary(skb, ks - SKF_AD_OFF, A, X) : load(kernel ? ks : k, sz); break;
            case 0x40: A = load(kernel ? (X + ks) | 0 : X + k, sz); break;
            case 0x60: A = M[k & 15]; break;
            case 0x80: A = (skb.len ?? caplen - skb.data) >>> 0; break;
            default: return bad(pc);
          }
          break;
        case 0x01: // LDX
          switch (code & 0xe0) {
            case 0x00: X = k; break;
            case 0x60: X = M[k & 15]; break;
            case 0x80: X = (skb.len ?? caplen - skb.data) >>> 0; break;
            case 0xa0: X = (load(kernel ? ks : k, 1) & 0xf) << 2; break;
            default: return bad(pc);
          }
          break;
        case 0x02: M[k & 15] = A; break;
        case 0x03: M[k & 15] = X; break;
        case 0x04: { // ALU
          const s = (code & 0x08) !== 0 ? X : k;
          switch (code & 0xf0) {
            case 0x00: A = (A + s) >>> 0; break;
            case 0x10: A = (A - s) >>> 0; break;
            case 0x20: A = Math.imul(A, s) >>> 0; break;
            case 0x30: if (s === 0) return 0; A = Math.floor(A / s) >>> 0; break;
            case 0x40: A = (A | s) >>> 0; break;
            case 0x50: A = (A & s) >>> 0; break;
            case 0x60: A = (A << (s & 31)) >>> 0; break;
            case 0x70: A = A >>> (s & 31); break;
            case 0x80: A = (-A) >>> 0; break;
            case 0x90: if (s === 0) return 0; A = (A % s) >>> 0; break;
            case 0xa0: A = (A ^ s) >>> 0; break;
            default: return bad(pc);
          }
          break;
        }
        case 0x05: { // JMP
          const o = code & 0xf0;
          if (o === 0x00) { pc = (pc + ks) | 0; break; }
          const s = (code & 0x08) !== 0 ? X : k;
          let t: boolean;
          if (o === 0x10) t = A === s;
          else if (o === 0x20) t = A > s;
          else if (o === 0x30) t = A >= s;
          else if (o === 0x40) t = (A & s) !== 0;
          else return bad(pc);
          pc += t ? jt : jf;
          break;
        }
        case 0x06: // RET
          if ((code & 0x18) === 0x10) return A >>> 0;
          if ((code & 0x18) === 0x00) return k;
          return bad(pc);
        case 0x07: if ((code & 0xf8) === 0x80) A = X; else X = A; break;
      }
    }
  } catch (e) {
    if (e === FAIL) return 0;
    throw e;
  }
  return 0; // ran past the end (the kernel's checker refuses such programs; libpcap drops)
}

function bad(pc: number): never {
  throw new NetringError(`interpreter: invalid classic BPF instruction at ${pc}`, 'EFILTER');
}

function ancillary(skb: SkbMeta, field: number, a: number, x: number): number {
  switch (field) {
    case AD.PROTOCOL: return skb.protocol;
    case AD.PKTTYPE: return skb.pktType;
    case AD.IFINDEX: return skb.ifindex;
    case AD.MARK: return skb.mark >>> 0;
    case AD.QUEUE: return skb.queue;
    case AD.HATYPE: return skb.hatype;
    case AD.RXHASH: return skb.rxhash >>> 0;
    case AD.CPU: return skb.cpu;
    case AD.ALU_XOR_X: return (a ^ x) >>> 0;
    case AD.VLAN_TAG: return skb.vlanPresent ? skb.vlanTci : 0;
    case AD.VLAN_TAG_PRESENT: return skb.vlanPresent ? 1 : 0;
    case AD.VLAN_TPID: return skb.vlanPresent ? skb.vlanTpid : 0;
    case AD.RANDOM: return Math.floor((skb.random ?? Math.random)() * 0x1_0000_0000) >>> 0;
    case AD.NLATTR: case AD.NLATTR_NEST: case AD.PAY_OFFSET:
      throw new NetringError(`interpreter: ancillary field ${field} is not modelled`, 'EFILTER');
    default: throw FAIL; // not an ancillary field: the kernel treats it as a failed load
  }
}
