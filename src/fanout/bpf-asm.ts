/**
 * A tiny classic BPF assembler with forward labels, used by the steering
 * program generator (and open to the packet-language compiler). Opcode
 * constants follow linux/filter.h.
 */
import { NetringError } from '../errors.js';
import type { BpfInsn } from '../ring/cbpf.js';

// Opcode constants (linux/filter.h) are the packet-language compiler's: one table.
import {
  LD, LDX, ST, STX, ALU, JMP, RET, MISC, W, H, B, IMM, ABS, IND, MEM, LEN, MSH, ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, NEG, MOD, XOR, JA, JEQ, JGT, JGE, JSET, K, X, TAX, TXA, RET_A,
} from '../lang/cbpf/insn.js';
export {
  LD, LDX, ST, STX, ALU, JMP, RET, MISC, W, H, B, IMM, ABS, IND, MEM, LEN, MSH, ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, NEG, MOD, XOR, JA, JEQ, JGT, JGE, JSET, K, X, TAX, TXA,
};
/** ret A */
export const RA = RET_A;

/** Linux negative-offset bases: ancillary data, network header, link-layer (MAC) header. */
export const SKF_AD_OFF = -0x1000;
export const SKF_NET_OFF = -0x100000;
export const SKF_LL_OFF = -0x200000;
/** Ancillary fields (added to SKF_AD_OFF). */
export const AD = Object.freeze({
  PROTOCOL: 0, PKTTYPE: 4, IFINDEX: 8, NLATTR: 12, NLATTR_NEST: 16, MARK: 20, QUEUE: 24, HATYPE: 28,
  RXHASH: 32, CPU: 36, ALU_XOR_X: 40, VLAN_TAG: 44, VLAN_TAG_PRESENT: 48, PAY_OFFSET: 52, RANDOM: 56, VLAN_TPID: 60,
});

/** k of a load relative to the link-layer header (works on both receive and send paths). */
export const ll = (off: number): number => (SKF_LL_OFF + off) >>> 0;
/** k of an ancillary load. */
export const ad = (field: number): number => (SKF_AD_OFF + field) >>> 0;

type Target = string | null;
interface Pending { code: number; jt: Target; jf: Target; k: number; ja?: string; fixed?: readonly [number, number] }

/**
 * Emit instructions with symbolic forward jump targets, then `assemble()`.
 * A null target means "the next instruction". Conditional jumps reach at most
 * 255 instructions ahead (the 8-bit jt/jf); `ja` reaches anywhere forward.
 */
export class Asm {
  private readonly out: Pending[] = [];
  private readonly labels = new Map<string, number>();
  private n = 0;

  /** A fresh label name. */
  label(hint = 'L'): string { return `${hint}#${this.n++}`; }

  /** Place a label at the next instruction. */
  here(name: string): this {
    if (this.labels.has(name)) throw new Error(`label ${name} placed twice`);
    this.labels.set(name, this.out.length);
    return this;
  }

  /** Current instruction count. */
  get length(): number { return this.out.length; }

  /** Any non-jump instruction. */
  op(code: number, k = 0): this {
    this.out.push({ code, jt: null, jf: null, k: k >>> 0 });
    return this;
  }

  /** Conditional jump on A (against k, or X with `X` in code). */
  jmp(cond: number, k: number, jt: Target, jf: Target): this {
    this.out.push({ code: JMP | cond, jt, jf, k: k >>> 0 });
    return this;
  }

  /** Unconditional jump. */
  ja(target: string): this {
    this.out.push({ code: JMP | JA, jt: null, jf: null, k: 0, ja: target });
    return this;
  }

  /** Copy already final instructions verbatim (their jumps are relative and stay valid). */
  raw(insns: readonly BpfInsn[]): this {
    for (const i of insns) this.out.push({ code: i.code, jt: null, jf: null, k: i.k >>> 0, fixed: [i.jt, i.jf] });
    return this;
  }

  // shorthands
  ldAbs(size: number, k: number): this { return this.op(LD | size | ABS, k); }
  ldInd(size: number, k: number): this { return this.op(LD | size | IND, k); }
  ldImm(k: number): this { return this.op(LD | IMM, k); }
  ldxImm(k: number): this { return this.op(LDX | IMM, k); }
  ldMem(m: number): this { return this.op(LD | MEM, m); }
  ldxMem(m: number): this { return this.op(LDX | MEM, m); }
  st(m: number): this { return this.op(ST, m); }
  stx(m: number): this { return this.op(STX, m); }
  alu(aop: number, k: number): this { return this.op(ALU | aop | K, k); }
  aluX(aop: number): this { return this.op(ALU | aop | X); }
  tax(): this { return this.op(MISC | TAX); }
  txa(): this { return this.op(MISC | TXA); }
  retK(k: number): this { return this.op(RET | K, k); }
  retA(): this { return this.op(RET | RA); }

  /** Resolve labels into offsets. */
  assemble(): BpfInsn[] {
    return this.out.map((p, i) => {
      if (p.fixed !== undefined) return { code: p.code, jt: p.fixed[0], jf: p.fixed[1], k: p.k };
      const rel = (t: Target): number => {
        if (t === null) return 0;
        const at = this.labels.get(t);
        if (at === undefined) throw new Error(`label ${t} never placed`);
        const d = at - i - 1;
        if (d < 0) throw new NetringError(`classic BPF jumps only forward (label ${t})`, 'EFILTER');
        return d;
      };
      if (p.ja !== undefined) return { code: p.code, jt: 0, jf: 0, k: rel(p.ja) };
      const jt = rel(p.jt);
      const jf = rel(p.jf);
      if (jt > 255 || jf > 255) throw new NetringError(`steering program too long: a conditional jump spans ${Math.max(jt, jf)} > 255 instructions`, 'EFILTER');
      return { code: p.code, jt, jf, k: p.k };
    });
  }
}
