/**
 * `netring compile EXPR`: show what a tcpdump expression compiles to: the
 * classic BPF listing (like `tcpdump -d`), `-dd`/`-ddd` forms (kernel-ready),
 * the generated JavaScript, and where each part runs.
 */
import type { Command } from 'commander';
import { compileFilter, compileFilterJs, dumpD, dumpDD, dumpDDD, lowerFilter } from '../lang/filter.js';
import { choiceArg, intArg } from './args.js';

interface CompileOptions { d?: boolean; dd?: boolean; ddd?: boolean; js?: boolean; target: 'kernel' | 'file'; snaplen?: number; optimize: boolean }

export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description('compile a tcpdump filter expression and print its classic BPF, its JavaScript and the kernel/JS split')
    .argument('<expr...>', 'tcpdump filter expression (quote it or pass it as several words)')
    .option('-d', 'only the BPF listing (like tcpdump -d)')
    .option('--dd', 'only the C fragment (like tcpdump -dd)')
    .option('--ddd', 'only the decimal program, kernel-ready (like tcpdump -ddd)')
    .option('--js', 'only the generated JavaScript')
    .option('--target <t>', "kernel (live socket: VLAN tags in metadata, the default) or file (tags inline, like tcpdump -r)", choiceArg('--target', ['kernel', 'file'] as const), 'kernel')
    .option('-s, --snaplen <n>', 'value returned on a match (default 262144)', intArg('-s', 1, 262144))
    .option('--no-optimize', 'keep the literal translation')
    .action((words: string[], opts: CompileOptions) => {
      const expr = words.join(' ');
      const fopts = { target: opts.target, snaplen: opts.snaplen, optimize: opts.optimize };
      const only = opts.d || opts.dd || opts.ddd || opts.js;
      const out: string[] = [];
      if (opts.target === 'kernel' && lowerFilter(expr, fopts).usesChain && !(opts.d || opts.dd || opts.ddd)) {
        // protochain loops backwards: the kernel's checker refuses it, so it runs in JS
        const j = compileFilterJs(expr, fopts);
        out.push(only ? j.js.body : `# expression: ${expr}\n# placement: JavaScript only (protochain loops over extension headers; the kernel refuses backward jumps)\n# javascript\n${j.js.body.trimEnd()}`);
        process.stdout.write(out.join('\n') + '\n');
        return;
      }
      const c = compileFilter(expr, fopts);
      if (opts.d) out.push(dumpD(c));
      if (opts.dd) out.push(dumpDD(c));
      if (opts.ddd) out.push(dumpDDD(c));
      if (opts.js) out.push(c.js.body);
      if (!only) {
        out.push(`# expression: ${expr}`);
        out.push(`# target: ${opts.target} (${opts.target === 'kernel' ? 'VLAN tags read from metadata' : 'VLAN tags inline'})`);
        out.push(`# placement: ${c.usesChain ? 'JavaScript (protochain loops are not kernel-loadable)' : `kernel socket filter, ${c.insns.length} instructions; nothing left for JavaScript`}`);
        out.push('# classic BPF (tcpdump -d)', dumpD(c).trimEnd());
        out.push('# kernel-ready (tcpdump -ddd)', dumpDDD(c).trimEnd());
        out.push('# javascript (same verdicts, for -r and residuals)', c.js.body.trimEnd());
      }
      process.stdout.write(out.join('\n') + '\n');
    });
}
