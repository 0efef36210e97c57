/**
 * Load and attach generated XDP/tc programs ({@link generateProgram}):
 * create their maps, resolve the interfaces they name, patch the program,
 * load it (the verifier's log and the source in the error when the kernel
 * refuses it), attach it through a BPF link (XDP, or tcx ingress for tc) so
 * that a process that dies, even by SIGKILL, leaves nothing attached, and
 * read the counters live from the maps while the program runs.
 */
import { native } from '../../native.js';
import { NetringError } from '../../errors.js';
import { ATTACH_TYPE, BpfMap, linkCreate, progLoad, PROG_TYPE, sumPerCpu, XDP_FLAGS, type BpfLink, type LoadedProg } from '../../bpf/loader.js';
import { E_DW, E_IMM, E_LD, type EbpfInsn } from '../../bpf/ebpf.js';
import { COUNTER_VALUE_SIZE, type HookProgram } from './program.js';
import { CPUMAP_QSIZE } from './steer.js';
import { availableParallelism } from 'node:os';
import type { CountKey } from '../pfq/ast.js';

/** XDP attach mode: the driver's own hook, the generic (skb) hook, or the kernel's choice (native when the driver has it). */
export type XdpMode = 'native' | 'generic' | 'auto';

/** One named counter. */
export interface CounterValue {
  name: string;
  packets: bigint;
  bytes: bigint;
}

/** One key of a per-key counter map. */
export interface KeyedValue {
  key: string;
  packets: bigint;
  bytes: bigint;
}

/** Every counter of a loaded program, read from its maps at one moment. */
export interface CounterSnapshot {
  counters: CounterValue[];
  keyed: Array<{ key: CountKey; map: string; entries: KeyedValue[] }>;
}

/** Interface index by name, as one clear error. */
export function ifindexOf(name: string): number {
  try {
    return native.ifindex(name);
  } catch {
    throw new NetringError(`no interface named '${name}'`, 'ENODEV');
  }
}

function capability(e: unknown, what: string): never {
  const err = e as NetringError;
  if (err.code === 'EPERM' || err.code === 'EACCES') {
    throw new NetringError(`${what}: permission denied: loading eBPF programs and attaching them needs CAP_BPF and CAP_NET_ADMIN (run as root)`, err.code);
  }
  throw e;
}

/** A program loaded with its maps (not attached yet). */
export class LoadedHookProgram {
  readonly prog: LoadedProg;
  readonly maps = new Map<string, BpfMap>();
  private readonly links: Array<{ iface: string; link: BpfLink }> = [];
  private closed = false;

  constructor(readonly code: HookProgram) {
    try {
      for (const m of code.maps) this.maps.set(m.name, new BpfMap(m.spec));
      const devmap = this.maps.get('devmap');
      code.devices.forEach((dev, i) => {
        const k = new Uint8Array(4), v = new Uint8Array(4);
        new DataView(k.buffer).setUint32(0, i, true);
        new DataView(v.buffer).setUint32(0, ifindexOf(dev), true);
        devmap!.update(k, v);
      });
      const cpumap = this.maps.get('cpumap');
      for (let cpu = 0; cpu < code.cpus; cpu++) {
        const k = new Uint8Array(4), v = new Uint8Array(4);
        new DataView(k.buffer).setUint32(0, cpu, true);
        new DataView(v.buffer).setUint32(0, CPUMAP_QSIZE, true);
        try {
          cpumap!.update(k, v);
        } catch (e) {
          throw new NetringError(`steering to CPU ${cpu}: the kernel refused the CPUMAP entry (${(e as Error).message}); this machine has CPUs 0..${availableParallelism() - 1}`, (e as NetringError).code ?? 'EINVAL');
        }
      }
      const insns: EbpfInsn[] = code.insns.map((x) => ({ ...x }));
      for (const r of code.relocs) {
        if (r.map) {
          const m = this.maps.get(r.map);
          if (!m || insns[r.at].code !== (E_LD | E_IMM | E_DW)) throw new Error(`internal: bad map relocation at ${r.at}`);
          insns[r.at].imm = m.fd;
        } else if (r.ifname) insns[r.at].imm = ifindexOf(r.ifname);
      }
      this.prog = progLoad(code.hook === 'xdp' ? PROG_TYPE.XDP : PROG_TYPE.SCHED_CLS, insns, {
        what: code.source,
        expectedAttachType: code.hook === 'xdp' ? ATTACH_TYPE.XDP : ATTACH_TYPE.TCX_INGRESS,
        name: code.hook === 'xdp' ? 'netring_xdp' : 'netring_tc',
      });
    } catch (e) {
      for (const m of this.maps.values()) m.close();
      capability(e, code.hook === 'xdp' ? 'XDP program' : 'tc program');
    }
  }

  /**
   * Attach to `iface` through a BPF link: XDP (mode native, generic or the
   * kernel's choice) or tcx ingress. One clear error when the interface has
   * no such hook, already has an XDP program, or the caller lacks the rights.
   */
  attach(iface: string, mode: XdpMode = 'auto'): void {
    if (this.closed) throw new NetringError('program is closed', 'EBADF');
    const ifindex = ifindexOf(iface);
    const xdp = this.code.hook === 'xdp';
    const flags = !xdp ? 0 : mode === 'native' ? XDP_FLAGS.DRV_MODE : mode === 'generic' ? XDP_FLAGS.SKB_MODE : 0;
    try {
      this.links.push({ iface, link: linkCreate(this.prog.fd, ifindex, xdp ? ATTACH_TYPE.XDP : ATTACH_TYPE.TCX_INGRESS, flags) });
    } catch (e) {
      const code = (e as NetringError).code;
      if (code === 'EBUSY' || code === 'EEXIST') throw new NetringError(`${iface} already has an XDP program attached (ip link show ${iface}); netring attaches only to a free hook`, code);
      if (code === 'EOPNOTSUPP' || code === 'ENOTSUP') {
        throw new NetringError(`${iface} does not support XDP${mode === 'native' ? ' in native (driver) mode; try --mode generic' : ''}`, code);
      }
      if (code === 'EINVAL' && !xdp) throw new NetringError(`${iface}: the kernel refused the tcx ingress link (tcx needs Linux 6.6 or later)`, code);
      capability(e, `attach to ${iface}`);
    }
  }

  /** Interfaces the program is attached to. */
  get attached(): string[] {
    return this.links.map((l) => l.iface);
  }

  /** Read every counter now (the program keeps running). */
  counters(): CounterSnapshot {
    const out: CounterSnapshot = { counters: [], keyed: [] };
    const arr = this.maps.get('counters');
    if (arr) {
      const key = new Uint8Array(4);
      const val = new Uint8Array(arr.userValueSize);
      this.code.slots.forEach((name, i) => {
        new DataView(key.buffer).setUint32(0, i, true);
        const v = arr.lookup(key, val);
        const [packets, bytes] = v ? sumPerCpu(v, COUNTER_VALUE_SIZE / 8) : [0n, 0n];
        out.counters.push({ name, packets: BigInt.asIntN(64, packets), bytes: BigInt.asIntN(64, bytes) });
      });
    }
    for (const k of this.code.keyed) {
      const m = this.maps.get(k.map);
      const entries: KeyedValue[] = [];
      if (m) {
        for (const [kb, vb] of m.entries()) {
          const [packets, bytes] = sumPerCpu(vb, COUNTER_VALUE_SIZE / 8);
          entries.push({ key: formatKey(k.key, kb), packets, bytes });
        }
      }
      entries.sort((x, y) => (y.packets > x.packets ? 1 : y.packets < x.packets ? -1 : x.key < y.key ? -1 : 1));
      out.keyed.push({ key: k.key, map: k.map, entries });
    }
    return out;
  }

  /** Detach from every interface and free the program and its maps. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.links.splice(0)) {
      try { l.link.close(); } catch { /* already gone with its interface */ }
    }
    this.prog.close();
    for (const m of this.maps.values()) m.close();
  }
}

/** Load (not attach) a generated program. */
export function loadHookProgram(code: HookProgram): LoadedHookProgram {
  return new LoadedHookProgram(code);
}

function addr(b: Uint8Array): string {
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((b[i] << 8) | b[i + 1]).toString(16));
  return parts.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

const PROTO: Record<number, string> = { 6: 'tcp', 17: 'udp', 132: 'sctp', 1: 'icmp', 58: 'icmp6' };

/** A per-key counter key as text: an address, `udp 10.0.0.1:1000 > 10.0.0.2:53`, a VLAN id or `untagged`. */
export function formatKey(kind: CountKey, b: Uint8Array): string {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (kind) {
    case 'vlan': {
      const v = dv.getUint32(0, true);
      return v === 0xffffffff ? 'untagged' : String(v);
    }
    case 'src':
    case 'dst':
      return addr(b.subarray(0, 16));
    case 'flow': {
      const s = addr(b.subarray(0, 16)), d = addr(b.subarray(16, 32));
      const p = b[36];
      const sp = dv.getUint16(32), dp = dv.getUint16(34);
      const name = PROTO[p] ?? `proto ${p}`;
      const v6 = s.includes(':');
      const at = (a: string, port: number): string => (v6 ? `[${a}]:${port}` : `${a}:${port}`);
      return sp || dp ? `${name} ${at(s, sp)} > ${at(d, dp)}` : `${name} ${s} > ${d}`;
    }
  }
}
