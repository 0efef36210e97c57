/**
 * Cross-check the decoders against tshark and tcpdump: the crafted corpus is
 * written to pcap files (one per link type, by a tiny writer here) and the
 * fields tshark extracts, and the lines tcpdump prints, are compared with
 * what `Layers` and `summary()` produce. Skipped when the tools are absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Layers, Layer, ipv4ToString, ipv6ToString, tcpMss, tcpWindowScale, summary } from '../../src/decode/index.js';
import { corpus } from './decode-craft.js';

function has(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function pcap(linkType: number, packets: Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(65535, 16);
  gh.writeUInt32LE(linkType, 20);
  parts.push(gh);
  packets.forEach((p, i) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(1_700_000_000 + i, 0);
    h.writeUInt32LE(p.length, 8);
    h.writeUInt32LE(p.length, 12);
    parts.push(h, Buffer.from(p));
  });
  return Buffer.concat(parts);
}

const FIELDS = [
  'ieee8021ad.id', 'vlan.id', 'ip.src', 'ip.dst', 'ip.proto', 'ip.id', 'ip.frag_offset', 'ip.flags.mf',
  'ipv6.src', 'ipv6.dst', 'ipv6.fraghdr.offset', 'ipv6.fraghdr.ident', 'ipv6.fraghdr.more',
  'tcp.srcport', 'tcp.dstport', 'tcp.flags', 'tcp.options.mss_val', 'tcp.options.wscale.shift',
  'udp.srcport', 'udp.dstport', 'icmp.type', 'icmp.code', 'icmpv6.type', 'arp.opcode', 'gre.key', 'vxlan.vni',
] as const;
type Field = (typeof FIELDS)[number];
type Values = Map<Field, string[]>;

/** Our view of the same fields, in tshark's order (outer layers first, then the tunnel's inner packet). */
function collect(l: Layers, out: Values): void {
  const d = l.data;
  const add = (f: Field, v: string | number) => {
    const a = out.get(f) ?? [];
    a.push(String(v));
    out.set(f, a);
  };
  const tags: [number, number][] = [];
  if (l.vlanCount > 0) tags.push([l.vlan0Tpid, l.vlan0Tci]);
  if (l.vlanCount > 1) tags.push([l.vlan1Tpid, l.vlan1Tci]);
  for (const [tpid, tci] of tags) add(tpid === 0x88a8 ? 'ieee8021ad.id' : 'vlan.id', tci & 0xfff);
  if (l.has(Layer.ARP)) add('arp.opcode', l.arpOp);
  if (l.ipVersion === 4) {
    add('ip.src', ipv4ToString(d, l.srcAddrOffset));
    add('ip.dst', ipv4ToString(d, l.dstAddrOffset));
    add('ip.proto', l.ipProto);
    add('ip.id', (d[l.l3Offset + 4]! << 8) | d[l.l3Offset + 5]!);
    add('ip.frag_offset', l.fragOffset / 8);
    add('ip.flags.mf', l.fragMore);
  }
  if (l.ipVersion === 6) {
    add('ipv6.src', ipv6ToString(d, l.srcAddrOffset));
    add('ipv6.dst', ipv6ToString(d, l.dstAddrOffset));
    if (l.isFragment) {
      add('ipv6.fraghdr.offset', l.fragOffset / 8);
      add('ipv6.fraghdr.ident', l.fragId);
      add('ipv6.fraghdr.more', l.fragMore);
    }
  }
  if (l.has(Layer.TCP)) {
    add('tcp.srcport', l.srcPort);
    add('tcp.dstport', l.dstPort);
    add('tcp.flags', l.tcpFlags);
    const end = l.tcpOptionsEnd();
    const mss = tcpMss(d, l.l4Offset, end);
    if (mss >= 0) add('tcp.options.mss_val', mss);
    const ws = tcpWindowScale(d, l.l4Offset, end);
    if (ws >= 0) add('tcp.options.wscale.shift', ws);
  }
  if (l.has(Layer.UDP)) {
    add('udp.srcport', l.srcPort);
    add('udp.dstport', l.dstPort);
  }
  if (l.has(Layer.ICMP)) {
    add('icmp.type', l.icmpType);
    add('icmp.code', l.icmpCode);
  }
  if (l.has(Layer.ICMPv6)) add('icmpv6.type', l.icmpType);
  if (l.has(Layer.GRE) && l.tunnelKey >= 0) add('gre.key', l.tunnelKey);
  if (l.has(Layer.VXLAN)) add('vxlan.vni', l.tunnelKey);
  const inner = new Layers();
  if (l.decodeInner(inner)) collect(inner, out);
}

/** tshark prints hex for some fields ("0x1234"); compare numbers as numbers. */
function norm(v: string): string {
  return /^(0x[0-9a-f]+|\d+)$/i.test(v) ? String(Number(v)) : v;
}

const TOOLS = has('tshark') && has('tcpdump');

test('decoded fields match tshark on a pcap of the corpus, every link type', { skip: !TOOLS && 'tshark/tcpdump not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'netring-decode-'));
  try {
    const byLink = new Map<number, ReturnType<typeof corpus>>();
    for (const p of corpus()) byLink.set(p.linkType, [...(byLink.get(p.linkType) ?? []), p]);
    let compared = 0;
    for (const [lt, pkts] of byLink) {
      const file = join(dir, `lt${lt}.pcap`);
      writeFileSync(file, pcap(lt, pkts.map((p) => p.bytes)));
      const args = ['-r', file, '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=;', '-E', 'separator=|'];
      for (const f of FIELDS) args.push('-e', f);
      const out = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const lines = out.split('\n').filter((x) => x.length > 0);
      assert.equal(lines.length, pkts.length, `link type ${lt}: tshark lines`);
      pkts.forEach((p, i) => {
        const l = new Layers();
        assert.equal(l.decode(p.bytes, 0, p.bytes.length, lt), 0, p.name);
        const ours: Values = new Map();
        collect(l, ours);
        const cols = lines[i]!.split('|');
        FIELDS.forEach((f, j) => {
          const theirs = (cols[j] ?? '').split(';').filter((x) => x !== '').map(norm);
          const mine = (ours.get(f) ?? []).map(norm);
          assert.deepEqual(mine, theirs, `${p.name}: ${f}`);
          compared += theirs.length;
        });
      });
    }
    assert.ok(compared > 150, `compared ${compared} values`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Corpus packets whose tcpdump line (without -e) summary() reproduces exactly (VLAN prefix aside). */
const SAME_AS_TCPDUMP = [
  'eth-ipv4-tcp-syn', 'eth-ipv4-opts-icmp', 'qinq-ipv4-tcp', 'vlan-arp', 'eth-arp-reply', 'eth-ipv6-tcp',
  'eth-ipv6-icmpv6-ns', 'eth-ipv6-icmpv6-echo', 'eth-ipv4-gre-teb', 'eth-ipv4-gre-ip', 'eth-ipv4-ipip', 'eth-lldp',
];

test('summary() matches tcpdump -nt -S lines', { skip: !TOOLS && 'tshark/tcpdump not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'netring-decode-'));
  try {
    const pkts = corpus().filter((p) => SAME_AS_TCPDUMP.includes(p.name));
    assert.equal(pkts.length, SAME_AS_TCPDUMP.length);
    const file = join(dir, 'summary.pcap');
    writeFileSync(file, pcap(1, pkts.map((p) => p.bytes)));
    const out = execFileSync('tcpdump', ['-nn', '-t', '-S', '-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const lines = out.split('\n').filter((x) => x.length > 0);
    assert.equal(lines.length, pkts.length);
    const l = new Layers();
    pkts.forEach((p, i) => {
      l.decode(p.bytes, 0, p.bytes.length, 1);
      const mine = summary(l).replace(/^(vlan \d+, )+/, '');
      assert.equal(mine, lines[i], p.name);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
