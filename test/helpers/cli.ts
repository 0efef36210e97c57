/**
 * Run the `netring` command as a user does (a child process on the built
 * entry point) and write small crafted capture files for it to read.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { craftPcap } from '../unit/pcap-craft.js';
import { openCaptureReader } from '../../src/pcap/index.js';

/** Path of the built CLI entry point. */
export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Result of one CLI run. */
export interface CliResult { code: number | null; stdout: string; stderr: string }

/** Run `netring ARGS...` to completion. */
export function cli(args: string[], opts: { input?: string; timeout?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: opts.timeout ?? 60_000, input: opts.input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A `netring` process started by {@link startCli}. */
export interface RunningCli {
  child: ChildProcess;
  /** Standard output so far. */
  out(): string;
  /** Standard error so far. */
  err(): string;
  /** The exit code, once the process exited and all its output was read ('close'). */
  exit: Promise<number | null>;
}

/**
 * Start `netring ARGS...` (behind `prefix`, e.g. a setpriv command line,
 * when given) and collect its output. With `ready` (a regular expression for
 * standard error, or a condition), resolves once it holds or the process
 * exited, whichever comes first, waiting at most `timeoutMs` (default 30 s: a
 * loaded machine takes seconds to start node); callers that need the process
 * running assert on it. `settleMs` more are waited after readiness.
 */
export async function startCli(
  args: string[], ready?: RegExp | (() => boolean), opts: { prefix?: string[]; timeoutMs?: number; settleMs?: number } = {},
): Promise<RunningCli> {
  const argv = [...(opts.prefix ?? []), process.execPath, MAIN, ...args];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { err += d; });
  let exited = false;
  const exit = new Promise<number | null>((r) => child.on('close', (c) => { exited = true; r(c); }));
  child.on('exit', () => { exited = true; });
  if (ready !== undefined) {
    const holds = typeof ready === 'function' ? ready : (): boolean => ready.test(err);
    const until = Date.now() + (opts.timeoutMs ?? 30_000);
    while (!holds() && !exited) {
      if (Date.now() > until) {
        child.kill('SIGKILL');
        throw new Error(`netring ${args.join(' ')}: not ready after ${opts.timeoutMs ?? 30_000} ms; stderr: ${err}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  if (opts.settleMs) await new Promise((r) => setTimeout(r, opts.settleMs));
  return { child, out: () => out, err: () => err, exit };
}

/** A fresh temporary directory. */
export function tmpDir(): string { return mkdtempSync(join(tmpdir(), 'netring-cli-')); }

/** Write an Ethernet (or `linkType`) pcap of `frames`, one per second from `t0`, microsecond stamps. */
export function writePcap(file: string, frames: Array<Uint8Array | number[]>, linkType = 1, t0 = 1_700_000_000): string {
  const records = frames.map((f, i) => ({ sec: t0 + i, sub: 1000 * i + 7, data: Uint8Array.from(f) }));
  writeFileSync(file, craftPcap({ be: false, nano: false, linkType, records }));
  return file;
}

/** Run `netring capture -i IFACE ARGS` until it exits; `send` runs once it listens. */
export async function captureWhile(iface: string, args: string[], send: () => void): Promise<{ code: number | null; err: string; out: string }> {
  const c = await startCli(['capture', '-i', iface, ...args], /listening on|capturing on/, { settleMs: 100 });
  send();
  const code = await c.exit;
  return { code, err: c.err(), out: c.out() };
}

/** The records of a capture file (pcap or pcapng), copied out. */
export function records(file: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const r = openCaptureReader(file);
  for (const rec of r) out.push(rec.data.slice(rec.offset, rec.offset + rec.caplen));
  r.close();
  return out;
}
