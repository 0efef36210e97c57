/**
 * PACKET_FANOUT modes and flags as names, and the setsockopt word
 * `id | (mode | flags) << 16` built from them (and read back).
 */
import {
  PACKET_FANOUT_CBPF, PACKET_FANOUT_CPU, PACKET_FANOUT_EBPF, PACKET_FANOUT_FLAG_DEFRAG, PACKET_FANOUT_FLAG_IGNORE_OUTGOING,
  PACKET_FANOUT_FLAG_ROLLOVER, PACKET_FANOUT_FLAG_UNIQUEID, PACKET_FANOUT_HASH, PACKET_FANOUT_LB, PACKET_FANOUT_QM,
  PACKET_FANOUT_RND, PACKET_FANOUT_ROLLOVER,
} from '../constants.js';
import { NetringError } from '../errors.js';

/**
 * Kernel fan-out modes: how the kernel picks one socket of the group per packet.
 * - `hash`: symmetric flow hash (both directions of a flow reach the same socket)
 * - `lb`: round robin
 * - `cpu`: the CPU that received the packet
 * - `rollover`: fill one socket, spill to the next when its ring is full
 * - `rnd`: random
 * - `qm`: the receive queue the device recorded
 * - `cbpf` / `ebpf`: a program returns the socket index (modulo the group size)
 */
export type FanoutMode = 'hash' | 'lb' | 'cpu' | 'rollover' | 'rnd' | 'qm' | 'cbpf' | 'ebpf';

export const FANOUT_MODES: Readonly<Record<FanoutMode, number>> = Object.freeze({
  hash: PACKET_FANOUT_HASH,
  lb: PACKET_FANOUT_LB,
  cpu: PACKET_FANOUT_CPU,
  rollover: PACKET_FANOUT_ROLLOVER,
  rnd: PACKET_FANOUT_RND,
  qm: PACKET_FANOUT_QM,
  cbpf: PACKET_FANOUT_CBPF,
  ebpf: PACKET_FANOUT_EBPF,
});

/** Group flags (every member of a group must ask for the same ones). */
export interface FanoutFlags {
  /** Reassemble IP fragments before steering (PACKET_FANOUT_FLAG_DEFRAG). */
  defrag?: boolean;
  /** When the chosen socket's ring is full, try the others (PACKET_FANOUT_FLAG_ROLLOVER). Not with mode `rollover`. */
  rollover?: boolean;
  /** Let the kernel pick an unused group id (PACKET_FANOUT_FLAG_UNIQUEID); `id` must be 0. Only the first member asks. */
  uniqueId?: boolean;
  /** Do not steer packets this host sends (PACKET_FANOUT_FLAG_IGNORE_OUTGOING). */
  ignoreOutgoing?: boolean;
}

/** A fan-out membership as the kernel sees it. */
export interface FanoutSettings extends FanoutFlags {
  /** Group id, 0..65535 (per network namespace). */
  id: number;
  mode: FanoutMode;
}

/** The PACKET_FANOUT setsockopt word: `id | (mode | flags) << 16`. */
export function fanoutWord(s: FanoutSettings): number {
  if (!Number.isInteger(s.id) || s.id < 0 || s.id > 0xffff)
    throw new NetringError(`fanout id must be an integer in 0..65535 (got ${String(s.id)})`, 'EINVAL');
  const mode = FANOUT_MODES[s.mode];
  if (mode === undefined)
    throw new NetringError(`unknown fanout mode "${String(s.mode)}" (one of ${Object.keys(FANOUT_MODES).join(', ')})`, 'EINVAL');
  if (s.rollover && s.mode === 'rollover')
    throw new NetringError('the rollover flag cannot be combined with mode rollover (it already rolls over)', 'EINVAL');
  if (s.uniqueId && s.id !== 0)
    throw new NetringError('fanout uniqueId asks the kernel for an id: give id 0', 'EINVAL');
  let tf = mode;
  if (s.defrag) tf |= PACKET_FANOUT_FLAG_DEFRAG;
  if (s.rollover) tf |= PACKET_FANOUT_FLAG_ROLLOVER;
  if (s.uniqueId) tf |= PACKET_FANOUT_FLAG_UNIQUEID;
  if (s.ignoreOutgoing) tf |= PACKET_FANOUT_FLAG_IGNORE_OUTGOING;
  return (s.id | (tf << 16)) >>> 0;
}

/** Decode a word as returned by getsockopt(PACKET_FANOUT) (or built by {@link fanoutWord}). */
export function decodeFanoutWord(word: number): FanoutSettings {
  const id = word & 0xffff;
  const tf = (word >>> 16) & 0xffff;
  const m = tf & 0xff;
  const mode = (Object.keys(FANOUT_MODES) as FanoutMode[]).find((k) => FANOUT_MODES[k] === m);
  if (mode === undefined) throw new NetringError(`unknown fanout mode number ${m}`, 'EINVAL');
  return {
    id, mode,
    defrag: (tf & PACKET_FANOUT_FLAG_DEFRAG) !== 0,
    rollover: (tf & PACKET_FANOUT_FLAG_ROLLOVER) !== 0,
    uniqueId: (tf & PACKET_FANOUT_FLAG_UNIQUEID) !== 0,
    ignoreOutgoing: (tf & PACKET_FANOUT_FLAG_IGNORE_OUTGOING) !== 0,
  };
}
