#!/usr/bin/env node
/**
 * The `netring` command. Exit codes: 0 ok, 1 runtime error, 2 usage error.
 */
import { CommanderError } from 'commander';
import { NetringError } from '../errors.js';
import { LangError } from '../lang/index.js';
import { UsageError } from './args.js';
import { guardStdout } from './stdout.js';
import { buildProgram } from './program.js';
import { HW_STAMP_ADVICE } from '../ring/hwtstamp.js';

guardStdout(); // `netring ... | head`: a closed stdout ends the command quietly

const program = buildProgram();

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
  let msg = e instanceof NetringError || e instanceof Error ? e.message : String(e);
  // the library's refusal names its option; on the command line the option is --timestamp
  if (msg.endsWith(HW_STAMP_ADVICE)) msg = `${msg.slice(0, -HW_STAMP_ADVICE.length)}use --timestamp software (or --timestamp auto)`;
  process.stderr.write(`netring: ${msg}\n`);
  if (process.env.NETRING_DEBUG === '1' && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
}

program.parseAsync(process.argv).then(() => { process.exitCode ??= 0; }, fail);
