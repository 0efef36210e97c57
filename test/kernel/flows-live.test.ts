/**
 * `netring flows` live on a veth, with fan-out workers and --metrics: known
 * traffic in, exact flow records out, the Prometheus endpoint scraped over
 * HTTP during the run and validated with promtool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { freeTcpPort, metricSum, scrapeChecked } from '../helpers/metrics.js';
import { buildFrame } from '../../src/build/index.js';
import { needRoot, RawSender, sleep, withVeth } from '../helpers/netns.js';
import { MAIN, cli, tmpDir } from '../helpers/cli.js';
import { writePcap } from '../helpers/flow-traffic.js';

test('flows --workers 2 on a veth: every flow sent comes out once with exact counts; /metrics scraped mid-run passes promtool', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const port = await freeTcpPort();
    const p = spawn(process.execPath, [MAIN, 'flows', '-i', b, '--workers', '2', '--idle', '1', '--seconds', '6', '--json',
      '--metrics', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    for (let i = 0; i < 100 && !/metering flows/.test(err); i++) await sleep(100);
    assert.match(err, /metering flows on .* with 2 workers/);
    // 20 UDP flows x 50 packets, and 5 TCP conversations (both directions) x 10 packets
    const tx = new RawSender(a);
    const frames: Uint8Array[] = [];
    for (let n = 0; n < 50; n++) {
      for (let f = 0; f < 20; f++) frames.push(buildFrame({ src: '10.50.0.1', dst: '10.50.0.2', sport: 20000 + f, dport: 9999, size: 100 + f }));
      if (n < 10) {
        for (let c = 0; c < 5; c++) {
          frames.push(buildFrame({ src: '10.60.0.1', dst: '10.60.0.2', proto: 'tcp', sport: 30000 + c, dport: 80, tcpFlags: 'A', size: 80 }));
          frames.push(buildFrame({ src: '10.60.0.2', dst: '10.60.0.1', proto: 'tcp', sport: 80, dport: 30000 + c, tcpFlags: 'A', size: 400 }));
        }
      }
    }
    tx.send(frames);
    tx.close();
    await sleep(1500);
    const text = await scrapeChecked(port);
    const metered = metricSum(text, 'netring_flow_packets_total');
    assert.equal(metered.sum, frames.length, 'every packet sent was metered');
    assert.deepEqual(metered.labels.sort(), ['{worker="0"}', '{worker="1"}']);
    assert.equal(metricSum(text, 'netring_packets_dropped_total').sum, 0);
    assert.ok(metricSum(text, 'netring_packets_received_total').sum >= frames.length);
    assert.equal(await exited, 0, err);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    const summary = lines.pop();
    assert.equal(summary.summary, true);
    assert.equal(summary.dropped, 0);
    const udp = lines.filter((r) => r.proto === 17 && r.src === '10.50.0.1');
    assert.equal(udp.length, 20, 'one record per UDP flow');
    for (const r of udp) {
      assert.equal(r.packets, 50);
      assert.equal(r.bytes, 50 * (100 + r.sport - 20000 - 14));
      assert.equal(r.rpackets, 0);
    }
    const tcp = lines.filter((r) => r.proto === 6);
    assert.equal(tcp.length, 5, 'both directions of each TCP conversation in one biflow record');
    for (const r of tcp) {
      assert.equal(r.src, '10.60.0.1');
      assert.deepEqual([r.packets, r.bytes, r.rpackets, r.rbytes], [10, 10 * 66, 10, 10 * 386]);
    }
  });
});

test('--metrics on a port already in use: one clear line, exit 1', async () => {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  try {
    const dir = tmpDir();
    const pcap = `${dir}/one.pcap`;
    writePcap(pcap, [{ frame: buildFrame({}), sec: 1_700_000_000, usec: 0 }]);
    const r = cli(['flows', '-r', pcap, '--metrics', `127.0.0.1:${port}`]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), `netring: --metrics: 127.0.0.1:${port} is already in use`);
  } finally {
    await new Promise<void>((r) => s.close(() => r()));
  }
});
