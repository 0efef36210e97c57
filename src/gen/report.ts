/** Human-readable summaries of a generation. */
import type { GenProgress, GenSummary } from './generate.js';

/** 1234567 -> "1,234,567". */
export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Packets/s with a unit. */
export function pps(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(3)} Mpps`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(2)} kpps`;
  return `${v.toFixed(1)} pps`;
}

/** Bits/s with a unit. */
export function bps(v: number): string {
  if (v >= 1e9) return `${(v / 1e9).toFixed(3)} Gbps`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} Mbps`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(2)} kbps`;
  return `${v.toFixed(0)} bps`;
}

/** One status line from two progress samples dt ns apart. */
export function statusLine(p: GenProgress, prev: GenProgress | null): string {
  const dt = prev === null ? p.elapsedNs : p.elapsedNs - prev.elapsedNs;
  const dq = prev === null ? p.sent : p.sent - prev.sent;
  const db = prev === null ? p.bytes : p.bytes - prev.bytes;
  const rate = dt > 0 ? (dq * 1e9) / dt : 0;
  const brate = dt > 0 ? (db * 8e9) / dt : 0;
  return `sent ${count(p.sent)}  ${pps(rate)}  ${bps(brate)}  failed ${count(p.failed)}  ${(p.elapsedNs / 1e9).toFixed(1)} s`;
}

const WHY: Record<string, string> = { count: 'count reached', duration: 'duration reached', source: 'end of file', stop: 'stopped' };

/** Multi-line summary of a generation. */
export function formatSummary(s: GenSummary): string {
  const lines = [
    `${count(s.sent)} packets sent on ${s.iface} in ${(s.elapsedNs / 1e9).toFixed(3)} s: ${pps(s.pps)}, ${bps(s.bps)} (${WHY[s.stoppedBy] ?? s.stoppedBy})`,
    `queued ${count(s.queued)}, failed ${count(s.failed)}${s.queued - s.sent - s.failed > 0 ? `, not completed ${count(s.queued - s.sent - s.failed)}` : ''}` +
      `${s.deviceDropped ? `, dropped by the device ${count(s.deviceDropped)}` : ''}, ${count(s.bytes)} bytes` +
      `${s.flows > 1 ? `, ${count(s.flows)} flows` : ''}${s.workers.length > 1 ? `, ${s.workers.length} workers` : ''}`,
  ];
  return lines.join('\n');
}
