/**
 * Steering functions as plain data (JSON-safe, so they cross into worker
 * threads and come out of the packet-language compiler), their text form for
 * the command line, and validation.
 */
import { NetringError } from '../../errors.js';
import type { BpfProgram } from '../../bpf/classic.js';

/**
 * One steering function: how a packet's member is chosen (PFQ's steer_*).
 * Every hash is symmetric: both directions of a conversation pick the same member.
 */
export type SteerSpec =
  /** steer_flow: TCP/UDP/SCTP/DCCP/UDP-Lite 5-tuple over IPv4/IPv6 (VLAN tags skipped); IP pair for other IP traffic and fragments; MAC pair for non-IP. */
  | { kind: 'flow' }
  /** steer_p2p: the IP address pair; MAC pair for non-IP. */
  | { kind: 'ip' }
  /** steer_link: the MAC address pair. */
  | { kind: 'mac' }
  /** steer_vlan: the VLAN id (metadata or an in-frame 802.1Q/802.1ad tag); untagged packets by `untagged` (default: member 0). */
  | { kind: 'vlan'; untagged?: SteerSpec }
  /**
   * steer_rrobin. Classic BPF keeps no state, so inside a program this is a
   * uniformly random pick (balanced in expectation). A group whose whole
   * steering is an unweighted rrobin uses the kernel's exact round robin (mode lb).
   */
  | { kind: 'rrobin' }
  /** steer_to: always member `index`. */
  | { kind: 'to'; index: number }
  /**
   * steer_field: hash `size` bytes at `offset` (from the link-layer header, or
   * from the network header after VLAN tags with base 'l3'). With `pairOffset`,
   * the bytes at offset and at pairOffset form a symmetric pair
   * (steer_field_symmetric), e.g. offset 26, pairOffset 30, size 4 = IPv4 addresses.
   */
  | { kind: 'field'; offset: number; size: number; base?: 'link' | 'l3'; pairOffset?: number };

/** A steering function over some members of the group, with optional per-member weights. */
export interface SteerPlan {
  steer: SteerSpec;
  /** Logical member (worker) indices this plan spreads over; default all. */
  members?: readonly number[];
  /** Weight per entry of `members` (or per member of the group): a member with weight 3 gets three times the share of weight 1. */
  weights?: readonly number[];
}

/**
 * A PFQ class: packets that match `match` (a classic BPF filter as libpcap or
 * the packet-language compiler emit it: offsets from the link-layer header,
 * `ret #0` = no match) are steered by this class's plan over its members.
 * Classes are tried in order; a class without `match` takes everything left.
 */
export interface SteerClass extends SteerPlan {
  name?: string;
  match?: BpfProgram;
}

/** Everything a fan-out program can express: one function, a weighted plan, or classes. */
export type Steering = SteerSpec | SteerPlan | { classes: readonly SteerClass[] };

const KINDS = ['flow', 'ip', 'mac', 'vlan', 'rrobin', 'to', 'field'] as const;

function bad(msg: string): NetringError {
  return new NetringError(`bad steering: ${msg}`, 'EINVAL');
}

/** Check a SteerSpec (throws NetringError EINVAL with the reason). */
export function checkSteer(s: SteerSpec, members: number): void {
  if (!s || typeof s !== 'object' || !KINDS.includes(s.kind)) throw bad(`kind must be one of ${KINDS.join(', ')} (got ${JSON.stringify((s as { kind?: unknown })?.kind)})`);
  if (s.kind === 'to' && (!Number.isInteger(s.index) || s.index < 0 || s.index >= members))
    throw bad(`to: index must be an integer in 0..${members - 1} (got ${String(s.index)})`);
  if (s.kind === 'vlan' && s.untagged !== undefined) {
    if (s.untagged.kind === 'vlan') throw bad('vlan: untagged packets cannot be steered by vlan again');
    checkSteer(s.untagged, members);
  }
  if (s.kind === 'field') {
    if (!Number.isInteger(s.offset) || s.offset < 0 || s.offset > 0xffff) throw bad(`field: offset must be an integer in 0..65535 (got ${String(s.offset)})`);
    if (!Number.isInteger(s.size) || s.size < 1 || s.size > 64) throw bad(`field: size must be an integer in 1..64 bytes (got ${String(s.size)})`);
    if (s.pairOffset !== undefined && (!Number.isInteger(s.pairOffset) || s.pairOffset < 0 || s.pairOffset > 0xffff))
      throw bad(`field: pairOffset must be an integer in 0..65535 (got ${String(s.pairOffset)})`);
    if (s.base !== undefined && s.base !== 'link' && s.base !== 'l3') throw bad(`field: base must be link or l3 (got ${String(s.base)})`);
  }
}

/** Normalise any Steering form to a list of classes (the last one a catch-all). */
export function toClasses(s: Steering): SteerClass[] {
  if ('classes' in s) {
    if (!Array.isArray(s.classes) || s.classes.length === 0) throw bad('classes must be a non-empty array');
    return [...s.classes];
  }
  if ('steer' in s) return [{ ...s }];
  return [{ steer: s }];
}

/** True when a steering needs a program (anything but an unweighted rrobin, which the kernel's lb mode does exactly). */
export function needsProgram(s: Steering): boolean {
  const c = toClasses(s);
  return !(c.length === 1 && c[0].match === undefined && c[0].steer.kind === 'rrobin' && c[0].members === undefined && uniform(c[0].weights));
}

function uniform(w: readonly number[] | undefined): boolean {
  return w === undefined || w.every((x) => x === w[0]);
}

/**
 * Parse the command-line form of a steering function:
 * `flow` | `ip` (also `p2p`) | `mac` (also `link`) | `vlan` | `rrobin` (also `rr`) |
 * `to:N` | `field:OFF:SIZE[:PAIROFF][@l3]`.
 */
export function parseSteer(text: string): SteerSpec {
  const t = text.trim().toLowerCase();
  switch (t) {
    case 'flow': case 'steer_flow': return { kind: 'flow' };
    case 'ip': case 'p2p': case 'steer_p2p': return { kind: 'ip' };
    case 'mac': case 'link': case 'steer_link': return { kind: 'mac' };
    case 'vlan': case 'steer_vlan': return { kind: 'vlan' };
    case 'rrobin': case 'rr': case 'steer_rrobin': return { kind: 'rrobin' };
    default: break;
  }
  let m = /^(?:to|steer_to)[:\s]+(\d+)$/.exec(t);
  if (m) return { kind: 'to', index: Number(m[1]) };
  m = /^(?:field|steer_field)[:\s]+(\d+)[:\s]+(\d+)(?:[:\s]+(\d+))?(@l3|@link)?$/.exec(t);
  if (m) {
    const s: SteerSpec = { kind: 'field', offset: Number(m[1]), size: Number(m[2]) };
    if (m[3] !== undefined) s.pairOffset = Number(m[3]);
    if (m[4] === '@l3') s.base = 'l3';
    return s;
  }
  throw bad(`unknown steering function "${text}" (flow, ip, mac, vlan, rrobin, to:N, field:OFF:SIZE[:PAIROFF][@l3])`);
}
