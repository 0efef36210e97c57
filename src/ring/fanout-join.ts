/**
 * Joining a bound AF_PACKET socket to a fan-out group, and setting the
 * group's steering program. The socket must be bound to its device with a
 * protocol (Capture binds ETH_P_ALL) before it can join.
 *
 * A group is identified by (id, network namespace); every member must use
 * the same device, protocol, mode and flags, or the kernel answers EINVAL.
 * The kernel numbers members 0..n-1 in join order; when one leaves, the last
 * member moves into its place (see slots.ts). A cbpf/ebpf program's return
 * value modulo n picks the member.
 */
import { native } from '../native.js';
import { PACKET_FANOUT, PACKET_FANOUT_DATA, PACKET_ROLLOVER_STATS, SOL_PACKET } from '../constants.js';
import { sys } from '../errors.js';
import { NetringError } from '../errors.js';
import { type BpfProgram, encodeProgram } from '../bpf/classic.js';
import { decodeFanoutWord, fanoutWord, type FanoutSettings } from './fanout-mode.js';

/** Everything needed to join a group: settings plus the steering program of cbpf/ebpf groups. */
export interface FanoutJoin extends FanoutSettings {
  /** Classic BPF steering program (mode `cbpf`): set with PACKET_FANOUT_DATA right after joining. */
  program?: BpfProgram;
  /** A loaded eBPF SOCKET_FILTER program's fd (mode `ebpf`): set with PACKET_FANOUT_DATA right after joining. */
  ebpfFd?: number;
  /** Member limit of a new group (kernel >= 5.8; default 256, at most 65536). */
  maxMembers?: number;
}

/**
 * Join fd to a fan-out group and set its program when one is given. Returns
 * the group id in force (the kernel's pick when `uniqueId` was asked).
 */
export function joinFanout(fd: number, j: FanoutJoin, iface?: string): number {
  const word = fanoutWord(j);
  if (j.program !== undefined && j.mode !== 'cbpf') throw new NetringError(`a classic BPF steering program needs mode cbpf (got ${j.mode})`, 'EINVAL');
  if (j.ebpfFd !== undefined && j.mode !== 'ebpf') throw new NetringError(`an eBPF steering program needs mode ebpf (got ${j.mode})`, 'EINVAL');
  const op = `join fanout group ${j.uniqueId ? '(unique id)' : j.id} mode ${j.mode}`;
  let arg: Uint32Array;
  if (j.maxMembers !== undefined) {
    if (!Number.isInteger(j.maxMembers) || j.maxMembers < 1 || j.maxMembers > 65536)
      throw new NetringError(`fanout maxMembers must be an integer in 1..65536 (got ${String(j.maxMembers)})`, 'EINVAL');
    arg = new Uint32Array([word, j.maxMembers]); // struct fanout_args { u16 id; u16 type_flags; u32 max_num_members }
  } else {
    arg = new Uint32Array([word]);
  }
  try {
    sys({ op, iface }, () => native.setsockopt(fd, SOL_PACKET, PACKET_FANOUT, arg));
  } catch (e) {
    if ((e as NetringError).code === 'EINVAL')
      throw new NetringError(`${(e as Error).message}; every member of group ${j.id} must use the same device, mode and flags (and the socket must be bound)`, 'EINVAL', (e as NetringError).errno, 'setsockopt');
    throw e;
  }
  const id = j.uniqueId ? fanoutWordOf(fd) & 0xffff : j.id;
  if (j.program !== undefined) setFanoutProgram(fd, j.program, iface);
  if (j.ebpfFd !== undefined) setFanoutEbpf(fd, j.ebpfFd, iface);
  return id;
}

/**
 * Replace the steering program of the cbpf group fd belongs to (any member may
 * do it; it applies to the whole group at once).
 */
export function setFanoutProgram(fd: number, program: BpfProgram, iface?: string): void {
  const bytes = encodeProgram(program);
  sys({ op: 'set the fanout steering program (PACKET_FANOUT_DATA)', iface }, () => native.setFanoutProgram(fd, bytes));
}

/** Set the eBPF steering program (a SOCKET_FILTER program fd) of the ebpf group fd belongs to. */
export function setFanoutEbpf(fd: number, progFd: number, iface?: string): void {
  sys({ op: 'set the fanout eBPF program (PACKET_FANOUT_DATA)', iface },
    () => native.setsockopt(fd, SOL_PACKET, PACKET_FANOUT_DATA, new Uint32Array([progFd])));
}

/** getsockopt(PACKET_FANOUT): `id | type << 16 | flags << 24`, 0 when in no group (or in group 0, mode hash, no flags). */
export function fanoutWordOf(fd: number): number {
  const b = new Uint32Array(1);
  sys({ op: 'read fanout membership' }, () => native.getsockopt(fd, SOL_PACKET, PACKET_FANOUT, b));
  return b[0];
}

/**
 * The group fd belongs to (id, mode, flags), or null when the kernel reports
 * none. (Group 0 in mode hash without flags reads as 0, i.e. null, too.)
 */
export function fanoutSettingsOf(fd: number): FanoutSettings | null {
  const w = fanoutWordOf(fd);
  return w === 0 ? null : decodeFanoutWord(w);
}

/** PACKET_ROLLOVER_STATS of a member of a group with rollover. */
export interface RolloverStats {
  /** Packets moved to another socket. */
  all: number;
  /** Packets moved because this socket was (nearly) full. */
  huge: number;
  /** Packets no socket could take. */
  failed: number;
}

/** Read the rollover counters of fd (EINVAL when its group does not roll over). */
export function rolloverStats(fd: number): RolloverStats {
  const b = new BigUint64Array(3);
  sys({ op: 'read rollover statistics' }, () => native.getsockopt(fd, SOL_PACKET, PACKET_ROLLOVER_STATS, b));
  return { all: Number(b[0]), huge: Number(b[1]), failed: Number(b[2]) };
}
