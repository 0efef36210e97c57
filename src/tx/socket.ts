/**
 * Sending sockets: an AF_PACKET SOCK_RAW socket bound to one interface with
 * protocol 0 (it never receives), the qdisc bypassed by default (as trafgen
 * does) and a large send buffer so in-flight frames do not hit EAGAIN.
 *
 * `TxSocket` is the plain path: one send(2) per frame, no ring. Use it for a
 * few packets; `TxRing` (ring.ts) for rates.
 */
import { native } from '../native.js';
import {
  AF_PACKET, MSG_DONTWAIT, PACKET_QDISC_BYPASS, SOCK_RAW, SOL_PACKET, SOL_SOCKET, SO_SNDBUF, SO_SNDBUFFORCE,
} from '../constants.js';
import { NetringError, explain, sys, type ErrorContext } from '../errors.js';

/** Options shared by TxSocket and TxRing. */
export interface TxSocketOptions {
  /** Interface name (required). */
  iface: string;
  /** Skip the qdisc layer (PACKET_QDISC_BYPASS, default true). Taps on the sending device then do not see the frames. */
  qdiscBypass?: boolean;
  /** Send buffer bytes (SO_SNDBUFFORCE when permitted, else SO_SNDBUF; default 4 MiB). */
  sndbuf?: number;
}

/** @internal open, configure (before bind) and return fd + ifindex; `configure` runs before bind. */
export function openTxFd(opts: TxSocketOptions, what: string, configure?: (fd: number, ctx: ErrorContext) => void): { fd: number; ifindex: number; ctx: ErrorContext } {
  if (!opts || typeof opts.iface !== 'string' || opts.iface.length === 0)
    throw new NetringError(`${what}: \`iface\` (an interface name) is required`, 'EINVAL');
  const iface = opts.iface;
  const ctx = { op: `${what} on ${iface}`, iface };
  const ifindex = sys(ctx, () => native.ifindex(iface));
  const fd = sys(ctx, () => native.socket(AF_PACKET, SOCK_RAW, 0));
  try {
    if (opts.qdiscBypass ?? true) sys(ctx, () => native.setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, new Int32Array([1])));
    const sndbuf = opts.sndbuf ?? 4 << 20;
    if (!Number.isInteger(sndbuf) || sndbuf < 4096) throw new NetringError(`sndbuf must be an integer >= 4096 (got ${String(sndbuf)})`, 'EINVAL');
    try {
      native.setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, new Int32Array([sndbuf]));
    } catch {
      sys(ctx, () => native.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, new Int32Array([sndbuf])));
    }
    configure?.(fd, ctx);
    sys(ctx, () => native.bindPacket(fd, ifindex, 0));
  } catch (e) {
    native.close(fd);
    throw e;
  }
  return { fd, ifindex, ctx };
}

/** A plain sending socket: one send(2) per frame. Create with {@link openTxSocket}. */
export class TxSocket {
  readonly iface: string;
  readonly ifindex: number;
  /** File descriptor, -1 after close. */
  fd: number;
  /** Frames the kernel accepted. */
  sent = 0;
  /** Sends refused for lack of buffer space (EAGAIN/ENOBUFS); the frame was not sent. */
  refused = 0;
  private readonly ctx: ErrorContext;

  /** @internal use openTxSocket() */
  constructor(opts: TxSocketOptions) {
    const { fd, ifindex, ctx } = openTxFd(opts, 'open sender');
    this.iface = opts.iface;
    this.fd = fd;
    this.ifindex = ifindex;
    this.ctx = ctx;
  }

  /**
   * Send one whole frame (Ethernet header included). Returns true when the
   * kernel took it, false when it had no buffer space (EAGAIN/ENOBUFS) and
   * `wait` is false; other failures throw (EMSGSIZE: larger than the MTU).
   */
  send(frame: Uint8Array, wait = true): boolean {
    if (this.fd < 0) throw new NetringError(`sender on ${this.iface} is closed`, 'ECLOSED');
    let r: number;
    try {
      r = native.send(this.fd, frame, wait ? 0 : MSG_DONTWAIT);
    } catch (e) {
      throw explain(e, this.ctx);
    }
    if (r < 0) { this.refused++; return false; }
    this.sent++;
    return true;
  }

  /** Close the socket. Idempotent. */
  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    native.close(fd);
  }
}

/** Open a plain (ring-less) sending socket on `opts.iface`. */
export function openTxSocket(opts: TxSocketOptions): TxSocket {
  return new TxSocket(opts);
}
