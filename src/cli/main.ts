#!/usr/bin/env node
/**
 * The `netring` command. Exit codes: 0 ok, 1 runtime error, 2 usage error.
 */
import { Command, CommanderError } from 'commander';
import { NetringError } from '../errors.js';
import { registerCapture } from './capture.js';
import { registerDemo } from './demo.js';
import { registerCompile } from './compile.js';
import { registerGen } from './gen.js';
import { registerPing } from './ping.js';
import { registerFlows } from './flows.js';
import { registerTop } from './top.js';
import { LangError } from '../lang/index.js';
import { UsageError } from './args.js';
import { guardStdout } from './stdout.js';

guardStdout(); // `netring ... | head`: a closed stdout ends the command quietly

const program = new Command();
program
  .name('netring')
  .description('zero-copy packet capture and processing for Linux')
  .version('0.1.0')
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

function fail(e: unknown): never {
  if (e instanceof CommanderError) {
    // help and version exit 0; everything else commander rejects is a usage error
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  if (e instanceof LangError) {
    // reason first (after the prefix), then the source and its caret line unprefixed, so the caret lines up
    const [line, caret, ...reason] = e.pretty().split('\n');
    process.stderr.write(reason.length > 0 ? `netring: ${reason.join('\n')}\n${line}\n${caret}\n` : `netring: ${e.pretty()}\n`);
    process.exit(2);
  }
  if (e instanceof UsageError) {
    process.stderr.write(`netring: ${e.message}\n`);
    process.exit(2);
  }
  const msg = e instanceof NetringError || e instanceof Error ? e.message : String(e);
  process.stderr.write(`netring: ${msg}\n`);
  if (process.env.NETRING_DEBUG === '1' && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
}

program.parseAsync(process.argv).then(() => { process.exitCode ??= 0; }, fail);
