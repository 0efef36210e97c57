/**
 * `netring compile TEXT`: what a tcpdump expression or a PFQ-style program
 * compiles to: the classic BPF (like `tcpdump -d`, `-dd`, `-ddd`), the
 * generated JavaScript, the fan-out steering program, and where each part
 * runs and why (the kernel/JS split).
 */
import type { Command } from 'commander';
import { compile, formatReport, type ReportPart } from '../lang/index.js';
import { choiceArg, intArg } from './args.js';

interface CompileOptions {
  d: number; dd?: boolean; ddd?: boolean; js?: boolean; explain?: boolean;
  target: 'kernel' | 'file' | 'xdp' | 'tc' | 'socket'; language: 'auto' | 'tcpdump' | 'pfq'; snaplen?: number; members?: number; weights?: string;
}

export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description('compile a tcpdump expression or a PFQ-style program; print its classic BPF, JavaScript and kernel/JS split')
    .argument('<text...>', "expression or program (quote it), e.g. 'tcp port 80' or 'ip >-> udp >-> steer_flow'")
    .option('-d', 'only the BPF listing (tcpdump -d); -dd the C fragment, -ddd the decimal program, as tcpdump spells them', (_v: string, n: number) => n + 1, 0)
    .option('--dd', 'only the C fragment (same as -dd)')
    .option('--ddd', 'only the decimal program, kernel-ready (same as -ddd)')
    .option('--js', 'only the generated JavaScript')
    .option('--explain', 'only the placement: what runs in the kernel, in the fan-out program, in JS, and why')
    .option('--language <l>', 'auto, tcpdump or pfq', choiceArg('--language', ['auto', 'tcpdump', 'pfq'] as const), 'auto')
    .option('--target <t>', 'kernel (live socket, classic BPF: VLAN tags in metadata), file (tags inline, like tcpdump -r), or an eBPF hook: xdp, tc, socket (prints the eBPF listing and the placement)', choiceArg('--target', ['kernel', 'file', 'xdp', 'tc', 'socket'] as const), 'kernel')
    .option('-s, --snaplen <n>', 'value returned on a match (default 262144)', intArg('-s', 1, 262144))
    .option('--members <n>', 'also build the fan-out program for n sockets (steering programs)', intArg('--members', 1, 65535))
    .option('--weights <w>', 'per-socket weights for --members, e.g. 1,3')
    .action((words: string[], opts: CompileOptions) => {
      const weights = opts.weights?.split(',').map((w) => intArg('--weights', 1, 1 << 16)(w.trim()));
      const report = compile(words.join(' '), {
        language: opts.language, target: opts.target, snaplen: opts.snaplen, members: opts.members, weights,
      });
      const parts: ReportPart[] = [];
      // commander reads -dd and -ddd as -d repeated: count them, as tcpdump does
      if (opts.d === 1) parts.push('d');
      if (opts.dd || opts.d === 2) parts.push('dd');
      if (opts.ddd || opts.d >= 3) parts.push('ddd');
      if (opts.js) parts.push('js');
      if (opts.explain) parts.push('explain');
      if (parts.length === 0) parts.push('all');
      process.stdout.write(parts.map((p) => formatReport(report, p).trimEnd()).join('\n') + '\n');
    });
}
