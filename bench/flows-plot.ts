/**
 * Plot of the flow-table engine benchmark: reads the JSON that
 * bench/flows-engine.ts writes (FLOWS_ENGINE_JSON) and writes an SVG bar chart
 * of Mpps per CPU-second (median, with the min–max range of the trials) per
 * number of active flows, with the goal as a line.
 *
 *   node dist/bench/flows-plot.js bench/measured/flows-engine.json docs/flows-engine.svg
 */
import { readFileSync, writeFileSync } from 'node:fs';

interface Row { flows: number; cpuMpps: number[]; mpps: number[] }
const [input, output] = process.argv.slice(2);
if (!input || !output) { console.error('usage: flows-plot IN.json OUT.svg'); process.exit(2); }
const rows = (JSON.parse(readFileSync(input, 'utf8')) as { rows: Row[] }).rows;
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };
const GOAL = 15;
const W = 560, H = 320, L = 60, R = 20, T = 40, B = 50;
const max = Math.max(GOAL * 1.2, ...rows.flatMap((r) => r.cpuMpps)) * 1.05;
const y = (v: number): number => T + (H - T - B) * (1 - v / max);
const bw = (W - L - R) / rows.length;
const out: string[] = [];
out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">Flow-table updates, one core (Mpps per CPU-second, median and range)</text>`);
for (let v = 0; v <= max; v += 5) {
  out.push(`<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
  out.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`);
}
rows.forEach((r, i) => {
  const m = median(r.cpuMpps);
  const x = L + i * bw + bw * 0.2;
  const w = bw * 0.6;
  out.push(`<rect x="${x}" y="${y(m)}" width="${w}" height="${y(0) - y(m)}" fill="#4a7ab5"/>`);
  const lo = Math.min(...r.cpuMpps), hi = Math.max(...r.cpuMpps);
  out.push(`<line x1="${x + w / 2}" x2="${x + w / 2}" y1="${y(lo)}" y2="${y(hi)}" stroke="black"/>`);
  out.push(`<text x="${x + w / 2}" y="${y(m) - 6}" text-anchor="middle">${m.toFixed(1)}</text>`);
  out.push(`<text x="${x + w / 2}" y="${H - B + 18}" text-anchor="middle">${r.flows.toLocaleString('en-US')} flows</text>`);
});
out.push(`<line x1="${L}" x2="${W - R}" y1="${y(GOAL)}" y2="${y(GOAL)}" stroke="#c33" stroke-dasharray="6 4"/>`);
out.push(`<text x="${W - R}" y="${y(GOAL) - 5}" text-anchor="end" fill="#c33">goal at 100k flows: ${GOAL} Mpps</text>`);
out.push(`<text x="${W / 2}" y="${H - 12}" text-anchor="middle">active flows in the table (64-byte UDP frames on a TPACKET_V3 ring image)</text>`);
out.push('</svg>');
writeFileSync(output, out.join('\n') + '\n');
