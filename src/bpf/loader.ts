/**
 * eBPF programs and maps from JavaScript, over the native core's bpf()
 * functions: load a program (the verifier's log is in the error when it
 * refuses), create maps and read or write them while programs run, sum
 * per-CPU values.
 */
import { readFileSync } from 'node:fs';
import { native } from '../native.js';
import { NetringError } from '../errors.js';
import { encodeEbpf, type EbpfInsn } from './ebpf.js';

/** Program types (enum bpf_prog_type). */
export const PROG_TYPE = Object.freeze({ SOCKET_FILTER: 1, SCHED_CLS: 3, XDP: 6 });
/** Map types (enum bpf_map_type). */
export const MAP_TYPE = Object.freeze({
  HASH: 1, ARRAY: 2, PERCPU_HASH: 5, PERCPU_ARRAY: 6, LRU_HASH: 9, LRU_PERCPU_HASH: 10, DEVMAP: 14, XSKMAP: 17, DEVMAP_HASH: 25,
});
/** Map commands (enum bpf_cmd). */
const CMD = { LOOKUP: 1, UPDATE: 2, DELETE: 3, NEXT_KEY: 4 };
/** Update flags. */
export const BPF_ANY = 0, BPF_NOEXIST = 1, BPF_EXIST = 2;

const PERCPU = new Set<number>([MAP_TYPE.PERCPU_HASH, MAP_TYPE.PERCPU_ARRAY, MAP_TYPE.LRU_PERCPU_HASH]);

/** Options of {@link progLoad}. */
export interface LoadOptions {
  /** License string (helpers such as bpf_redirect need a GPL-compatible one). Default "GPL". */
  license?: string;
  /** What the program is, for the error message (e.g. the source expression). */
  what?: string;
}

/** A loaded program: its fd, closed with close(). */
export interface LoadedProg {
  readonly fd: number;
  readonly type: number;
  readonly insns: number;
  close(): void;
}

/** Load an eBPF program; on refusal the error carries the verifier's log (its last lines) and `what`. */
export function progLoad(type: number, prog: readonly EbpfInsn[] | Uint8Array, opts: LoadOptions = {}): LoadedProg {
  const bytes = prog instanceof Uint8Array ? prog : encodeEbpf(prog);
  if (bytes.length === 0 || bytes.length % 8 !== 0) throw new NetringError(`eBPF program must be a non-empty multiple of 8 bytes (got ${bytes.length})`, 'EINVAL');
  let fd: number;
  try {
    fd = native.bpfProgLoad(type, bytes, opts.license ?? 'GPL');
  } catch (err) {
    // the native error's message ends with the verifier log's tail (all of it is in err.log)
    const e = err as { code?: string; errno?: number };
    const what = opts.what ? `load eBPF program for ${opts.what}` : 'load eBPF program';
    throw new NetringError(`${what}: ${(err as Error).message}`, e.code ?? 'EINVAL', e.errno ?? 0, 'bpf');
  }
  let open = true;
  return { fd, type, insns: bytes.length / 8, close() { if (open) { open = false; native.close(fd); } } };
}

let ncpus = 0;
/** Number of possible CPUs (the kernel's per-CPU value count), from /sys/devices/system/cpu/possible. */
export function possibleCpus(): number {
  if (ncpus) return ncpus;
  const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
  let n = 0;
  for (const part of text.split(',')) {
    const [a, b] = part.split('-').map(Number);
    n += b === undefined ? 1 : b - a + 1;
  }
  ncpus = n;
  return n;
}

/** Shape of a map to create. */
export interface MapSpec {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
}

/**
 * A BPF map. Keys and values are bytes (key/value sizes checked here); a
 * per-CPU map's value as seen from user space is one slot per possible CPU,
 * each rounded up to 8 bytes ({@link BpfMap.userValueSize}).
 */
export class BpfMap {
  readonly fd: number;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** Bytes of a value as lookup/update see it (per-CPU maps: every CPU's slot). */
  readonly userValueSize: number;
  private open = true;

  constructor(spec: MapSpec) {
    for (const [n, v] of [['keySize', spec.keySize], ['valueSize', spec.valueSize], ['maxEntries', spec.maxEntries]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new NetringError(`BPF map ${n} must be a positive integer (got ${v})`, 'EINVAL');
    }
    this.type = spec.type;
    this.keySize = spec.keySize;
    this.valueSize = spec.valueSize;
    this.maxEntries = spec.maxEntries;
    this.userValueSize = PERCPU.has(spec.type) ? Math.ceil(spec.valueSize / 8) * 8 * possibleCpus() : spec.valueSize;
    try {
      this.fd = native.bpfMapCreate(spec.type, spec.keySize, spec.valueSize, spec.maxEntries);
    } catch (err) {
      const e = err as { code?: string; errno?: number };
      throw new NetringError(`create BPF map (type ${spec.type}, ${spec.maxEntries} entries): ${(err as Error).message}`, e.code ?? 'EINVAL', e.errno ?? 0, 'bpf');
    }
  }

  private check(key: Uint8Array, value: Uint8Array | null): void {
    if (!this.open) throw new NetringError('BPF map is closed', 'EBADF');
    if (key.byteLength !== this.keySize) throw new NetringError(`BPF map key must be ${this.keySize} bytes (got ${key.byteLength})`, 'EINVAL');
    if (value && value.byteLength !== this.userValueSize) throw new NetringError(`BPF map value must be ${this.userValueSize} bytes (got ${value.byteLength})`, 'EINVAL');
  }

  private op(cmd: number, key: Uint8Array, value: Uint8Array, flags: number, what: string): boolean {
    try {
      switch (cmd) {
        case CMD.LOOKUP: return native.bpfMapLookup(this.fd, key, value, flags);
        case CMD.UPDATE: native.bpfMapUpdate(this.fd, key, value, flags); return true;
        case CMD.DELETE: return native.bpfMapDelete(this.fd, key);
        default: return native.bpfMapNextKey(this.fd, key.byteLength === 0 ? null : key, value);
      }
    } catch (err) {
      const e = err as { code?: string; errno?: number };
      throw new NetringError(`BPF map ${what}: ${(err as Error).message}`, e.code ?? 'EINVAL', e.errno ?? 0, 'bpf');
    }
  }

  /** Read the value of `key` into `into` (allocated when not given); null when the key is absent. */
  lookup(key: Uint8Array, into?: Uint8Array): Uint8Array | null {
    const v = into ?? new Uint8Array(this.userValueSize);
    this.check(key, v);
    return this.op(CMD.LOOKUP, key, v, 0, 'lookup') ? v : null;
  }

  /** Write `value` at `key` (flags: BPF_ANY, BPF_NOEXIST, BPF_EXIST). */
  update(key: Uint8Array, value: Uint8Array, flags = BPF_ANY): void {
    this.check(key, value);
    if (!this.op(CMD.UPDATE, key, value, flags, 'update')) throw new NetringError('BPF map update: no such key', 'ENOENT');
  }

  /** Delete `key`; false when it was absent. */
  delete(key: Uint8Array): boolean {
    this.check(key, null);
    return this.op(CMD.DELETE, key, new Uint8Array(0), 0, 'delete');
  }

  /** The key after `key` (the first key when null) into `into`; false at the end. */
  nextKey(key: Uint8Array | null, into: Uint8Array): boolean {
    if (into.byteLength !== this.keySize) throw new NetringError(`BPF map key must be ${this.keySize} bytes`, 'EINVAL');
    if (key) this.check(key, null);
    // A key the map does not hold also yields the first key (kernel rule); null asks for it explicitly.
    return this.op(CMD.NEXT_KEY, key ?? new Uint8Array(0), into, 0, 'next key');
  }

  /** Every key, then its value, read live (entries added or removed meanwhile may be missed or seen). */
  *entries(): Generator<[Uint8Array, Uint8Array]> {
    let prev: Uint8Array | null = null;
    for (;;) {
      const k = new Uint8Array(this.keySize);
      if (!this.nextKey(prev, k)) return;
      const v = this.lookup(k);
      if (v) yield [k, v];
      prev = k;
    }
  }

  close(): void {
    if (this.open) {
      this.open = false;
      native.close(this.fd);
    }
  }
}

/**
 * Sum a per-CPU value read from user space: each CPU's slot holds
 * `fields` little-endian u64 counters; returns their sums over CPUs.
 */
export function sumPerCpu(value: Uint8Array, fields: number): bigint[] {
  const cpus = possibleCpus();
  const slot = Math.ceil((fields * 8) / 8) * 8;
  if (value.byteLength < slot * cpus) throw new NetringError(`per-CPU value has ${value.byteLength} bytes, expected ${slot * cpus}`, 'EINVAL');
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const out = new Array<bigint>(fields).fill(0n);
  for (let c = 0; c < cpus; c++) for (let f = 0; f < fields; f++) out[f] += dv.getBigUint64(c * slot + f * 8, true);
  return out;
}
