/**
 * Plot of the flow-table engine benchmark: reads the JSON that
 * bench/flows-engine.ts writes (FLOWS_ENGINE_JSON) and writes an SVG bar chart
 * of Mpps per CPU-second (median, with the min–max range of the trials) per
 * number of active flows, one bar per traffic mix (uniform; Zipf when the run
 * has it), with the goal as a line.
 *
 *   node dist/bench/flows-plot.js bench/measured/flows-engine.json docs/flows-engine.svg
 */
import { readFileSync, writeFileSync } from 'node:fs';

interface Row { flows: number; cpuMpps: number[]; mpps: number[]; zipfCpuMpps?: number[] }
const [input, output] = process.argv.slice(2);
if (!input || !output) { console.error('usage: flows-plot IN.json OUT.svg'); process.exit(2); }
const rows = (JSON.parse(readFileSync(input, 'utf8')) as { rows: Row[] }).rows;
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };
const GOAL = 15;
const W = 600, H = 340, L = 60, R = 20, T = 50, B = 50;
const max = Math.max(GOAL * 1.2, ...rows.flatMap((r) => [...r.cpuMpps, ...(r.zipfCpuMpps ?? [])])) * 1.05;
const zipf = rows.some((r) => r.zipfCpuMpps !== undefined);
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
  const bars: Array<[number[], string]> = [[r.cpuMpps, '#4a7ab5']];
  if (zipf) bars.push([r.zipfCpuMpps ?? [], '#e09a3a']);
  const w = (bw * 0.7) / bars.length;
  bars.forEach(([xs, color], j) => {
    if (xs.length === 0) return;
    const m = median(xs);
    const x = L + i * bw + bw * 0.15 + j * w;
    out.push(`<rect x="${x}" y="${y(m)}" width="${w * 0.9}" height="${y(0) - y(m)}" fill="${color}"/>`);
    const lo = Math.min(...xs), hi = Math.max(...xs);
    out.push(`<line x1="${x + w * 0.45}" x2="${x + w * 0.45}" y1="${y(lo)}" y2="${y(hi)}" stroke="black"/>`);
    out.push(`<text x="${x + w * 0.45}" y="${y(hi) - 6}" text-anchor="middle">${m.toFixed(1)}</text>`);
  });
  out.push(`<text x="${L + i * bw + bw / 2}" y="${H - B + 18}" text-anchor="middle">${r.flows.toLocaleString('en-US')} flows</text>`);
});
if (zipf) {
  out.push(`<rect x="${L + 10}" y="${T - 8}" width="10" height="10" fill="#4a7ab5"/><text x="${L + 24}" y="${T + 1}">uniform (every packet a different flow)</text>`);
  out.push(`<rect x="${L + 260}" y="${T - 8}" width="10" height="10" fill="#e09a3a"/><text x="${L + 274}" y="${T + 1}">Zipf(1) over the same flows</text>`);
}
out.push(`<line x1="${L}" x2="${W - R}" y1="${y(GOAL)}" y2="${y(GOAL)}" stroke="#c33" stroke-dasharray="6 4"/>`);
out.push(`<text x="${W - R}" y="${y(GOAL) - 5}" text-anchor="end" fill="#c33">goal at 100k flows: ${GOAL} Mpps</text>`);
out.push(`<text x="${W / 2}" y="${H - 12}" text-anchor="middle">active flows in the table (64-byte UDP frames on a TPACKET_V3 ring image)</text>`);
out.push('</svg>');
writeFileSync(output, out.join('\n') + '\n');
