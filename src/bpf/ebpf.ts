/**
 * Extended BPF (eBPF) instructions as data: opcode constants (linux/bpf.h),
 * the 8-byte little-endian encoding (struct bpf_insn), decoding, and a
 * listing in the style of `bpftool prog dump xlated`.
 */
import { NetringError } from '../errors.js';

/** One eBPF instruction (struct bpf_insn). A 64-bit immediate load takes two: the second has code 0. */
export interface EbpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

// Classes.
export const E_LD = 0x00, E_LDX = 0x01, E_ST = 0x02, E_STX = 0x03, E_ALU = 0x04, E_JMP = 0x05, E_JMP32 = 0x06, E_ALU64 = 0x07;
// Sizes.
export const E_W = 0x00, E_H = 0x08, E_B = 0x10, E_DW = 0x18;
// Modes.
export const E_IMM = 0x00, E_ABS = 0x20, E_IND = 0x40, E_MEM = 0x60, E_ATOMIC = 0xc0;
// ALU operations.
export const E_ADD = 0x00, E_SUB = 0x10, E_MUL = 0x20, E_DIV = 0x30, E_OR = 0x40, E_AND = 0x50, E_LSH = 0x60, E_RSH = 0x70,
  E_NEG = 0x80, E_MOD = 0x90, E_XOR = 0xa0, E_MOV = 0xb0, E_ARSH = 0xc0, E_END = 0xd0;
// Jump operations.
export const E_JA = 0x00, E_JEQ = 0x10, E_JGT = 0x20, E_JGE = 0x30, E_JSET = 0x40, E_JNE = 0x50, E_JSGT = 0x60, E_JSGE = 0x70,
  E_CALL = 0x80, E_EXIT = 0x90, E_JLT = 0xa0, E_JLE = 0xb0, E_JSLT = 0xc0, E_JSLE = 0xd0;
// Sources.
export const E_K = 0x00, E_X = 0x08;
/** Byte-swap direction of E_END: to big endian (with E_X) or to little endian. */
export const E_TO_BE = 0x08, E_TO_LE = 0x00;
/** src of a 64-bit immediate load that names a map by fd. */
export const PSEUDO_MAP_FD = 1;

/** Registers. r0 result, r1-r5 arguments (clobbered by calls), r6-r9 callee-saved, r10 frame pointer. */
export const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7, R8 = 8, R9 = 9, R10 = 10;

/** Kernel limit on instructions of an unprivileged-size program (BPF_MAXINSNS; privileged loads may be longer). */
export const EBPF_MAXINSNS = 4096;

/** Helper function ids (linux/bpf.h) the code generators use. */
export const HELPER = Object.freeze({
  map_lookup_elem: 1, map_update_elem: 2, map_delete_elem: 3, get_prandom_u32: 7, get_smp_processor_id: 8,
  skb_load_bytes: 26, redirect: 23, clone_redirect: 13, redirect_map: 51, skb_load_bytes_relative: 68,
});

/** Encode as struct bpf_insn records (little endian). */
export function encodeEbpf(prog: readonly EbpfInsn[]): Uint8Array {
  const bytes = new Uint8Array(prog.length * 8);
  const dv = new DataView(bytes.buffer);
  prog.forEach((x, j) => {
    if (x.off < -32768 || x.off > 32767) throw new NetringError(`eBPF instruction ${j}: offset ${x.off} does not fit 16 bits`, 'EFILTER');
    dv.setUint8(j * 8, x.code);
    dv.setUint8(j * 8 + 1, ((x.src & 0xf) << 4) | (x.dst & 0xf));
    dv.setInt16(j * 8 + 2, x.off, true);
    dv.setInt32(j * 8 + 4, x.imm | 0, true);
  });
  return bytes;
}

/** Decode struct bpf_insn records. */
export function decodeEbpf(bytes: Uint8Array): EbpfInsn[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: EbpfInsn[] = [];
  for (let i = 0; i + 8 <= bytes.length; i += 8) {
    const r = dv.getUint8(i + 1);
    out.push({ code: dv.getUint8(i), dst: r & 0xf, src: r >> 4, off: dv.getInt16(i + 2, true), imm: dv.getInt32(i + 4, true) });
  }
  return out;
}

const ALU_SYM: Record<number, string> = {
  [E_ADD]: '+=', [E_SUB]: '-=', [E_MUL]: '*=', [E_DIV]: '/=', [E_OR]: '|=', [E_AND]: '&=', [E_LSH]: '<<=', [E_RSH]: '>>=',
  [E_MOD]: '%=', [E_XOR]: '^=', [E_MOV]: '=', [E_ARSH]: 's>>=',
};
const JMP_SYM: Record<number, string> = {
  [E_JEQ]: '==', [E_JGT]: '>', [E_JGE]: '>=', [E_JSET]: '&', [E_JNE]: '!=', [E_JSGT]: 's>', [E_JSGE]: 's>=',
  [E_JLT]: '<', [E_JLE]: '<=', [E_JSLT]: 's<', [E_JSLE]: 's<=',
};
const SZ: Record<number, string> = { [E_W]: 'u32', [E_H]: 'u16', [E_B]: 'u8', [E_DW]: 'u64' };
const HELPER_NAMES = new Map<number, string>(Object.entries(HELPER).map(([k, v]) => [v, `bpf_${k}`]));

const imm = (v: number): string => (v < 0 || v > 9 ? `0x${(v >>> 0).toString(16)}` : String(v));

/** One instruction as text (`r0 = *(u16 *)(r2 +12)`, `if w0 != 0x800 goto +5`, ...). `next` is the following instruction (for 64-bit immediates). */
export function formatEbpfInsn(x: EbpfInsn, next?: EbpfInsn): string {
  const cls = x.code & 0x07;
  const r = (n: number, wide: boolean): string => `${wide ? 'r' : 'w'}${n}`;
  switch (cls) {
    case E_ALU:
    case E_ALU64: {
      const wide = cls === E_ALU64;
      const o = x.code & 0xf0;
      if (o === E_NEG) return `${r(x.dst, wide)} = -${r(x.dst, wide)}`;
      if (o === E_END) return `${r(x.dst, true)} = ${(x.code & 0x08) ? 'be' : 'le'}${x.imm} ${r(x.dst, true)}`;
      const rhs = x.code & E_X ? r(x.src, wide) : imm(x.imm);
      return `${r(x.dst, wide)} ${ALU_SYM[o] ?? '?='} ${rhs}`;
    }
    case E_LDX:
      return `r${x.dst} = *(${SZ[x.code & 0x18]} *)(r${x.src} ${x.off >= 0 ? '+' : '-'}${Math.abs(x.off)})`;
    case E_STX:
      if ((x.code & 0xe0) === E_ATOMIC) return `lock *(${SZ[x.code & 0x18]} *)(r${x.dst} ${x.off >= 0 ? '+' : '-'}${Math.abs(x.off)}) += r${x.src}`;
      return `*(${SZ[x.code & 0x18]} *)(r${x.dst} ${x.off >= 0 ? '+' : '-'}${Math.abs(x.off)}) = r${x.src}`;
    case E_ST:
      return `*(${SZ[x.code & 0x18]} *)(r${x.dst} ${x.off >= 0 ? '+' : '-'}${Math.abs(x.off)}) = ${imm(x.imm)}`;
    case E_LD: {
      const m = x.code & 0xe0;
      if (m === E_IMM && (x.code & 0x18) === E_DW) {
        if (x.src === PSEUDO_MAP_FD) return `r${x.dst} = map[fd ${x.imm}] ll`;
        const hi = next ? next.imm >>> 0 : 0;
        return `r${x.dst} = 0x${(BigInt(hi) << 32n | BigInt(x.imm >>> 0)).toString(16)} ll`;
      }
      if (m === E_ABS) return `r0 = *(${SZ[x.code & 0x18]} *)skb[${x.imm}]`;
      if (m === E_IND) return `r0 = *(${SZ[x.code & 0x18]} *)skb[r${x.src} + ${x.imm}]`;
      return `(bad ld 0x${x.code.toString(16)})`;
    }
    case E_JMP:
    case E_JMP32: {
      const o = x.code & 0xf0;
      const off = `${x.off >= 0 ? '+' : ''}${x.off}`;
      if (cls === E_JMP && o === E_JA) return `goto pc${off}`;
      if (cls === E_JMP && o === E_EXIT) return 'exit';
      if (cls === E_JMP && o === E_CALL) return `call ${HELPER_NAMES.get(x.imm) ?? `#${x.imm}`}`;
      const wide = cls === E_JMP;
      const rhs = x.code & E_X ? r(x.src, wide) : imm(x.imm);
      return `if ${r(x.dst, wide)} ${JMP_SYM[o] ?? '?'} ${rhs} goto pc${off}`;
    }
  }
  return `(bad 0x${x.code.toString(16)})`;
}

/** The whole program as a numbered listing (the second half of a 64-bit immediate is not shown). */
export function formatEbpf(prog: readonly EbpfInsn[]): string {
  const lines: string[] = [];
  const w = String(prog.length).length;
  for (let i = 0; i < prog.length; i++) {
    const x = prog[i];
    lines.push(`${String(i).padStart(w)}: ${formatEbpfInsn(x, prog[i + 1])}`);
    if (x.code === (E_LD | E_IMM | E_DW)) i++;
  }
  return lines.join('\n');
}
