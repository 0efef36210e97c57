/**
 * A classic BPF interpreter that runs a program the way the kernel's fan-out
 * hook does: absolute loads are relative to skb->data (the network header on
 * the receive path, the MAC header on the send path), SKF_LL_OFF / SKF_NET_OFF
 * loads are relative to the MAC / network header, ancillary loads read the
 * skb's metadata, and a load outside the packet ends the program with 0.
 * Used by the tests and for steering packets offline (files) exactly as a
 * live group would.
 */
import { NetringError } from '../errors.js';
import type { BpfProgram } from '../ring/cbpf.js';
import { AD, SKF_AD_OFF, SKF_LL_OFF, SKF_NET_OFF } from './bpf-asm.js';

/** The parts of an skb a classic BPF program can see. */
export interface SkbModel {
  /** Bytes from the link-layer header on, as the kernel holds them (receive path: VLAN tag already moved to metadata). */
  frame: Uint8Array;
  /** Offset of skb->data in `frame`: the network header on receive, 0 on send. */
  data: number;
  /** Offset of the network header in `frame`. */
  net: number;
  /** VLAN metadata (0 / false when none). */
  vlanTci: number;
  vlanPresent: boolean;
  vlanTpid: number;
  /** skb->protocol (EtherType, host order). */
  protocol: number;
  pktType: number;
  ifindex: number;
  mark: number;
  queue: number;
  hatype: number;
  rxhash: number;
  cpu: number;
  /** Source of SKF_AD_RANDOM (default Math.random). */
  random?: () => number;
}

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
    frame: f, data: direction === 'in' ? 14 : 0, net: 14, vlanTci, vlanPresent, vlanTpid,
    protocol: f.length >= 14 ? et(12) : 0, pktType: direction === 'in' ? 0 : 4, ifindex: 0, mark: 0, queue: 0,
    hatype: 1, rxhash: 0, cpu: 0, ...meta,
  };
}

class Fail { }
const FAIL = new Fail();

function load(skb: SkbModel, off: number, size: number): number {
  let at: number;
  if (off >= 0) at = skb.data + off;
  else if (off >= SKF_NET_OFF) at = skb.net + (off - SKF_NET_OFF);
  else if (off >= SKF_LL_OFF) at = off - SKF_LL_OFF;
  else throw FAIL;
  const f = skb.frame;
  if (at < 0 || at + size > f.length) throw FAIL;
  if (size === 1) return f[at];
  if (size === 2) return (f[at] << 8) | f[at + 1];
  return ((f[at] << 24) | (f[at + 1] << 16) | (f[at + 2] << 8) | f[at + 3]) >>> 0;
}

function ancillary(skb: SkbModel, field: number, a: number, x: number): number {
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
    case AD.VLAN_TAG: return skb.vlanTci;
    case AD.VLAN_TAG_PRESENT: return skb.vlanPresent ? 1 : 0;
    case AD.VLAN_TPID: return skb.vlanTpid;
    case AD.RANDOM: return Math.floor((skb.random ?? Math.random)() * 0x1_0000_0000) >>> 0;
    default: throw new NetringError(`interpreter: ancillary field ${field} is not modelled`, 'EFILTER');
  }
}

/** Run a classic BPF program on a modelled skb; returns the program's u32 result (0 when a load fails). */
export function runClassic(prog: BpfProgram, skb: SkbModel): number {
  let A = 0, X = 0;
  const M = new Uint32Array(16);
  const size = (code: number): number => ((code & 0x18) === 0x00 ? 4 : (code & 0x18) === 0x08 ? 2 : 1);
  try {
    for (let pc = 0; pc < prog.length; pc++) {
      const { code, jt, jf } = prog[pc];
      const k = prog[pc].k >>> 0;
      const ks = k | 0;
      switch (code & 0x07) {
        case 0x00: // LD
        case 0x01: { // LDX
          const mode = code & 0xe0;
          const isX = (code & 0x07) === 0x01;
          let v: number;
          if (mode === 0x00) v = k;
          else if (mode === 0x20) v = ks >= SKF_AD_OFF && ks < 0 && !isX ? ancillary(skb, ks - SKF_AD_OFF, A, X) : load(skb, ks, size(code));
          else if (mode === 0x40) v = load(skb, (X + ks) | 0, size(code));
          else if (mode === 0x60) v = M[k & 15];
          else if (mode === 0x80) v = skb.frame.length - skb.data;
          else if (mode === 0xa0) v = (load(skb, ks, 1) & 0xf) << 2;
          else throw new NetringError(`interpreter: bad load mode at ${pc}`, 'EFILTER');
          if (isX) X = v >>> 0; else A = v >>> 0;
          break;
        }
        case 0x02: M[k & 15] = A; break;
        case 0x03: M[k & 15] = X; break;
        case 0x04: { // ALU
          const src = (code & 0x08) !== 0 ? X : k;
          switch (code & 0xf0) {
            case 0x00: A = (A + src) >>> 0; break;
            case 0x10: A = (A - src) >>> 0; break;
            case 0x20: A = Math.imul(A, src) >>> 0; break;
            case 0x30: if (src === 0) return 0; A = Math.floor(A / src) >>> 0; break;
            case 0x40: A = (A | src) >>> 0; break;
            case 0x50: A = (A & src) >>> 0; break;
            case 0x60: A = src >= 32 ? 0 : (A << src) >>> 0; break;
            case 0x70: A = src >= 32 ? 0 : A >>> src; break;
            case 0x80: A = (-A) >>> 0; break;
            case 0x90: if (src === 0) return 0; A = (A % src) >>> 0; break;
            case 0xa0: A = (A ^ src) >>> 0; break;
            default: throw new NetringError(`interpreter: bad ALU op at ${pc}`, 'EFILTER');
          }
          break;
        }
        case 0x05: { // JMP
          const op = code & 0xf0;
          if (op === 0x00) { pc += k; break; }
          const src = (code & 0x08) !== 0 ? X : k;
          let t: boolean;
          if (op === 0x10) t = A === src;
          else if (op === 0x20) t = A > src;
          else if (op === 0x30) t = A >= src;
          else if (op === 0x40) t = (A & src) !== 0;
          else throw new NetringError(`interpreter: bad jump at ${pc}`, 'EFILTER');
          pc += t ? jt : jf;
          break;
        }
        case 0x06: return (code & 0x18) === 0x10 ? A : (code & 0x18) === 0x08 ? X : k;
        case 0x07: if ((code & 0xf8) === 0x80) A = X; else X = A; break;
        default: break;
      }
    }
  } catch (e) {
    if (e === FAIL) return 0;
    throw e;
  }
  throw new NetringError('interpreter: the program ran past its end', 'EFILTER');
}
