/**
 * `--filter-bpf` takes a classic program as the kernel would: programs the
 * kernel refuses (bad opcode, jump out of range, no return at the end, M[99],
 * an unwritten M[] read, 5,000 instructions, no instructions at all) are
 * refused with the same one-line reason offline (-r, where the program runs
 * in netring's interpreter) and live (-i, where the kernel runs it), before
 * any packet is read. A program the kernel accepts behaves the same in both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { craftPcap } from './pcap-craft.js';
import { udpFrame, seqPayload, needRoot } from '../helpers/netns.js';
import { checkClassic } from '../../src/bpf/index.js';
import { native } from '../../src/native.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ret = (k: number): number[] => [0x06, 0, 0, k];
/** Programs the kernel refuses, by name. */
const BAD: Record<string, number[][]> = {
  'bad opcode': [[0xff, 0, 0, 0], ret(0xffff)],
  'jump out of range': [[0x15, 5, 0, 0x800], ret(0xffff)],
  'ja past the end': [[0x05, 0, 0, 3], ret(0xffff)],
  'no return at the end': [[0x28, 0, 0, 12]],
  'M[99]': [[0x60, 0, 0, 99], ret(0xffff)],
  'M[0] read before written': [[0x60, 0, 0, 0], ret(0xffff)],
  '5,000 instructions': [...Array.from({ length: 4999 }, () => [0x28, 0, 0, 12]), ret(0xffff)],
  'no instructions': [],
  'division by zero constant': [[0x34, 0, 0, 0], ret(0xffff)],
};

test('the kernel itself refuses every program of the bad corpus (SO_ATTACH_FILTER on a UDP socket)', () => {
  for (const [name, prog] of Object.entries(BAD)) {
    const fd = native.socket(2, 2, 0); // AF_INET, SOCK_DGRAM: no privileges needed to attach a filter
    try {
      const bytes = new Uint8Array(prog.length * 8);
      const dv = new DataView(bytes.buffer);
      prog.forEach(([c, jt, jf, k], i) => { dv.setUint16(i * 8, c, true); dv.setUint8(i * 8 + 2, jt); dv.setUint8(i * 8 + 3, jf); dv.setUint32(i * 8 + 4, k >>> 0, true); });
      assert.throws(() => native.attachFilter(fd, bytes), Error, `kernel accepted "${name}"`);
      assert.notEqual(checkClassic(prog.map(([code, jt, jf, k]) => ({ code, jt, jf, k }))), null, name);
    } finally { native.close(fd); }
  }
});

test('capture -r --filter-bpf refuses every program the kernel refuses, in one line, before reading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netring-fbpf-'));
  try {
    const f = join(dir, 'in.pcap');
    writeFileSync(f, craftPcap({ be: false, nano: false, records: Array.from({ length: 3 }, (_, i) => ({ sec: i, sub: 0, data: udpFrame({ payload: seqPayload(i, 20) }) })) }));
    for (const [name, prog] of Object.entries(BAD)) {
      const pf = join(dir, 'prog.json');
      writeFileSync(pf, JSON.stringify(prog));
      const r = cli(['capture', '-r', f, '--filter-bpf', pf]);
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      assert.equal(r.stdout, '', name);
      assert.match(r.stderr, /^netring: --filter-bpf program rejected by the kernel's rules: .+\n$/, name);
    }
    // an accepted program filters the same offline as the kernel would: accept all, accept none
    assert.equal(cli(['capture', '-r', f, '-q', '--json', '--filter-bpf', '[[6,0,0,65535]]']).stdout.trim() !== '', true);
    assert.equal(JSON.parse(cli(['capture', '-r', f, '-q', '--json', '--filter-bpf', '[[6,0,0,65535]]']).stdout).matched, 3);
    assert.equal(JSON.parse(cli(['capture', '-r', f, '-q', '--json', '--filter-bpf', '[[6,0,0,0]]']).stdout).matched, 0);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('capture -i --filter-bpf refuses the same programs with the same message as -r', { skip: needRoot }, () => {
  for (const name of ['bad opcode', 'M[99]', 'no instructions', '5,000 instructions']) {
    const dir = mkdtempSync(join(tmpdir(), 'netring-fbpf-'));
    try {
      const pf = join(dir, 'prog.json');
      writeFileSync(pf, JSON.stringify(BAD[name]));
      const live = cli(['capture', '-i', 'lo', '-c', '1', '--filter-bpf', pf]);
      const file = join(dir, 'in.pcap');
      writeFileSync(file, craftPcap({ be: false, nano: false, records: [] }));
      const off = cli(['capture', '-r', file, '--filter-bpf', pf]);
      assert.equal(live.code, 1, `${name}: ${live.stderr}`);
      assert.equal(live.stderr, off.stderr, name);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  }
});
