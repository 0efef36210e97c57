/**
 * Steering program generator: turns a {@link Steering} (PFQ's steer_* functions,
 * weights, classes) into a classic BPF program for a PACKET_FANOUT_CBPF group.
 *
 * The kernel runs the program on every packet and sends it to member
 * `return value % members`. Generated programs:
 * - read headers relative to the link-layer header (SKF_LL_OFF), because the
 *   fan-out hook sees skb->data at the network header on receive but at the
 *   MAC header on send; this way one program steers both directions alike;
 * - hash every (source, destination) field pair symmetrically
 *   (mix(src) + mix(dst)), so both directions of a flow meet on one member;
 * - map the final 32-bit hash through the weights: `hash % sum(weights)` falls
 *   in one member's contiguous range (weights 1:3 = the table [0,1,1,1]) and
 *   the program returns that member's kernel slot.
 *
 * Scratch memory: M[0] hash, M[1] temporary, M[2] L3 offset, M[3] L4 offset, M[4] port word.
 * Class predicates run before and may use any M[] (steering code re-initialises its own).
 *
 * Interface for compilers: {@link emitSteer} appends the code of one plan
 * (ending in `ret`) to an {@link Asm}; {@link inlinePredicate} appends a filter
 * that jumps to labels. A compiler can interleave its own predicates with these.
 */
import { NetringError } from '../../errors.js';
import type { BpfInsn, BpfProgram } from '../../bpf/classic.js';
import {
  ABS, ADD, AND, B, H, IND, JEQ, JGE, JSET, LD, LDX, LEN, LSH, MOD, MSH, MUL, RET, RET_A as RA, RSH, W, XOR, JMP, JA,
} from '../../bpf/classic.js';
import { AD, SKF_LL_OFF, ad, ll } from '../../bpf/ancillary.js';
import { Asm } from '../../bpf/asm.js';
import { checkSteer, type SteerClass, type SteerPlan, type SteerSpec, type Steering, toClasses } from './spec.js';

const M_H = 0, M_T = 1, M_L3 = 2, M_L4 = 3, M_P = 4;
const PACKET_OUTGOING = 4;
const K1 = 0x9e3779b1, K2 = 0x85ebca6b, K3 = 0xc2b2ae35;
const SEED = 0x2545f491;
/** IP protocols whose first 4 bytes are source and destination ports. */
const PORT_PROTOS = [6, 17, 132, 33, 136];
/** Largest sum of weights (after dividing by their gcd). */
export const MAX_WEIGHT_SUM = 65536;

/** Where a plan's members are: slots[w] = kernel slot of member w, -1 when absent. */
export type Slots = readonly number[];

const identity = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

// ------------------------------------------------------------ hashing ---

/** A = (A * k) ^ ((A * k) >> 16); clobbers X. */
function mixA(a: Asm, k = K1): void {
  a.alu(MUL, k).tax().alu(RSH, 16).aluX(XOR);
}

/** M[H] = (M[H] ^ A) * K2; clobbers X. */
function fold(a: Asm): void {
  a.tax().ldMem(M_H).aluX(XOR).alu(MUL, K2).st(M_H);
}

/** Fold a symmetric pair: mix(src) + mix(dst). Each loader leaves its value in A. */
function pair(a: Asm, loadSrc: () => void, loadDst: () => void): void {
  loadSrc(); mixA(a); a.st(M_T);
  loadDst(); mixA(a); a.tax().ldMem(M_T).aluX(ADD);
  fold(a);
}

function single(a: Asm, load: () => void): void {
  load(); mixA(a); fold(a);
}

/** A = finalised M[H] (murmur3 fmix32). */
function finish(a: Asm): void {
  a.ldMem(M_H).tax().alu(RSH, 16).aluX(XOR).alu(MUL, K2).tax().alu(RSH, 13).aluX(XOR).alu(MUL, K3).tax().alu(RSH, 16).aluX(XOR);
}

/** Jump to `target` (any distance) when A `cond` k. */
function branch(a: Asm, cond: number, k: number, target: string): void {
  const skip = a.label('skip');
  a.jmp(cond, k, null, skip).ja(target).here(skip);
}

/** Load `size` (1, 2, 4) bytes at base-register offset: X = M[baseSlot], A = P[X + LL + off]. */
function ldAt(a: Asm, size: 1 | 2 | 4, baseSlot: number | null, off: number): void {
  const sz = size === 4 ? W : size === 2 ? H : B;
  if (baseSlot === null) a.ldAbs(sz, ll(off));
  else a.ldxMem(baseSlot).ldInd(sz, ll(off));
}

/** Split n bytes into 4/2/1 chunks: [offset delta, size]. */
function chunks(n: number): Array<[number, 1 | 2 | 4]> {
  const out: Array<[number, 1 | 2 | 4]> = [];
  let o = 0;
  while (n - o >= 4) { out.push([o, 4]); o += 4; }
  if (n - o >= 2) { out.push([o, 2]); o += 2; }
  if (n - o >= 1) out.push([o, 1]);
  return out;
}

/** Skip up to two VLAN tags: M[L3] = offset of the network header, A = its EtherType. */
function parseL2(a: Asm): void {
  const tag1 = a.label('tag1'), tag2 = a.label('tag2'), typed = a.label('typed');
  a.ldxImm(14).ldAbs(H, ll(12));
  a.jmp(JEQ, 0x8100, tag1, null).jmp(JEQ, 0x88a8, tag1, typed);
  a.here(tag1).ldxImm(18).ldAbs(H, ll(16));
  a.jmp(JEQ, 0x8100, tag2, null).jmp(JEQ, 0x88a8, tag2, typed);
  a.here(tag2).ldxImm(22).ldAbs(H, ll(20));
  a.here(typed).stx(M_L3);
}

function macPair(a: Asm): void {
  pair(a, () => ldAt(a, 4, null, 6), () => ldAt(a, 4, null, 0));
  pair(a, () => ldAt(a, 2, null, 10), () => ldAt(a, 2, null, 4));
}

/** How an IP body reads its header: relative to a known constant offset from skb->data, or to M[L3] (LL-relative). */
interface IpLoads {
  /** A = `size` bytes at `off` from the network header. */
  at(size: 1 | 2 | 4, off: number): void;
  /** A = the 32-bit word of ports right after an IPv4 header (IHL from the packet). */
  ports4(): void;
}

/** Fold the port word in A (sport << 16 | dport) as a symmetric pair. */
function portPair(a: Asm): void {
  a.st(M_P);
  pair(a, () => a.ldMem(M_P).alu(RSH, 16), () => a.ldMem(M_P).alu(AND, 0xffff));
}

/** Hash an IPv4 or IPv6 header's address pair (and ports), then jump to `done`. */
function ipBody(a: Asm, v6: boolean, withPorts: boolean, L: IpLoads, done: string): void {
  if (!v6) pair(a, () => L.at(4, 12), () => L.at(4, 16));
  else for (let i = 0; i < 4; i++) pair(a, () => L.at(4, 8 + 4 * i), () => L.at(4, 24 + 4 * i));
  if (withPorts) {
    const ports = a.label('ports');
    L.at(1, v6 ? 6 : 9);
    for (const p of PORT_PROTOS) branch(a, JEQ, p, ports);
    a.ja(done);
    a.here(ports);
    if (!v6) {
      L.at(2, 6);
      branch(a, JSET, 0x3fff, done); // MF or a fragment offset: no ports in this packet
      L.ports4();
    } else {
      L.at(4, 40);
    }
    portPair(a);
  }
  a.ja(done);
}

/** Loads at constant offsets from skb->data: inline in the kernel's JIT (no helper call). */
function fixedLoads(a: Asm, base: number): IpLoads {
  return {
    at: (size, off) => { a.ldAbs(size === 4 ? W : size === 2 ? H : B, base + off); },
    ports4: () => { a.op(LDX | B | MSH, base).ldInd(W, base); },
  };
}

/** Loads relative to the link-layer header through M[L3] (any VLAN layout, either path). */
function llLoads(a: Asm): IpLoads {
  return {
    at: (size, off) => ldAt(a, size, M_L3, off),
    ports4: () => {
      // M[L4] = L3 + 4 * IHL
      a.ldxMem(M_L3).ldInd(B, ll(0)).alu(AND, 0xf).alu(LSH, 2).aluX(ADD).st(M_L4);
      ldAt(a, 4, M_L4, 0);
    },
  };
}

/**
 * IP pair (and ports for `flow`), MAC pair for non-IP; ends at `done`.
 * Fast paths for untagged IPv4/IPv6 read at constant offsets from skb->data
 * (the network header on receive, the MAC header on send, told apart by
 * pkttype); everything else (in-frame VLAN tags, non-IP) takes the
 * link-layer-relative path. All paths fold the same values in the same order,
 * so they agree on every packet.
 */
function emitTuple(a: Asm, withPorts: boolean, done: string): void {
  const tx = a.label('tx'), generic = a.label('generic');
  a.ldAbs(W, ad(AD.PKTTYPE));
  branch(a, JEQ, PACKET_OUTGOING, tx);
  // receive path: skb->data = network header, VLAN tag (if any) already in metadata
  a.ldAbs(W, ad(AD.PROTOCOL));
  const rx4 = a.label('rx4'), rx6 = a.label('rx6');
  branch(a, JEQ, 0x0800, rx4);
  branch(a, JEQ, 0x86dd, rx6);
  a.ja(generic);
  a.here(rx4); ipBody(a, false, withPorts, fixedLoads(a, 0), done);
  a.here(rx6); ipBody(a, true, withPorts, fixedLoads(a, 0), done);
  // send path: skb->data = MAC header
  a.here(tx).ldAbs(H, 12);
  const tx4 = a.label('tx4'), tx6 = a.label('tx6');
  branch(a, JEQ, 0x0800, tx4);
  branch(a, JEQ, 0x86dd, tx6);
  a.ja(generic);
  a.here(tx4); ipBody(a, false, withPorts, fixedLoads(a, 14), done);
  a.here(tx6); ipBody(a, true, withPorts, fixedLoads(a, 14), done);

  a.here(generic);
  const ip4 = a.label('ip4'), ip6 = a.label('ip6');
  parseL2(a);
  branch(a, JEQ, 0x0800, ip4);
  branch(a, JEQ, 0x86dd, ip6);
  macPair(a);
  a.ja(done);
  a.here(ip4); ipBody(a, false, withPorts, llLoads(a), done);
  a.here(ip6); ipBody(a, true, withPorts, llLoads(a), done);
}

// ------------------------------------------------------------ picking ---

function gcd(x: number, y: number): number { while (y) [x, y] = [y, x % y]; return x; }

function checkWeights(members: readonly number[], weights: readonly number[] | undefined): void {
  if (weights === undefined) return;
  if (weights.length !== members.length)
    throw new NetringError(`bad steering: ${weights.length} weights for ${members.length} members`, 'EINVAL');
  for (const w of weights) {
    if (!Number.isInteger(w) || w < 0) throw new NetringError(`bad steering: weights must be non-negative integers (got ${String(w)})`, 'EINVAL');
  }
  if (weights.every((w) => w === 0)) throw new NetringError('bad steering: all weights are 0', 'EINVAL');
}

/** Return the slot of the member picked by the hash in A, honouring weights (or the table index, in table mode). */
function pick(a: Asm, members: readonly number[], weights: readonly number[] | undefined, slots: Slots, table?: TableAlloc): void {
  checkWeights(members, weights);
  if (table !== undefined) {
    const seg = table.alloc(members, weights);
    if (seg.entries > 1) a.alu(MOD, seg.entries);
    if (seg.base > 0) a.alu(ADD, seg.base);
    a.retA();
    return;
  }
  const live: Array<[slot: number, weight: number]> = [];
  members.forEach((m, i) => {
    const w = weights === undefined ? 1 : weights[i];
    if (slots[m] >= 0 && w > 0) live.push([slots[m], w]);
  });
  const liveAll = slots.filter((s) => s >= 0).length;
  const even = live.every(([, w]) => w === live[0][1]);
  if (live.length === 0 || (even && live.length === liveAll)) { a.retA(); return; } // the kernel's % members spreads evenly
  if (live.length === 1) { a.retK(live[0][0]); return; }
  const g = live.reduce((x, [, w]) => gcd(x, w), 0);
  const total = live.reduce((x, [, w]) => x + w / g, 0);
  if (total > MAX_WEIGHT_SUM) throw new NetringError(`bad steering: the weights add up to ${total} (after dividing by their gcd); at most ${MAX_WEIGHT_SUM}`, 'EINVAL');
  a.alu(MOD, total);
  let cum = 0;
  for (let i = 0; i < live.length - 1; i++) {
    cum += live[i][1] / g;
    const next = a.label('w');
    a.jmp(JGE, cum, next, null).retK(live[i][0]).here(next);
  }
  a.retK(live[live.length - 1][0]);
}

// ----------------------------------------------------------- emission ---

/**
 * Append the code of one plan: hash with `plan.steer`, pick a member by the
 * weights, `ret` its slot. Every path ends in `ret`.
 */
export function emitSteer(a: Asm, plan: SteerPlan, slots: Slots, table?: TableAlloc): void {
  const n = slots.length;
  const s = plan.steer;
  checkSteer(s, n);
  const members = plan.members ?? identity(n);
  for (const m of members) {
    if (!Number.isInteger(m) || m < 0 || m >= n) throw new NetringError(`bad steering: member ${String(m)} is not in 0..${n - 1}`, 'EINVAL');
  }
  if (s.kind === 'to') {
    if (table !== undefined) { a.ldImm(table.alloc([s.index], undefined, 1).base).retA(); return; }
    const slot = slots[s.index];
    if (slot >= 0) a.retK(slot);
    else a.retA(); // member gone: any (A is whatever was last loaded; the kernel takes it modulo the members)
    return;
  }
  if (s.kind === 'rrobin') {
    a.ldAbs(W, ad(AD.RANDOM));
    pick(a, members, plan.weights, slots, table);
    return;
  }
  a.ldImm(SEED).st(M_H);
  if (s.kind === 'vlan') {
    const inline = a.label('inline'), inTag = a.label('intag'), tagged = a.label('tagged'), untagged = a.label('untagged');
    a.ldAbs(W, ad(AD.VLAN_TAG_PRESENT));
    branch(a, JEQ, 0, inline);
    a.ldAbs(W, ad(AD.VLAN_TAG)).alu(AND, 0xfff).ja(tagged);
    a.here(inline).ldAbs(H, ll(12));
    branch(a, JEQ, 0x8100, inTag);
    branch(a, JEQ, 0x88a8, inTag);
    a.ja(untagged);
    a.here(inTag).ldAbs(H, ll(14)).alu(AND, 0xfff);
    a.here(tagged);
    mixA(a); fold(a); finish(a);
    pick(a, members, plan.weights, slots, table);
    a.here(untagged);
    emitSteer(a, { ...plan, steer: s.untagged ?? { kind: 'to', index: 0 } }, slots, table);
    return;
  }
  const done = a.label('done');
  switch (s.kind) {
    case 'flow': emitTuple(a, true, done); break;
    case 'ip': emitTuple(a, false, done); break;
    case 'mac': macPair(a); break;
    case 'field': {
      let base: number | null = null;
      if (s.base === 'l3') { parseL2(a); base = M_L3; }
      for (const [d, size] of chunks(s.size)) {
        if (s.pairOffset !== undefined) pair(a, () => ldAt(a, size, base, s.offset + d), () => ldAt(a, size, base, s.pairOffset! + d));
        else single(a, () => ldAt(a, size, base, s.offset + d));
      }
      break;
    }
    default: break;
  }
  a.here(done);
  finish(a);
  pick(a, members, plan.weights, slots, table);
}

// ---------------------------------------------------------- predicates ---

/**
 * Append a classic BPF filter (libpcap style: absolute offsets from the
 * link-layer header, `ret #0` = no match) so that it jumps to `yes` or `no`
 * instead of returning. Absolute and indirect loads are rebased to SKF_LL_OFF
 * so the filter reads the same bytes on the receive and the send path.
 * Packet-length loads (`len`, `less`, `greater`) are refused: the fan-out hook
 * sees the length from the network header on receive but from the MAC header on send.
 */
export function inlinePredicate(a: Asm, match: BpfProgram, yes: string, no: string): void {
  if (!Array.isArray(match) || match.length === 0) throw new NetringError('a class predicate must be a non-empty classic BPF program', 'EFILTER');
  const n = match.length;
  const noTramp = a.label('no');
  match.forEach((ins, i) => {
    const cls = ins.code & 0x07;
    const mode = ins.code & 0xe0;
    if ((cls === LD || cls === LDX) && mode === LEN)
      throw new NetringError('packet-length tests (len, less, greater) cannot steer: the fan-out hook sees a different length on the receive and the send path', 'EFILTER');
    if (cls === JMP && (ins.code & 0xf0) !== JA && (i + 1 + ins.jt >= n || i + 1 + ins.jf >= n))
      throw new NetringError(`class predicate: the jump at instruction ${i} leaves the program`, 'EFILTER');
    if (cls === JMP && (ins.code & 0xf0) === JA && i + 1 + ins.k >= n)
      throw new NetringError(`class predicate: the jump at instruction ${i} leaves the program`, 'EFILTER');
    if (cls === RET) {
      if ((ins.code & 0x18) === RA) a.jmp(JEQ, 0, noTramp, yes);
      else if (ins.k === 0) a.ja(no);
      else a.ja(yes);
      return;
    }
    const rebase = ((cls === LD && (mode === ABS || mode === IND)) || (cls === LDX && mode === MSH)) && (ins.k | 0) >= 0;
    a.raw([{ code: ins.code, jt: ins.jt, jf: ins.jf, k: rebase ? (SKF_LL_OFF + (ins.k | 0)) >>> 0 : ins.k }]);
  });
  if ((match[n - 1].code & 0x07) !== RET) throw new NetringError('a class predicate must end in ret', 'EFILTER');
  // the trampoline only when a `ret a` jumps to it (eBPF refuses unreachable code)
  if (match.some((ins) => (ins.code & 0x07) === RET && (ins.code & 0x18) === RA)) a.here(noTramp).ja(no);
}

// ------------------------------------------------------------ programs ---

/**
 * The steering program for a whole group: `classes` tried in order (a class
 * without `match` takes the rest; when every class has one, a final class
 * spreads the rest by `flow` over all members).
 * @param members number of logical members (workers)
 * @param slots slots[w] = kernel slot of member w, -1 if gone (default: w)
 */
export function fanoutProgram(steering: Steering, members: number, slots?: Slots, table?: TableAlloc): BpfInsn[] {
  if (!Number.isInteger(members) || members < 1 || members > 65536) throw new NetringError(`a fan-out group has 1..65536 members (got ${String(members)})`, 'EINVAL');
  const sl = slots ?? identity(members);
  if (sl.length !== members) throw new NetringError(`slots must have one entry per member (${members}), got ${sl.length}`, 'EINVAL');
  const classes: SteerClass[] = toClasses(steering);
  if (classes[classes.length - 1].match !== undefined) classes.push({ steer: { kind: 'flow' } });
  const a = new Asm();
  for (const [i, c] of classes.entries()) {
    if (table !== undefined) table.cls = i;
    if (c.match === undefined) { emitSteer(a, c, sl, table); break; }
    const yes = a.label('yes'), no = a.label('no');
    inlinePredicate(a, c.match, yes, no);
    a.here(yes);
    emitSteer(a, c, sl, table);
    a.here(no);
  }
  const prog = a.assemble();
  if (prog.length > 4096) throw new NetringError(`steering program has ${prog.length} instructions; the kernel takes at most 4096`, 'EFILTER');
  return prog;
}

/**
 * The classic BPF program steering over `sockets` members with `fn`, weights
 * per member (default equal), and the kernel slot of each member (default its index).
 */
export function steeringProgram(fn: SteerSpec, sockets: number, weights?: readonly number[], slots?: Slots): BpfInsn[] {
  return fanoutProgram(weights === undefined ? fn : { steer: fn, weights }, sockets, slots);
}

// -------------------------------------------------------------- tables ---

/** One plan's part of a steering table: `entries` entries from `base`, spread over `members` by `weights`. */
export interface TableSegment {
  base: number;
  entries: number;
  members: readonly number[];
  weights: readonly number[] | undefined;
  /** Index of the class the plan belongs to. */
  cls: number;
}

/** Collects table segments while a program is generated in table mode. */
export class TableAlloc {
  readonly segments: TableSegment[] = [];
  size = 0;
  /** @internal class being generated */
  cls = 0;
  constructor(readonly entriesPerPlan: number) {
    if (!Number.isInteger(entriesPerPlan) || entriesPerPlan < 1 || entriesPerPlan > 65536)
      throw new NetringError(`table entries per plan must be in 1..65536 (got ${String(entriesPerPlan)})`, 'EINVAL');
  }
  alloc(members: readonly number[], weights: readonly number[] | undefined, entries = this.entriesPerPlan): TableSegment {
    const seg: TableSegment = { base: this.size, entries, members: [...members], weights: weights && [...weights], cls: this.cls };
    this.segments.push(seg);
    this.size += entries;
    return seg;
  }
}

/**
 * A steering program in table mode: instead of slots it returns an index into
 * a table whose entries hold slots ({@link tableValues}). The table can be
 * rewritten while packets flow (an eBPF array map, see ebpf.ts), so weights
 * and member slots change without touching the program.
 */
export function tableProgram(steering: Steering, members: number, entriesPerPlan = 256): { program: BpfInsn[]; table: TableAlloc } {
  const table = new TableAlloc(entriesPerPlan);
  const program = fanoutProgram(steering, members, undefined, table);
  return { program, table };
}

/**
 * Entries of a steering table for the current member slots: each segment's
 * entries go to its live members in contiguous runs proportional to the
 * weights (largest remainder; every member with a weight gets at least one
 * entry while there are enough). `weights[cls]` overrides a class's weights.
 * A segment without live members spreads over all slots (the kernel takes the
 * value modulo the members).
 */
export function tableValues(table: TableAlloc, slots: Slots, weights?: ReadonlyArray<readonly number[] | undefined>): Uint32Array {
  const out = new Uint32Array(table.size);
  for (const seg of table.segments) {
    const w = weights?.[seg.cls] !== undefined && weights[seg.cls]!.length === seg.members.length ? weights[seg.cls] : seg.weights;
    checkWeights(seg.members, w);
    const live: Array<[slot: number, weight: number]> = [];
    seg.members.forEach((m, i) => {
      const x = w === undefined ? 1 : w[i];
      if (slots[m] >= 0 && x > 0) live.push([slots[m], x]);
    });
    if (live.length === 0) {
      for (let j = 0; j < seg.entries; j++) out[seg.base + j] = j;
      continue;
    }
    const total = live.reduce((x, [, y]) => x + y, 0);
    const quota = live.map(([, y]) => (seg.entries * y) / total);
    const n = quota.map((q) => Math.floor(q));
    let left = seg.entries - n.reduce((x, y) => x + y, 0);
    // members with nothing yet first, then by the largest remainder
    const order = quota.map((_, i) => i).sort((i, j) => (n[i] === 0 ? 0 : 1) - (n[j] === 0 ? 0 : 1) || (quota[j] - n[j]) - (quota[i] - n[i]) || i - j);
    for (const i of order) { if (left === 0) break; n[i]++; left--; }
    let at = seg.base;
    live.forEach(([slot], i) => { for (let j = 0; j < n[i]; j++) out[at++] = slot; });
  }
  return out;
}
