/**
 * Instruction count of our classic BPF vs `tcpdump -d` (libpcap's optimiser)
 * for every expression of the equivalence corpus. Prints a Markdown report
 * (the one in docs/language.md). Run: node dist/bench/lang-count.js
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFilter } from '../src/lang/filter.js';

const exprs = readFileSync(new URL('../../test/fixtures/lang/expressions.txt', import.meta.url), 'utf8')
  .split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const dir = mkdtempSync(join(tmpdir(), 'netring-count-'));
const rows: Array<{ e: string; ours: number; theirs: number; r: number }> = [];
let refused = 0;
for (const e of exprs) {
  writeFileSync(join(dir, 'e'), e);
  const t = spawnSync('tcpdump', ['-d', '-F', join(dir, 'e')]);
  if (t.status !== 0) {
    refused++;
    continue;
  }
  const theirs = t.stdout.toString().trim().split('\n').length;
  const ours = compileFilter(e).insns.length;
  rows.push({ e, ours, theirs, r: ours / theirs });
}
rmSync(dir, { recursive: true, force: true });
const rs = rows.map((x) => x.r).sort((a, b) => a - b);
const q = (p: number): number => rs[Math.min(rs.length - 1, Math.floor(p * (rs.length - 1)))];
const f = (x: number): string => x.toFixed(3);
const sum = (k: 'ours' | 'theirs'): number => rows.reduce((s, x) => s + x[k], 0);
const out: string[] = [];
out.push(`Expressions compared: ${rows.length} (${refused} refused by both compilers, not counted).`, '');
out.push('| statistic | ratio ours/libpcap |', '|---|---|');
out.push(`| minimum | ${f(rs[0])} |`, `| 10th percentile | ${f(q(0.1))} |`, `| 25th percentile | ${f(q(0.25))} |`, `| median | ${f(q(0.5))} |`,
  `| 75th percentile | ${f(q(0.75))} |`, `| 90th percentile | ${f(q(0.9))} |`, `| maximum | ${f(rs[rs.length - 1])} |`,
  `| mean | ${f(rs.reduce((a, b) => a + b, 0) / rs.length)} |`, `| total instructions | ${sum('ours')} vs ${sum('theirs')} |`, '');
const shorter = rows.filter((x) => x.ours < x.theirs).length;
const equal = rows.filter((x) => x.ours === x.theirs).length;
const longer = rows.filter((x) => x.ours > x.theirs).length;
out.push(`Shorter than libpcap: ${shorter}; same length: ${equal}; longer: ${longer}.`, '');
const diff = rows.filter((x) => x.ours !== x.theirs).sort((a, b) => a.r - b.r);
out.push('| expression | ours | libpcap |', '|---|---|---|');
for (const x of diff) out.push(`| \`${x.e.replace(/\|/g, '\\|')}\` | ${x.ours} | ${x.theirs} |`);
console.log(out.join('\n'));
