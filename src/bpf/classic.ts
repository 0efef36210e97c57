/**
 * Classic BPF programs as data: the instruction type, the opcode constants
 * (linux/filter.h), the kernel's 8-byte encoding (struct sock_filter) and the
 * two rewrites a capture needs (snaplen, direction).
 */
import { NetringError } from '../errors.js';
import { PACKET_OUTGOING } from '../constants.js';
import { ad, AD } from './ancillary.js';

/** One classic BPF instruction (struct sock_filter). */
export interface BpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** A classic BPF program. */
export type BpfProgram = readonly BpfInsn[];

// Instruction classes.
export const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
// Sizes.
export const W = 0x00, H = 0x08, B = 0x10;
// Modes.
export const IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, LEN = 0x80, MSH = 0xa0;
// ALU/JMP operations.
export const ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70, NEG = 0x80, MOD = 0x90, XOR = 0xa0;
export const JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40;
// Sources.
export const K = 0x00, X = 0x08;
// RET sources.
export const RET_A = 0x10;
// MISC.
export const TAX = 0x00, TXA = 0x80;

/** Whole opcodes used by the capture rewrites. */
export const BPF_RET_K = RET | K;
export const BPF_LD_B_ABS = LD | B | ABS;
export const BPF_JEQ_K = JMP | JEQ | K;

/** Kernel limits: instructions per program (BPF_MAXINSNS) and scratch words (BPF_MEMWORDS). */
export const BPF_MAXINSNS = 4096;
export const BPF_MEMWORDS = 16;

/** Build one instruction. */
export function insn(code: number, k = 0, jt = 0, jf = 0): BpfInsn {
  return { code, jt, jf, k: k >>> 0 };
}

export const cls = (code: number): number => code & 0x07;
export const size = (code: number): number => code & 0x18;
export const mode = (code: number): number => code & 0xe0;
export const op = (code: number): number => code & 0xf0;
export const src = (code: number): number => code & 0x08;

/** Encode as host-order (little-endian) sock_filter records. */
export function encodeProgram(prog: BpfProgram): Uint8Array {
  if (prog.length === 0 || prog.length > BPF_MAXINSNS) throw new NetringError(`a classic BPF program has 1..${BPF_MAXINSNS} instructions (got ${prog.length})`, 'EFILTER');
  const out = new Uint8Array(prog.length * 8);
  const dv = new DataView(out.buffer);
  prog.forEach((ins, i) => {
    dv.setUint16(i * 8, ins.code, true);
    dv.setUint8(i * 8 + 2, ins.jt);
    dv.setUint8(i * 8 + 3, ins.jf);
    dv.setUint32(i * 8 + 4, ins.k >>> 0, true);
  });
  return out;
}

/** Decode 8-byte sock_filter records back into instructions. */
export function decodeProgram(bytes: Uint8Array): BpfInsn[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: BpfInsn[] = [];
  for (let i = 0; i + 8 <= bytes.length; i += 8) {
    out.push({ code: dv.getUint16(i, true), jt: dv.getUint8(i + 2), jf: dv.getUint8(i + 3), k: dv.getUint32(i + 4, true) });
  }
  return out;
}

/** Cap every accepting `ret #k` at snaplen, as libpcap does; no program means "accept snaplen bytes". */
export function withSnaplen(prog: BpfProgram | undefined, snaplen: number): BpfInsn[] {
  if (!prog || prog.length === 0) return [{ code: BPF_RET_K, jt: 0, jf: 0, k: snaplen }];
  return prog.map((i) => (i.code === BPF_RET_K && i.k > snaplen ? { ...i, k: snaplen } : { ...i }));
}

/** Prefix that keeps only outgoing packets (sll_pkttype == PACKET_OUTGOING). */
export function outgoingOnly(prog: BpfProgram): BpfInsn[] {
  return [
    { code: BPF_LD_B_ABS, jt: 0, jf: 0, k: ad(AD.PKTTYPE) },
    { code: BPF_JEQ_K, jt: 1, jf: 0, k: PACKET_OUTGOING },
    { code: BPF_RET_K, jt: 0, jf: 0, k: 0 },
    ...prog,
  ];
}

/** A program that accepts nothing (used while swapping filters). */
export const REJECT_ALL: BpfProgram = Object.freeze([{ code: BPF_RET_K, jt: 0, jf: 0, k: 0 }]);
