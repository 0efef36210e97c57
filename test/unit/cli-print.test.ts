/**
 * `netring capture -r F -nn [flags]` prints what `tcpdump -r F -nn [flags]`
 * prints, line by line, for crafted captures of the protocols netring decodes
 * (Ethernet, VLAN, ARP, IPv4, IPv6, TCP, UDP, ICMP, ICMPv6, GRE, IP-in-IP)
 * and the application summaries (DNS, DHCP, NTP, HTTP). The packets whose
 * lines differ on purpose are listed in docs/tcpdump-users.md and left out
 * here by name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN, tmpDir, writePcap } from '../helpers/cli.js';
import { appFrames } from '../helpers/app-frames.js';
import { corpus } from './decode-craft.js';

/** Corpus packets printed differently from tcpdump 4.99 on purpose (see docs/tcpdump-users.md). */
const DIFFERENT = new Set([
  'eth-ipv6-ext-udp', 'eth-ipv6-routing-frag-udp', 'eth-ipv6-frag1', 'eth-ipv6-ah-tcp', // IPv6 extension headers are not itemised
  'eth-ipv4-vxlan', // tcpdump decodes UDP 4789 as VXLAN only with -T vxlan, and then on two lines
]);

const FLAGS = [[], ['-e'], ['-x'], ['-xx'], ['-X'], ['-XX'], ['-A'], ['-t'], ['-tt'], ['-ttt'], ['-tttt'], ['-ttttt'], ['-S'], ['-e', '-S', '-tttt']];
const env = { ...process.env, TZ: 'America/New_York' }; // a zone with an offset: local time must be local

function tcpdump(file: string, flags: string[]): string {
  return execFileSync('tcpdump', ['-nn', ...flags, '-r', file], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'] });
}

function netring(file: string, flags: string[]): string {
  const r = spawnSync(process.execPath, [MAIN, 'capture', '-r', file, '-nn', ...flags], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function compare(file: string, expectLines: number): void {
  for (const flags of FLAGS) {
    const theirs = tcpdump(file, flags).split('\n');
    const ours = netring(file, flags).split('\n');
    assert.ok(theirs.length >= expectLines, `${flags.join(' ')}: tcpdump printed ${theirs.length} lines`);
    theirs.forEach((line, i) => assert.equal(ours[i], line, `${flags.join(' ') || '(no flags)'} line ${i + 1}`));
    assert.equal(ours.length, theirs.length, flags.join(' '));
  }
}

test('capture -r -nn prints tcpdump\'s lines for the decoder corpus (Ethernet), under every printing flag', () => {
  const dir = tmpDir();
  try {
    const pkts = corpus().filter((p) => p.linkType === 1 && !DIFFERENT.has(p.name));
    assert.ok(pkts.length >= 14, `${pkts.length} packets`);
    const file = writePcap(join(dir, 'corpus.pcap'), pkts.map((p) => p.bytes));
    compare(file, pkts.length);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('capture -r -nn prints tcpdump\'s DNS, DHCP, NTP, HTTP summaries, relative TCP sequence numbers and ICMP errors', () => {
  const dir = tmpDir();
  try {
    const frames = appFrames();
    const file = writePcap(join(dir, 'app.pcap'), frames);
    const plain = netring(file, []);
    assert.match(plain, /4660\+ A\? example\.com\. \(29\)/);
    assert.match(plain, /Flags \[P\.\], seq 1:38, ack 1, win 65535, length 37: HTTP: GET \/index\.html HTTP\/1\.1/);
    assert.match(plain, /NTPv4, Client, length 48/);
    assert.match(plain, /BOOTP\/DHCP, Request from 02:00:00:00:00:11, length 244/);
    compare(file, frames.length);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
