/** Human-readable latency/loss report. */
import type { LatencyReport, LatencyStats } from './latency.js';

const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Nanoseconds as microseconds text. */
export function us(ns: number): string {
  return (ns / 1e3).toFixed(ns < 10_000 ? 2 : 1);
}

function lat(l: LatencyStats): string {
  if (l.count === 0) return 'no samples';
  return `min ${us(l.min)}  p50 ${us(l.p50)}  p90 ${us(l.p90)}  p99 ${us(l.p99)}  p99.9 ${us(l.p999)}  max ${us(l.max)}  mean ${us(l.mean)}`;
}

/** Multi-line latency/loss report. */
export function formatLatency(r: LatencyReport, timestamps = 'software'): string {
  const lines = [
    `${count(r.expected)} expected, ${count(r.received)} received, ${count(r.lost)} lost (${r.lossPct.toFixed(3)}%), ` +
      `${count(r.duplicates)} duplicates, ${count(r.reordered)} reordered`,
    `one-way latency (us, ${timestamps === 'file' ? 'capture file' : timestamps + ' RX'} timestamps): ${lat(r.latency)}`,
  ];
  if (r.streams.length > 1) {
    for (const s of r.streams) lines.push(`  stream ${s.stream}: ${count(s.received)} received, ${count(s.lost)} lost, ${count(s.reordered)} reordered, p50 ${us(s.latency.p50)} us, p99 ${us(s.latency.p99)} us`);
  }
  if (r.negative > 0) lines.push(`warning: ${count(r.negative)} packets arrived before their send stamp (clock offset between sender and receiver)`);
  return lines.join('\n');
}
