/**
 * Lab: veth pairs and network namespaces with unique names, always torn down
 * (even when the body throws), plus a frame builder and a raw frame sender.
 * Used by the tests and the benchmarks (the demo has its own, smaller set-up:
 * src/cli/demo-net.ts).
 *
 * By default both veth ends live in the root namespace with IPv6 disabled and
 * no addresses, so nothing but the test's own frames crosses the link and
 * counts are exact. `{ ns: true }` moves end `a` into a fresh namespace (for
 * a sender or receiver running in a child process via `nsExec`).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { native } from '../../src/native.js';
import { AF_PACKET, SOCK_RAW } from '../../src/constants.js';
import { isRoot, run } from '../../src/cli/demo-net.js';

export interface VethPair {
  /** Sending end (in `ns` when one was asked for). */
  a: string;
  /** Receiving end, in the root namespace. */
  b: string;
  /** Namespace holding `a`, when `{ ns: true }`. */
  ns?: string;
}

export interface VethOptions {
  /** Put end `a` in a fresh namespace. */
  ns?: boolean;
  mtu?: number;
  /** Turn offloads (rx/tx checksum, SG, TSO, GSO, GRO, LRO) off: default true. */
  offloadsOff?: boolean;
  /** RX and TX queues of each end (numrxqueues/numtxqueues; default: the kernel's 1). */
  queues?: number;
}

const live = new Set<() => void>();
let exitHook = false;

/** Root check and command runner: the same as the demo uses. */
export { isRoot, run };

function uniq(): string {
  return randomBytes(3).toString('hex');
}

function quiet(iface: string, ns: string | undefined, offloadsOff: boolean): void {
  run('sysctl', ['-qw', `net.ipv6.conf.${iface}.disable_ipv6=1`], { ns, allowFail: true });
  if (offloadsOff) {
    for (const f of ['rx', 'tx', 'sg', 'tso', 'gso', 'gro', 'lro']) run('ethtool', ['-K', iface, f, 'off'], { ns, allowFail: true });
  }
}

/** Create a veth pair (and a namespace if asked), run body, always tear everything down. */
export async function withVeth<T>(body: (v: VethPair) => Promise<T> | T, opts: VethOptions = {}): Promise<T> {
  const id = uniq();
  const a = `nra${id}`;
  const b = `nrb${id}`;
  const ns = opts.ns ? `nrns${id}` : undefined;
  const cleanup = (): void => {
    run('ip', ['link', 'del', b], { allowFail: true });
    if (ns) run('ip', ['netns', 'del', ns], { allowFail: true });
  };
  live.add(cleanup);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => { for (const c of live) c(); });
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => { for (const c of live) c(); process.exit(130); });
    }
  }
  try {
    if (ns) run('ip', ['netns', 'add', ns]);
    const q = opts.queues === undefined ? [] : ['numrxqueues', String(opts.queues), 'numtxqueues', String(opts.queues)];
    run('ip', ['link', 'add', b, ...q, 'type', 'veth', 'peer', 'name', a, ...q]);
    // IPv6 off before the links come up: no DAD/RS/MLD frames
    quiet(b, undefined, opts.offloadsOff ?? true);
    quiet(a, undefined, opts.offloadsOff ?? true);
    if (ns) {
      run('ip', ['link', 'set', a, 'netns', ns]);
      run('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1'], { ns, allowFail: true });
      run('ip', ['link', 'set', 'lo', 'up'], { ns });
    }
    if (opts.mtu) {
      run('ip', ['link', 'set', b, 'mtu', String(opts.mtu)]);
      run('ip', ns ? ['-n', ns, 'link', 'set', a, 'mtu', String(opts.mtu)] : ['link', 'set', a, 'mtu', String(opts.mtu)]);
    }
    run('ip', ['link', 'set', b, 'up']);
    run('ip', ns ? ['-n', ns, 'link', 'set', a, 'up'] : ['link', 'set', a, 'up']);
    // Until the kernel's link watcher sees the carrier, a device transmits through the noop qdisc, which drops
    // every frame: wait for both ends to be operationally up, or the first frames of a test vanish.
    await waitOperUp(b, undefined);
    await waitOperUp(a, ns);
    return await body({ a, b, ns });
  } finally {
    cleanup();
    live.delete(cleanup);
  }
}

/** Wait (up to 10 s) until `iface` reports operstate UP; throws if it never does. */
async function waitOperUp(iface: string, ns: string | undefined): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const out = run('ip', ns ? ['-n', ns, '-o', 'link', 'show', 'dev', iface] : ['-o', 'link', 'show', 'dev', iface], { allowFail: true });
    if (/ state UP /.test(out)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`veth ${iface} did not come up within 10 s`);
}

/** Run a command inside a namespace as a child process. */
export function nsSpawn(ns: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

/** Interface counters from /sys (root namespace unless ns given). */
export function ifCounters(iface: string, ns?: string): { rxPackets: number; rxDropped: number; txPackets: number; txDropped: number } {
  const read = (n: string): number => Number(run('cat', [`/sys/class/net/${iface}/statistics/${n}`], { ns }).trim());
  return { rxPackets: read('rx_packets'), rxDropped: read('rx_dropped'), txPackets: read('tx_packets'), txDropped: read('tx_dropped') };
}

/** A raw AF_PACKET sender bound to one interface (one syscall per frame: for tests and demos, not for speed). */
export class RawSender {
  readonly fd: number;
  constructor(iface: string) {
    this.fd = native.socket(AF_PACKET, SOCK_RAW, 0);
    native.bindPacket(this.fd, native.ifindex(iface), 0);
  }
  /** Send every frame; retries on ENOBUFS/EAGAIN. Returns frames sent. */
  send(frames: Iterable<Uint8Array>): number {
    let n = 0;
    for (const f of frames) {
      let r = native.send(this.fd, f, 0);
      for (let tries = 0; r < 0 && tries < 1000; tries++) r = native.send(this.fd, f, 0);
      if (r < 0) throw new Error(`send failed: ${r}`);
      n++;
    }
    return n;
  }
  close(): void { native.close(this.fd); }
}

export { packetFrame, udpFrame, type UdpFrameSpec } from './frames.js';

/** Payload bytes that encode a sequence number (for matching frames to what was sent). */
export function seqPayload(seq: number, len = 18): Uint8Array {
  const p = new Uint8Array(Math.max(len, 8));
  new DataView(p.buffer).setUint32(0, seq);
  for (let i = 4; i < p.length; i++) p[i] = (seq * 7 + i) & 0xff;
  return p;
}

/** Sleep helper. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
