/**
 * `netring capture -i any`: the cooked capture of every interface, written as
 * LINKTYPE_LINUX_SLL2 the way tcpdump -i any writes it, printed with the
 * interface and direction, the filter run in the kernel. Real veths; the
 * traffic is told apart from everything else on the machine by a port no
 * other test uses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { needRoot, RawSender, udpFrame, withVeth } from '../helpers/netns.js';
import { MAIN, startCli, tmpDir } from '../helpers/cli.js';

/** Run `netring capture -i any ARGS` until it exits; `send` runs once it listens. */
async function captureAny(args: string[], send: () => void): Promise<{ code: number | null; out: string; err: string }> {
  const c = await startCli(['capture', '-i', 'any', ...args], /listening on any/);
  assert.match(c.err(), /^listening on any, link-type LINUX_SLL2 \(Linux cooked v2\), snapshot length 262144 bytes/);
  send();
  const killer = setTimeout(() => c.child.kill('SIGKILL'), 60_000);
  const code = await c.exit;
  clearTimeout(killer);
  return { code, out: c.out(), err: c.err() };
}

const PORT = 47123;
const ifindexOf = (iface: string): number => Number(readFileSync(`/sys/class/net/${iface}/ifindex`, 'utf8'));

test('capture -i any -w f.pcap: an SLL2 file tshark reads, each frame seen leaving one veth end and arriving on the other, interface indexes and directions right', { skip: needRoot }, async () => {
  const dir = tmpDir();
  try {
    await withVeth(async ({ a, b }) => {
      const file = join(dir, 'any.pcap');
      const N = 5;
      const r = await captureAny(['-w', file, '-c', String(2 * N), 'udp', 'dst', 'port', String(PORT)], () => {
        const tx = new RawSender(a);
        tx.send(Array.from({ length: N }, (_, i) => udpFrame({ sport: 3000 + i, dport: PORT })));
        tx.send([udpFrame({ sport: 3999, dport: PORT + 1 })]); // not matching: the kernel filter drops it
        tx.close();
      });
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, new RegExp(`^${2 * N} packets written to `, 'm'));
      const info = execFileSync('capinfos', ['-E', '-c', file], { encoding: 'utf8' });
      assert.match(info, /File encapsulation:\s+Linux cooked-mode capture v2/);
      assert.match(info, new RegExp(`Number of packets:\\s+${2 * N}\\b`));
      const rows = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=,', '-e', 'sll.ifindex', '-e', 'sll.pkttype', '-e', 'sll.hatype', '-e', 'sll.etype', '-e', 'sll.halen', '-e', 'udp.srcport', '-e', 'udp.dstport'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n');
      assert.equal(rows.length, 2 * N);
      const ia = ifindexOf(a), ib = ifindexOf(b);
      const out = rows.filter((l) => l.startsWith(`${ia},`));
      const inn = rows.filter((l) => l.startsWith(`${ib},`));
      // sent on a: outgoing (4) there; on b the frame is for another host's MAC: otherhost (3)
      assert.deepEqual(out, Array.from({ length: N }, (_, i) => `${ia},4,1,0x0800,6,${3000 + i},${PORT}`));
      assert.deepEqual(inn, Array.from({ length: N }, (_, i) => `${ib},3,1,0x0800,6,${3000 + i},${PORT}`));
      // tcpdump prints the file as it prints its own -i any capture
      const td = execFileSync('tcpdump', ['-nn', '-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n');
      assert.equal(td.length, 2 * N);
      assert.equal(td.filter((l) => l.includes(` ${a} Out IP 10.99.0.1.`)).length, N);
      assert.equal(td.filter((l) => new RegExp(` ${b} P   IP 10\\.99\\.0\\.1\\.`).test(l)).length, N);
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('capture -i any -nn prints tcpdump -i any lines (interface, direction); netring -r of its file prints what tcpdump -r prints', { skip: needRoot }, async () => {
  const dir = tmpDir();
  try {
    await withVeth(async ({ a, b }) => {
      const N = 3;
      const send = (): void => {
        const tx = new RawSender(a);
        tx.send(Array.from({ length: N }, (_, i) => udpFrame({ sport: 4000 + i, dport: PORT })));
        tx.close();
      };
      const r = await captureAny(['-nn', '-c', String(2 * N), 'udp', 'port', String(PORT)], send);
      assert.equal(r.code, 0, r.err);
      const lines = r.out.trim().split('\n');
      assert.equal(lines.length, 2 * N, r.out);
      const re = (iface: string, dir: string, i: number): RegExp =>
        new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{6} ${iface} ${dir} IP 10\\.99\\.0\\.1\\.${4000 + i} > 10\\.99\\.1\\.1\\.${PORT}: UDP, length 18$`);
      for (let i = 0; i < N; i++) {
        assert.equal(lines.filter((l) => re(a, 'Out', i).test(l)).length, 1, `${a} Out ${i}:\n${r.out}`);
        assert.equal(lines.filter((l) => re(b, 'P  ', i).test(l)).length, 1, `${b} P ${i}:\n${r.out}`);
      }
      const file = join(dir, 'f.pcap');
      const w = await captureAny(['-w', file, '-c', String(2 * N), 'udp', 'port', String(PORT)], send);
      assert.equal(w.code, 0, w.err);
      const ours = spawnSync(process.execPath, [MAIN, 'capture', '-nn', '-r', file], { encoding: 'utf8' });
      assert.equal(ours.status, 0, ours.stderr);
      assert.equal(ours.stdout, execFileSync('tcpdump', ['-nn', '-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('capture -i any refuses, with one line, filters on the Ethernet header and options it cannot honour yet', { skip: needRoot }, () => {
  for (const [args, re] of [
    [['ether', 'host', '02:00:00:00:00:01'], /-i any: "ether host 02:00:00:00:00:01" reads the Ethernet header/],
    [['-w', '/tmp/x.pcap', '-C', '10'], /-i any with -C, -G, -z, --compress or -Z: not yet/],
  ] as Array<[string[], RegExp]>) {
    const r = spawnSync(process.execPath, [MAIN, 'capture', '-i', 'any', '-c', '1', ...args], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});
