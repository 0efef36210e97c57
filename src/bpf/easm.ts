/**
 * An eBPF assembler with labels: emit instructions whose jumps name labels,
 * then `assemble()` resolves them to 16-bit offsets (refusing jumps that do
 * not fit, and backward jumps unless allowed).
 */
import { NetringError } from '../errors.js';
import {
  E_ALU, E_ALU64, E_ATOMIC, E_CALL, E_DW, E_END, E_EXIT, E_IMM, E_JA, E_JMP, E_JMP32, E_K, E_LD, E_LDX, E_MEM, E_MOV, E_NEG,
  E_ST, E_STX, E_TO_BE, E_X, PSEUDO_MAP_FD, type EbpfInsn,
} from './ebpf.js';

/** A jump target: a label name. */
export type ELabel = string;

interface Pending extends EbpfInsn { target?: ELabel }

export class EAsm {
  private readonly out: Pending[] = [];
  private readonly labels = new Map<ELabel, number>();
  private n = 0;

  /** A fresh label name. */
  label(hint = 'L'): ELabel { return `${hint}#${this.n++}`; }

  /** Place a label at the next instruction. */
  here(name: ELabel): this {
    if (this.labels.has(name)) throw new Error(`label ${name} placed twice`);
    this.labels.set(name, this.out.length);
    return this;
  }

  /** Is the label placed already? */
  placed(name: ELabel): boolean { return this.labels.has(name); }

  /** Instructions emitted so far. */
  get length(): number { return this.out.length; }

  /** Any instruction. */
  raw(code: number, dst = 0, src = 0, off = 0, imm = 0, target?: ELabel): this {
    this.out.push({ code, dst, src, off, imm: imm | 0, target });
    return this;
  }

  /** 64-bit ALU op with an immediate (`r dst op= imm`). */
  alu64(op: number, dst: number, imm: number): this { return this.raw(E_ALU64 | op | E_K, dst, 0, 0, imm); }
  /** 64-bit ALU op with a register. */
  alu64X(op: number, dst: number, src: number): this { return this.raw(E_ALU64 | op | E_X, dst, src); }
  /** 32-bit ALU op with an immediate (upper half zeroed). */
  alu32(op: number, dst: number, imm: number): this { return this.raw(E_ALU | op | E_K, dst, 0, 0, imm); }
  /** 32-bit ALU op with a register. */
  alu32X(op: number, dst: number, src: number): this { return this.raw(E_ALU | op | E_X, dst, src); }
  neg32(dst: number): this { return this.raw(E_ALU | E_NEG, dst); }
  mov64(dst: number, imm: number): this { return this.alu64(E_MOV, dst, imm); }
  mov64X(dst: number, src: number): this { return this.alu64X(E_MOV, dst, src); }
  mov32(dst: number, imm: number): this { return this.alu32(E_MOV, dst, imm); }
  mov32X(dst: number, src: number): this { return this.alu32X(E_MOV, dst, src); }
  /** Byte-swap the low `bits` (16/32/64) of dst from host (little) to big endian. */
  be(dst: number, bits: 16 | 32 | 64): this { return this.raw(E_ALU | E_END | E_TO_BE, dst, 0, 0, bits); }
  /** dst = *(size *)(src + off). */
  ldx(size: number, dst: number, src: number, off: number): this { return this.raw(E_LDX | E_MEM | size, dst, src, off); }
  /** *(size *)(dst + off) = src. */
  stx(size: number, dst: number, off: number, src: number): this { return this.raw(E_STX | E_MEM | size, dst, src, off); }
  /** *(size *)(dst + off) = imm. */
  st(size: number, dst: number, off: number, imm: number): this { return this.raw(E_ST | E_MEM | size, dst, 0, off, imm); }
  /** lock *(size *)(dst + off) += src (size W or DW). */
  atomicAdd(size: number, dst: number, off: number, src: number): this { return this.raw(E_STX | E_ATOMIC | size, dst, src, off, 0); }
  /** dst = 64-bit constant. */
  ld64(dst: number, v: bigint): this {
    const lo = Number(BigInt.asIntN(32, v));
    const hi = Number(BigInt.asIntN(32, v >> 32n));
    this.raw(E_LD | E_IMM | E_DW, dst, 0, 0, lo);
    return this.raw(0, 0, 0, 0, hi);
  }
  /** dst = the map whose fd is `fd` (relocated by the kernel at load). */
  ldMap(dst: number, fd: number): this {
    this.raw(E_LD | E_IMM | E_DW, dst, PSEUDO_MAP_FD, 0, fd);
    return this.raw(0, 0, 0, 0, 0);
  }
  /** Conditional jump, 64-bit compare against an immediate. */
  jmp(op: number, dst: number, imm: number, to: ELabel): this { return this.raw(E_JMP | op | E_K, dst, 0, 0, imm, to); }
  /** Conditional jump, 64-bit compare against a register. */
  jmpX(op: number, dst: number, src: number, to: ELabel): this { return this.raw(E_JMP | op | E_X, dst, src, 0, 0, to); }
  /** Conditional jump, 32-bit compare against an immediate. */
  jmp32(op: number, dst: number, imm: number, to: ELabel): this { return this.raw(E_JMP32 | op | E_K, dst, 0, 0, imm, to); }
  /** Conditional jump, 32-bit compare against a register. */
  jmp32X(op: number, dst: number, src: number, to: ELabel): this { return this.raw(E_JMP32 | op | E_X, dst, src, 0, 0, to); }
  ja(to: ELabel): this { return this.raw(E_JMP | E_JA, 0, 0, 0, 0, to); }
  call(helper: number): this { return this.raw(E_JMP | E_CALL, 0, 0, 0, helper); }
  exit(): this { return this.raw(E_JMP | E_EXIT); }
  /** r0 = k; exit. */
  ret(k: number): this { return this.mov32(0, k).exit(); }

  /** The program with labels resolved. `backward` allows jumps to earlier instructions. */
  assemble(opts: { backward?: boolean } = {}): EbpfInsn[] {
    return this.out.map((p, i) => {
      if (p.target === undefined) return { code: p.code, dst: p.dst, src: p.src, off: p.off, imm: p.imm };
      const at = this.labels.get(p.target);
      if (at === undefined) throw new Error(`label ${p.target} never placed`);
      if (at >= this.out.length) throw new NetringError(`eBPF: label ${p.target} is past the last instruction`, 'EFILTER');
      const off = at - i - 1;
      if (off < 0 && !opts.backward) throw new NetringError(`eBPF: backward jump to ${p.target}`, 'EFILTER');
      if (off < -32768 || off > 32767) throw new NetringError(`eBPF: a jump spans ${off} instructions (16-bit offsets reach 32767)`, 'EFILTER');
      return { code: p.code, dst: p.dst, src: p.src, off, imm: p.imm };
    });
  }
}

