/**
 * Plots of the capture benchmark's measured runs (bench/measured/*.csv, as
 * bench/capture.sh writes them) as SVG, written directly (no dependency):
 * one panel per frame size, one bar per receiver and CPU mode, the bar the
 * median receiver CPU ns/packet of the runs that completed (status ok), the
 * whisker their min–max, and the worst drop % above each bar.
 *
 *   node dist/bench/plot.js IN.csv OUT.svg [TITLE]
 *   node dist/bench/plot.js --all          every plot docs/benchmarks.md shows (PLOTS below)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Receivers in the order and with the names of the tables in docs/benchmarks.md. */
const LABEL: Record<string, string> = {
  none: 'generator alone',
  netring: 'netring, count only',
  netring_iter: 'netring, async iterator',
  netring_touch: 'netring, reads 5-tuple',
  netring_pcapng: 'netring, pcapng',
  cli: 'netring capture -w',
  ring_loop: 'C TPACKET_V3 loop',
  ring_loop_touch: 'C loop, reads 5-tuple',
  tcpdump: 'tcpdump -w',
  netsniff: 'netsniff-ng -o',
  netring_xdp: 'netring AF_XDP',
  xsk_loop: 'C AF_XDP loop',
  pb_xsk: 'C AF_XDP (libxdp, pb_xsk)',
};
const MODE_COLOR: Record<string, string> = { pinned: '#4a7ab5', unpinned: '#e39b3b' };

/** The plots of docs/benchmarks.md: measured CSV, SVG beside the page, title. */
export const PLOTS: Array<{ csv: string; svg: string; title: string }> = [
  { csv: 'bench/measured/capture-run2.csv', svg: 'docs/capture-run2.svg', title: 'Capture, run 2: receiver CPU per packet (trafgen source)' },
  { csv: 'bench/measured/capture-gen-netring.csv', svg: 'docs/capture-gen-netring.svg', title: 'Capture, 64 B pinned, netring gen as the source' },
  { csv: 'bench/measured/capture-gen-trafgen.csv', svg: 'docs/capture-gen-trafgen.svg', title: 'Capture, 64 B pinned, trafgen as the source' },
  { csv: 'bench/measured/xsk-quiet.csv', svg: 'docs/xsk-quiet.svg', title: 'AF_XDP receivers: netring vs libxdp (pb_xsk), pinned' },
];

/** One row of a capture CSV, columns by name. */
export type Row = Record<string, string>;

/** Parse a capture CSV (no quoting: bench/capture.sh writes plain fields). */
export function parseCsv(text: string): Row[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return [];
  const head = lines[0].split(',');
  return lines.slice(1).map((l) => {
    const f = l.split(',');
    const r: Row = {};
    head.forEach((h, i) => { r[h] = f[i] ?? ''; });
    return r;
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (v: number): string => String(Math.round(v * 10) / 10);

/** One bar: the runs of one (size, mode, receiver) that completed. */
export interface Bar { size: string; mode: string; receiver: string; median: number; min: number; max: number; worstDrop: number; runs: number }

/** Bars of a CSV: runs with status ok and a CPU figure, grouped, in the tables' receiver order. */
export function bars(rows: Row[]): Bar[] {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    if (r.status !== 'ok' || r.ns_per_pkt === '' || r.ns_per_pkt === undefined) continue;
    const k = `${r.size}|${r.mode}|${r.receiver}`;
    const g = groups.get(k);
    if (g) g.push(r); else groups.set(k, [r]);
  }
  const order = Object.keys(LABEL);
  const rank = (r: string): number => { const i = order.indexOf(r); return i < 0 ? order.length : i; };
  return [...groups.values()].map((g) => {
    const ns = g.map((r) => Number(r.ns_per_pkt));
    return {
      size: g[0].size, mode: g[0].mode, receiver: g[0].receiver, median: median(ns), min: Math.min(...ns), max: Math.max(...ns),
      worstDrop: Math.max(...g.map((r) => Number(r.drop_pct) || 0)), runs: g.length,
    };
  }).sort((a, b) => Number(a.size) - Number(b.size) || rank(a.receiver) - rank(b.receiver) || a.receiver.localeCompare(b.receiver) || a.mode.localeCompare(b.mode));
}

/** The SVG of a capture CSV. */
export function renderSvg(rows: Row[], title: string): string {
  const all = bars(rows);
  const sizes = [...new Set(all.map((b) => b.size))];
  const modes = [...new Set(all.map((b) => b.mode))].sort();
  const PW = 60, BAR = 16, GAP = 14, L = 64, T = 76, PH = 220, B = 100, R = 16;
  const panels = sizes.map((size) => {
    const bs = all.filter((b) => b.size === size);
    const receivers = [...new Set(bs.map((b) => b.receiver))];
    return { size, bs, receivers, width: receivers.length * (modes.length * BAR + GAP) + GAP };
  });
  const W = Math.max(640, L + panels.reduce((a, p) => a + p.width + PW / 2, 0) + R);
  const H = T + PH + B;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  out.push(`<text x="${W / 2}" y="34" text-anchor="middle" fill="#555">CPU ns per packet of the receiver: median (bar), min–max (whisker), worst drop % in red</text>`);
  modes.forEach((m, i) => {
    const x = L + i * 90;
    out.push(`<rect x="${x}" y="42" width="10" height="10" fill="${MODE_COLOR[m] ?? '#888'}"/><text x="${x + 14}" y="51">${esc(m)}</text>`);
  });
  let x0 = L;
  for (const p of panels) {
    const top = Math.max(1, ...p.bs.map((b) => b.max)) * 1.15;
    const step = niceStep(top);
    const y = (v: number): number => T + PH * (1 - v / top);
    out.push(`<text x="${x0 + p.width / 2}" y="${T - 6}" text-anchor="middle" font-weight="bold">${esc(p.size)}-byte frames</text>`);
    for (let v = 0; v <= top; v += step) {
      out.push(`<line x1="${x0}" x2="${x0 + p.width}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
      out.push(`<text x="${x0 - 4}" y="${y(v) + 4}" text-anchor="end">${num(v)}</text>`);
    }
    p.receivers.forEach((rcv, i) => {
      const gx = x0 + GAP + i * (modes.length * BAR + GAP);
      modes.forEach((m, j) => {
        const b = p.bs.find((q) => q.receiver === rcv && q.mode === m);
        if (!b) return;
        const bx = gx + j * BAR;
        out.push(`<rect x="${bx}" y="${y(b.median)}" width="${BAR - 2}" height="${y(0) - y(b.median)}" fill="${MODE_COLOR[m] ?? '#888'}"><title>${esc(`${LABEL[rcv] ?? rcv}, ${m}: ${num(b.median)} ns/pkt (${b.runs} runs)`)}</title></rect>`);
        out.push(`<line x1="${bx + BAR / 2 - 1}" x2="${bx + BAR / 2 - 1}" y1="${y(b.min)}" y2="${y(b.max)}" stroke="black"/>`);
        if (b.worstDrop > 0) out.push(`<text x="${bx + BAR / 2 - 1}" y="${y(b.max) - 4}" text-anchor="middle" fill="#c33" font-size="9">${num(b.worstDrop)}%</text>`);
      });
      const lx = gx + (modes.length * BAR) / 2;
      out.push(`<text transform="translate(${lx},${y(0) + 10}) rotate(40)" font-size="10">${esc(LABEL[rcv] ?? rcv)}</text>`);
    });
    out.push(`<line x1="${x0}" x2="${x0 + p.width}" y1="${y(0)}" y2="${y(0)}" stroke="black"/>`);
    x0 += p.width + PW / 2;
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function niceStep(top: number): number {
  const raw = top / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function main(argv: string[]): void {
  if (argv[0] === '--all') {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    for (const p of PLOTS) writeFileSync(root + p.svg, renderSvg(parseCsv(readFileSync(root + p.csv, 'utf8')), p.title));
    return;
  }
  const [input, output, title] = argv;
  if (!input || !output) {
    console.error('usage: plot IN.csv OUT.svg [TITLE] | plot --all');
    process.exit(2);
  }
  writeFileSync(output, renderSvg(parseCsv(readFileSync(input, 'utf8')), title ?? input));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
