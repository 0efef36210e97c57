/**
 * Classic BPF programs as data: the instruction type, encoding to the
 * kernel's 8-byte sock_filter records, parsing of the forms people have at
 * hand (JSON arrays, `tcpdump -ddd` text, `tcpdump -dd` C fragments), and
 * the two rewrites a capture needs (snaplen, direction).
 */
import { NetringError } from '../errors.js';
import { PACKET_OUTGOING } from '../constants.js';

/** One classic BPF instruction (struct sock_filter). */
export interface BpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** A classic BPF program. */
export type BpfProgram = readonly BpfInsn[];

export const BPF_RET_K = 0x06;
export const BPF_LD_B_ABS = 0x30;
export const BPF_JEQ_K = 0x15;
/** Linux ancillary data offset (SKF_AD_OFF) and the pkttype field. */
export const SKF_AD_OFF = -0x1000;
export const SKF_AD_PKTTYPE = 4;

/** Encode as little-endian/host-order sock_filter records. */
export function encodeProgram(prog: BpfProgram): Uint8Array {
  if (prog.length === 0 || prog.length > 4096) throw new NetringError(`a classic BPF program has 1..4096 instructions (got ${prog.length})`, 'EFILTER');
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

/** Cap every accepting `ret #k` at snaplen, as libpcap does; no program means "accept snaplen bytes". */
export function withSnaplen(prog: BpfProgram | undefined, snaplen: number): BpfInsn[] {
  if (!prog || prog.length === 0) return [{ code: BPF_RET_K, jt: 0, jf: 0, k: snaplen }];
  return prog.map((i) => (i.code === BPF_RET_K && i.k > snaplen ? { ...i, k: snaplen } : { ...i }));
}

/** Prefix that keeps only outgoing packets (sll_pkttype == PACKET_OUTGOING). */
export function outgoingOnly(prog: BpfProgram): BpfInsn[] {
  return [
    { code: BPF_LD_B_ABS, jt: 0, jf: 0, k: (SKF_AD_OFF + SKF_AD_PKTTYPE) >>> 0 },
    { code: BPF_JEQ_K, jt: 1, jf: 0, k: PACKET_OUTGOING },
    { code: BPF_RET_K, jt: 0, jf: 0, k: 0 },
    ...prog,
  ];
}

/** A program that accepts nothing (used while swapping filters). */
export const REJECT_ALL: BpfProgram = Object.freeze([{ code: BPF_RET_K, jt: 0, jf: 0, k: 0 }]);
