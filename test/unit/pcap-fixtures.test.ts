/**
 * Files written by Wireshark's tools (committed in test/fixtures, made by
 * test/fixtures/make-pcap-fixtures.sh) read by our readers, compared with
 * what tshark decoded from them when they were made. Needs no tools at test time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { openCaptureReader } from '../../src/pcap/index.js';

interface Expected { len: number; caplen: number; sec: number; nsec: number; iface: number; hex: string }

const fixture = (name: string): URL => new URL(`../../../test/fixtures/${name}`, import.meta.url);

const cases: Array<{ file: string; format: string; linkTypes: number[]; precision: string[] }> = [
  // mergecap -a of an Ethernet pcap (µs) and a raw-IPv4 pcapng: two IDBs, two link types.
  { file: 'wireshark-merged.pcapng', format: 'pcapng', linkTypes: [1, 228], precision: ['us', 'ns'] },
  // editcap -F nsecpcap of a Linux cooked v2 capture.
  { file: 'wireshark-sll2-nsec.pcap', format: 'pcap', linkTypes: [276], precision: ['ns'] },
  // editcap -F modpcap (Kuznetzov's 24-byte record headers).
  { file: 'wireshark-eth-modpcap.pcap', format: 'pcap', linkTypes: [1], precision: ['us'] },
];

for (const c of cases) {
  test(`fixture ${c.file} reads like tshark decoded it`, () => {
    const expected = (JSON.parse(fs.readFileSync(fixture(`${c.file}.expect.json`), 'utf8')) as { packets: Expected[] }).packets;
    assert.ok(expected.length > 0);
    const r = openCaptureReader(fs.readFileSync(fixture(c.file)));
    assert.equal(r.format, c.format);
    assert.deepEqual(r.interfaces.map((i) => i.linkType), c.linkTypes);
    assert.deepEqual(r.interfaces.map((i) => i.tsresol.toString()), c.precision);
    let i = 0;
    for (const rec of r) {
      const e = expected[i];
      assert.ok(e, `more records than tshark saw (${i})`);
      assert.equal(Buffer.from(rec.data.buffer, rec.data.byteOffset + rec.offset, rec.caplen).toString('hex'), e.hex, `record ${i}`);
      assert.deepEqual([rec.caplen, rec.wireLen, rec.sec, rec.nsec, rec.ifindex], [e.caplen, e.len, e.sec, e.nsec, e.iface], `record ${i}`);
      assert.equal(rec.linkType, c.linkTypes[rec.ifindex]);
      i++;
    }
    assert.equal(i, expected.length);
    // The same file streamed from disk with a tiny buffer gives the same records.
    const s = openCaptureReader(fixture(c.file).pathname, { bufferSize: 64 });
    let n = 0;
    s.forEach((rec) => { assert.equal(rec.caplen, expected[n].caplen); n++; });
    assert.equal(n, expected.length);
  });
}
