/**
 * A classic BPF interpreter with Linux socket-filter semantics, for tests,
 * benchmarks and as a reference for the generated JavaScript.
 *
 * - A, X and M[] start at 0; a load outside the packet ends the program
 *   with 0 (drop); so does a division or modulus by X == 0.
 * - Loads at SKF_AD_OFF + n read packet metadata (ancillary data) when
 *   `meta` is given (kernel socket semantics); without it they are out of
 *   range, as in libpcap's userland filter.
 * - `ja` offsets wrap at 32 bits, so libpcap's backward jumps (protochain)
 *   run; a step budget stops programs that loop forever.
 * - Shifts by X use the low five bits of X, like the kernel's JIT.
 */
import type { PacketLike } from '../../packet-like.js';
import {
  ABS, ADD, ALU, AND, B, DIV, H, IMM, IND, JA, JEQ, JGE, JGT, JMP, JSET, LD, LDX, LEN, LSH, MEM, MISC, MOD, MSH,
  MUL, NEG, OR, RET, RSH, SKF_AD_OFF, ST, STX, SUB, X, XOR, type Insn,
} from './insn.js';

/** Packet metadata visible to ancillary loads (Linux SKF_AD_*). */
export interface BpfMeta {
  /** skb->protocol (host order, e.g. 0x0800). */
  protocol?: number;
  pktType?: number;
  ifindex?: number;
  mark?: number;
  queue?: number;
  hatype?: number;
  rxhash?: number;
  cpu?: number;
  vlanPresent?: boolean;
  vlanTci?: number;
  vlanTpid?: number;
  random?: number;
}

/** Upper bound on executed instructions before a program is declared looping. */
export const MAX_STEPS = 1 << 20;

/** Run `prog` on `data[off .. off+caplen)`; returns the filter's return value (0 = drop). */
export function runBpf(prog: readonly Insn[], data: Uint8Array, off: number, caplen: number, wireLen: number, meta?: BpfMeta): number {
  let A = 0;
  let Xr = 0;
  const M = new Uint32Array(16);
  let pc = 0;
  let steps = 0;
  const n = prog.length;
  const load = (k: number, sz: number): number => {
    if (k < 0 || k + sz > caplen) return -1;
    const p = off + k;
    if (sz === 4) return ((data[p] << 24) | (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3]) >>> 0;
    if (sz === 2) return (data[p] << 8) | data[p + 1];
    return data[p];
  };
  const anc = (k: number): number => {
    if (!meta) return -1;
    switch (k - SKF_AD_OFF) {
      case 0:
        return meta.protocol ?? 0;
      case 4:
        return meta.pktType ?? 0;
      case 8:
        return meta.ifindex ?? 0;
      case 20:
        return meta.mark ?? 0;
      case 24:
        return meta.queue ?? 0;
      case 28:
        return meta.hatype ?? 1;
      case 32:
        return meta.rxhash ?? 0;
      case 36:
        return meta.cpu ?? 0;
      case 44:
        return meta.vlanPresent ? (meta.vlanTci ?? 0) : 0;
      case 48:
        return meta.vlanPresent ? 1 : 0;
      case 52:
        return 0;
      case 56:
        return meta.random ?? 0;
      case 60:
        return meta.vlanPresent ? (meta.vlanTpid ?? 0x8100) : 0;
      default:
        return -1;
    }
  };
  while (pc >= 0 && pc < n) {
    if (++steps > MAX_STEPS) return 0;
    const p = prog[pc];
    const c = p.code;
    const k = p.k >>> 0;
    switch (c & 0x07) {
      case LD: {
        const sz = (c & 0x18) === B ? 1 : (c & 0x18) === H ? 2 : 4;
        switch (c & 0xe0) {
          case ABS: {
            const v = k >= SKF_AD_OFF ? anc(k) : load(k, sz);
            if (v < 0) return 0;
            A = v;
            break;
          }
          case IND: {
            const v = load(Xr + k, sz); // no 32-bit wrap: X + k beyond the packet fails (libpcap)
            if (v < 0) return 0;
            A = v;
            break;
          }
          case IMM:
            A = k;
            break;
          case MEM:
            A = M[k & 15];
            break;
          case LEN:
            A = wireLen >>> 0;
            break;
          default:
            return 0;
        }
        pc++;
        break;
      }
      case LDX:
        switch (c & 0xe0) {
          case IMM:
            Xr = k;
            break;
          case MEM:
            Xr = M[k & 15];
            break;
          case LEN:
            Xr = wireLen >>> 0;
            break;
          case MSH: {
            const v = load(k, 1);
            if (v < 0) return 0;
            Xr = (v & 0xf) << 2;
            break;
          }
          default:
            return 0;
        }
        pc++;
        break;
      case ST:
        M[k & 15] = A;
        pc++;
        break;
      case STX:
        M[k & 15] = Xr;
        pc++;
        break;
      case ALU: {
        const b = (c & X) === X ? Xr : k;
        switch (c & 0xf0) {
          case ADD:
            A = (A + b) >>> 0;
            break;
          case SUB:
            A = (A - b) >>> 0;
            break;
          case MUL:
            A = Math.imul(A, b) >>> 0;
            break;
          case DIV:
            if (b === 0) return 0;
            A = Math.floor(A / b) >>> 0;
            break;
          case MOD:
            if (b === 0) return 0;
            A = A % b >>> 0;
            break;
          case AND:
            A = (A & b) >>> 0;
            break;
          case OR:
            A = (A | b) >>> 0;
            break;
          case XOR:
            A = (A ^ b) >>> 0;
            break;
          case LSH:
            A = (A << (b & 31)) >>> 0;
            break;
          case RSH:
            A = A >>> (b & 31);
            break;
          case NEG:
            A = -A >>> 0;
            break;
          default:
            return 0;
        }
        pc++;
        break;
      }
      case JMP: {
        const opc = c & 0xf0;
        if (opc === JA) {
          pc = (pc + 1 + (k | 0)) | 0;
          break;
        }
        const b = (c & X) === X ? Xr : k;
        let cond: boolean;
        switch (opc) {
          case JEQ:
            cond = A === b;
            break;
          case JGT:
            cond = A > b;
            break;
          case JGE:
            cond = A >= b;
            break;
          case JSET:
            cond = (A & b) !== 0;
            break;
          default:
            return 0;
        }
        pc += 1 + (cond ? p.jt : p.jf);
        break;
      }
      case RET:
        return ((c & 0x18) === 0x10 ? A : k) >>> 0;
      case MISC:
        if ((c & 0xf8) === 0x80) A = Xr;
        else Xr = A;
        pc++;
        break;
    }
  }
  return 0;
}

/** Metadata of a PacketLike as a kernel socket filter would see it. */
export function metaOf(p: PacketLike): BpfMeta {
  return {
    pktType: p.pktType,
    ifindex: p.ifindex,
    vlanPresent: p.vlanValid,
    vlanTci: p.vlanTci,
    vlanTpid: p.vlanTpid,
  };
}

/** Run `prog` on a PacketLike; `kernel` selects socket-filter semantics (metadata visible). */
export function runBpfOn(prog: readonly Insn[], p: PacketLike, kernel = false): number {
  return runBpf(prog, p.data, p.offset, p.caplen, p.wireLen, kernel ? metaOf(p) : undefined);
}
