/**
 * Interop with the Wireshark tools (tshark, capinfos, editcap, mergecap,
 * text2pcap) and tcpdump, without any network: files we write are read by
 * them with the same count, encapsulation, precision and bytes; files they
 * write are read by us with the same count and bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  PcapWriter, PcapngWriter, openCaptureReader, EpbFlags, type PacketLike, type CaptureWriter, type FileRecord,
} from '../../src/pcap/index.js';
import { rng, randomBytes } from './pcap-craft.js';

function have(tool: string, arg = '-v'): boolean {
  const r = spawnSync(tool, [arg], { stdio: 'ignore' });
  return r.error === undefined;
}
const tools = ['tshark', 'capinfos', 'editcap', 'mergecap', 'text2pcap'];
const missing = tools.filter((t) => !have(t));
const skip = missing.length > 0 ? `missing tools: ${missing.join(', ')} (apt-get install tshark)` : false;
const haveTcpdump = have('tcpdump', '--version');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netring-pcap-io-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string): string => path.join(dir, name);

function run(cmd: string, args: string[], input?: Uint8Array): string {
  const r = spawnSync(cmd, args, { input, maxBuffer: 64 << 20, encoding: 'utf8' });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

interface Frame { bytes: Uint8Array; wire: number; sec: number; nsec: number }

interface ToolFrame { len: number; capLen: number; sec: number; nsec: number; hex: string; iface: number; encap: number }

/** What tshark sees: lengths, time, interface, encapsulation and the raw bytes of each frame. */
function tsharkFrames(file: string): ToolFrame[] {
  const json = JSON.parse(run('tshark', ['-r', file, '-T', 'json', '-x'])) as Array<{ _source: { layers: Record<string, unknown> } }>;
  return json.map((p) => {
    const l = p._source.layers;
    const f = l.frame as Record<string, string>;
    const raw = l.frame_raw as [string, ...unknown[]];
    const [s, frac = ''] = f['frame.time_epoch'].split('.');
    return {
      len: Number(f['frame.len']), capLen: Number(f['frame.cap_len']), sec: Number(s), nsec: Number(frac.padEnd(9, '0').slice(0, 9)),
      hex: raw[0], iface: Number(f['frame.interface_id'] ?? 0), encap: Number(f['frame.encap_type']),
    };
  });
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** capinfos machine-readable long report as key -> value. */
function capinfos(file: string): Map<string, string> {
  const out = run('capinfos', ['-M', file]);
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith(' ')) m.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return m;
}

/** Ethernet-looking frames of many sizes; some carry a VLAN tag in metadata, as a ring slot would. */
function ringPackets(n: number): { slots: PacketLike[]; expect: Frame[] } {
  const r = rng(99);
  const slots: PacketLike[] = [];
  const expect: Frame[] = [];
  for (let i = 0; i < n; i++) {
    const len = i === 0 ? 14 : i === 1 ? 1514 : 14 + Math.floor(r() * 1500);
    const frame = randomBytes(len, r);
    frame[12] = 0x08; frame[13] = 0x00;
    const vlan = i % 5 === 2;
    const tci = Math.floor(r() * 0xffff);
    const sec = 1_700_000_000 + i;
    const nsec = Math.floor(r() * 1e9);
    const store = new Uint8Array(len + 64);
    store.set(frame, 21);
    slots.push({
      data: store, offset: 21, caplen: len, wireLen: len, sec, nsec, vlanValid: vlan, vlanTci: vlan ? tci : 0,
      vlanTpid: vlan && i % 2 ? 0x88a8 : 0, ifindex: 7, pktType: i % 5, linkType: 1,
    });
    // Expected file bytes, built independently: tag after the 12 MAC bytes.
    const bytes = vlan
      ? Uint8Array.from([...frame.subarray(0, 12), ...(i % 2 ? [0x88, 0xa8] : [0x81, 0x00]), tci >> 8, tci & 0xff, ...frame.subarray(12)])
      : frame;
    expect.push({ bytes, wire: bytes.length, sec, nsec });
  }
  return { slots, expect };
}

const { slots, expect } = ringPackets(60);

function writeSlots(w: CaptureWriter): void {
  for (const s of slots) w.writePacket(s);
}

function assertToolSees(file: string, precisionNs: boolean): ToolFrame[] {
  const frames = tsharkFrames(file);
  assert.equal(frames.length, expect.length);
  frames.forEach((f, i) => {
    const e = expect[i];
    assert.equal(f.capLen, e.bytes.length, `frame ${i}`);
    assert.equal(f.len, e.wire, `frame ${i}`);
    assert.equal(f.hex, hex(e.bytes), `frame ${i} bytes`);
    assert.equal(f.sec, e.sec, `frame ${i}`);
    assert.equal(f.nsec, precisionNs ? e.nsec : Math.floor(e.nsec / 1000) * 1000, `frame ${i}`);
    assert.equal(f.encap, 1);
  });
  return frames;
}

function assertWeRead(file: string, precisionNs: boolean, format?: string): FileRecord[] {
  const r = openCaptureReader(file);
  if (format) assert.equal(r.format, format);
  const recs: FileRecord[] = [];
  for (const rec of r) recs.push(rec.copy());
  assert.equal(recs.length, expect.length);
  recs.forEach((rec, i) => {
    const e = expect[i];
    assert.equal(hex(rec.bytes), hex(e.bytes), `record ${i} bytes`);
    assert.equal(rec.wireLen, e.wire);
    assert.equal(rec.sec, e.sec);
    assert.equal(rec.nsec, precisionNs ? e.nsec : Math.floor(e.nsec / 1000) * 1000, `record ${i}`);
    assert.equal(rec.linkType, 1);
  });
  return recs;
}

for (const bigEndian of [false, true]) {
  test(`our pcapng (${bigEndian ? 'big' : 'little'}-endian) is read by capinfos/tshark/tcpdump: count, encapsulation, precision, bytes, ISB drops, direction`, { skip }, () => {
    const f = tmp(`ours-${bigEndian}.pcapng`);
    const w = new PcapngWriter(f, { name: 'veth-test', bigEndian });
    w.setStatisticsSource(() => ({ received: expect.length + 5, dropped: 5 }));
    writeSlots(w);
    w.close();
    const info = capinfos(f);
    assert.equal(info.get('File type'), 'pcapng');
    assert.equal(info.get('File encapsulation'), 'ether');
    assert.equal(info.get('Number of packets'), String(expect.length));
    assert.match(run('capinfos', [f]), /File timestamp precision:\s+nanoseconds \(9\)/);
    assert.match(run('capinfos', [f]), /Name = veth-test/);
    assert.match(run('capinfos', [f]), /Number of stat entries = 1/);
    assertToolSees(f, true);
    // The ISB as Wireshark's own pcapng file dissector decodes it.
    const isb = run('tshark', ['-X', 'read_format:MIME Files Format', '-r', f, '-T', 'fields',
      '-e', 'pcapng.options.option.data.interface.received', '-e', 'pcapng.options.option.data.interface.dropped'])
      .split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
    assert.deepEqual(isb, [`${expect.length + 5}\t5`]);
    // Direction: pktType 4 (outgoing) was written as epb_flags outbound.
    const dirs = run('tshark', ['-r', f, '-T', 'fields', '-e', 'frame.p2p_dir']).split('\n').slice(0, expect.length);
    // frame.p2p_dir: 0 = sent (outbound), 1 = received (inbound).
    dirs.forEach((d, i) => assert.equal(d, i % 5 === 4 ? '0' : '1', `frame ${i} direction`));
    if (haveTcpdump) {
      const lines = run('tcpdump', ['-nn', '-r', f]).split('\n').filter((l) => l.length > 0);
      assert.equal(lines.length, expect.length);
    }
  });

  for (const precision of ['nano', 'micro'] as const) {
    test(`our pcap (${bigEndian ? 'big' : 'little'}-endian, ${precision}) is read by capinfos/tshark with the same bytes`, { skip }, () => {
      const f = tmp(`ours-${bigEndian}-${precision}.pcap`);
      const w = new PcapWriter(f, { precision, bigEndian });
      writeSlots(w);
      w.close();
      const info = capinfos(f);
      assert.equal(info.get('File type'), precision === 'nano' ? 'nsecpcap' : 'pcap');
      assert.equal(info.get('File encapsulation'), 'ether');
      assert.equal(info.get('Number of packets'), String(expect.length));
      assert.match(run('capinfos', [f]), precision === 'nano' ? /precision:\s+nanoseconds \(9\)/ : /precision:\s+microseconds \(6\)/);
      assertToolSees(f, precision === 'nano');
    });
  }
}

test('files converted by editcap (pcap, nsecpcap, pcapng, modpcap) are read back with the same count and bytes', { skip }, () => {
  const src = tmp('src.pcapng');
  const w = new PcapngWriter(src);
  writeSlots(w);
  w.close();
  const cases: Array<[string, boolean, string]> = [['pcap', false, 'pcap'], ['nsecpcap', true, 'pcap'], ['pcapng', true, 'pcapng'], ['modpcap', false, 'pcap']];
  for (const [fmt, ns, ours] of cases) {
    const out = tmp(`conv.${fmt}`);
    run('editcap', ['-F', fmt, src, out]);
    assertWeRead(out, ns, ours);
  }
  // editcap's output of a big-endian file we wrote, back to pcapng, is identical for our reader.
  const be = tmp('be.pcap');
  const wb = new PcapWriter(be, { bigEndian: true });
  writeSlots(wb);
  wb.close();
  const back = tmp('be-back.pcapng');
  run('editcap', ['-F', 'pcapng', be, back]);
  assertWeRead(back, true, 'pcapng');
  // tshark -w re-writes (it rebuilds the blocks itself).
  const tw = tmp('tshark.pcapng');
  run('tshark', ['-r', src, '-w', tw, '-F', 'pcapng']);
  assertWeRead(tw, true, 'pcapng');
  // snap to 64 bytes with editcap: caplen and bytes match the cut.
  const cut = tmp('cut.pcap');
  run('editcap', ['-F', 'nsecpcap', '-s', '64', src, cut]);
  const r = openCaptureReader(cut);
  let i = 0;
  for (const rec of r) {
    const e = expect[i++];
    assert.equal(rec.caplen, Math.min(64, e.bytes.length));
    assert.equal(rec.wireLen, e.wire);
    assert.equal(hex(rec.bytes), hex(e.bytes.subarray(0, 64)));
  }
  assert.equal(i, expect.length);
});

test('text2pcap files for link types 1, 101, 113, 228, 229, 276 are read with the right link type and bytes', { skip }, () => {
  const r0 = rng(5);
  for (const lt of [1, 101, 113, 228, 229, 276]) {
    const pkts = [20, 60, 99].map((n) => randomBytes(n, r0));
    const text = pkts.map((p) => {
      const lines: string[] = [];
      for (let o = 0; o < p.length; o += 16) {
        lines.push(`${o.toString(16).padStart(6, '0')} ${[...p.subarray(o, o + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
      }
      return lines.join('\n');
    }).join('\n\n') + '\n';
    const txt = tmp(`t${lt}.txt`);
    fs.writeFileSync(txt, text);
    for (const ng of [false, true]) {
      const out = tmp(`t${lt}.${ng ? 'pcapng' : 'pcap'}`);
      run('text2pcap', ['-F', ng ? 'pcapng' : 'pcap', '-l', String(lt), txt, out]);
      const r = openCaptureReader(out);
      assert.equal(r.format, ng ? 'pcapng' : 'pcap');
      const got: string[] = [];
      for (const rec of r) { assert.equal(rec.linkType, lt); got.push(hex(rec.bytes)); }
      assert.deepEqual(got, pkts.map(hex), `link type ${lt}`);
    }
  }
});

test('mergecap output with several interfaces and link types matches tshark record by record', { skip }, () => {
  const a = tmp('m-eth.pcapng');
  const wa = new PcapngWriter(a, { name: 'eth0' });
  const r0 = rng(8);
  for (let i = 0; i < 10; i++) { const d = randomBytes(60 + i, r0); wa.write(d, 0, d.length, d.length, 1_700_000_000 + 2 * i, i, -1, 0, 0, EpbFlags.INBOUND); }
  wa.close();
  const b = tmp('m-raw.pcap');
  const wb = new PcapWriter(b, { linkType: 101, precision: 'micro' });
  for (let i = 0; i < 10; i++) { const d = randomBytes(40 + i, r0); d[0] = 0x45; wb.write(d, 0, d.length, d.length, 1_700_000_001 + 2 * i, 5000 * i); }
  wb.close();
  const m = tmp('merged.pcapng');
  run('mergecap', ['-w', m, a, b]);
  const tool = tsharkFrames(m);
  const r = openCaptureReader(m);
  assert.equal(r.format, 'pcapng');
  assert.ok(r.interfaces.length >= 2);
  const ours: FileRecord[] = [];
  for (const rec of r) ours.push(rec.copy());
  assert.equal(ours.length, 20);
  assert.equal(ours.length, tool.length);
  const encapOf = (lt: number): number => (lt === 1 ? 1 : 7); // wiretap: ETHERNET 1, RAW_IP 7
  ours.forEach((rec, i) => {
    const t = tool[i];
    assert.equal(hex(rec.bytes), t.hex, `record ${i}`);
    assert.equal(rec.ifindex, t.iface, `record ${i}`);
    assert.equal(encapOf(rec.linkType), t.encap, `record ${i}`);
    assert.deepEqual([rec.sec, rec.nsec], [t.sec, t.nsec], `record ${i}`);
  });
  assert.deepEqual(new Set(ours.map((x) => x.linkType)), new Set([1, 101]));
});

test("stdout/stdin ('-'): a child writes pcapng to stdout, tshark reads it; a child reads a file from stdin", { skip }, () => {
  const mod = new URL('../../src/pcap/index.js', import.meta.url).href;
  const writer = `
    const { PcapngWriter } = await import(${JSON.stringify(mod)});
    const w = new PcapngWriter('-', { bufferSize: 4096 });
    const d = new Uint8Array(1000).map((_, i) => i & 0xff);
    for (let i = 0; i < 500; i++) w.write(d, i % 7, 100 + i, 100 + i, 1000 + i, i);
    w.close();`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', writer], { maxBuffer: 64 << 20 });
  assert.equal(out.status, 0, String(out.stderr));
  const f = tmp('stdout.pcapng');
  fs.writeFileSync(f, out.stdout);
  assert.equal(capinfos(f).get('Number of packets'), '500');
  const lens = run('tshark', ['-r', f, '-T', 'fields', '-e', 'frame.len']).trim().split('\n').map(Number);
  assert.deepEqual(lens, Array.from({ length: 500 }, (_, i) => 100 + i));

  const reader = `
    const { openCaptureReader } = await import(${JSON.stringify(mod)});
    const r = openCaptureReader('-', { bufferSize: 4096 });
    let n = 0, sum = 0;
    for (const rec of r) { n++; sum += rec.caplen; }
    process.stdout.write(JSON.stringify({ n, sum, format: r.format }));`;
  const pcap = tmp('stdin.pcap');
  run('editcap', ['-F', 'pcap', f, pcap]);
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', reader], { input: fs.readFileSync(pcap) });
  assert.equal(res.status, 0, String(res.stderr));
  assert.deepEqual(JSON.parse(String(res.stdout)), { n: 500, sum: lens.reduce((a, b) => a + b, 0), format: 'pcap' });
});
