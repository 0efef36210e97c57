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
import { existsSync } from 'node:fs';
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
  /** which: 0 = SO_ATTACH_FILTER, 1 = PACKET_FANOUT_DATA; 8-byte sock_filter records. */
  attachCbpf(fd: number, which: 0 | 1, program: Bytes): void;
  /** Shared mapping of fd as an ArrayBuffer; unmapped when the buffer is collected. */
  mmap(fd: number, length: number, populate: boolean): ArrayBuffer;
  /**
   * Replace a mapping made by mmap() with anonymous zero pages at the same address:
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
  /** ETHTOOL_GET_TS_INFO: [so_timestamping, phc_index, tx_types, rx_filters]. */
  tsInfo(ifname: string): [number, number, number, number];
  /** SIOCSHWTSTAMP: returns the rx_filter the driver chose (it may widen the request). */
  hwtstamp(ifname: string, txType: number, rxFilter: number): number;
  /** SIOCGHWTSTAMP: the device's current [tx_type, rx_filter, flags]. */
  hwtstampGet(ifname: string): [number, number, number];
  bpfProgLoad(progType: number, insns: Bytes, license: string, log: Bytes): number;
  bpfMapCreate(mapType: number, keySize: number, valueSize: number, maxEntries: number): number;
  bpfMapOp(cmd: number, mapFd: number, key: Bytes, value: Bytes, flags: number): number;
  /** AF_XDP: anonymous, pre-faulted UMEM area of `length` bytes (multiple of 4096). */
  xskUmem(length: number): ArrayBuffer;
  /** AF_XDP: XDP_UMEM_REG of a whole xskUmem() area. */
  xskUmemReg(fd: number, umem: ArrayBuffer, chunkSize: number, headroom: number, flags: number): void;
  /** AF_XDP: map one ring at its XDP_PGOFF_* offset. */
  xskMmapRing(fd: number, length: number, pgoff: number): ArrayBuffer;
  /** Zero pages over an xskUmem()/xskMmapRing() mapping (the socket is released when its fd closes). */
  xskRelease(ab: ArrayBuffer): boolean;
  /** AF_XDP: bind(sockaddr_xdp); sharedUmemFd only with XDP_SHARED_UMEM (else -1). */
  xskBind(fd: number, ifindex: number, queueId: number, flags: number, sharedUmemFd: number): void;
  /** AF_XDP wakeup: 0 = recvfrom, 1 = sendto (MSG_DONTWAIT). 0 or -errno (EAGAIN, EBUSY, ENOBUFS, ENETDOWN, EINTR). */
  xskKick(fd: number, which: 0 | 1): number;
  /** BPF_LINK_CREATE(prog, ifindex, BPF_XDP, flags) -> link fd. */
  xskLinkXdp(progFd: number, ifindex: number, xdpFlags: number): number;
  /** sched_setaffinity(0, cpus): pins the CALLING thread (a worker_thread can pin itself). */
  setAffinity(cpus: number[]): void;
  /** sched_getaffinity(0): CPUs the calling thread may run on. */
  getAffinity(): number[];
  /** gettid(): kernel thread id of the calling thread. */
  threadId(): number;
  /** sched_getcpu(): CPU the calling thread runs on right now. */
  currentCpu(): number;
}

function load(): NativeCore {
  const here = dirname(fileURLToPath(import.meta.url));
  const require = createRequire(import.meta.url);
  // src/native.ts compiles to dist/src/native.js: the package root is two levels up.
  for (const up of ['../..', '..', '../../..']) {
    const p = join(here, up, 'build', 'Release', 'netring.node');
    if (existsSync(p)) return require(p) as NativeCore;
  }
  throw new Error('netring: native core not built (build/Release/netring.node missing); run `npm install` or `npm rebuild`');
}

/** The native core, loaded once per thread. */
export const native: NativeCore = load();
