/**
 * The XDP program of an AF_XDP capture: run the filter on the frame in
 * place, redirect matches into the XSKMAP slot of the frame's RX queue, let
 * everything else continue up the stack (XDP_PASS).
 *
 * The filter is a classic BPF program (what `-f EXPR` compiles to),
 * translated here to eBPF with direct packet access, because XDP has no
 * skb and so none of the LD_ABS/LD_IND instructions a socket filter uses:
 *
 *   r6 = data, r7 = data_end, w8 = A, w9 = X, M[k] and the queue id on the stack
 *   every load:   bounds check `data + off + size > data_end` -> no match, then load + byte swap
 *   indexed load: X + k bounded to 0..0xffff first, so the verifier can track the pointer
 *   ret 0 -> XDP_PASS; ret k (k > 0) / ret A (A > 0) -> bpf_redirect_map(xskmap, rx_queue_index, XDP_PASS)
 *
 * A failed load or a division by zero ends a classic filter with "no match";
 * here that is XDP_PASS too. Ancillary loads (SKF_AD_*: VLAN metadata,
 * protocol, ...) and network-header-relative loads have no XDP equivalent and
 * are refused with a clear error; link-layer-relative loads are plain offsets.
 */
import { NetringError } from '../errors.js';
import type { BpfProgram } from '../bpf/classic.js';
import { XDP_MD_DATA, XDP_MD_DATA_END, XDP_MD_RX_QUEUE_INDEX, XDP_PASS } from './abi.js';

// eBPF encoding (linux/bpf.h)
const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, JMP32 = 0x06, ALU64 = 0x07;
const SZ_W = 0x00, SZ_H = 0x08, SZ_B = 0x10, SZ_DW = 0x18;
const MEM = 0x60, IMM = 0x00;
const MOV = 0xb0, ADD = 0x00, AND = 0x50, LSH = 0x60, END = 0xd0, DIV = 0x30, MOD = 0x90, NEG = 0x80;
const SRC_X = 0x08, TO_BE = 0x08;
const JA = 0x00, JEQ = 0x10, JGT = 0x20, CALL = 0x80, EXIT = 0x90;
const PSEUDO_MAP_FD = 1;
const HELPER_REDIRECT_MAP = 51;
const HELPER_XDP_GET_BUFF_LEN = 188;
const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R6 = 6, R7 = 7, R8 = 8, R9 = 9, R10 = 10;

// stack: queue id at -4, ctx pointer at -16, M[k] at -20 - 4k
const STK_QUEUE = -4;
const STK_CTX = -16;
const stkM = (k: number): number => -20 - 4 * k;

const SKF_AD_OFF = -0x1000;
const SKF_NET_OFF = -0x100000;
const SKF_LL_OFF = -0x200000;
const MAX_PACKET_OFF = 0xffff;

interface Insn { code: number; dst: number; src: number; off: number; imm: number; label?: string }

class Emitter {
  readonly out: Insn[] = [];
  private readonly labels = new Map<string, number>();
  readonly used = new Set<string>();

  e(code: number, dst = 0, src = 0, off = 0, imm = 0): void { this.out.push({ code, dst, src, off, imm: imm | 0 }); }
  /** A jump whose offset is filled in when `label` is placed. */
  j(code: number, dst: number, src: number, imm: number, label: string): void {
    this.used.add(label);
    this.out.push({ code, dst, src, off: 0, imm: imm | 0, label });
  }
  place(label: string): void { this.labels.set(label, this.out.length); }

  encode(): Uint8Array {
    const bytes = new Uint8Array(this.out.length * 8);
    const dv = new DataView(bytes.buffer);
    this.out.forEach((x, i) => {
      let off = x.off;
      if (x.label !== undefined) {
        const to = this.labels.get(x.label);
        if (to === undefined) throw new NetringError(`XDP program: jump to an unplaced label ${x.label}`, 'EFILTER');
        off = to - i - 1;
        if (off < 0 || off > 32767) throw new NetringError('XDP program: jump out of range (filter too long)', 'EFILTER');
      }
      dv.setUint8(i * 8, x.code);
      dv.setUint8(i * 8 + 1, (x.src << 4) | x.dst);
      dv.setInt16(i * 8 + 2, off, true);
      dv.setInt32(i * 8 + 4, x.imm, true);
    });
    return bytes;
  }
}

function unsupported(i: number, what: string): NetringError {
  return new NetringError(`filter instruction ${i}: ${what} cannot run in XDP yet (use the AF_PACKET path for this filter)`, 'EFILTER');
}

/** Classic instructions reachable from the first one (the verifier refuses dead code). */
function reachable(prog: BpfProgram): boolean[] {
  const seen = new Array<boolean>(prog.length).fill(false);
  const todo = [0];
  while (todo.length > 0) {
    const i = todo.pop()!;
    if (i >= prog.length || seen[i]) continue;
    seen[i] = true;
    const { code } = prog[i];
    const cls = code & 0x07;
    if (cls === 0x06) continue;
    if (cls === 0x05) {
      if ((code & 0xf0) === 0x00) todo.push(i + 1 + (prog[i].k >>> 0));
      else todo.push(i + 1 + prog[i].jt, i + 1 + prog[i].jf);
    } else todo.push(i + 1);
  }
  return seen;
}

/**
 * eBPF bytecode of the XDP program: optional classic filter, then
 * bpf_redirect_map(xskmap, ctx->rx_queue_index, XDP_PASS).
 */
export function xdpRedirectProgram(xskMapFd: number, filter?: BpfProgram): Uint8Array {
  const a = new Emitter();
  a.e(LDX | MEM | SZ_W, R2, R1, XDP_MD_RX_QUEUE_INDEX);
  if (filter === undefined) {
    redirect(a, xskMapFd);
    return a.encode();
  }
  if (filter.length === 0 || filter.length > 4096) throw new NetringError(`a classic filter has 1..4096 instructions (got ${filter.length})`, 'EFILTER');
  a.e(STX | MEM | SZ_W, R10, R2, STK_QUEUE);
  a.e(STX | MEM | SZ_DW, R10, R1, STK_CTX);
  a.e(LDX | MEM | SZ_W, R6, R1, XDP_MD_DATA);
  a.e(LDX | MEM | SZ_W, R7, R1, XDP_MD_DATA_END);
  a.e(ALU | MOV | IMM, R8, 0, 0, 0);
  a.e(ALU | MOV | IMM, R9, 0, 0, 0);
  // M[] slots start at 0 like classic BPF's (the verifier refuses reads of unwritten stack)
  const usesMem = filter.some((x) => (x.code & 0x07) === 0x02 || (x.code & 0x07) === 0x03 || ((x.code & 0x07) <= 0x01 && (x.code & 0xe0) === 0x60));
  if (usesMem) for (let k = 0; k < 16; k++) a.e(ST | MEM | SZ_W, R10, 0, stkM(k), 0);

  const live = reachable(filter);
  const L = (i: number): string => `c${i}`;
  const size = (code: number): number => ({ 0x00: 4, 0x08: 2, 0x10: 1 } as Record<number, number>)[code & 0x18] ?? 0;
  const ldOp = (n: number): number => (n === 4 ? SZ_W : n === 2 ? SZ_H : SZ_B);
  const swap = (dst: number, n: number): void => { if (n > 1) a.e(ALU | END | TO_BE, dst, 0, 0, n * 8); };

  /** dst = P[k .. k+n) big endian, or no match when out of the frame */
  const loadAbs = (dst: number, k: number, n: number): void => {
    if (k + n > MAX_PACKET_OFF) { a.j(JMP | JA, 0, 0, 0, 'nomatch'); return; }
    a.e(ALU64 | MOV | SRC_X, R2, R6);
    a.e(ALU64 | ADD | IMM, R2, 0, 0, k);
    a.e(ALU64 | MOV | SRC_X, R3, R2);
    a.e(ALU64 | ADD | IMM, R3, 0, 0, n);
    a.j(JMP | JGT | SRC_X, R3, R7, 0, 'nomatch');
    a.e(LDX | MEM | ldOp(n), dst, R2, 0);
    swap(dst, n);
  };

  for (let i = 0; i < filter.length; i++) {
    if (!live[i]) continue;
    a.place(L(i));
    const { code } = filter[i];
    const k = filter[i].k >>> 0;
    const ks = k | 0;
    const cls = code & 0x07;
    switch (cls) {
      case 0x00: // LD
      case 0x01: { // LDX
        const dst = cls === 0x01 ? R9 : R8;
        const mode = code & 0xe0;
        if (mode === 0x00) { a.e(ALU | MOV | IMM, dst, 0, 0, ks); break; }
        if (mode === 0x60) { a.e(LDX | MEM | SZ_W, dst, R10, stkM(k & 15)); break; }
        if (mode === 0x80) { // len: the frame's length (all fragments)
          a.e(LDX | MEM | SZ_DW, R1, R10, STK_CTX);
          a.e(JMP | CALL, 0, 0, 0, HELPER_XDP_GET_BUFF_LEN);
          a.e(ALU | MOV | SRC_X, dst, R0);
          break;
        }
        if (mode === 0xa0 && cls === 0x01) { // X = 4 * (P[k] & 0xf)
          if (ks < 0) throw unsupported(i, 'a negative-offset load');
          loadAbs(R9, k, 1);
          a.e(ALU | AND | IMM, R9, 0, 0, 0xf);
          a.e(ALU | LSH | IMM, R9, 0, 0, 2);
          break;
        }
        if (cls === 0x01) throw unsupported(i, `LDX mode 0x${mode.toString(16)}`);
        const n = size(code);
        if (n === 0) throw unsupported(i, 'a load of that size');
        if (mode === 0x20) { // ABS
          if (ks >= 0) { loadAbs(R8, k, n); break; }
          if (ks >= SKF_LL_OFF && ks < SKF_LL_OFF + MAX_PACKET_OFF) { loadAbs(R8, ks - SKF_LL_OFF, n); break; }
          if (ks >= SKF_AD_OFF) throw unsupported(i, `the ancillary field SKF_AD_OFF+${ks - SKF_AD_OFF} (packet metadata such as VLAN tags)`);
          if (ks >= SKF_NET_OFF) throw unsupported(i, 'a network-header-relative load');
          throw unsupported(i, 'a negative-offset load');
        }
        if (mode === 0x40) { // IND: P[X + k]
          if (ks < 0 || k > MAX_PACKET_OFF) throw unsupported(i, 'an indexed load with a negative or huge offset');
          a.e(ALU | MOV | SRC_X, R2, R9); // w2 = X (zero-extended)
          a.e(ALU64 | ADD | IMM, R2, 0, 0, k);
          a.j(JMP | JGT | IMM, R2, 0, MAX_PACKET_OFF - n, 'nomatch');
          a.e(ALU64 | MOV | SRC_X, R3, R6);
          a.e(ALU64 | ADD | SRC_X, R3, R2);
          a.e(ALU64 | MOV | SRC_X, R4, R3);
          a.e(ALU64 | ADD | IMM, R4, 0, 0, n);
          a.j(JMP | JGT | SRC_X, R4, R7, 0, 'nomatch');
          a.e(LDX | MEM | ldOp(n), R8, R3, 0);
          swap(R8, n);
          break;
        }
        throw unsupported(i, `load mode 0x${mode.toString(16)}`);
      }
      case 0x02: a.e(STX | MEM | SZ_W, R10, R8, stkM(k & 15)); break;
      case 0x03: a.e(STX | MEM | SZ_W, R10, R9, stkM(k & 15)); break;
      case 0x04: { // ALU, 32-bit like classic BPF
        const op = code & 0xf0;
        const useX = (code & 0x08) !== 0;
        if (op === NEG) { a.e(ALU | NEG, R8); break; }
        if ((op === DIV || op === MOD) && useX) a.j(JMP32 | JEQ | IMM, R9, 0, 0, 'nomatch');
        if ((op === DIV || op === MOD) && !useX && k === 0) { a.j(JMP | JA, 0, 0, 0, 'nomatch'); break; }
        if (op > 0xa0) throw unsupported(i, `ALU operation 0x${op.toString(16)}`);
        a.e(ALU | op | (useX ? SRC_X : IMM), R8, useX ? R9 : 0, 0, useX ? 0 : ks);
        break;
      }
      case 0x05: { // JMP
        const op = code & 0xf0;
        if (op === JA) { a.j(JMP | JA, 0, 0, 0, L(i + 1 + k)); break; }
        const useX = (code & 0x08) !== 0;
        const { jt, jf } = filter[i];
        if (jt === jf) { a.j(JMP | JA, 0, 0, 0, L(i + 1 + jt)); break; }
        a.j(JMP32 | op | (useX ? SRC_X : IMM), R8, useX ? R9 : 0, useX ? 0 : ks, L(i + 1 + jt));
        a.j(JMP | JA, 0, 0, 0, L(i + 1 + jf));
        break;
      }
      case 0x06: { // RET
        const src = code & 0x18;
        if (src === 0x00) a.j(JMP | JA, 0, 0, 0, k === 0 ? 'nomatch' : 'match');
        else if (src === 0x10) { a.j(JMP32 | JEQ | IMM, R8, 0, 0, 'nomatch'); a.j(JMP | JA, 0, 0, 0, 'match'); }
        else throw unsupported(i, 'ret x');
        break;
      }
      case 0x07:
        if ((code & 0xf8) === 0x80) a.e(ALU | MOV | SRC_X, R8, R9); // txa
        else a.e(ALU | MOV | SRC_X, R9, R8); // tax
        break;
      default:
        throw unsupported(i, `opcode 0x${code.toString(16)}`);
    }
  }
  if (a.used.has('match')) {
    a.place('match');
    a.e(LDX | MEM | SZ_W, R2, R10, STK_QUEUE);
    redirect(a, xskMapFd);
  }
  if (a.used.has('nomatch')) {
    a.place('nomatch');
    a.e(ALU | MOV | IMM, R0, 0, 0, XDP_PASS);
    a.e(JMP | EXIT);
  }
  return a.encode();
}

/** r0 = bpf_redirect_map(map, r2, XDP_PASS); exit */
function redirect(a: Emitter, mapFd: number): void {
  a.e(LD | IMM | SZ_DW, R1, PSEUDO_MAP_FD, 0, mapFd);
  a.e(0, 0, 0, 0, 0);
  a.e(ALU64 | MOV | IMM, R3, 0, 0, XDP_PASS);
  a.e(JMP | CALL, 0, 0, 0, HELPER_REDIRECT_MAP);
  a.e(JMP | EXIT);
}
