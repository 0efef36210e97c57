/**
 * Command-line parsing as a tcpdump user types it: the filter as trailing
 * words (and -F FILE, and -f), and every unexpected word refused (exit 2)
 * instead of silently ignored. Offline (-r) only: no root needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, MAIN, tmpDir, writePcap } from '../helpers/cli.js';
import { eth, ipv4, sll2, tcp, udp } from './decode-craft.js';

const frames = [
  eth(0x0800, ipv4({ proto: 6 }, tcp({ sp: 40000, dp: 80, flags: 0x02 }))),
  eth(0x0800, ipv4({ proto: 17 }, udp(1234, 53, [1, 2, 3, 4]))),
  eth(0x0800, ipv4({ proto: 6 }, tcp({ sp: 80, dp: 40000, flags: 0x12 }))),
  eth(0x0800, ipv4({ proto: 6 }, tcp({ sp: 40001, dp: 443, flags: 0x02 }))),
  eth(0x0800, ipv4({ proto: 17 }, udp(53, 1234, [5, 6, 7, 8]))),
  eth(0x0800, ipv4({ proto: 6 }, tcp({ sp: 40000, dp: 80, flags: 0x10 }))),
];

function tcpdumpCount(file: string, expr: string): number {
  const out = execFileSync('tcpdump', ['-r', file, '-nn', expr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter((l) => l.length > 0).length;
}

test('capture -r FILE tcp port 80: the trailing words are the filter, as in tcpdump', () => {
  const dir = tmpDir();
  try {
    const file = writePcap(join(dir, 'mix.pcap'), frames);
    assert.equal(tcpdumpCount(file, 'tcp port 80'), 3);
    const r = cli(['capture', '-r', file, 'tcp', 'port', '80', '--json', '-q']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).matched, 3);
    // one quoted word works too, and options may follow the filter
    const q = cli(['capture', '-r', file, 'udp port 53', '-q', '--json']);
    assert.equal(q.code, 0, q.stderr);
    assert.equal(JSON.parse(q.stdout).matched, 2);
    // printed lines: only the matching packets
    const p = cli(['capture', '-r', file, 'tcp', 'port', '443']);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(p.stdout.trim().split('\n').length, 1);
    assert.match(p.stdout, /\.443: Flags \[S\]/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('capture -r FILE -w OUT tcp port 80 writes only the matching packets', () => {
  const dir = tmpDir();
  try {
    const file = writePcap(join(dir, 'mix.pcap'), frames);
    const out = join(dir, 'out.pcap');
    const r = cli(['capture', '-r', file, '-w', out, 'tcp', 'port', '80', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).written, 3);
    assert.equal(tcpdumpCount(out, ''), 3);
    assert.equal(tcpdumpCount(out, 'tcp port 80'), 3);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('capture -F FILE reads the filter from a file (# comments), like tcpdump -F', () => {
  const dir = tmpDir();
  try {
    const file = writePcap(join(dir, 'mix.pcap'), frames);
    const f = join(dir, 'filter.txt');
    writeFileSync(f, '# web only\ntcp and\n  port 80 # plain http\n');
    const r = cli(['capture', '-r', file, '-F', f, '--json', '-q']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).matched, 3);
    const both = cli(['capture', '-r', file, '-F', f, 'udp', '-q']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /filter/);
    const missing = cli(['capture', '-r', file, '-F', join(dir, 'nope.txt'), '-q']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.txt/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('capture: -f EXPR still works; -f together with trailing words is refused, not merged', () => {
  const dir = tmpDir();
  try {
    const file = writePcap(join(dir, 'mix.pcap'), frames);
    const r = cli(['capture', '-r', file, '-f', 'tcp port 80', '--json', '-q']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).matched, 3);
    const both = cli(['capture', '-r', file, '-f', 'tcp', 'port', '80', '-q']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /filter given twice/);
    const prog = cli(['capture', '-r', file, '--program', 'ip >-> udp', 'tcp', '-q']);
    assert.equal(prog.code, 2);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('an unexpected positional argument is a usage error (exit 2) in every command', () => {
  for (const args of [
    ['demo', 'extra'],
    ['gen', '-i', 'lo', 'extra'],
    ['ping', '-i', 'lo', 'extra', 'words'],
    ['xdp', '-i', 'lo', '--program', 'pass', 'extra'],
    ['forward', '-i', 'lo', '-o', 'lo2', 'extra'],
    ['bridge', 'lo', 'lo2', 'extra'],
    ['netring-typo'],
  ]) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /too many arguments|unknown command/, args.join(' '));
  }
  // compile takes its expression as positional words
  const c = cli(['compile', '-d', 'tcp', 'port', '80']);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.stdout, execFileSync('tcpdump', ['-d', 'tcp port 80'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).replace(/#65535/g, '#262144'));
});

test('capture -r BIG | head -2: a closed stdout ends the run quietly with exit 0 and the summary', () => {
  const dir = tmpDir();
  try {
    const many = Array.from({ length: 30_000 }, (_, i) => eth(0x0800, ipv4({ proto: 17 }, udp(1000 + (i & 0xfff), 53, [i & 255, 1, 2, 3]))));
    const file = writePcap(join(dir, 'big.pcap'), many);
    for (const extra of [[], ['--program', 'ip >-> udp']]) {
      const r = spawnSync('bash', ['-c', `"${process.execPath}" "${MAIN}" capture -r "${file}" ${extra.map((a) => `'${a}'`).join(' ')} | head -2; echo "status \${PIPESTATUS[0]}" >&2`], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.stdout.split('\n').filter(Boolean).length, 2);
      assert.match(r.stderr, /status 0\n/, r.stderr);
      assert.doesNotMatch(r.stderr, /EPIPE|Error|at /, r.stderr);
      assert.match(r.stderr, /packets received/, 'the summary is still printed on stderr');
      assert.doesNotMatch(r.stderr, /30000 packets received/, 'reading stopped early');
    }
    // a command with a one-shot report: compile | head -1 exits 0 too
    const c = spawnSync('bash', ['-c', `"${process.execPath}" "${MAIN}" compile 'tcp port 80 or udp port 53 or icmp' | head -1; echo "status \${PIPESTATUS[0]}" >&2`], { encoding: 'utf8' });
    assert.match(c.stderr, /status 0\n/, c.stderr);
    assert.doesNotMatch(c.stderr, /EPIPE/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('filter errors: the caret sits under the bad token (not shifted by the prefix) and the message quotes it', () => {
  const r = cli(['compile', 'ether host 0g:00:00:00:00:01']);
  assert.equal(r.code, 2);
  const lines = r.stderr.split('\n');
  assert.equal(lines[0], "netring: bogus ethernet address '0g:00:00:00:00:01' (at column 12)");
  assert.equal(lines[1], 'ether host 0g:00:00:00:00:01');
  assert.equal(lines[2], '           ^^^^^^^^^^^^^^^^^');
  // every caret line: the carets start exactly under the quoted text
  for (const [args, bad] of [
    [['capture', '-r', '/dev/null', 'tcp', 'port', '8o'], '8o'],
    [['compile', 'udp and host 300.1.1.1'], '300.1.1.1'],
    [['capture', '-r', '/dev/null', '-f', 'vlan 4096 and ip'], 'vlan 4096'],
  ] as const) {
    const e = cli([...args]);
    assert.equal(e.code, 2, e.stderr);
    const [msg, src, caret] = e.stderr.split('\n');
    assert.match(msg, /^netring: /);
    const col = caret.indexOf('^');
    assert.equal(src.slice(col, col + bad.length), bad, e.stderr);
    assert.equal(caret.trim().length, bad.length, e.stderr);
    assert.ok(msg.includes(`(at column ${col + 1})`), e.stderr);
  }
});

test('compile -d / -dd / -ddd print what tcpdump -d / -dd / -ddd print; plain compile prints what README says', () => {
  for (const flag of ['-d', '-dd', '-ddd']) {
    const ours = cli(['compile', flag, 'tcp', 'port', '80', 'and', 'not', 'vlan', '--target', 'file', '-s', '65535']);
    assert.equal(ours.code, 0, ours.stderr);
    const theirs = execFileSync('tcpdump', ['-s', '65535', flag, 'tcp port 80 and not vlan'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.equal(ours.stdout, theirs, flag);
  }
  const plain = cli(['compile', 'tcp port 80']);
  assert.equal(plain.code, 0, plain.stderr);
  const headings = plain.stdout.split('\n').filter((l) => l.startsWith('# ')).map((l) => l.replace(/:.*/, ''));
  assert.deepEqual(headings, ['# expression', '# placement', '# classic BPF (tcpdump -d)', '# JavaScript']);
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  assert.match(readme, /netring compile 'tcp port 80' +# placement \(kernel\/JS split\), BPF listing \(-d\), generated JS\n/);
});

test('tcpdump flags are accepted: -n/-nn, -v/-vv, --count, -s 0, -y EN10MB, -D, -L; -r summaries have no kernel lines; JSON seconds to the ns', () => {
  const dir = tmpDir();
  try {
    const file = writePcap(join(dir, 'mix.pcap'), frames);
    const plain = cli(['capture', '-r', file]);
    assert.equal(plain.code, 0, plain.stderr);
    for (const flags of [['-n'], ['-nn'], ['-v'], ['-vv'], ['-l'], ['-s', '0'], ['-y', 'EN10MB'], ['-n', '-v', '-s', '0'], ['-l', '-nn']]) {
      const r = cli(['capture', '-r', file, ...flags]);
      assert.equal(r.code, 0, `${flags.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, plain.stdout, flags.join(' '));
    }
    const count = cli(['capture', '-r', file, '--count', 'tcp']);
    assert.equal(count.code, 0, count.stderr);
    assert.equal(count.stdout, `${tcpdumpCountOnly(file, 'tcp')}`);
    assert.equal(count.stdout, '4 packets\n');
    assert.doesNotMatch(plain.stderr, /dropped by kernel|queue freezes/, 'nothing is dropped by a kernel when reading a file');
    const json = cli(['capture', '-r', file, '--json', '-q']);
    const seconds = JSON.parse(json.stdout).seconds as number;
    assert.equal(seconds, Math.round(seconds * 1e9) / 1e9);
    assert.ok(String(seconds).replace(/^\d+\.?/, '').length <= 9, String(seconds));
    const y = cli(['capture', '-r', file, '-y', 'LINUX_SLL2']);
    assert.equal(y.code, 2);
    assert.match(y.stderr, /EN10MB/);
    const d = cli(['capture', '-D']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /^1\.\S+ \[/);
    assert.match(d.stdout, /^\d+\.lo \[Up, Running, Loopback\]$/m);
    const l = cli(['capture', '-L', '-i', 'lo']);
    assert.equal(l.code, 0, l.stderr);
    assert.equal(l.stderr, spawnSync('tcpdump', ['-L', '-i', 'lo'], { encoding: 'utf8' }).stderr);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

function tcpdumpCountOnly(file: string, expr: string): string {
  return execFileSync('tcpdump', ['--count', '-r', file, expr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

test('capture --workers: -C/-G/-z/--compress with one file per worker (%w) are refused (exit 2, one line), -Z with an unknown user too', () => {
  for (const extra of [['-C', '1'], ['-G', '5'], ['-z', 'true'], ['--compress', 'gzip']]) {
    const r = cli(['capture', '-i', 'lo', '--workers', '2', '-w', '/tmp/netring-never.%w.pcap', ...extra]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, 'netring: -C, -G, -z and --compress go with the merged file of --workers, not with one file per worker (%w)\n');
  }
  const z = cli(['capture', '-i', 'lo', '--workers', '2', '-Z', 'no-such-user-netring', '-q']);
  assert.equal(z.code, 2, z.stderr);
  assert.match(z.stderr, /^netring: -Z: no such user 'no-such-user-netring'$/m);
});

test('--help of every command states each default once (commander adds "(default: X)" when the option has one)', async () => {
  const { buildProgram } = await import('../../src/cli/program.js');
  const program = buildProgram();
  const twice: string[] = [];
  for (const cmd of [program, ...program.commands]) {
    for (const o of cmd.options) {
      if (o.defaultValue !== undefined && !o.defaultValueDescription?.startsWith('(') && /\bdefault\b/i.test(o.description)) twice.push(`${cmd.name()} ${o.flags}`);
    }
  }
  assert.deepEqual(twice, []);
  const demo = cli(['demo', '--help']);
  assert.equal(demo.code, 0);
  assert.equal(demo.stdout.match(/default:? 100000/g)?.length, 1, demo.stdout);
});

test('capture -r of a non-Ethernet (SLL2) file with a filter: refused with one line instead of silently matching nothing; without a filter it prints tcpdump\'s lines', () => {
  const dir = tmpDir();
  try {
    const file = writePcap(join(dir, 'sll2.pcap'), [sll2(0x0800, ipv4({ proto: 17 }, udp(1234, 5001, [1, 2, 3, 4]))), sll2(0x0806, new Array(28).fill(0))], 276);
    const r = cli(['capture', '-nn', '-r', file, 'udp']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^netring: .*sll2\.pcap: filters on link type 276 \(not Ethernet\) are not supported yet/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    const plain = cli(['capture', '-nn', '-r', file]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout.split('\n')[0], execFileSync('tcpdump', ['-nn', '-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
