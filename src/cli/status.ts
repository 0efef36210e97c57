/** Live one-line status on a TTY, and rate formatting. */

/** "1.234 Mpps" style. */
export function fmtRate(pps: number): string {
  if (pps >= 1e6) return `${(pps / 1e6).toFixed(3)} Mpps`;
  if (pps >= 1e3) return `${(pps / 1e3).toFixed(1)} kpps`;
  return `${pps.toFixed(0)} pps`;
}

/** "1.23 Gbps" style from bytes per second. */
export function fmtBits(bytesPerSec: number): string {
  const b = bytesPerSec * 8;
  if (b >= 1e9) return `${(b / 1e9).toFixed(2)} Gbps`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(2)} Mbps`;
  if (b >= 1e3) return `${(b / 1e3).toFixed(1)} kbps`;
  return `${b.toFixed(0)} bps`;
}

/** Counters a status line shows. */
export interface StatusSample {
  packets: number;
  bytes: number;
  drops: number;
  extra?: string;
}

/**
 * Redraws one stderr line every `intervalMs` while stderr is a TTY (silent
 * otherwise, so logs and pipes stay clean). `sample()` is called on the timer,
 * never per packet.
 */
export class StatusLine {
  private timer: NodeJS.Timeout | null = null;
  private last = { t: 0, packets: 0, bytes: 0 };
  private readonly tty: boolean;

  constructor(private readonly sample: () => StatusSample, private readonly intervalMs = 1000, stream: NodeJS.WriteStream = process.stderr) {
    this.tty = stream.isTTY === true;
    this.stream = stream;
  }

  private readonly stream: NodeJS.WriteStream;

  start(): this {
    if (!this.tty) return this;
    this.last = { t: performance.now(), packets: 0, bytes: 0 };
    this.timer = setInterval(() => this.draw(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  private draw(): void {
    const s = this.sample();
    const now = performance.now();
    const dt = (now - this.last.t) / 1000 || 1;
    const pps = (s.packets - this.last.packets) / dt;
    const bps = (s.bytes - this.last.bytes) / dt;
    this.last = { t: now, packets: s.packets, bytes: s.bytes };
    const line = `${s.packets} pkts  ${fmtRate(pps)}  ${fmtBits(bps)}  drops ${s.drops}${s.extra ? '  ' + s.extra : ''}`;
    this.stream.write(`\r\x1b[K${line}`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.tty) this.stream.write('\r\x1b[K');
  }
}
