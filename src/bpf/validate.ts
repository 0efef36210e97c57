/**
 * The Linux checker for classic BPF (net/core/filter.c, bpf_check_classic and
 * check_load_and_stores), in TypeScript: what SO_ATTACH_FILTER and
 * PACKET_FANOUT_DATA accept. Checking first turns the kernel's bare EINVAL
 * into a sentence naming the instruction.
 *
 * Rules: 1..4096 instructions; every opcode on the kernel's list; constant
 * division/modulus by 0 and shifts by 32 or more refused; M[] indexes below
 * 16 and no M[] slot read before every path to it has written it; every jump
 * lands inside the program (and `ja` only forward); the last instruction is
 * a return; ancillary loads name a known field.
 */
import { NetringError } from '../errors.js';
import { ancillaryField, AD } from './ancillary.js';
import { BPF_MAXINSNS, BPF_MEMWORDS, type BpfProgram } from './classic.js';

/** Every opcode the kernel accepts in a classic program. */
const ALLOWED = new Set<number>([
  // ALU, K and X forms, and neg
  ...[0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0].flatMap((o) => [0x04 | o, 0x0c | o]), 0x84,
  // LD: abs and ind in three sizes, imm, mem, len
  0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x00, 0x60, 0x80,
  // LDX: imm, mem, len, msh
  0x01, 0x61, 0x81, 0xb1,
  // ST, STX, RET k, RET a, TAX, TXA
  0x02, 0x03, 0x06, 0x16, 0x07, 0x87,
  // JMP: ja, and jeq/jgt/jge/jset with K and X
  0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d,
]);

const KNOWN_AD = new Set<number>(Object.values(AD));

/** Why the kernel would refuse `prog`, or null when it accepts it. */
export function checkClassic(prog: BpfProgram): string | null {
  const n = prog.length;
  if (n === 0) return 'empty program (the kernel needs 1 to 4096 instructions)';
  if (n > BPF_MAXINSNS) return `program has ${n} instructions; the kernel accepts at most ${BPF_MAXINSNS}`;
  for (let pc = 0; pc < n; pc++) {
    const { code, jt, jf } = prog[pc];
    const k = prog[pc].k >>> 0;
    const at = `instruction ${pc}`;
    if (!ALLOWED.has(code)) return `${at}: opcode 0x${code.toString(16)} is not classic BPF`;
    switch (code) {
      case 0x34: case 0x94: if (k === 0) return `${at}: division by zero`; break;
      case 0x64: case 0x74: if (k >= 32) return `${at}: shift by ${k} (at most 31)`; break;
      case 0x60: case 0x61: case 0x02: case 0x03: if (k >= BPF_MEMWORDS) return `${at}: scratch memory M[${k}] does not exist (M[0]..M[15])`; break;
      case 0x05: if (k >= n - pc - 1) return `${at}: jump out of range (ja ${k >= 0x80000000 ? 'backward' : `+${k}`}; jumps go forward inside the program)`; break;
      case 0x20: case 0x28: case 0x30: {
        const f = ancillaryField(k);
        if (f !== null && !KNOWN_AD.has(f)) return `${at}: unknown ancillary field SKF_AD_OFF+${f}`;
        break;
      }
    }
    if ((code & 0x07) === 0x05 && code !== 0x05 && (pc + 1 + jt >= n || pc + 1 + jf >= n)) return `${at}: jump out of range`;
  }
  const last = prog[n - 1].code;
  if (last !== 0x06 && last !== 0x16) return 'the last instruction must be a return';
  return checkMemory(prog);
}

/**
 * No M[] slot is read before it is written: the kernel's check_load_and_stores,
 * step for step (a jump narrows its targets' known slots and the fall-through
 * after it starts from "all"; after a return the walk simply continues).
 */
function checkMemory(prog: BpfProgram): string | null {
  const masks = new Uint16Array(prog.length).fill(0xffff);
  let valid = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    valid &= masks[pc];
    const { code, jt, jf } = prog[pc];
    const k = prog[pc].k >>> 0;
    if (code === 0x02 || code === 0x03) valid |= 1 << k;
    else if (code === 0x60 || code === 0x61) {
      if (!(valid & (1 << k))) return `instruction ${pc}: reads M[${k}] before it is written`;
    } else if (code === 0x05) {
      masks[pc + 1 + k] &= valid;
      valid = 0xffff;
    } else if ((code & 0x07) === 0x05) {
      masks[pc + 1 + jt] &= valid;
      masks[pc + 1 + jf] &= valid;
      valid = 0xffff;
    }
  }
  return null;
}

/** Throw a one-line NetringError (code EFILTER) when the kernel would refuse `prog`. */
export function assertClassic(prog: BpfProgram, what = 'classic BPF program'): void {
  const why = checkClassic(prog);
  if (why) throw new NetringError(`${what} rejected by the kernel's rules: ${why}`, 'EFILTER');
}
