/**
 * `netring xdp`, `netring forward`, `netring bridge`: run a filter or a
 * combinator program at the XDP (or tc) hook of an interface, in the kernel,
 * before any copy. The program is attached through a BPF link: it stays
 * attached while netring runs and goes away with the process, whether it
 * ends on Ctrl-C/SIGTERM (detached cleanly) or is killed (the kernel
 * releases the link with the process's last fd). Counters live in maps and
 * are read once a second without stopping the program.
 */
import type { Command } from 'commander';
import {
  generateProgram, mirrorOf, loadHookProgram, ifindexOf, conditional, count, drop, forward, pipe, tcpdump, when,
  type HookProgram, type CounterSnapshot, type LoadedHookProgram, type XdpMode, type Fn,
} from '../lang/index.js';
import { choiceArg, numArg, UsageError } from './args.js';
import { lastGood, startCliMetrics } from './metrics-option.js';
import type { HookSource } from '../metrics/server.js';

interface HookOptions {
  mode: XdpMode;
  hook: 'xdp' | 'tc';
  counters?: boolean;
  json?: boolean;
  duration?: number;
  metrics?: string;
}

interface XdpOptions extends HookOptions {
  interface?: string;
  filter?: string;
  program?: string;
}

function hookOptions(c: Command): Command {
  return c
    .option('--mode <m>', 'XDP attach mode: native (the driver\'s hook), generic (skb hook, any device); default: native when the driver has it', choiceArg('--mode', ['native', 'generic'] as const))
    .option('--hook <h>', 'xdp or tc (clsact ingress through a tcx link; needed for tee)', choiceArg('--hook', ['xdp', 'tc'] as const), 'xdp')
    .option('--counters', 'print the counters once a second (stderr; stdout with --json)')
    .option('--json', 'counters as JSON lines on stdout')
    .option('--duration <s>', 'detach and exit after this many seconds', numArg('--duration', 0))
    .option('--metrics <[addr:]port>', 'serve the counters as Prometheus metrics on http://ADDR:PORT/metrics');
}

/** Counters as one text line. */
function counterLine(s: CounterSnapshot): string {
  const parts = s.counters.filter((c) => !/:(other|full|failed)$/.test(c.name) || c.packets !== 0n).map((c) => `${c.name} ${c.packets} pkts ${c.bytes} B`);
  for (const k of s.keyed) {
    const top = k.entries.slice(0, 5).map((e) => `${e.key}: ${e.packets}/${e.bytes} B`);
    parts.push(`by ${k.key} (${k.entries.length} keys)${top.length ? ` ${top.join(', ')}` : ''}${k.entries.length > 5 ? ', ...' : ''}`);
  }
  return parts.join(' | ') || '(no counters)';
}

function counterJson(where: string, s: CounterSnapshot): string {
  return JSON.stringify({
    time: new Date().toISOString(),
    interface: where,
    counters: Object.fromEntries(s.counters.map((c) => [c.name, { packets: Number(c.packets), bytes: Number(c.bytes) }])),
    keyed: Object.fromEntries(s.keyed.map((k) => [k.key, k.entries.map((e) => ({ key: e.key, packets: Number(e.packets), bytes: Number(e.bytes) }))])),
  });
}

/**
 * Load every program, attach each to its interface (and the way back of a
 * bridge), report, wait for a signal or the duration, detach. Anything
 * loaded is released when a later step fails.
 */
async function runAttached(plan: Array<{ iface: string; code: HookProgram }>, opts: HookOptions): Promise<void> {
  const loaded: Array<{ iface: string; prog: LoadedHookProgram }> = [];
  const metrics = await startCliMetrics(opts.metrics); // before anything is attached: a taken port attaches nothing
  const closeAll = (): void => { for (const l of loaded.splice(0)) l.prog.close(); };
  try {
    for (const p of plan) ifindexOf(p.iface);
    for (const p of plan) {
      const prog = loadHookProgram(p.code);
      loaded.push({ iface: p.iface, prog });
      prog.attach(p.iface, opts.mode);
    }
  } catch (e) {
    closeAll();
    await metrics?.close();
    throw e;
  }
  for (const l of loaded) {
    const empty: HookSource = { interface: l.iface, counters: [], keyed: [] };
    metrics?.addHookSource(lastGood(() => [{ interface: l.iface, ...l.prog.counters() }], [empty]));
  }
  const mode = opts.hook === 'tc' ? 'tcx ingress' : opts.mode === 'auto' ? 'XDP' : `XDP ${opts.mode}`;
  for (const l of loaded) {
    process.stderr.write(`netring: ${mode} program (${l.prog.code.insns.length} instructions) attached to ${l.iface}: ${l.prog.code.source}\n`);
    const n = l.prog.code.cpus;
    if (n) process.stderr.write(`netring: steering to CPUs 0..${n - 1}: capture -i ${l.iface} --workers ${n} --fanout cpu gives worker k what was steered to CPU k\n`);
  }
  const report = (final: boolean): void => {
    for (const l of loaded) {
      const s = l.prog.counters();
      if (opts.json) process.stdout.write(`${counterJson(l.iface, s)}\n`);
      else if (opts.counters || final) process.stderr.write(`netring: ${l.iface}${final ? ' (final)' : ''}: ${counterLine(s)}\n`);
    }
  };
  await new Promise<void>((resolve) => {
    // also what keeps the process (and so the BPF links) alive: signal handlers alone do not
    const tick = setInterval(() => { if (opts.counters || opts.json) report(false); }, 1000);
    const timer = opts.duration !== undefined ? setTimeout(done, opts.duration * 1000) : null;
    const sigs = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    function done(): void {
      clearInterval(tick);
      if (timer) clearTimeout(timer);
      for (const s of sigs) process.off(s, done);
      resolve();
    }
    for (const s of sigs) process.on(s, done);
  });
  try {
    report(true);
  } finally {
    closeAll();
    await metrics?.close();
    process.stderr.write(`netring: detached from ${plan.map((p) => p.iface).join(', ')}\n`);
  }
}

function withMirrors(iface: string, code: HookProgram, hook: 'xdp' | 'tc'): Array<{ iface: string; code: HookProgram }> {
  const plan = [{ iface, code }];
  const back = mirrorOf(code, iface);
  if (back) plan.push({ iface: code.bridges[0], code: generateProgram(back, { hook }) });
  return plan;
}

const normalize = <T extends HookOptions>(o: T): T => {
  if (o.hook === 'tc' && o.mode) throw new UsageError('--mode chooses the XDP hook; a tc program (--hook tc) has none');
  return { ...o, mode: o.mode ?? 'auto' };
};

export function registerXdp(program: Command): void {
  hookOptions(
    program
      .command('xdp')
      .description('run a filter (-f) or a combinator program (--program) at the XDP hook of an interface, in the kernel; detaches on exit')
      .requiredOption('-i, --interface <iface>', 'interface to attach to')
      .option('-f, --filter <expr>', 'tcpdump expression: matching packets go on to the kernel, the others are dropped')
      .option('--program <text>', "combinator program, e.g. 'udp >-> count_by src >-> when \"port 53\" drop'"),
  ).action(async (o: XdpOptions) => {
    const opts = normalize(o);
    if (!!opts.filter === !!opts.program) throw new UsageError('xdp: give exactly one of -f EXPR and --program TEXT');
    const iface = opts.interface!;
    let code: HookProgram;
    if (opts.filter) {
      const p = tcpdump(opts.filter);
      code = generateProgram(conditional(p, count('passed'), pipe(count('dropped'), drop)), { hook: opts.hook });
    } else code = generateProgram(opts.program!, { hook: opts.hook });
    await runAttached(withMirrors(iface, code, opts.hook), opts);
  });

  hookOptions(
    program
      .command('forward')
      .description('forward packets arriving on one interface out of another, in the kernel (XDP redirect; tc redirect with --hook tc)')
      .requiredOption('-i, --interface <iface>', 'interface the packets arrive on')
      .requiredOption('-o, --output <iface>', 'interface they leave through')
      .option('-f, --filter <expr>', 'forward only what this tcpdump expression matches (the rest goes on to the kernel)'),
  ).action(async (o: XdpOptions & { output: string }) => {
    const opts = normalize(o);
    if (opts.interface === opts.output) throw new UsageError('forward: -i and -o name the same interface');
    await runAttached([{ iface: opts.interface!, code: generateProgram(forwardFn(opts.output, opts.filter, `${opts.interface} > ${opts.output}`), { hook: opts.hook }) }], opts);
  });

  hookOptions(
    program
      .command('bridge')
      .description('bridge two interfaces in the kernel: what arrives on one leaves through the other, both ways')
      .argument('<a>', 'first interface')
      .argument('<b>', 'second interface')
      .option('-f, --filter <expr>', 'bridge only what this tcpdump expression matches (the rest goes on to the kernel)'),
  ).action(async (a: string, b: string, o: XdpOptions) => {
    const opts = normalize(o);
    if (a === b) throw new UsageError('bridge: the two interfaces are the same');
    await runAttached([
      { iface: a, code: generateProgram(forwardFn(b, opts.filter, `${a} > ${b}`), { hook: opts.hook }) },
      { iface: b, code: generateProgram(forwardFn(a, opts.filter, `${b} > ${a}`), { hook: opts.hook }) },
    ], opts);
  });
}

/** `[when EXPR] (count NAME >-> forward OUT)`: what does not match goes on to the kernel. */
function forwardFn(out: string, expr: string | undefined, name: string): Fn {
  const fwd = pipe(count(name), forward(out));
  return expr ? when(tcpdump(expr), fwd) : fwd;
}
