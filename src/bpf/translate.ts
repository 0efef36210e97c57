/**
 * Classic BPF -> eBPF, the way the kernel's own converter does it: A = r0,
 * X = r7, ctx = r6, M[k] on the stack, packet loads through the legacy
 * LD_ABS/LD_IND instructions (which keep SKF_LL_OFF/SKF_NET_OFF offsets and
 * end the program with 0 on a failed load), ancillary loads as __sk_buff
 * fields or helpers. With `tableFd`, every `ret a` becomes
 * `return table[a]` (0 when a is out of range): the fan-out group's eBPF
 * steering, whose member table is rewritten without a reload.
 */
import { NetringError } from '../errors.js';
import { AD, ancillaryField } from './ancillary.js';
import type { BpfProgram } from './classic.js';
import {
  E_ABS, E_ADD, E_AND, E_B, E_IND, E_JEQ, E_JNE, E_LD, E_LSH, E_W, HELPER, R0, R1, R2, R6, R7, R8, R10,
  encodeEbpf, type EbpfInsn,
} from './ebpf.js';
import { EAsm } from './easm.js';

/** __sk_buff field offsets (linux/bpf.h). */
export const SKB_FIELD = Object.freeze({
  len: 0, pkt_type: 4, mark: 8, queue_mapping: 12, protocol: 16, vlan_present: 20, vlan_tci: 24, vlan_proto: 28,
  priority: 32, ingress_ifindex: 36, ifindex: 40, tc_index: 44, cb: 48, hash: 68, tc_classid: 72, data: 76, data_end: 80,
});

const STACK_M = (k: number): number => -4 * (k + 1);
const STACK_KEY = -68;

/** Options of {@link translateClassic}. */
export interface TranslateOptions {
  /** An ARRAY map (u32 -> u32): `ret a` returns table[a]. */
  tableFd?: number;
}

/** Translate a classic program into eBPF instructions (a SOCKET_FILTER program). */
export function translateClassic(prog: BpfProgram, opts: TranslateOptions = {}): EbpfInsn[] {
  const a = new EAsm();
  const at = (i: number): string => `c${i}`;
  // prologue: ctx in r6 (LD_ABS needs it there), A = X = 0
  a.mov64X(R6, R1).mov32(R0, 0).mov32(R7, 0);
  const field = (dst: number, off: number): void => { a.ldx(E_W, dst, R6, off); };
  const size = (code: number): number => code & 0x18; // same encoding in both
  prog.forEach((ins, i) => {
    a.here(at(i));
    const { code } = ins;
    const k = ins.k >>> 0;
    const ks = k | 0;
    switch (code & 0x07) {
      case 0x00: // LD
      case 0x01: { // LDX
        const toX = (code & 0x07) === 0x01;
        const dst = toX ? R7 : R0;
        const mode = code & 0xe0;
        if (mode === 0x00) { a.mov32(dst, k); break; }
        if (mode === 0x60) { a.ldx(E_W, dst, R10, STACK_M(k & 15)); break; }
        if (mode === 0x80) { field(dst, SKB_FIELD.len); break; }
        if (mode === 0xa0) { // X = 4 * (P[k] & 0xf), A preserved
          a.mov64X(R8, R0);
          a.raw(E_LD | E_ABS | E_B, 0, 0, 0, ks);
          a.alu32(E_AND, R0, 0xf).alu32(E_LSH, R0, 2).mov32X(R7, R0).mov32X(R0, R8);
          break;
        }
        if (toX) throw new NetringError(`translate: classic instruction ${i}: unsupported LDX mode`, 'EFILTER');
        const f = mode === 0x20 ? ancillaryField(k) : null;
        if (f !== null) { ancillary(f, i); break; }
        if (mode === 0x20) { a.raw(E_LD | E_ABS | size(code), 0, 0, 0, ks); break; }
        if (mode === 0x40) { a.raw(E_LD | E_IND | size(code), 0, R7, 0, ks); break; }
        throw new NetringError(`translate: classic instruction ${i}: unsupported load mode`, 'EFILTER');
      }
      case 0x02: a.stx(E_W, R10, STACK_M(k & 15), R0); break;
      case 0x03: a.stx(E_W, R10, STACK_M(k & 15), R7); break;
      case 0x04: { // ALU (32-bit, same op encoding)
        const op = code & 0xf0;
        const useX = (code & 0x08) !== 0;
        if (useX && (op === 0x30 || op === 0x90)) { // division by X = 0 ends the program with 0, as in classic BPF
          const ok = a.label('div');
          a.jmp32(E_JNE, R7, 0, ok).ret(0).here(ok);
        }
        if (op === 0x80) a.neg32(R0);
        else if (useX) a.alu32X(op, R0, R7);
        else a.alu32(op, R0, k);
        break;
      }
      case 0x05: { // JMP
        const op = code & 0xf0;
        if (op === 0x00) { a.ja(at(i + 1 + k)); break; }
        const useX = (code & 0x08) !== 0;
        if (useX) a.jmp32X(op, R0, R7, at(i + 1 + ins.jt));
        else a.jmp32(op, R0, k, at(i + 1 + ins.jt));
        if (ins.jf !== 0) a.ja(at(i + 1 + ins.jf));
        break;
      }
      case 0x06: { // RET
        const src = code & 0x18;
        if (src === 0x00) a.ret(k);
        else if (src === 0x10) {
          if (opts.tableFd === undefined) a.exit();
          else lookup(opts.tableFd);
        } else throw new NetringError(`translate: classic instruction ${i}: ret x is not classic BPF`, 'EFILTER');
        break;
      }
      case 0x07: // MISC
        if ((code & 0xf8) === 0x80) a.mov32X(R0, R7);
        else a.mov32X(R7, R0);
        break;
      default: throw new NetringError(`translate: bad classic instruction ${i}`, 'EFILTER');
    }
  });

  function ancillary(f: number, i: number): void {
    switch (f) {
      case AD.PROTOCOL: field(R0, SKB_FIELD.protocol); a.be(R0, 16); break;
      case AD.PKTTYPE: field(R0, SKB_FIELD.pkt_type); break;
      case AD.MARK: field(R0, SKB_FIELD.mark); break;
      case AD.QUEUE: field(R0, SKB_FIELD.queue_mapping); break;
      case AD.IFINDEX: field(R0, SKB_FIELD.ifindex); break;
      case AD.RXHASH: field(R0, SKB_FIELD.hash); break;
      case AD.VLAN_TAG: field(R0, SKB_FIELD.vlan_tci); break;
      case AD.VLAN_TAG_PRESENT: field(R0, SKB_FIELD.vlan_present); break;
      case AD.VLAN_TPID: field(R0, SKB_FIELD.vlan_proto); a.be(R0, 16); break;
      case AD.RANDOM: a.call(HELPER.get_prandom_u32); break;
      case AD.CPU: a.call(HELPER.get_smp_processor_id); break;
      case AD.ALU_XOR_X: a.alu32X(0xa0, R0, R7); break;
      default: throw new NetringError(`translate: classic instruction ${i}: ancillary field ${f} has no eBPF equivalent here`, 'EFILTER');
    }
  }

  function lookup(fd: number): void {
    const miss = a.label('miss');
    a.stx(E_W, R10, STACK_KEY, R0).ldMap(R1, fd).mov64X(R2, R10).alu64(E_ADD, R2, STACK_KEY);
    a.call(HELPER.map_lookup_elem);
    a.jmp(E_JEQ, R0, 0, miss); // 64-bit compare: r0 is a pointer
    a.ldx(E_W, R0, R0, 0).exit();
    a.here(miss).ret(0);
  }

  return a.assemble();
}

/** Translate a classic program into eBPF bytecode (struct bpf_insn records). */
export function cbpfToEbpf(prog: BpfProgram, opts: TranslateOptions = {}): Uint8Array {
  return encodeEbpf(translateClassic(prog, opts));
}
