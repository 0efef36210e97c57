/**
 * XdpAttachment: the XSKMAP, the redirect program and the BPF link that
 * holds it on one interface. The link is the only thing keeping the
 * program attached: closing its fd (or the process dying, even by SIGKILL)
 * detaches it, so nothing is left behind.
 *
 * One attachment per interface and thread, shared by every AF_XDP socket of
 * that thread on the interface (one socket per RX queue); the last socket to
 * leave detaches the program. Worker threads of a fan-out group use the
 * attachment their parent made: they only put their socket into its map.
 */
import { native } from '../native.js';
import { NetringError, sys } from '../errors.js';
import { BPF_MAP_TYPE_XSKMAP, BPF_PROG_TYPE_XDP, BPF_XDP, XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE } from './abi.js';
import { xdpRedirectProgram } from './xdp-program.js';

/** Where XDP runs: in the driver (native), on the skb (generic), or native when the driver has it. */
export type XdpMode = 'native' | 'generic' | 'auto';

/** Options of {@link XdpAttachment.attach}. */
export interface AttachOptions {
  iface: string;
  ifindex: number;
  /** XSKMAP entries: the interface's RX queue count. */
  queues: number;
  mode?: XdpMode;
  /** tcpdump expression run in XDP (every frame when absent). */
  filter?: string;
}

const attached = new Map<number, XdpAttachment>();

export class XdpAttachment {
  readonly iface: string;
  readonly ifindex: number;
  /** XSKMAP fd (queue id -> socket). */
  readonly mapFd: number;
  readonly progFd: number;
  /** BPF link fd (-1 once detached). */
  linkFd: number;
  /** The mode the program runs in. */
  readonly mode: 'native' | 'generic';
  readonly queues: number;
  private readonly filterKey: string;
  private users = 0;

  private constructor(o: AttachOptions) {
    this.iface = o.iface;
    this.ifindex = o.ifindex;
    this.queues = o.queues;
    this.filterKey = JSON.stringify(o.filter ?? null);
    const ctx = { op: `attach the XDP program to ${o.iface}`, iface: o.iface };
    this.mapFd = sys(ctx, () => native.bpfMapCreate(BPF_MAP_TYPE_XSKMAP, 4, 4, Math.max(1, o.queues)));
    let progFd = -1;
    try {
      const insns = xdpRedirectProgram(this.mapFd, o.filter);
      try {
        progFd = native.bpfProgLoad(BPF_PROG_TYPE_XDP, insns, 'GPL');
      } catch (err) {
        // the native error's message ends with the verifier log's tail
        const e = err as { code?: string; errno?: number; message: string };
        throw new NetringError(`load the XDP program for ${o.iface}: ${e.message}`, e.code ?? 'EINVAL', e.errno ?? 0, 'bpf');
      }
      this.progFd = progFd;
      const mode = o.mode ?? 'auto';
      if (!['native', 'generic', 'auto'].includes(mode)) throw new NetringError(`xdpMode must be native, generic or auto (got ${String(mode)})`, 'EINVAL');
      this.linkFd = -1;
      if (mode !== 'generic') {
        try {
          this.linkFd = native.bpfLinkCreate(progFd, o.ifindex, BPF_XDP, XDP_FLAGS_DRV_MODE);
        } catch (err) {
          const e = err as { code?: string };
          if (mode === 'native' || e.code !== 'EOPNOTSUPP') throw linkError(err, o.iface, 'native');
        }
      }
      this.mode = this.linkFd >= 0 ? 'native' : 'generic';
      if (this.linkFd < 0) {
        try {
          this.linkFd = native.bpfLinkCreate(progFd, o.ifindex, BPF_XDP, XDP_FLAGS_SKB_MODE);
        } catch (err) { throw linkError(err, o.iface, 'generic'); }
      }
    } catch (e) {
      if (progFd >= 0) native.close(progFd);
      native.close(this.mapFd);
      throw e;
    }
  }

  /** The thread's attachment on `ifindex`, made on first use; the caller must leave() when done. */
  static attach(o: AttachOptions): XdpAttachment {
    let a = attached.get(o.ifindex);
    if (a !== undefined) {
      if (a.filterKey !== JSON.stringify(o.filter ?? null))
        throw new NetringError(`${o.iface} already has an AF_XDP capture with another filter in this thread: one XDP filter per interface`, 'EBUSY');
      if (o.mode !== undefined && o.mode !== 'auto' && o.mode !== a.mode)
        throw new NetringError(`${o.iface} already runs the XDP program in ${a.mode} mode in this thread`, 'EBUSY');
    } else {
      a = new XdpAttachment(o);
      attached.set(o.ifindex, a);
    }
    a.users++;
    return a;
  }

  /** Put a socket into the map at its queue (the program starts redirecting that queue to it). */
  addSocket(queue: number, fd: number): void {
    sys({ op: `register the AF_XDP socket of ${this.iface} queue ${queue} in the XSKMAP`, iface: this.iface },
      () => native.bpfMapUpdate(this.mapFd, new Uint32Array([queue]), new Uint32Array([fd]), 0));
  }

  /** Remove the socket of `queue` from the map (its frames go up the stack again). */
  removeSocket(queue: number): void {
    try { native.bpfMapDelete(this.mapFd, new Uint32Array([queue])); } catch { /* already gone */ }
  }

  /** One user fewer; the last one detaches the program (link closed) and frees the map. */
  leave(): void {
    if (--this.users > 0) return;
    attached.delete(this.ifindex);
    this.detach();
  }

  /** Detach now: close the link, the program and the map. Idempotent. */
  detach(): void {
    if (this.linkFd < 0) return;
    native.close(this.linkFd);
    this.linkFd = -1;
    native.close(this.progFd);
    native.close(this.mapFd);
  }
}

function linkError(err: unknown, iface: string, mode: 'native' | 'generic'): Error {
  const e = err as { code?: string; errno?: number; message?: string };
  if (e.code === 'EOPNOTSUPP' && mode === 'native')
    return new NetringError(`${iface} has no native (driver) XDP support: use xdpMode 'generic' (or 'auto')`, 'EOPNOTSUPP', e.errno ?? 0, 'bpf');
  if (e.code === 'EBUSY' || e.code === 'EEXIST')
    return new NetringError(`${iface} already has an XDP program attached (see \`ip link show ${iface}\`); detach it first`, e.code, e.errno ?? 0, 'bpf');
  if (e.code === 'EPERM' || e.code === 'EACCES')
    return new NetringError(`attach XDP to ${iface}: permission denied: netring needs root or CAP_NET_ADMIN + CAP_BPF (and CAP_NET_RAW for AF_XDP sockets)`, e.code, e.errno ?? 0, 'bpf');
  return new NetringError(`attach the XDP program to ${iface} (${mode} mode): ${e.message ?? String(err)}`, e.code ?? 'EINVAL', e.errno ?? 0, 'bpf');
}
