/**
 * Where export messages go: a collector over UDP or TCP. Both count what
 * they sent and what they lost, never throw at the caller, and keep memory
 * bounded: UDP drops a message when too many sends are in flight; TCP
 * queues while (re)connecting up to a byte limit and counts what it drops.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { isIPv6 } from 'node:net';

/** Counters of a transport. */
export interface TransportStats {
  /** Messages handed to the kernel. */
  messages: number;
  /** Bytes handed to the kernel. */
  bytes: number;
  /** Messages whose send failed (the send call itself reported an error). */
  errors: number;
  /**
   * Errors the kernel reported on the socket outside a send: for UDP the ICMP
   * port unreachable of an earlier message (ECONNREFUSED: nothing listens on
   * the collector's port), for TCP a failed or broken connection. They are not
   * tied to one message, so they are counted apart from `errors`.
   */
  socketErrors: number;
  /** Messages dropped without being sent (queue full, closed). */
  dropped: number;
  /** TCP: connections made (1 + reconnects). */
  connects: number;
  /** Last error text, '' when none. */
  lastError: string;
}

/** A collector connection. */
export interface Transport {
  readonly stats: TransportStats;
  /** Queue one message (never throws). */
  send(msg: Uint8Array): void;
  /** TCP: called on each (re)connection before queued data is written (send templates here). */
  onConnect?: (send: (msg: Uint8Array) => void) => void;
  /** Flush what can be flushed and close. */
  close(): Promise<void>;
}

/** Parse "host:port" / "[v6]:port". */
export function parseHostPort(s: string, what = 'collector'): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad ${what} address "${s}" (want HOST:PORT or [V6]:PORT)`);
  return { host: m[1], port };
}

const newStats = (): TransportStats => ({ messages: 0, bytes: 0, errors: 0, socketErrors: 0, dropped: 0, connects: 0, lastError: '' });

/** UDP: one connected socket; errors from ICMP unreachables are counted. */
export class UdpTransport implements Transport {
  readonly stats = newStats();
  private readonly sock: dgram.Socket;
  private inflight = 0;
  private ready = false;
  private readonly pending: Uint8Array[] = [];

  constructor(host: string, port: number, private readonly maxInflight = 1024) {
    this.sock = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    this.sock.on('error', (e) => { this.stats.socketErrors++; this.stats.lastError = e.message; });
    this.sock.connect(port, host, () => {
      this.ready = true;
      for (const m of this.pending.splice(0)) this.send(m);
    });
  }

  send(msg: Uint8Array): void {
    if (!this.ready) {
      if (this.pending.length >= this.maxInflight) { this.stats.dropped++; return; }
      this.pending.push(msg);
      return;
    }
    if (this.inflight >= this.maxInflight) { this.stats.dropped++; return; }
    this.inflight++;
    this.sock.send(msg, (err) => {
      this.inflight--;
      if (err) { this.stats.errors++; this.stats.lastError = err.message; return; }
      this.stats.messages++;
      this.stats.bytes += msg.length;
    });
  }

  async close(): Promise<void> {
    for (let i = 0; i < 200 && (this.inflight > 0 || (!this.ready && this.pending.length > 0)); i++) await new Promise((r) => setTimeout(r, 5));
    this.stats.dropped += this.pending.length;
    await new Promise<void>((r) => this.sock.close(() => r()));
  }
}

/** TCP: reconnects (backoff 0.5 s .. 5 s), queues up to `maxQueue` bytes meanwhile. */
export class TcpTransport implements Transport {
  readonly stats = newStats();
  onConnect?: (send: (msg: Uint8Array) => void) => void;
  private sock: net.Socket | null = null;
  private connected = false;
  private closed = false;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private backoff = 500;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly host: string, private readonly port: number, private readonly maxQueue = 8 << 20) {
    this.connect();
  }

  private connect(): void {
    if (this.closed) return;
    const s = net.connect({ host: this.host, port: this.port });
    this.sock = s;
    s.setNoDelay(true);
    s.on('connect', () => {
      this.connected = true;
      this.backoff = 500;
      this.stats.connects++;
      this.onConnect?.((m) => this.write(m));
      const q = this.queue;
      this.queue = [];
      this.queued = 0;
      for (const m of q) this.write(m);
    });
    s.on('error', (e) => { this.stats.socketErrors++; this.stats.lastError = e.message; });
    s.on('close', () => {
      this.connected = false;
      this.sock = null;
      if (!this.closed) {
        this.timer = setTimeout(() => this.connect(), this.backoff);
        this.timer.unref();
        this.backoff = Math.min(5000, this.backoff * 2);
      }
    });
  }

  private write(msg: Uint8Array): void {
    this.sock!.write(msg);
    this.stats.messages++;
    this.stats.bytes += msg.length;
  }

  send(msg: Uint8Array): void {
    if (this.connected && this.sock !== null && this.sock.writableLength < this.maxQueue) { this.write(msg); return; }
    if (this.closed || this.queued + msg.length > this.maxQueue) { this.stats.dropped++; return; }
    this.queue.push(msg);
    this.queued += msg.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.stats.dropped += this.queue.length;
    this.queue = [];
    const s = this.sock;
    if (s !== null && this.connected) await new Promise<void>((r) => { s.end(() => r()); setTimeout(r, 2000).unref(); });
    s?.destroy();
  }
}
