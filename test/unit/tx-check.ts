/**
 * Test helpers for the TX tests: an independent checksum verifier (written
 * from the RFCs, sharing no code with src/tx) and a tshark run that reports
 * the checksum status of every frame of a pcap.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Ones' complement sum with the carry folded after every addition (RFC 1071, the slow obvious way). */
export function onesSum(bytes: Uint8Array, start: number, end: number, acc = 0): number {
  let s = acc;
  for (let i = start; i < end; i += 2) {
    const w = (bytes[i] << 8) | (i + 1 < end ? bytes[i + 1] : 0);
    s += w;
    if (s > 0xffff) s = (s & 0xffff) + 1;
  }
  return s;
}

export interface FrameCheck {
  family: number;
  proto: number;
  ipOk: boolean;
  l4Ok: boolean;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  vlans: number[];
  /** Offset of the transport payload. */
  payloadOff: number;
  ipEnd: number;
}

/** Parse an Ethernet frame (in-frame VLAN tags; IPv4 options, IPv6 extension headers) and verify its IP and transport checksums. */
export function checkFrame(f: Uint8Array): FrameCheck {
  let o = 12;
  const vlans: number[] = [];
  let et = (f[o] << 8) | f[o + 1];
  while (et === 0x8100 || et === 0x88a8) {
    vlans.push(((f[o + 2] << 8) | f[o + 3]) & 0xfff);
    o += 4;
    et = (f[o] << 8) | f[o + 1];
  }
  const ip = o + 2;
  let family = 0, proto = -1, ipOk = false, l4 = -1, ipEnd = f.length, pseudo = 0, src = '', dst = '';
  if (et === 0x0800) {
    family = 4;
    const ihl = (f[ip] & 15) * 4;
    ipOk = onesSum(f, ip, ip + ihl) === 0xffff;
    proto = f[ip + 9];
    ipEnd = ip + ((f[ip + 2] << 8) | f[ip + 3]);
    l4 = ip + ihl;
    src = Array.from(f.subarray(ip + 12, ip + 16)).join('.');
    dst = Array.from(f.subarray(ip + 16, ip + 20)).join('.');
    if (proto !== 1) pseudo = onesSum(f, ip + 12, ip + 20, onesSum(Uint8Array.of(0, proto, (ipEnd - l4) >> 8, (ipEnd - l4) & 255), 0, 4));
  } else if (et === 0x86dd) {
    family = 6;
    ipOk = true;
    proto = f[ip + 6];
    l4 = ip + 40;
    ipEnd = l4 + ((f[ip + 4] << 8) | f[ip + 5]);
    // extension headers (RFC 8200): hop-by-hop 0, routing 43, destination options 60 ((len + 1) * 8 bytes), fragment 44 (8 bytes)
    while (proto === 0 || proto === 43 || proto === 60 || proto === 44) {
      const len = proto === 44 ? 8 : (f[l4 + 1] + 1) * 8;
      proto = f[l4];
      l4 += len;
    }
    const hex = (a: number): string => Array.from({ length: 8 }, (_, i) => ((f[a + 2 * i] << 8) | f[a + 2 * i + 1]).toString(16)).join(':');
    src = hex(ip + 8);
    dst = hex(ip + 24);
    pseudo = onesSum(f, ip + 8, ip + 40, onesSum(Uint8Array.of(0, 0, (ipEnd - l4) >> 8, (ipEnd - l4) & 255, 0, 0, 0, proto), 0, 8));
  }
  let l4Ok = false, sport = -1, dport = -1, hl = 0;
  if (l4 >= 0) {
    l4Ok = onesSum(f, l4, ipEnd, pseudo) === 0xffff;
    if (proto === 17 || proto === 6) { sport = (f[l4] << 8) | f[l4 + 1]; dport = (f[l4 + 2] << 8) | f[l4 + 3]; }
    hl = proto === 6 ? (f[l4 + 12] >> 4) * 4 : 8;
  }
  return { family, proto, ipOk, l4Ok, src, dst, sport, dport, vlans, payloadOff: l4 + hl, ipEnd };
}

/** True when tshark is installed. */
export function hasTshark(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A minimal classic pcap (microseconds, Ethernet) of the frames. */
export function pcapBytes(frames: Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(262144, 16);
  gh.writeUInt32LE(1, 20);
  parts.push(gh);
  frames.forEach((p, i) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(1_700_000_000 + i, 0);
    h.writeUInt32LE(p.length, 8);
    h.writeUInt32LE(p.length, 12);
    parts.push(h, Buffer.from(p));
  });
  return Buffer.concat(parts);
}

/**
 * tshark's checksum verdict for every frame of a pcap file: one entry per
 * frame with the ip/udp/tcp/icmp/icmpv6 checksum status fields it printed
 * (1 = good, 0 = bad, 2 = unverified) - validation switched on.
 */
export function tsharkChecksums(path: string): Array<Record<string, string>> {
  const fields = ['ip.checksum.status', 'udp.checksum.status', 'tcp.checksum.status', 'icmp.checksum.status', 'icmpv6.checksum.status'];
  const out = execFileSync('tshark', [
    '-n', '-r', path, '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
    '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f]),
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
  return out.trimEnd().split('\n').map((line) => {
    const v = line.split('|');
    const r: Record<string, string> = {};
    fields.forEach((f, i) => { if (v[i]) r[f] = v[i]; });
    return r;
  });
}

/** tshark verdicts for frames held in memory (written to a temp pcap). */
export function tsharkChecksumsOf(frames: Uint8Array[]): Array<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'nrtx-'));
  try {
    const p = join(dir, 'f.pcap');
    writeFileSync(p, pcapBytes(frames));
    return tsharkChecksums(p);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** tshark's values of `fields` for every frame held in memory (written to a temp pcap); repeated fields joined by commas. */
export function tsharkFieldsOf(frames: Uint8Array[], fields: string[], extra: string[] = []): Array<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'nrtx-'));
  try {
    const p = join(dir, 'f.pcap');
    writeFileSync(p, pcapBytes(frames));
    const out = execFileSync('tshark', ['-n', '-r', p, ...extra, '-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
    return out.trimEnd().split('\n').map((line) => {
      const v = line.split('|');
      const r: Record<string, string> = {};
      fields.forEach((f, i) => { if (v[i]) r[f] = v[i]; });
      return r;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
