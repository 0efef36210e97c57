/**
 * Run the `netring` command as a user does (a child process on the built
 * entry point) and write small crafted capture files for it to read.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { craftPcap } from '../unit/pcap-craft.js';

/** Path of the built CLI entry point. */
export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Result of one CLI run. */
export interface CliResult { code: number | null; stdout: string; stderr: string }

/** Run `netring ARGS...` to completion. */
export function cli(args: string[], opts: { input?: string; timeout?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: opts.timeout ?? 60_000, input: opts.input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh temporary directory. */
export function tmpDir(): string { return mkdtempSync(join(tmpdir(), 'netring-cli-')); }

/** Write an Ethernet (or `linkType`) pcap of `frames`, one per second from `t0`, microsecond stamps. */
export function writePcap(file: string, frames: Array<Uint8Array | number[]>, linkType = 1, t0 = 1_700_000_000): string {
  const records = frames.map((f, i) => ({ sec: t0 + i, sub: 1000 * i + 7, data: Uint8Array.from(f) }));
  writeFileSync(file, craftPcap({ be: false, nano: false, linkType, records }));
  return file;
}
