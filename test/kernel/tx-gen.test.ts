/**
 * generate() on veth pairs: exact counts, the set of 5-tuples received equals
 * the set requested, frames byte-for-byte equal to freshly built ones,
 * checksums good by our own check and by tshark, IMIX proportions, workers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCapture } from '../../src/index.js';
import { PcapWriter } from '../../src/pcap/index.js';
import { generate } from '../../src/gen/generate.js';
import { jobFlows, type GenerateOptions } from '../../src/gen/job.js';
import { buildPacket, type PacketSpec } from '../../src/build/builder.js';
import { parseSize } from '../../src/gen/size.js';
import { needRoot, withVeth, ifCounters } from '../helpers/netns.js';
import { checkFrame, hasTshark, tsharkChecksums } from '../unit/tx-check.js';
import { collect, type Rx } from './tx-helpers.js';

/** Run a generation with a capture on the peer; returns summary and frames. */
async function genAndReceive(b: string, opts: GenerateOptions): Promise<{ frames: Rx[]; summary: Awaited<ReturnType<typeof generate>['done']>; drops: number }> {
  const cap = openCapture({ iface: b, blockSize: 1 << 20, blockCount: 32, blockTimeoutMs: 2, direction: 'in' });
  try {
    const g = generate(opts);
    let finished = false;
    const done = g.done.finally(() => { finished = true; });
    const frames = await collect(cap, () => finished);
    const summary = await done;
    return { frames, summary, drops: cap.stats().drops };
  } finally {
    cap.close();
  }
}

function key(c: ReturnType<typeof checkFrame>): string {
  return `${c.src}|${c.dst}|${c.sport}|${c.dport}|${c.vlans.join('.')}`;
}

/** The frame the builder makes for flow i of a job at size `size`. */
/** The frame of flow i at `size`; ICMP echoes carry the packet's sequence (1 for the first packet sent, then 2, 3...). */
function expected(opts: GenerateOptions, i: number, size: number, icmpSeq = 1): Uint8Array {
  const t = jobFlows(opts).tuple(i);
  const spec: PacketSpec = { ...(opts.packet ?? {}), proto: opts.proto, src: t.src, dst: t.dst, size };
  if (opts.proto === 'icmp') spec.icmpSeq = icmpSeq & 0xffff;
  if (opts.proto !== 'icmp') { spec.sport = t.sport; spec.dport = t.dport; }
  if (t.vlan >= 0) spec.vlan = t.vlan;
  return buildPacket(spec).bytes;
}

const VARIANTS: Array<{ name: string; opts: Omit<GenerateOptions, 'iface'> }> = [
  { name: 'UDP/IPv4, 2000 random flows over src x sport, 2 workers', opts: { src: '10.1.0.0/24', sport: '1000-1999', dst: '10.2.0.1', flows: 2000, randomFlows: true, seed: 7, size: 64, count: 2000, workers: 2 } },
  { name: 'TCP/IPv6 with VLAN range, 300 flows', opts: { proto: 'tcp', src: 'fd00::1:0/120', dst: 'fd00::99', vlan: '20-22', flows: 300, size: 150, count: 900, packet: { tcpFlags: 'SA', payload: 'inc' } } },
  { name: 'ICMP/IPv4 to 64 destinations, IMIX', opts: { proto: 'icmp', dst: '10.3.0.0/26', size: 'imix', count: 1200, packet: { payload: 'random' } } },
  { name: 'UDP/IPv4, size range, 3 workers', opts: { dport: '5000-5099', size: '60-1514', count: 3000, workers: 3, seed: 99 } },
];

for (const v of VARIANTS) {
  test(`generate: ${v.name}: exact count, flow set, bytes and checksums`, { skip: needRoot }, async () => {
    await withVeth(async ({ a, b }) => {
      const opts: GenerateOptions = { iface: a, ...v.opts };
      const c0 = ifCounters(b);
      const { frames, summary, drops } = await genAndReceive(b, opts);
      const c1 = ifCounters(b);
      const n = opts.count!;
      assert.equal(summary.sent, n);
      assert.equal(summary.failed, 0);
      assert.equal(summary.queued, n);
      assert.equal(drops, 0);
      assert.equal(c1.rxPackets - c0.rxPackets, n, 'device counters agree');
      assert.equal(frames.length, n);

      const flows = jobFlows(opts);
      const sizes = parseSize(opts.size, opts.seed ?? 1);
      const want = new Map<string, number>();
      for (let i = 0; i < flows.count; i++) {
        const c = checkFrame(expected(opts, i, sizes.min));
        want.set(key(c), i);
      }
      assert.equal(want.size, flows.count, 'the flows requested are distinct');
      const seen = new Map<string, number>();
      const bySize = new Map<number, number>();
      for (const [n, f] of frames.entries()) {
        const c = checkFrame(f.bytes);
        assert.ok(c.ipOk && c.l4Ok, `checksums of ${key(c)}`);
        const k = key(c);
        seen.set(k, (seen.get(k) ?? 0) + 1);
        const i = want.get(k);
        assert.ok(i !== undefined, `unexpected flow ${k}`);
        // one worker sends in order, so the n-th frame received is the n-th sent
        assert.deepEqual(f.bytes, expected(opts, i, f.bytes.length, 1 + n), `frame of flow ${k} differs from the built one`);
        bySize.set(f.bytes.length, (bySize.get(f.bytes.length) ?? 0) + 1);
      }
      assert.deepEqual(new Set(seen.keys()), new Set(want.keys()), 'the set of flows received equals the set requested');
      const per = n / flows.count;
      if (Number.isInteger(per)) for (const [k, c] of seen) assert.equal(c, per, `flow ${k} sent ${c} times`);
      if (opts.size === 'imix') assert.deepEqual([...bySize].sort((x, y) => x[0] - y[0]), [[60, 700], [590, 400], [1514, 100]]);
      if (opts.size === '60-1514') {
        const expect = new Map<number, number>();
        for (let i = 0; i < n; i++) expect.set(sizes.at(i), (expect.get(sizes.at(i)) ?? 0) + 1);
        assert.deepEqual(new Map([...bySize].sort()), new Map([...expect].sort()), 'the size of every frame follows the seeded sequence');
      }

      if (hasTshark()) {
        const dir = mkdtempSync(join(tmpdir(), 'nrgen-'));
        try {
          const path = join(dir, 'rx.pcap');
          const w = new PcapWriter(path);
          for (const f of frames.slice(0, 600)) w.write(f.bytes, 0, f.bytes.length, f.bytes.length, 1, 0);
          w.close();
          const verdicts = tsharkChecksums(path);
          assert.equal(verdicts.length, Math.min(600, n));
          verdicts.forEach((x, i) => {
            assert.ok(Object.keys(x).length > 0, `tshark saw no checksum in frame ${i}`);
            for (const [field, val] of Object.entries(x)) assert.equal(val, '1', `tshark: ${field} of frame ${i}`);
          });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    });
  });
}

test('generate: bad input fails before anything is sent, with clear messages', { skip: needRoot }, async () => {
  await withVeth(async ({ a }) => {
    const bad = (o: Partial<GenerateOptions>, re: RegExp): void => {
      assert.throws(() => generate({ iface: a, ...o }), (e: Error) => re.test(e.message), re.source);
    };
    bad({ iface: 'nr-nosuch9' }, /no interface named "nr-nosuch9"/);
    bad({ size: 40 }, /bad size "40": 40 is outside 60\.\.9000/);
    bad({ proto: 'tcp', src: 'fd00::1', vlan: 3, size: 64 }, /size 64 is smaller than the headers: Ethernet 14 \+ VLAN 4 \+ IPv6 40 \+ TCP 20 = 78 bytes/);
    bad({ stamp: true, src: 'fd00::1', size: 64 }, /latency stamp 16 = 78 bytes/);
    bad({ rate: '10 furlongs' }, /bad rate "10 furlongs"/);
    bad({ src: '10.0.0.0/30', sport: 1, dport: '1-2', flows: 100, proto: 'icmp' }, /ICMP has no ports/);
    bad({ workers: 0 }, /workers must be an integer >= 1/);
    bad({ replay: { file: '/nonexistent/x.pcap' } }, /no such file/);
  });
});

test('generate: stop() ends an unlimited run cleanly; everything queued completes', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const cap = openCapture({ iface: b, blockSize: 1 << 20, blockCount: 32, blockTimeoutMs: 2, direction: 'in' });
    const g = generate({ iface: a, rate: '20kpps', workers: 2 });
    let finished = false;
    const done = g.done.finally(() => { finished = true; });
    // stop 300 ms after the first frame arrives (worker start-up time varies with the machine's load)
    let first = 0;
    let stopped = false;
    const frames = await collect(cap, () => {
      if (first === 0 && cap.stats().received > 0) first = Date.now();
      if (first !== 0 && !stopped && Date.now() - first > 300) { stopped = true; g.stop(); }
      return finished;
    });
    const s = await done;
    cap.close();
    assert.equal(s.stoppedBy, 'stop');
    assert.ok(s.sent > 1000, `sent ${s.sent}`);
    assert.equal(s.sent, s.queued);
    assert.equal(frames.length, s.sent);
    const p = g.progress();
    assert.equal(p.sent, s.sent);
  });
});
