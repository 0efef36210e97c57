/**
 * Compile time and peak memory of a huge tcpdump expression: `port 1 or
 * port 2 or ... port N`, placed for a live socket as `capture -f` does
 * (classic BPF when it fits the kernel's 4,096 instructions, otherwise the
 * whole filter in JavaScript). One size per process, so the peak RSS is that
 * size's. Run: node dist/bench/lang-huge.js N  (prints one JSON line);
 * `node dist/bench/lang.js` runs it for 100, 1,000 and 10,000 terms.
 */
import { compile } from '../src/lang/compile.js';
import { LangError } from '../src/lang/errors.js';

/** `port 1 or port 2 or ... port n`. */
export function portsExpression(n: number): string {
  return Array.from({ length: n }, (_, i) => `port ${i + 1}`).join(' or ');
}

const n = Number(process.argv[2]);
if (!Number.isInteger(n) || n < 1) {
  process.stderr.write('usage: node dist/bench/lang-huge.js TERMS\n');
  process.exit(2);
}
const src = portsExpression(n);
const t0 = performance.now();
let result: string;
try {
  const r = compile(src, { target: 'kernel' });
  result = r.cbpf ? `socket filter, ${r.cbpf.length} instructions` : 'JavaScript (kernel limit exceeded)';
} catch (e) {
  if (!(e instanceof LangError)) throw e;
  result = `refused: ${e.reason}`;
}
const ms = performance.now() - t0;
console.log(JSON.stringify({ terms: n, chars: src.length, ms: Math.round(ms), peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024), result }));
