/**
 * Classic BPF instructions: opcode constants, the kernel's 8-byte encoding
 * (struct sock_filter) and the three textual forms tcpdump prints
 * (`-d` listing, `-dd` C fragment, `-ddd` decimal).
 */

import { encodeProgram, parseProgram, type BpfInsn } from '../../ring/cbpf.js';

/** One classic BPF instruction (struct sock_filter): the ring's BpfInsn. */
export type Insn = BpfInsn;

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

/** Linux's ancillary-data offset base (SKF_AD_OFF = -0x1000). */
export const SKF_AD_OFF = 0xfffff000;

export const BPF_MAXINSNS = 4096;
export const BPF_MEMWORDS = 16;

export function insn(code: number, k = 0, jt = 0, jf = 0): Insn {
  return { code, jt, jf, k: k >>> 0 };
}

export const cls = (code: number): number => code & 0x07;
export const size = (code: number): number => code & 0x18;
export const mode = (code: number): number => code & 0xe0;
export const op = (code: number): number => code & 0xf0;
export const src = (code: number): number => code & 0x08;

/** Encode a program as the kernel's array of struct sock_filter (little-endian host). */
export function encode(prog: readonly Insn[]): Uint8Array {
  return encodeProgram(prog);
}

/** Decode 8-byte records back into instructions. */
export function decode(bytes: Uint8Array): Insn[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Insn[] = [];
  for (let i = 0; i + 8 <= bytes.length; i += 8) {
    out.push({ code: dv.getUint16(i, true), jt: dv.getUint8(i + 2), jf: dv.getUint8(i + 3), k: dv.getUint32(i + 4, true) });
  }
  return out;
}

const ANC_NAMES: Record<number, string> = {
  0: 'proto', 4: 'type', 8: 'ifidx', 12: 'nla', 16: 'nlan', 20: 'mark', 24: 'queue', 28: 'hatype',
  32: 'rxhash', 36: 'cpu', 44: 'vlan_tci', 48: 'vlanp', 52: 'poff', 56: 'random', 60: 'vlan_tpid',
};

const hex = (v: number): string => `#0x${(v >>> 0).toString(16)}`;
const dec = (v: number): string => `#${v | 0}`;

/** One instruction in tcpdump -d form, e.g. `(001) jeq      #0x800           jt 2	jf 5`. */
export function image(p: Insn, n: number): string {
  let opn = 'unimp';
  let operand = hex(p.code).slice(1);
  const k = p.k >>> 0;
  const absName = (): string => (k >= SKF_AD_OFF && ANC_NAMES[k - SKF_AD_OFF] ? `[${ANC_NAMES[k - SKF_AD_OFF]}]` : `[${k | 0}]`);
  const sz = (c: number): string => (size(c) === W ? 'ld' : size(c) === H ? 'ldh' : 'ldb');
  switch (cls(p.code)) {
    case LD:
      switch (mode(p.code)) {
        case ABS:
          opn = sz(p.code);
          operand = absName();
          break;
        case IND:
          opn = sz(p.code);
          operand = `[x + ${k | 0}]`;
          break;
        case IMM:
          opn = 'ld';
          operand = hex(k);
          break;
        case MEM:
          opn = 'ld';
          operand = `M[${k}]`;
          break;
        case LEN:
          opn = 'ld';
          operand = '#pktlen';
          break;
      }
      break;
    case LDX:
      switch (mode(p.code)) {
        case IMM:
          opn = 'ldx';
          operand = hex(k);
          break;
        case MEM:
          opn = 'ldx';
          operand = `M[${k}]`;
          break;
        case LEN:
          opn = 'ldx';
          operand = '#pktlen';
          break;
        case MSH:
          opn = 'ldxb';
          operand = `4*([${k}]&0xf)`;
          break;
      }
      break;
    case ST:
      opn = 'st';
      operand = `M[${k}]`;
      break;
    case STX:
      opn = 'stx';
      operand = `M[${k}]`;
      break;
    case RET:
      opn = 'ret';
      operand = (p.code & 0x18) === RET_A ? '' : dec(k);
      break;
    case ALU: {
      const names: Record<number, string> = { [ADD]: 'add', [SUB]: 'sub', [MUL]: 'mul', [DIV]: 'div', [OR]: 'or', [AND]: 'and', [LSH]: 'lsh', [RSH]: 'rsh', [NEG]: 'neg', [MOD]: 'mod', [XOR]: 'xor' };
      opn = names[op(p.code)] ?? 'unimp';
      if (op(p.code) === NEG) operand = '';
      else if (src(p.code) === X) operand = 'x';
      else operand = op(p.code) === AND || op(p.code) === OR || op(p.code) === XOR ? hex(k) : dec(k);
      break;
    }
    case JMP: {
      const names: Record<number, string> = { [JA]: 'ja', [JEQ]: 'jeq', [JGT]: 'jgt', [JGE]: 'jge', [JSET]: 'jset' };
      opn = names[op(p.code)] ?? 'unimp';
      if (op(p.code) === JA) {
        operand = String((n + 1 + k) | 0);
        return `(${pad3(n)}) ${opn.padEnd(8)} ${operand}`;
      }
      operand = src(p.code) === X ? 'x' : hex(k);
      return `(${pad3(n)}) ${opn.padEnd(8)} ${operand.padEnd(16)} jt ${n + 1 + p.jt}\tjf ${n + 1 + p.jf}`;
    }
    case MISC:
      opn = (p.code & 0xf8) === TXA ? 'txa' : 'tax';
      operand = '';
      break;
  }
  return `(${pad3(n)}) ${opn.padEnd(8)} ${operand}`;
}

function pad3(n: number): string {
  return String(n).padStart(3, '0');
}

/** The whole program in tcpdump -d form (one instruction per line). */
export function formatD(prog: readonly Insn[]): string {
  return prog.map((p, i) => image(p, i)).join('\n');
}

/** tcpdump -dd form: a C array initialiser. */
export function formatDD(prog: readonly Insn[]): string {
  return prog
    .map((p) => `{ 0x${p.code.toString(16)}, ${p.jt}, ${p.jf}, 0x${(p.k >>> 0).toString(16).padStart(8, '0')} },`)
    .join('\n');
}

/** tcpdump -ddd form: the count, then `code jt jf k` in decimal per line (kernel-ready, e.g. for iptables/tc). */
export function formatDDD(prog: readonly Insn[]): string {
  return [String(prog.length), ...prog.map((p) => `${p.code} ${p.jt} ${p.jf} ${p.k >>> 0}`)].join('\n');
}

/** Parse tcpdump -ddd text back into instructions. */
export function parseDDD(text: string): Insn[] {
  return parseProgram(text);
}
