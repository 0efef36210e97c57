/**
 * Runs `netring gen` / `netring ping` without the main CLI (for bench/gen.sh
 * when src/cli/main.ts does not register them): node dist/bench/gen-run.js gen ...
 */
import { Command } from 'commander';
import { registerGen } from '../src/cli/gen.js';
import { registerPing } from '../src/cli/ping.js';

const program = new Command().name('netring').exitOverride();
registerGen(program);
registerPing(program);
program.parseAsync(process.argv).catch((e: unknown) => {
  const err = e as { exitCode?: number; message?: string; name?: string };
  if (typeof err.exitCode === 'number') process.exit(err.exitCode === 0 ? 0 : 2);
  process.stderr.write(`netring: ${err.message ?? String(e)}\n`);
  process.exit(err.name === 'UsageError' ? 2 : 1);
});
