/**
 * The code in README.md and docs/*.md cannot drift from what runs:
 * - every ```ts / ```js block is, byte for byte, a file under examples/ (its
 *   first line names it), and examples/ type-checks under --strict (the build
 *   runs the same check); the examples that need no interface run here;
 * - every netring command line in a ```sh block is parsed by the real command
 *   tree (unknown options, bad values, stray words fail), `netring compile`
 *   lines run for real, the filters and programs given to capture compile, and
 *   every `npm run` names a script that exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { cli, tmpDir, writePcap } from '../helpers/cli.js';
import { eth, ipv4, udp } from './decode-craft.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

interface Block { page: string; line: number; lang: string; text: string }

function blocks(): Block[] {
  const out: Block[] = [];
  for (const page of PAGES) {
    const s = readFileSync(join(ROOT, page), 'utf8');
    for (const m of s.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)) {
      out.push({ page, line: s.slice(0, m.index).split('\n').length, lang: m[1], text: m[2] });
    }
  }
  return out;
}

const CODE = new Set(['ts', 'js', 'typescript', 'javascript', 'mjs']);
const SHELL = new Set(['sh', 'bash', 'shell']);

test('every ts/js block of README.md and docs/*.md is a file under examples/, byte for byte', () => {
  const code = blocks().filter((b) => CODE.has(b.lang));
  assert.ok(code.length >= 15, `found ${code.length} code blocks`);
  const used = new Set<string>();
  for (const b of code) {
    const where = `${b.page}:${b.line}`;
    const m = /^\/\/ (examples\/[\w-]+\.ts)[: ]/.exec(b.text);
    assert.ok(m, `${where}: the block's first line must name its file (// examples/NAME.ts: ...)`);
    const file = join(ROOT, m[1]);
    assert.ok(existsSync(file), `${where}: ${m[1]} does not exist`);
    assert.equal(b.text, readFileSync(file, 'utf8'), `${where} differs from ${m[1]}`);
    assert.equal(b.lang, 'ts', `${where}: mark TypeScript blocks as ts`);
    used.add(m[1]);
  }
  const files = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.ts')).map((f) => `examples/${f}`);
  assert.deepEqual(files.filter((f) => !used.has(f)), [], 'every example is shown in a page');
});

test('examples/ type-checks under --strict', () => {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'examples/tsconfig.json'), '--noEmit', '--strict'], { encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('the examples that need no interface run: the packet language ones, build-frames and pcap-read on a crafted file', () => {
  const run = (name: string, args: string[] = []): string => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist/examples', `${name}.js`), ...args], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    return r.stdout;
  };
  assert.match(run('lang-api'), /^\d+ instructions\n\d+ bytes\n/);
  assert.match(run('lang-api'), /\(000\) ldh\s+\[12\]/, 'the -d listing');
  assert.match(run('lang-edsl'), /steer_flow/);
  assert.match(run('lang-ebpf'), /^\d+ eBPF instructions$/m);
  assert.equal(run('build-frames'), [
    '60 bytes, l3 at 14, l4 at 38: IP 10.0.0.1.10000 > 10.0.0.2.53: UDP, length 14',
    '90 bytes, l3 at 14, l4 at 70: IP6 fd00::1.10000 > fd00::2.443: Flags [S], seq 1, win 65535, length 0 (frag 7:0@0+)',
    '60 bytes, l3 at 14, l4 at -1: ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28', '',
  ].join('\n'));
  const dir = tmpDir();
  try {
    const frames = [1, 2, 3].map((i) => eth(0x0800, ipv4({ proto: 17 }, udp(1000 + i, 53, new Array(i).fill(0)))));
    const file = writePcap(join(dir, 'in.pcap'), frames);
    const bytes = frames.reduce((a, f) => a + f.length, 0);
    assert.equal(run('pcap-read', [file]), `3 packets, ${bytes} bytes; kernel drops: not recorded\n`);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

/** Shell words of one command (quotes, no expansion); null for characters that end a command. */
function shellCommands(line: string): string[][] {
  const cmds: string[][] = [];
  let words: string[] = [];
  let w: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      assert.ok(end > i, `unbalanced quote in: ${line}`);
      w = (w ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === ' ' || c === '\t') {
      if (w !== null) words.push(w);
      w = null;
    } else if (c === '#' && w === null) {
      break;
    } else if (c === '|' || c === '&' || c === ';') {
      if (w !== null) words.push(w);
      w = null;
      if (words.length > 0) cmds.push(words);
      words = [];
      if (line[i + 1] === c) i++;
    } else {
      w = (w ?? '') + c;
    }
  }
  if (w !== null) words.push(w);
  if (words.length > 0) cmds.push(words);
  return cmds;
}

/** Parse `netring ARGS` with the real command tree, the actions replaced by a no-op. */
function dryParse(args: string[]): string | null {
  const program = buildProgram();
  let err = '';
  program.configureOutput({ writeErr: (s) => { err += s; }, writeOut: () => {} });
  for (const c of program.commands) {
    c.exitOverride();
    c.configureOutput({ writeErr: (s) => { err += s; }, writeOut: () => {} });
    c.action(() => {});
  }
  try {
    program.parse(['node', 'netring', ...args]);
    return null;
  } catch (e) {
    if (e instanceof CommanderError && e.exitCode === 0) return null;
    return `${(e as Error).message} ${err}`.trim();
  }
}

function flagValue(args: string[], ...names: string[]): string | undefined {
  for (let i = 0; i < args.length - 1; i++) if (names.includes(args[i])) return args[i + 1];
  return undefined;
}

test('every netring command in a sh block parses with the real CLI; compile lines run; filters and programs compile; npm scripts exist', () => {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  let netring = 0;
  for (const b of blocks().filter((x) => SHELL.has(x.lang))) {
    const lines = b.text.replace(/\\\n/g, ' ').split('\n');
    lines.forEach((raw, k) => {
      const where = `${b.page}:${b.line + 1 + k}`;
      const line = raw.replace(/<[^>]*>/g, 'X');
      for (let words of shellCommands(line)) {
        while (words.length > 0 && /^[A-Z_]+=/.test(words[0])) words = words.slice(1); // VAR=value prefixes
        if (words[0] === 'npm' && words[1] === 'run') assert.ok(scripts[words[2]] !== undefined, `${where}: no npm script "${words[2]}"`);
        if (words[0] !== 'netring') continue;
        netring++;
        const args = words.slice(1);
        const bad = dryParse(args);
        assert.equal(bad, null, `${where}: ${raw}\n${bad}`);
        if (args[0] === 'compile') {
          const r = cli(args);
          assert.equal(r.code, 0, `${where}: ${r.stderr}`);
          assert.ok(r.stdout.length > 0, where);
        }
        const filter = flagValue(args, '-f', '--filter');
        if (filter !== undefined) assert.equal(cli(['compile', '-d', filter]).code, 0, `${where}: the filter does not compile`);
        const program = flagValue(args, '--program');
        if (program !== undefined) {
          // netring xdp programs compile for their hook (they may hold XDP/tc-only actions)
          const hook = args[0] === 'xdp' ? ['--target', flagValue(args, '--hook') ?? 'xdp'] : [];
          const r = cli(['compile', '--language', 'pfq', ...hook, program]);
          assert.equal(r.code, 0, `${where}: the program does not compile: ${r.stderr}`);
        }
      }
    });
  }
  assert.ok(netring >= 40, `found ${netring} netring commands`);
});

test('the dry parse can fail: an unknown option, a bad choice and a stray word are caught', () => {
  assert.notEqual(dryParse(['capture', '-i', 'eth0', '--no-such-option']), null);
  assert.notEqual(dryParse(['compile', '--language', 'klingon', 'tcp']), null);
  assert.notEqual(dryParse(['gen', '-i', 'eth0', 'stray']), null);
  assert.equal(dryParse(['capture', '-i', 'eth0', '-nn', 'tcp', 'port', '80']), null);
});
