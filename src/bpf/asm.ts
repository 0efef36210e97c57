/**
 * A tiny classic BPF assembler with forward labels, used by the steering
 * program generator and open to other code generators.
 */
import { NetringError } from '../errors.js';
import { ABS, ALU, IMM, IND, JA, JMP, K, LD, LDX, MEM, MISC, RET, RET_A, ST, STX, TAX, TXA, X, type BpfInsn } from './classic.js';

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
  retA(): this { return this.op(RET | RET_A); }

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
