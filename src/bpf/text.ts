/**
 * Text forms of classic BPF: tcpdump's `-d` listing, `-dd` C fragment and
 * `-ddd` decimal, and the parser for the forms people have at hand (JSON
 * arrays, `-ddd` text, `-dd` C fragments).
 */
import { NetringError } from '../errors.js';
import { ancillaryField, AD_NAMES } from './ancillary.js';
import {
  ABS, ADD, ALU, AND, DIV, H, IMM, IND, JA, JEQ, JGE, JGT, JMP, JSET, LD, LDX, LEN, LSH, MEM, MISC, MOD, MSH, MUL, NEG,
  OR, RET, RET_A, RSH, ST, STX, SUB, TXA, W, X, XOR, cls, mode, op, size, src, type BpfInsn, type BpfProgram,
} from './classic.js';

const hex = (v: number): string => `#0x${(v >>> 0).toString(16)}`;
const dec = (v: number): string => `#${v | 0}`;
const pad3 = (n: number): string => String(n).padStart(3, '0');

const ALU_NAMES: Record<number, string> = { [ADD]: 'add', [SUB]: 'sub', [MUL]: 'mul', [DIV]: 'div', [OR]: 'or', [AND]: 'and', [LSH]: 'lsh', [RSH]: 'rsh', [NEG]: 'neg', [MOD]: 'mod', [XOR]: 'xor' };
const JMP_NAMES: Record<number, string> = { [JA]: 'ja', [JEQ]: 'jeq', [JGT]: 'jgt', [JGE]: 'jge', [JSET]: 'jset' };

/** One instruction in tcpdump -d form, e.g. `(001) jeq      #0x800           jt 2	jf 5`. */
export function image(p: BpfInsn, n: number): string {
  let opn = 'unimp';
  let operand = hex(p.code).slice(1);
  const k = p.k >>> 0;
  const absName = (): string => {
    const f = ancillaryField(k);
    return f !== null && AD_NAMES[f] ? `[${AD_NAMES[f]}]` : `[${k | 0}]`;
  };
  const sz = (c: number): string => (size(c) === W ? 'ld' : size(c) === H ? 'ldh' : 'ldb');
  switch (cls(p.code)) {
    case LD:
      switch (mode(p.code)) {
        case ABS: opn = sz(p.code); operand = absName(); break;
        case IND: opn = sz(p.code); operand = `[x + ${k | 0}]`; break;
        case IMM: opn = 'ld'; operand = hex(k); break;
        case MEM: opn = 'ld'; operand = `M[${k}]`; break;
        case LEN: opn = 'ld'; operand = '#pktlen'; break;
      }
      break;
    case LDX:
      switch (mode(p.code)) {
        case IMM: opn = 'ldx'; operand = hex(k); break;
        case MEM: opn = 'ldx'; operand = `M[${k}]`; break;
        case LEN: opn = 'ldx'; operand = '#pktlen'; break;
        case MSH: opn = 'ldxb'; operand = `4*([${k}]&0xf)`; break;
      }
      break;
    case ST: opn = 'st'; operand = `M[${k}]`; break;
    case STX: opn = 'stx'; operand = `M[${k}]`; break;
    case RET:
      opn = 'ret';
      operand = (p.code & 0x18) === RET_A ? '' : dec(k);
      break;
    case ALU:
      opn = ALU_NAMES[op(p.code)] ?? 'unimp';
      if (op(p.code) === NEG) operand = '';
      else if (src(p.code) === X) operand = 'x';
      else operand = op(p.code) === AND || op(p.code) === OR || op(p.code) === XOR ? hex(k) : dec(k);
      break;
    case JMP:
      opn = JMP_NAMES[op(p.code)] ?? 'unimp';
      if (op(p.code) === JA) return `(${pad3(n)}) ${opn.padEnd(8)} ${String((n + 1 + k) | 0)}`;
      operand = src(p.code) === X ? 'x' : hex(k);
      return `(${pad3(n)}) ${opn.padEnd(8)} ${operand.padEnd(16)} jt ${n + 1 + p.jt}\tjf ${n + 1 + p.jf}`;
    case MISC:
      opn = (p.code & 0xf8) === TXA ? 'txa' : 'tax';
      operand = '';
      break;
  }
  return `(${pad3(n)}) ${opn.padEnd(8)} ${operand}`;
}

/** The whole program in tcpdump -d form (one instruction per line). */
export function formatD(prog: BpfProgram): string {
  return prog.map((p, i) => image(p, i)).join('\n');
}

/** tcpdump -dd form: a C array initialiser. */
export function formatDD(prog: BpfProgram): string {
  return prog.map((p) => `{ 0x${p.code.toString(16)}, ${p.jt}, ${p.jf}, 0x${(p.k >>> 0).toString(16).padStart(8, '0')} },`).join('\n');
}

/** tcpdump -ddd form: the count, then `code jt jf k` in decimal per line (kernel-ready, e.g. for iptables/tc). */
export function formatDDD(prog: BpfProgram): string {
  return [String(prog.length), ...prog.map((p) => `${p.code} ${p.jt} ${p.jf} ${p.k >>> 0}`)].join('\n');
}

function checkInsn(x: unknown, i: number): BpfInsn {
  const bad = (why: string): NetringError => new NetringError(`bad BPF instruction ${i}: ${why}`, 'EFILTER');
  let code: unknown, jt: unknown, jf: unknown, k: unknown;
  if (Array.isArray(x)) [code, jt, jf, k] = x;
  else if (x && typeof x === 'object') ({ code, jt, jf, k } = x as Record<string, unknown>);
  else throw bad('expected {code, jt, jf, k} or [code, jt, jf, k]');
  for (const [name, v, max] of [['code', code, 0xffff], ['jt', jt, 0xff], ['jf', jf, 0xff], ['k', k, 0xffffffff]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < (name === 'k' ? -0x80000000 : 0) || v > max) throw bad(`${name} out of range (${String(v)})`);
  }
  return { code: code as number, jt: jt as number, jf: jf as number, k: (k as number) >>> 0 };
}

/**
 * Parse a program from text: a JSON array ([{code,jt,jf,k}] or [[code,jt,jf,k]]),
 * `tcpdump -ddd` output (count line, then "code jt jf k" lines), or `tcpdump -dd`
 * output ("{ 0x28, 0, 0, 0x0000000c },").
 */
export function parseProgram(text: string): BpfInsn[] {
  const t = text.trim();
  if (t.startsWith('[')) {
    let v: unknown;
    try { v = JSON.parse(t); } catch (e) { throw new NetringError(`BPF program is not valid JSON: ${(e as Error).message}`, 'EFILTER'); }
    if (!Array.isArray(v)) throw new NetringError('BPF JSON must be an array', 'EFILTER');
    return v.map(checkInsn);
  }
  if (t.startsWith('{')) {
    const out: BpfInsn[] = [];
    for (const m of t.matchAll(/\{\s*(0x[0-9a-f]+|\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(0x[0-9a-f]+|\d+)\s*\}/gi)) {
      out.push(checkInsn([Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])], out.length));
    }
    if (out.length === 0) throw new NetringError('no `{ code, jt, jf, k }` records found in BPF text', 'EFILTER');
    return out;
  }
  const lines = t.split(/\r?\n|,/).map((l) => l.trim()).filter((l) => l.length > 0);
  const count = Number(lines[0]);
  if (!Number.isInteger(count) || lines.length !== count + 1)
    throw new NetringError('BPF text must be JSON, `tcpdump -dd` or `tcpdump -ddd` output (count line + "code jt jf k" lines)', 'EFILTER');
  return lines.slice(1).map((l, i) => {
    const f = l.split(/\s+/).map(Number);
    if (f.length !== 4 || f.some((x) => !Number.isFinite(x))) throw new NetringError(`bad BPF line ${i + 2}: "${l}"`, 'EFILTER');
    return checkInsn(f, i);
  });
}

/** Parse tcpdump -ddd text (or any form {@link parseProgram} reads). */
export const parseDDD = parseProgram;
