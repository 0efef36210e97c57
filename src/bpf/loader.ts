/**
 * eBPF programs and maps from JavaScript, over the native core's typed bpf()
 * functions: load a program (the verifier's log is in the error when it
 * refuses), create maps and read or write them while programs run (per-CPU
 * values summed), run a program on a buffer (BPF_PROG_TEST_RUN), attach it
 * through a BPF link (released when its last fd closes) or to a socket.
 */
import { native } from '../native.js';
import { NetringError } from '../errors.js';
import { encodeEbpf, type EbpfInsn } from './ebpf.js';

/** Program types (enum bpf_prog_type). */
export const PROG_TYPE = Object.freeze({ SOCKET_FILTER: 1, SCHED_CLS: 3, XDP: 6 });
/** Attach types (enum bpf_attach_type) for links. */
export const ATTACH_TYPE = Object.freeze({ XDP: 37, TCX_INGRESS: 46, TCX_EGRESS: 47 });
/** XDP attach flags. */
export const XDP_FLAGS = Object.freeze({ SKB_MODE: 2, DRV_MODE: 4 });
/** Map types (enum bpf_map_type). */
export const MAP_TYPE = Object.freeze({
  HASH: 1, ARRAY: 2, PERCPU_HASH: 5, PERCPU_ARRAY: 6, LRU_HASH: 9, LRU_PERCPU_HASH: 10, DEVMAP: 14, CPUMAP: 16, XSKMAP: 17, DEVMAP_HASH: 25,
});
/** Update flags. */
export const BPF_ANY = 0, BPF_NOEXIST = 1, BPF_EXIST = 2;

const PERCPU = new Set<number>([MAP_TYPE.PERCPU_HASH, MAP_TYPE.PERCPU_ARRAY, MAP_TYPE.LRU_PERCPU_HASH]);

function wrap(what: string, err: unknown): NetringError {
  const e = err as { code?: string; errno?: number; message?: string };
  return new NetringError(`${what}: ${e.message ?? String(err)}`, e.code ?? 'EINVAL', e.errno ?? 0, 'bpf');
}

/** Options of {@link progLoad}. */
export interface LoadOptions {
  /** License string (helpers such as bpf_redirect need a GPL-compatible one). Default "GPL". */
  license?: string;
  /** What the program is, for the error message (e.g. the source expression). */
  what?: string;
  /** expected_attach_type (e.g. ATTACH_TYPE.XDP for programs attached through links). */
  expectedAttachType?: number;
  /** Program name shown by bpftool (at most 15 bytes). */
  name?: string;
}

/** A loaded program: its fd, closed with close(). */
export interface LoadedProg {
  readonly fd: number;
  readonly type: number;
  readonly insns: number;
  close(): void;
}

/** Load an eBPF program; on refusal the error carries the verifier's log tail and `what`. */
export function progLoad(type: number, prog: readonly EbpfInsn[] | Uint8Array, opts: LoadOptions = {}): LoadedProg {
  const bytes = prog instanceof Uint8Array ? prog : encodeEbpf(prog);
  if (bytes.length === 0 || bytes.length % 8 !== 0) throw new NetringError(`eBPF program must be a non-empty multiple of 8 bytes (got ${bytes.length})`, 'EINVAL');
  let fd: number;
  try {
    fd = native.bpfProgLoad(type, bytes, opts.license ?? 'GPL', opts.expectedAttachType ?? 0, 0, opts.name);
  } catch (err) {
    // the native error's message ends with the verifier log's tail (all of it is in err.log)
    throw wrap(opts.what ? `load eBPF program for ${opts.what}` : 'load eBPF program', err);
  }
  let open = true;
  return { fd, type, insns: bytes.length / 8, close() { if (open) { open = false; native.close(fd); } } };
}

/** Result of {@link testRun}. */
export interface TestRunResult {
  /** The program's return value. */
  retval: number;
  /** Average run time per repetition (ns), as the kernel measured it. */
  durationNs: number;
  /** Bytes of the packet after the program (when `dataOut` was given). */
  dataSizeOut: number;
}

/** Run a loaded program on `data` (BPF_PROG_TEST_RUN), `repeat` times. */
export function testRun(progFd: number, data: Uint8Array, opts: { repeat?: number; dataOut?: Uint8Array } = {}): TestRunResult {
  try {
    const [retval, durationNs, dataSizeOut] = native.bpfProgTestRun(progFd, data, opts.dataOut ?? null, opts.repeat ?? 1);
    return { retval: retval >>> 0, durationNs, dataSizeOut };
  } catch (err) {
    throw wrap('run eBPF program (BPF_PROG_TEST_RUN)', err);
  }
}

/** A BPF link: the program stays attached while the link's fd is open (a dead process detaches it). */
export interface BpfLink {
  readonly fd: number;
  /** Detach now and close the fd. */
  close(): void;
}

/** Attach `progFd` through BPF_LINK_CREATE: XDP or tcx on `ifindex`. */
export function linkCreate(progFd: number, ifindex: number, attachType: number, flags = 0): BpfLink {
  let fd: number;
  try {
    fd = native.bpfLinkCreate(progFd, ifindex, attachType, flags);
  } catch (err) {
    throw wrap(`attach eBPF program (link type ${attachType}) to ifindex ${ifindex}`, err);
  }
  let open = true;
  return {
    fd,
    close() {
      if (!open) return;
      open = false;
      try { native.bpfLinkDetach(fd); } finally { native.close(fd); }
    },
  };
}

/** SO_ATTACH_BPF: make a loaded SOCKET_FILTER program the socket's filter. */
export function attachSocket(sockFd: number, progFd: number): void {
  try {
    native.attachBpf(sockFd, progFd);
  } catch (err) {
    throw wrap('attach eBPF socket filter (SO_ATTACH_BPF)', err);
  }
}

/** Number of possible CPUs (the kernel's per-CPU value count). */
export function possibleCpus(): number {
  return native.bpfPossibleCpus();
}

/** Shape of a map to create. */
export interface MapSpec {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  /** Name shown by bpftool (at most 15 bytes). */
  name?: string;
}

/**
 * A BPF map. Keys and values are bytes (sizes checked here and in the native
 * core); a per-CPU map's value as seen from user space is one slot per
 * possible CPU, each rounded up to 8 bytes ({@link BpfMap.userValueSize}).
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
      this.fd = native.bpfMapCreate(spec.type, spec.keySize, spec.valueSize, spec.maxEntries, spec.flags ?? 0, spec.name);
    } catch (err) {
      throw wrap(`create BPF map (type ${spec.type}, ${spec.maxEntries} entries)`, err);
    }
  }

  private check(key: Uint8Array | null, value: Uint8Array | null): void {
    if (!this.open) throw new NetringError('BPF map is closed', 'EBADF');
    if (key && key.byteLength !== this.keySize) throw new NetringError(`BPF map key must be ${this.keySize} bytes (got ${key.byteLength})`, 'EINVAL');
    if (value && value.byteLength !== this.userValueSize) throw new NetringError(`BPF map value must be ${this.userValueSize} bytes (got ${value.byteLength})`, 'EINVAL');
  }

  /** Read the value of `key` into `into` (allocated when not given); null when the key is absent. */
  lookup(key: Uint8Array, into?: Uint8Array): Uint8Array | null {
    const v = into ?? new Uint8Array(this.userValueSize);
    this.check(key, v);
    try {
      return native.bpfMapLookup(this.fd, key, v) ? v : null;
    } catch (err) {
      throw wrap('BPF map lookup', err);
    }
  }

  /** Write `value` at `key` (flags: BPF_ANY, BPF_NOEXIST, BPF_EXIST). */
  update(key: Uint8Array, value: Uint8Array, flags = BPF_ANY): void {
    this.check(key, value);
    try {
      native.bpfMapUpdate(this.fd, key, value, flags);
    } catch (err) {
      throw wrap('BPF map update', err);
    }
  }

  /** Delete `key`; false when it was absent. */
  delete(key: Uint8Array): boolean {
    this.check(key, null);
    try {
      return native.bpfMapDelete(this.fd, key);
    } catch (err) {
      throw wrap('BPF map delete', err);
    }
  }

  /** The key after `key` (the first key when null) into `into`; false at the end. */
  nextKey(key: Uint8Array | null, into: Uint8Array): boolean {
    this.check(key, null);
    if (into.byteLength !== this.keySize) throw new NetringError(`BPF map key must be ${this.keySize} bytes`, 'EINVAL');
    try {
      return native.bpfMapNextKey(this.fd, key, into);
    } catch (err) {
      throw wrap('BPF map next key', err);
    }
  }

  /** Every key and its value, read live (entries added or removed meanwhile may be missed or seen). */
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
 * Sum a per-CPU value read from user space: each CPU's slot holds `fields`
 * little-endian u64 counters (slots rounded up to 8 bytes); returns the sums.
 */
export function sumPerCpu(value: Uint8Array, fields: number): bigint[] {
  const cpus = possibleCpus();
  const slot = fields * 8;
  if (value.byteLength < slot * cpus) throw new NetringError(`per-CPU value has ${value.byteLength} bytes, expected ${slot * cpus}`, 'EINVAL');
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const out = new Array<bigint>(fields).fill(0n);
  for (let c = 0; c < cpus; c++) for (let f = 0; f < fields; f++) out[f] += dv.getBigUint64(c * slot + f * 8, true);
  return out;
}
