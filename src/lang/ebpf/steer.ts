/**
 * Steering at the XDP hook: PACKET_FANOUT's member choice done before the
 * skb exists. The program hashes the packet (symmetrically: both directions
 * of a conversation get the same hash, as the fan-out steering programs do)
 * and redirects the frame into a CPUMAP entry, `cpu = hash % cpus`. The
 * kernel builds the skb on that CPU (the cpumap kthread) and runs the
 * receive path there; a fan-out group in cpu mode (PACKET_FANOUT_CPU) hands
 * a packet to member `cpu % members`. With as many members as CPUs, the
 * steering function picks the member, as a fan-out program would.
 *
 * Registers: the XDP prologue's (r6 = data, r7 = data_end); r9 is the hash;
 * r0-r5 scratch. Every path ends in `exit`.
 */
import {
  E_ADD, E_AND, E_B, E_H, E_JEQ, E_JGT, E_JLT, E_JNE, E_JSET, E_LSH, E_MOD, E_MUL, E_RSH, E_W, E_XOR,
  HELPER, R0, R1, R2, R3, R4, R5, R6, R7, R9,
} from '../../bpf/ebpf.js';
import type { EAsm, ELabel } from '../../bpf/easm.js';
import type { SteerSpec } from '../steer/spec.js';

const K1 = 0x9e3779b1, K2 = 0x85ebca6b, K3 = 0xc2b2ae35;
const SEED = 0x2545f491;
/** IP protocols whose first 4 bytes are the source and destination ports (TCP, UDP, SCTP, DCCP, UDP-Lite). */
const PORT_PROTOS = [6, 17, 132, 33, 136];
const ETH_P_8021Q = 0x8100, ETH_P_8021AD = 0x88a8, ETH_P_IP = 0x0800, ETH_P_IPV6 = 0x86dd;
/** Frames each CPUMAP entry queues for its CPU (struct bpf_cpumap_val.qsize). */
export const CPUMAP_QSIZE = 2048;
/** XDP_PASS: what bpf_redirect_map returns when the entry is missing (low bits of its flags). */
const FALLBACK_PASS = 2;

/** Why `s` has no XDP form with `cpus` CPUs, or null. */
export function steerUnsupported(s: SteerSpec, cpus: number): string | null {
  if (s.kind === 'to' && (s.index < 0 || s.index >= cpus)) return `steer_to ${s.index}: the program steers to CPUs 0..${cpus - 1} (one fan-out member per CPU)`;
  if (s.kind === 'field' && s.base === 'l3') return 'a field relative to the network header has no XDP form; give the offset from the link-layer header';
  if (s.kind === 'vlan' && s.untagged) return 'steer_vlan with its own rule for untagged packets has no XDP form (untagged packets go to CPU 0)';
  return null;
}

/**
 * Emit the steering of `s` over `cpus` CPUs at the current position: hash,
 * `bpf_redirect_map(cpumap, cpu, XDP_PASS)`, exit. `ldCpumap(reg)` loads the
 * map (a relocation the caller records).
 */
export function emitSteerXdp(a: EAsm, s: SteerSpec, cpus: number, ldCpumap: (reg: number) => void): void {
  const HASHED = a.label('hashed'), CPU = a.label('cpu');
  /** reg = (reg * K1) ^ ((reg * K1) >> 16); clobbers r0. */
  const mix = (reg: number): void => {
    a.alu32(E_MUL, reg, K1).mov32X(R0, reg).alu32(E_RSH, R0, 16).alu32X(E_XOR, reg, R0);
  };
  /** h = (h ^ reg) * K2. */
  const fold = (reg: number): void => {
    a.alu32X(E_XOR, R9, reg).alu32(E_MUL, R9, K2);
  };
  /** Fold the symmetric pair (r1, r2): mix(r1) + mix(r2). */
  const pair = (): void => {
    mix(R1);
    mix(R2);
    a.alu32X(E_ADD, R1, R2);
    fold(R1);
  };
  /** r1 = `size` bytes at base + off (raw bytes as loaded; the same on both sides of a pair, so symmetry holds). */
  const ld = (size: 1 | 2 | 4, base: number, off: number, into = R1): void => {
    a.ldx(size === 4 ? E_W : size === 2 ? E_H : E_B, into, base, off);
  };
  const macPair = (): void => {
    ld(4, R6, 6, R1); ld(4, R6, 0, R2); pair();
    ld(2, R6, 10, R1); ld(2, R6, 4, R2); pair();
  };
  /** Jump to `to` unless base + n <= data_end. */
  const need = (base: number, n: number, to: ELabel): void => {
    a.mov64X(R1, base).alu64(E_ADD, R1, n).jmpX(E_JGT, R1, R7, to);
  };

  if (s.kind !== 'to' && s.kind !== 'rrobin') a.mov32(R9, SEED);
  switch (s.kind) {
    case 'to':
      a.mov32(R9, s.index).ja(CPU);
      break;
    case 'rrobin':
      a.call(HELPER.get_prandom_u32).mov32X(R9, R0).ja(HASHED);
      break;
    case 'mac':
      need(R6, 14, HASHED);
      macPair();
      a.ja(HASHED);
      break;
    case 'vlan': {
      const TAG = a.label('tag'), UNTAGGED = a.label('untagged');
      need(R6, 16, UNTAGGED);
      a.ldx(E_H, R2, R6, 12).be(R2, 16);
      a.jmp32(E_JEQ, R2, ETH_P_8021Q, TAG).jmp32(E_JNE, R2, ETH_P_8021AD, UNTAGGED);
      a.here(TAG);
      a.ldx(E_H, R1, R6, 14).be(R1, 16).alu32(E_AND, R1, 0xfff);
      mix(R1);
      fold(R1);
      a.ja(HASHED);
      a.here(UNTAGGED);
      a.mov32(R9, 0).ja(CPU);
      break;
    }
    case 'field': {
      const ends = [s.offset + s.size, (s.pairOffset ?? 0) + s.size];
      need(R6, Math.max(...ends), HASHED);
      for (let o = 0; o < s.size;) {
        const n: 1 | 2 | 4 = s.size - o >= 4 ? 4 : s.size - o >= 2 ? 2 : 1;
        if (s.pairOffset !== undefined) {
          ld(n, R6, s.offset + o, R1);
          ld(n, R6, s.pairOffset + o, R2);
          pair();
        } else {
          ld(n, R6, s.offset + o, R1);
          mix(R1);
          fold(R1);
        }
        o += n;
      }
      a.ja(HASHED);
      break;
    }
    case 'flow':
    case 'ip': {
      const MAC = a.label('mac'), V6 = a.label('v6');
      const ports = s.kind === 'flow';
      need(R6, 14, HASHED);
      // r2 = EtherType after up to two VLAN tags, r3 = offset of the network header.
      a.ldx(E_H, R2, R6, 12).be(R2, 16).mov64(R3, 14);
      for (const t of [0, 1]) {
        const TAG = a.label('tag'), NOT = a.label('untagged');
        a.jmp32(E_JEQ, R2, ETH_P_8021Q, TAG).jmp32(E_JNE, R2, ETH_P_8021AD, NOT);
        a.here(TAG);
        need(R6, 18 + 4 * t, MAC);
        a.ldx(E_H, R2, R6, 16 + 4 * t).be(R2, 16).mov64(R3, 18 + 4 * t);
        a.here(NOT);
      }
      a.mov64X(R4, R6).alu64X(E_ADD, R4, R3); // r4 = network header
      a.jmp32(E_JEQ, R2, ETH_P_IPV6, V6).jmp32(E_JNE, R2, ETH_P_IP, MAC);
      // IPv4: the address pair, then (flow) the port pair of a first or only fragment.
      need(R4, 20, MAC);
      ld(4, R4, 12, R1); ld(4, R4, 16, R2); pair();
      if (ports) {
        const YES = a.label('ports');
        a.ldx(E_B, R1, R4, 9);
        for (const p of PORT_PROTOS.slice(0, -1)) a.jmp32(E_JEQ, R1, p, YES);
        a.jmp32(E_JNE, R1, PORT_PROTOS[PORT_PROTOS.length - 1], HASHED);
        a.here(YES);
        a.ldx(E_H, R1, R4, 6).be(R1, 16).jmp32(E_JSET, R1, 0x3fff, HASHED); // MF or an offset: no ports here
        a.ldx(E_B, R5, R4, 0).alu32(E_AND, R5, 0xf).alu32(E_LSH, R5, 2).jmp(E_JLT, R5, 20, HASHED);
        a.alu64X(E_ADD, R4, R5);
        need(R4, 4, HASHED);
        ld(2, R4, 0, R1); ld(2, R4, 2, R2); pair();
      }
      a.ja(HASHED);
      // IPv6: the address pair (four words each), then (flow) the ports right after the fixed header.
      a.here(V6);
      need(R4, 40, MAC);
      for (let i = 0; i < 4; i++) { ld(4, R4, 8 + 4 * i, R1); ld(4, R4, 24 + 4 * i, R2); pair(); }
      if (ports) {
        const YES = a.label('ports');
        a.ldx(E_B, R1, R4, 6);
        for (const p of PORT_PROTOS.slice(0, -1)) a.jmp32(E_JEQ, R1, p, YES);
        a.jmp32(E_JNE, R1, PORT_PROTOS[PORT_PROTOS.length - 1], HASHED);
        a.here(YES);
        need(R4, 44, HASHED);
        ld(2, R4, 40, R1); ld(2, R4, 42, R2); pair();
      }
      a.ja(HASHED);
      // Not IP (or a truncated IP header): the MAC address pair.
      a.here(MAC);
      macPair();
      a.ja(HASHED);
      break;
    }
  }
  // murmur3's fmix32, then the CPU.
  a.here(HASHED);
  for (const [sh, k] of [[16, K2], [13, K3], [16, 0]] as const) {
    a.mov32X(R0, R9).alu32(E_RSH, R0, sh).alu32X(E_XOR, R9, R0);
    if (k) a.alu32(E_MUL, R9, k);
  }
  a.alu32(E_MOD, R9, cpus);
  a.here(CPU);
  ldCpumap(R1);
  a.mov32X(R2, R9).mov64(R3, FALLBACK_PASS);
  a.call(HELPER.redirect_map).exit();
}

/** The same hash in JavaScript: the CPU the XDP program steers `frame` to (a reference for tests and tools). */
export function steerCpu(frame: Uint8Array, s: SteerSpec, cpus: number): number {
  const imul = Math.imul;
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const n = frame.length;
  const le = (off: number, size: 1 | 2 | 4): number => (size === 4 ? dv.getUint32(off, true) : size === 2 ? dv.getUint16(off, true) : frame[off]);
  let h = SEED;
  const mix = (x: number): number => { const m = imul(x, K1) >>> 0; return (m ^ (m >>> 16)) >>> 0; };
  const fold = (x: number): void => { h = imul((h ^ x) >>> 0, K2) >>> 0; };
  const pair = (x: number, y: number): void => fold((mix(x) + mix(y)) >>> 0);
  const macPair = (): void => { pair(le(6, 4), le(0, 4)); pair(le(10, 2), le(4, 2)); };
  const finish = (): number => {
    h = (h ^ (h >>> 16)) >>> 0; h = imul(h, K2) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0; h = imul(h, K3) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    return h % cpus;
  };
  switch (s.kind) {
    case 'to': return s.index;
    case 'rrobin': throw new Error('steer_rrobin picks at random');
    case 'mac':
      if (n >= 14) macPair();
      return finish();
    case 'vlan': {
      if (n < 16) return 0;
      const t = dv.getUint16(12);
      if (t !== ETH_P_8021Q && t !== ETH_P_8021AD) return 0;
      fold(mix(dv.getUint16(14) & 0xfff));
      return finish();
    }
    case 'field': {
      if (n < Math.max(s.offset + s.size, (s.pairOffset ?? 0) + s.size)) return finish();
      for (let o = 0; o < s.size;) {
        const z: 1 | 2 | 4 = s.size - o >= 4 ? 4 : s.size - o >= 2 ? 2 : 1;
        if (s.pairOffset !== undefined) pair(le(s.offset + o, z), le(s.pairOffset + o, z));
        else fold(mix(le(s.offset + o, z)));
        o += z;
      }
      return finish();
    }
    case 'flow':
    case 'ip': {
      if (n < 14) return finish();
      let type = dv.getUint16(12), l3 = 14;
      for (const t of [0, 1]) {
        if (type !== ETH_P_8021Q && type !== ETH_P_8021AD) break;
        if (n < 18 + 4 * t) { macPair(); return finish(); }
        type = dv.getUint16(16 + 4 * t);
        l3 = 18 + 4 * t;
      }
      if (type === ETH_P_IP && n >= l3 + 20) {
        pair(le(l3 + 12, 4), le(l3 + 16, 4));
        if (s.kind === 'flow' && PORT_PROTOS.includes(frame[l3 + 9]) && (dv.getUint16(l3 + 6) & 0x3fff) === 0) {
          const ihl = (frame[l3] & 0xf) << 2;
          if (ihl >= 20 && n >= l3 + ihl + 4) pair(le(l3 + ihl, 2), le(l3 + ihl + 2, 2));
        }
        return finish();
      }
      if (type === ETH_P_IPV6 && n >= l3 + 40) {
        for (let i = 0; i < 4; i++) pair(le(l3 + 8 + 4 * i, 4), le(l3 + 24 + 4 * i, 4));
        if (s.kind === 'flow' && PORT_PROTOS.includes(frame[l3 + 6]) && n >= l3 + 44) pair(le(l3 + 40, 2), le(l3 + 42, 2));
        return finish();
      }
      macPair();
      return finish();
    }
  }
}
