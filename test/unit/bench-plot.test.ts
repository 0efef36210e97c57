/**
 * bench/plot.ts: the SVG plots of docs/benchmarks.md are what the script
 * renders from the committed CSVs (so a new measured run cannot leave a
 * stale picture), and a rendered bar is the median of the completed runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bars, parseCsv, PLOTS, renderSvg } from '../../bench/plot.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

test('every plot of docs/benchmarks.md is the rendering of its committed CSV (npm run bench:plot) and is shown on the page', () => {
  const page = readFileSync(`${ROOT}docs/benchmarks.md`, 'utf8');
  for (const p of PLOTS) {
    const svg = readFileSync(ROOT + p.svg, 'utf8');
    assert.equal(svg, renderSvg(parseCsv(readFileSync(ROOT + p.csv, 'utf8')), p.title), `${p.svg} is stale: run npm run bench:plot`);
    assert.ok(page.includes(`](${p.svg.replace(/^docs\//, '')})`), `${p.svg} is not on docs/benchmarks.md`);
  }
});

test('a bar is the median of the ok runs, the whisker their range; runs not ok are left out; bar heights scale with the medians', () => {
  const head = 'rep,size,mode,receiver,status,drop_pct,ns_per_pkt';
  const csv = [head,
    '1,64,pinned,netring,ok,0.000,40', '2,64,pinned,netring,ok,0.000,50', '3,64,pinned,netring,ok,1.500,44',
    '4,64,pinned,netring,OVERLAP,0.000,999',
    '1,64,pinned,ring_loop,ok,0.000,20', '2,64,pinned,ring_loop,ok,0.000,22',
  ].join('\n');
  const rows = parseCsv(csv);
  const b = bars(rows);
  assert.deepEqual(b.map((x) => [x.receiver, x.median, x.min, x.max, x.worstDrop, x.runs]), [
    ['netring', 44, 40, 50, 1.5, 3],
    ['ring_loop', 21, 20, 22, 0, 2],
  ]);
  const svg = renderSvg(rows, 'test');
  const rects = [...svg.matchAll(/<rect x="[\d.]+" y="([\d.]+)" width="14" height="([\d.]+)"/g)].map((m) => Number(m[2]));
  assert.equal(rects.length, 2);
  assert.ok(Math.abs(rects[0] / rects[1] - 44 / 21) < 1e-9, `heights ${rects.join(', ')}`);
  assert.match(svg, /netring, count only, pinned: 44 ns\/pkt \(3 runs\)/);
  assert.match(svg, />1\.5%</, 'the worst drop is shown');
  assert.doesNotMatch(svg, /999/);
});
