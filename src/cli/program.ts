/**
 * The `netring` command tree (commander), without parsing anything: main.ts
 * runs it, scripts/cli-doc.ts renders docs/cli.md from it.
 */
import { Command } from 'commander';
import { registerCapture } from './capture.js';
import { registerDemo } from './demo.js';
import { registerCompile } from './compile.js';
import { registerGen } from './gen.js';
import { registerPing } from './ping.js';
import { registerFlows } from './flows.js';
import { registerTop } from './top.js';
import { registerXdp } from './xdp.js';

/** The version `netring --version` prints. */
export const VERSION = '0.1.0';

/** A fresh `netring` program with every command registered. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('netring')
    .description('zero-copy packet capture and processing for Linux')
    .version(VERSION)
    .exitOverride()
    .allowExcessArguments(false) // inherited by every command: a stray word is an error, never ignored
    .showHelpAfterError('(run with --help for usage)');
  registerCapture(program);
  registerDemo(program);
  registerCompile(program);
  registerGen(program);
  registerPing(program);
  registerFlows(program);
  registerTop(program);
  registerXdp(program);
  return program;
}
