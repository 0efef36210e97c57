/**
 * eBPF steering, for what classic BPF cannot do: change weights or follow
 * members that come and go WITHOUT reloading the program. The steering
 * program returns a table index; an eBPF ARRAY map turns it into the member's
 * kernel slot, and the group rewrites map entries from the main thread.
 *
 * {@link cbpfToEbpf} translates a classic program (as steering.ts generates)
 * into an eBPF SOCKET_FILTER program, the way the kernel's own converter does:
 * A = r0, X = r7, ctx = r6, M[k] on the stack, packet loads through the legacy
 * LD_ABS/LD_IND instructions (which keep SKF_LL_OFF offsets and end the program
 * with 0 on a failed load), ancillary loads as __sk_buff fields or helpers.
 * With `tableFd`, every `ret a` becomes `return table[a]` (0 when a is out of range).
 */
import { native } from '../native.js';
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_UPDATE_ELEM, BPF_PROG_TYPE_SOCKET_FILTER } from '../constants.js';
import { NetringError, sys } from '../errors.js';
import type { BpfProgram } from '../ring/cbpf.js';
import { AD, SKF_AD_OFF } from './bpf-asm.js';

// eBPF encoding
const R0 = 0, R1 = 1, R2 = 2, R6 = 6, R7 = 7, R8 = 8, R10 = 10;
const E_LD = 0x00, E_LDX = 0x01, E_STX = 0x03, E_ALU = 0x04, E_JMP = 0x05, E_JMP32 = 0x06, E_ALU64 = 0x07;
const E_W = 0x00, E_B = 0x10, E_DW = 0x18;
const E_ABS = 0x20, E_IND = 0x40, E_MEM = 0x60, E_IMM = 0x00;
const E_MOV = 0xb0, E_END = 0xd0, E_X = 0x08;
const E_EXIT = 0x90, E_CALL = 0x80, E_JNE = 0x50, E_JEQ = 0x10;
const PSEUDO_MAP_FD = 1;
const HELPER_MAP_LOOKUP = 1, HELPER_PRANDOM = 7, HELPER_CPU = 8;
// __sk_buff field offsets (linux/bpf.h)
const SKB = { len: 0, pkt_type: 4, mark: 8, queue_mapping: 12, protocol: 16, vlan_present: 20, vlan_tci: 24, vlan_proto: 28, ifindex: 40, hash: 68 };
const STACK_M = (k: number): number => -4 * (k + 1);
const STACK_KEY = -68;

interface EInsn { code: number; dst: number; src: number; off: number; imm: number; target?: number }

/** Options of {@link cbpfToEbpf}. */
export interface EbpfOptions {
  /** An ARRAY map (u32 -> u32): `ret a` returns table[a]. */
  tableFd?: number;
}

/** Translate a classic BPF program into eBPF bytecode (8-byte little-endian records). */
export function cbpfToEbpf(prog: BpfProgram, opts: EbpfOptions = {}): Uint8Array {
  const out: EInsn[] = [];
  const start: number[] = []; // eBPF index of each classic instruction
  const e = (code: number, dst = 0, src = 0, off = 0, imm = 0, target?: number): void => {
    out.push({ code, dst, src, off, imm: imm | 0, target });
  };
  const exitWith = (k: number): void => { e(E_ALU | E_MOV | E_IMM, R0, 0, 0, k); e(E_JMP | E_EXIT); };
  // prologue: ctx in r6 (LD_ABS needs it there), A = X = 0
  e(E_ALU64 | E_MOV | E_X, R6, R1);
  e(E_ALU | E_MOV | E_IMM, R0, 0, 0, 0);
  e(E_ALU | E_MOV | E_IMM, R7, 0, 0, 0);
  const size = (code: number): number => code & 0x18; // same encoding in both
  const field = (dst: number, off: number): void => e(E_LDX | E_MEM | E_W, dst, R6, off);
  const swap16 = (dst: number): void => e(E_ALU | E_END | E_X /* to BE */, dst, 0, 0, 16);
  prog.forEach((ins, i) => {
    start[i] = out.length;
    const { code } = ins;
    const k = ins.k >>> 0;
    const ks = k | 0;
    switch (code & 0x07) {
      case 0x00: // LD
      case 0x01: { // LDX
        const toX = (code & 0x07) === 0x01;
        const dst = toX ? R7 : R0;
        const mode = code & 0xe0;
        if (mode === 0x00) { e(E_ALU | E_MOV | E_IMM, dst, 0, 0, k); break; }
        if (mode === 0x60) { e(E_LDX | E_MEM | E_W, dst, R10, STACK_M(k & 15)); break; }
        if (mode === 0x80) { field(dst, SKB.len); break; }
        if (mode === 0xa0) { // X = 4 * (P[k] & 0xf), A preserved
          e(E_ALU64 | E_MOV | E_X, R8, R0);
          e(E_LD | E_ABS | E_B, 0, 0, 0, ks);
          e(E_ALU | 0x50 | E_IMM, R0, 0, 0, 0xf);
          e(E_ALU | 0x60 | E_IMM, R0, 0, 0, 2);
          e(E_ALU | E_MOV | E_X, R7, R0);
          e(E_ALU | E_MOV | E_X, R0, R8);
          break;
        }
        if (toX) throw new NetringError(`cbpfToEbpf: instruction ${i}: unsupported LDX mode`, 'EFILTER');
        if (mode === 0x20 && ks < 0 && ks >= SKF_AD_OFF) { ancillary(ks - SKF_AD_OFF, i); break; }
        if (mode === 0x20) { e(E_LD | E_ABS | size(code), 0, 0, 0, ks); break; }
        if (mode === 0x40) { e(E_LD | E_IND | size(code), 0, R7, 0, ks); break; }
        throw new NetringError(`cbpfToEbpf: instruction ${i}: unsupported load mode`, 'EFILTER');
      }
      case 0x02: e(E_STX | E_MEM | E_W, R10, R0, STACK_M(k & 15)); break;
      case 0x03: e(E_STX | E_MEM | E_W, R10, R7, STACK_M(k & 15)); break;
      case 0x04: { // ALU (32-bit, same op encoding)
        const op = code & 0xf0;
        const useX = (code & 0x08) !== 0;
        if (useX && (op === 0x30 || op === 0x90)) { // division by X = 0 ends the program with 0, as in classic BPF
          e(E_JMP32 | E_JNE | E_IMM, R7, 0, 2, 0);
          exitWith(0);
        }
        if (op === 0x80) e(E_ALU | 0x80, R0);
        else if (useX) e(E_ALU | op | E_X, R0, R7);
        else e(E_ALU | op | E_IMM, R0, 0, 0, k);
        break;
      }
      case 0x05: { // JMP
        const op = code & 0xf0;
        if (op === 0x00) { e(E_JMP, 0, 0, 0, 0, i + 1 + k); break; }
        const useX = (code & 0x08) !== 0;
        e(E_JMP32 | op | (useX ? E_X : E_IMM), R0, useX ? R7 : 0, 0, useX ? 0 : k, i + 1 + ins.jt);
        if (ins.jf !== 0) e(E_JMP, 0, 0, 0, 0, i + 1 + ins.jf);
        break;
      }
      case 0x06: { // RET
        const src = code & 0x18;
        if (src === 0x00) exitWith(k);
        else if (src === 0x10) {
          if (opts.tableFd === undefined) e(E_JMP | E_EXIT);
          else lookup(opts.tableFd);
        } else throw new NetringError(`cbpfToEbpf: instruction ${i}: ret x is not classic BPF`, 'EFILTER');
        break;
      }
      case 0x07: // MISC
        if ((code & 0xf8) === 0x80) e(E_ALU | E_MOV | E_X, R0, R7);
        else e(E_ALU | E_MOV | E_X, R7, R0);
        break;
      default: throw new NetringError(`cbpfToEbpf: bad instruction ${i}`, 'EFILTER');
    }
  });

  function ancillary(f: number, i: number): void {
    switch (f) {
      case AD.PROTOCOL: field(R0, SKB.protocol); swap16(R0); break;
      case AD.PKTTYPE: field(R0, SKB.pkt_type); break;
      case AD.MARK: field(R0, SKB.mark); break;
      case AD.QUEUE: field(R0, SKB.queue_mapping); break;
      case AD.IFINDEX: field(R0, SKB.ifindex); break;
      case AD.RXHASH: field(R0, SKB.hash); break;
      case AD.VLAN_TAG: field(R0, SKB.vlan_tci); break;
      case AD.VLAN_TAG_PRESENT: field(R0, SKB.vlan_present); break;
      case AD.VLAN_TPID: field(R0, SKB.vlan_proto); swap16(R0); break;
      case AD.RANDOM: e(E_JMP | E_CALL, 0, 0, 0, HELPER_PRANDOM); break;
      case AD.CPU: e(E_JMP | E_CALL, 0, 0, 0, HELPER_CPU); break;
      default: throw new NetringError(`cbpfToEbpf: instruction ${i}: ancillary field ${f} has no eBPF equivalent here`, 'EFILTER');
    }
  }

  function lookup(fd: number): void {
    e(E_STX | E_MEM | E_W, R10, R0, STACK_KEY);
    e(E_LD | E_IMM | E_DW, R1, PSEUDO_MAP_FD, 0, fd);
    e(0, 0, 0, 0, 0); // second half of the 64-bit immediate
    e(E_ALU64 | E_MOV | E_X, R2, R10);
    e(E_ALU64 | 0x00 | E_IMM, R2, 0, 0, STACK_KEY);
    e(E_JMP | E_CALL, 0, 0, 0, HELPER_MAP_LOOKUP);
    e(E_JMP | E_JEQ | E_IMM, R0, 0, 2, 0); // 64-bit compare: r0 is a pointer
    e(E_LDX | E_MEM | E_W, R0, R0, 0);
    e(E_JMP | E_EXIT);
    exitWith(0);
  }

  start[prog.length] = out.length;
  const bytes = new Uint8Array(out.length * 8);
  const dv = new DataView(bytes.buffer);
  out.forEach((x, j) => {
    let off = x.off;
    if (x.target !== undefined) {
      const to = start[x.target];
      if (to === undefined) throw new NetringError('cbpfToEbpf: a jump leaves the program', 'EFILTER');
      off = to - j - 1;
      if (off < -32768 || off > 32767) throw new NetringError('cbpfToEbpf: program too long for 16-bit jumps', 'EFILTER');
    }
    dv.setUint8(j * 8, x.code);
    dv.setUint8(j * 8 + 1, (x.src << 4) | x.dst);
    dv.setInt16(j * 8 + 2, off, true);
    dv.setInt32(j * 8 + 4, x.imm, true);
  });
  return bytes;
}

/** Load an eBPF SOCKET_FILTER program; the verifier's log is in the error message when it refuses. */
export function loadSocketFilter(insns: Uint8Array): number {
  const log = new Uint8Array(1 << 16);
  try {
    return native.bpfProgLoad(BPF_PROG_TYPE_SOCKET_FILTER, insns, 'GPL', log);
  } catch (err) {
    const end = log.indexOf(0);
    const text = new TextDecoder().decode(log.subarray(0, end < 0 ? log.length : end)).trim().split('\n').slice(-12).join('\n');
    const e = err as { code?: string; errno?: number };
    throw new NetringError(`load eBPF steering program: ${(err as Error).message}${text ? `\nverifier:\n${text}` : ''}`, e.code ?? 'EINVAL', e.errno ?? 0, 'bpf');
  }
}

/** An ARRAY map of u32 values (the steering table). */
export class SteerTableMap {
  readonly fd: number;
  readonly size: number;
  private readonly key = new Uint32Array(1);
  private readonly val = new Uint32Array(1);

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new NetringError(`steering table size must be >= 1 (got ${size})`, 'EINVAL');
    this.size = size;
    this.fd = sys({ op: 'create the steering table (eBPF array map)' }, () => native.bpfMapCreate(BPF_MAP_TYPE_ARRAY, 4, 4, size));
  }

  /** Write every entry (each one atomically; a packet sees the old or the new value of an entry). */
  write(values: ArrayLike<number>): void {
    if (values.length !== this.size) throw new NetringError(`steering table has ${this.size} entries, got ${values.length}`, 'EINVAL');
    for (let i = 0; i < values.length; i++) {
      this.key[0] = i;
      this.val[0] = values[i];
      sys({ op: 'update the steering table' }, () => native.bpfMapOp(BPF_MAP_UPDATE_ELEM, this.fd, this.key, this.val, 0));
    }
  }

  close(): void { native.close(this.fd); }
}
