/**
 * Loader and types for the thin C core (native/*.c, one file per subject:
 * socket.c, mmap.c, watch.c, ioctl.c, bpf.c, sched.c; module.c registers
 * them). Every function is one syscall or ioctl; structures without pointers
 * are built in TypeScript.
 * Errors thrown here carry `.code` (errno name), `.errno` and `.syscall`;
 * callers turn them into sentences with `explain()` from errors.ts.
 * @internal
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** A libuv poll watcher on one fd (created stopped). */
export interface Watcher { readonly __watcher: unique symbol }

/** Bytes accepted by the core: any TypedArray or ArrayBuffer. */
export type Bytes = ArrayBufferView | ArrayBuffer;

export interface NativeCore {
  socket(domain: number, type: number, protocol: number): number;
  close(fd: number): void;
  ifindex(name: string): number;
  ifname(index: number): string;
  setsockopt(fd: number, level: number, name: number, value: Bytes): void;
  getsockopt(fd: number, level: number, name: number, into: Bytes): number;
  bindPacket(fd: number, ifindex: number, protocol: number): void;
  /**
   * SO_ATTACH_FILTER: attach (atomically replace) the socket's classic BPF filter.
   * `program` is 8-byte sock_filter records; 1..4096 of them (RangeError otherwise).
   */
  attachFilter(fd: number, program: Bytes): void;
  /** PACKET_FANOUT_DATA of a PACKET_FANOUT_CBPF group: the classic BPF steering program (1..4096 records). */
  setFanoutProgram(fd: number, program: Bytes): void;
  /**
   * Shared mapping of fd as an ArrayBuffer; unmapped when the buffer is collected.
   * `length` must be a positive integer (RangeError otherwise).
   */
  mmap(fd: number, length: number, populate: boolean): ArrayBuffer;
  /**
   * Replace a mapping made by mmap(), xskUmem() or xskMmapRing() with anonymous zero pages at the same address:
   * the socket is released when its fd closes, stray views stay valid. False if `ab` is not such a mapping.
   */
  releaseMapping(ab: ArrayBuffer): boolean;
  /** send(fd, NULL, 0, flags): kick a TX ring. Returns bytes sent or -errno (EAGAIN/ENOBUFS/EINTR). */
  kick(fd: number, flags: number): number;
  send(fd: number, frame: Bytes, flags: number): number;
  recv(fd: number, into: Bytes, flags: number): number;
  /** Blocking poll(2) on one fd: revents, 0 on timeout. For worker threads. */
  poll(fd: number, events: number, timeoutMs: number): number;
  watch(fd: number, callback: (revents: number) => void): Watcher;
  watcherStart(w: Watcher, events: number): void;
  watcherStop(w: Watcher): void;
  watcherClose(w: Watcher): void;
  /** Watchers allocated and not yet freed (all threads): for leak tests. */
  watcherCount(): number;
  /** ETHTOOL_GET_TS_INFO: [so_timestamping, phc_index, tx_types, rx_filters]. */
  tsInfo(ifname: string): [number, number, number, number];
  /** SIOCSHWTSTAMP: returns the rx_filter the driver chose (it may widen the request). */
  hwtstamp(ifname: string, txType: number, rxFilter: number): number;
  /** SIOCGHWTSTAMP: the device's current [tx_type, rx_filter, flags]. */
  hwtstampGet(ifname: string): [number, number, number];
  /**
   * BPF_PROG_LOAD -> program fd. `insns` is 8-byte bpf_insn records (RangeError when empty or
   * not a multiple of 8). `expectedAttachType` (e.g. BPF_XDP = 37, BPF_TCX_INGRESS = 46) and
   * `progFlags` (BPF_F_XDP_HAS_FRAGS, ...) default to 0; `name` is at most 15 bytes.
   * When the kernel refuses, the load is retried with log_level 1 and the error carries the
   * verifier's log: its tail in `.message`, all of it in `.log`.
   */
  bpfProgLoad(progType: number, insns: Bytes, license: string, expectedAttachType?: number, progFlags?: number, name?: string): number;
  /**
   * BPF_MAP_CREATE -> map fd. `mapFlags`: BPF_F_NO_PREALLOC (1), BPF_F_MMAPABLE (1024), ...;
   * `name` at most 15 bytes. Any map type (ARRAY, PERCPU_ARRAY, HASH, LRU_HASH, DEVMAP,
   * DEVMAP_HASH, XSKMAP, ...).
   */
  bpfMapCreate(mapType: number, keySize: number, valueSize: number, maxEntries: number, mapFlags?: number, name?: string): number;
  /** BPF_OBJ_GET_INFO_BY_FD of a map: [type, keySize, valueSize, maxEntries, mapFlags, id]. */
  bpfMapInfo(mapFd: number): [number, number, number, number, number, number];
  /**
   * BPF_MAP_LOOKUP_ELEM into `value`: true when found, false when there is no entry.
   * `key` must hold at least the map's key size and `value` its value size (per-CPU maps:
   * round_up(valueSize, 8) * bpfPossibleCpus() bytes); RangeError otherwise.
   */
  bpfMapLookup(mapFd: number, key: Bytes | null, value: Bytes, flags?: number): boolean;
  /** BPF_MAP_UPDATE_ELEM with flags BPF_ANY (0) / BPF_NOEXIST (1) / BPF_EXIST (2); sizes checked as for lookup. */
  bpfMapUpdate(mapFd: number, key: Bytes | null, value: Bytes, flags?: number): void;
  /** BPF_MAP_DELETE_ELEM: true when deleted, false when there was no entry. */
  bpfMapDelete(mapFd: number, key: Bytes | null): boolean;
  /** BPF_MAP_GET_NEXT_KEY: writes the key after `key` (the first key for null) into `nextKey`; false at the end. */
  bpfMapNextKey(mapFd: number, key: Bytes | null, nextKey: Bytes): boolean;
  /** Possible CPUs: the number of slots in a per-CPU map value. */
  bpfPossibleCpus(): number;
  /**
   * BPF_LINK_CREATE -> link fd (closing the last fd detaches). `target` is an ifindex for
   * BPF_XDP (37; flags XDP_FLAGS_SKB_MODE 2 / DRV_MODE 4 / HW_MODE 8) and BPF_TCX_INGRESS (46) /
   * BPF_TCX_EGRESS (47), else a target fd.
   */
  bpfLinkCreate(progFd: number, target: number, attachType: number, flags?: number): number;
  /** BPF_LINK_DETACH: detach now; the link fd stays open until closed. */
  bpfLinkDetach(linkFd: number): void;
  /**
   * BPF_PROG_TEST_RUN: run the program `repeat` times (default 1) on `dataIn` (and `ctxIn`).
   * Returns [retval, durationNs, dataSizeOut, ctxSizeOut]; the kernel copies at most
   * `dataOut.length` / `ctxOut.length` bytes back (ENOSPC when the output is longer).
   */
  bpfProgTestRun(progFd: number, dataIn: Bytes, dataOut?: Bytes | null, repeat?: number,
    ctxIn?: Bytes | null, ctxOut?: Bytes | null, flags?: number): [number, number, number, number];
  /** SO_ATTACH_BPF: attach an eBPF SOCKET_FILTER program to a socket. */
  attachBpf(fd: number, progFd: number): void;
  /** AF_XDP: anonymous, pre-faulted UMEM area of `length` bytes (multiple of 4096). */
  xskUmem(length: number): ArrayBuffer;
  /** AF_XDP: XDP_UMEM_REG of a whole xskUmem() area. */
  xskUmemReg(fd: number, umem: ArrayBuffer, chunkSize: number, headroom: number, flags: number): void;
  /** AF_XDP: map one ring at its XDP_PGOFF_* offset. */
  xskMmapRing(fd: number, length: number, pgoff: number): ArrayBuffer;
  /** AF_XDP: bind(sockaddr_xdp); sharedUmemFd only with XDP_SHARED_UMEM (else -1). */
  xskBind(fd: number, ifindex: number, queueId: number, flags: number, sharedUmemFd: number): void;
  /** AF_XDP wakeup: 0 = recvfrom, 1 = sendto (MSG_DONTWAIT). 0 or -errno (EAGAIN, EBUSY, ENOBUFS, ENETDOWN, EINTR). */
  xskKick(fd: number, which: 0 | 1): number;
  /** sched_setaffinity(0, cpus): pins the CALLING thread (a worker_thread can pin itself). */
  setAffinity(cpus: number[]): void;
  /** sched_getaffinity(0): CPUs the calling thread may run on. */
  getAffinity(): number[];
  /** gettid(): kernel thread id of the calling thread. */
  threadId(): number;
  /** sched_getcpu(): CPU the calling thread runs on right now. */
  currentCpu(): number;
  /**
   * writev(2) of `count` pieces described by `table` as (byte offset, buffer index
   * << 29 | length) pairs over `buffers` (ring mapping, header arena). Every piece is
   * checked against its buffer first; IOV_MAX runs, short writes, EINTR and EAGAIN
   * are handled. Returns the bytes written; throws with .code (ENOSPC, EIO, EPIPE...)
   * and .written (bytes written before the failure).
   */
  writev(fd: number, buffers: ArrayBuffer[], table: Uint32Array, count: number): number;
  /** writev() on a libuv pool thread; `buffers` stay referenced until `done` runs. */
  writevAsync(fd: number, buffers: ArrayBuffer[], table: Uint32Array, count: number,
    done: (err: (Error & { code?: string; written?: number }) | null, bytes?: number) => void): void;
}

/**
 * Load the addon with node-gyp-build: a local build (build/Release, made by
 * `npm run build:native` or an install that compiled) wins, else the N-API
 * prebuild shipped in the package (prebuilds/linux-x64).
 */
function load(): NativeCore {
  const here = dirname(fileURLToPath(import.meta.url));
  const require = createRequire(import.meta.url);
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
  // src/native.ts compiles to dist/src/native.js: the package root is two levels up.
  const root = join(here, '..', '..');
  try {
    return nodeGypBuild(root) as NativeCore;
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new Error(`netring: native core not found (${why}); run \`npm rebuild netring\` (needs a C compiler when no prebuild matches)`);
  }
}

/** The native core, loaded once per thread. */
export const native: NativeCore = load();
