/**
 * docs/cli.md, rendered from the commander definitions themselves (the same
 * objects `netring --help` prints), so the reference cannot drift from the
 * code: `npm run docs:cli` writes it and a unit test fails when it is stale.
 */
import type { Command, Help, Option } from 'commander';

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

function optionRow(help: Help, o: Option): string {
  const extra: string[] = [];
  if (o.argChoices) extra.push(`choices: ${o.argChoices.map((c) => `\`${c}\``).join(', ')}`);
  if (o.defaultValue !== undefined && typeof o.defaultValue !== 'boolean') {
    extra.push(`default: \`${o.defaultValueDescription ?? JSON.stringify(o.defaultValue)}\``);
  }
  const desc = o.description + (extra.length > 0 ? ` (${extra.join('; ')})` : '');
  return `| \`${cell(help.optionTerm(o))}\` | ${cell(desc)} |`;
}

function commandSection(cmd: Command, path: string): string[] {
  const help = cmd.createHelp();
  const out = [`## ${path}`, '', cell(cmd.description()), '', '```', `${path} ${cmd.usage()}`.trimEnd(), '```', ''];
  const args = help.visibleArguments(cmd);
  if (args.length > 0) {
    out.push('| argument | meaning |', '|---|---|');
    for (const a of args) out.push(`| \`${cell(help.argumentTerm(a))}\` | ${cell(help.argumentDescription(a))} |`);
    out.push('');
  }
  const opts = help.visibleOptions(cmd).filter((o) => !o.description.startsWith('(internal)'));
  if (opts.length > 0) {
    out.push('| option | meaning |', '|---|---|');
    for (const o of opts) out.push(optionRow(help, o));
    out.push('');
  }
  return out;
}

/** The Markdown CLI reference of `program` (the `netring` command tree). */
export function renderCliReference(program: Command): string {
  const lines = [
    '# netring command reference',
    '',
    '<!-- Generated from the command definitions by `npm run docs:cli`; do not edit by hand. -->',
    '',
    `${cell(program.description())}. Every command prints the same text with \`--help\`.`,
    'Exit codes: 0 ok, 1 runtime error, 2 usage error.',
    '',
    '| command | what it does |',
    '|---|---|',
    ...program.commands.map((c) => `| [\`netring ${c.name()}\`](#netring-${c.name()}) | ${cell(c.description())} |`),
    '',
  ];
  for (const c of program.commands) lines.push(...commandSection(c, `netring ${c.name()}`));
  return lines.join('\n').replace(/\n+$/, '\n');
}
