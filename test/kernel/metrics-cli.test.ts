/**
 * `--metrics` on capture, gen and xdp: the Prometheus endpoint scraped over HTTP
 * while the command runs on a veth with known traffic, validated with
 * promtool, and its counters equal to the packets sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFrame } from '../../src/build/index.js';
import { needRoot, RawSender, run, sleep, withVeth } from '../helpers/netns.js';
import { cli, startCli, type RunningCli } from '../helpers/cli.js';
import { freeTcpPort, metricSum, scrapeChecked } from '../helpers/metrics.js';

/** Start netring and wait for the stderr line that says it is running (asserted). */
async function start(args: string[], ready: RegExp): Promise<RunningCli> {
  const r = await startCli(args, ready);
  assert.match(r.err(), ready);
  return r;
}

/** Scrape until `name` sums to `want` (or 10 s pass); returns the last exposition. */
async function scrapeUntil(port: number, name: string, want: number): Promise<string> {
  let text = '';
  for (let i = 0; i < 100; i++) {
    text = await scrapeChecked(port);
    if (metricSum(text, name).sum >= want) break;
    await sleep(100);
  }
  return text;
}

const frames = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => buildFrame({ src: '10.70.0.1', dst: '10.70.0.2', sport: 1000 + (i % 50), dport: 7000, size: 120 }));

for (const workers of [0, 2]) {
  const label = workers === 0 ? 'capture -q' : `capture --workers ${workers} -q`;
  test(`${label} --metrics: received equals the frames sent, 0 drops, promtool accepts the exposition`, { skip: needRoot }, async () => {
    await withVeth(async ({ a, b }) => {
      const port = await freeTcpPort();
      const r = await start(['capture', '-i', b, '-q', '--metrics', `127.0.0.1:${port}`, ...(workers ? ['--workers', String(workers)] : [])],
        workers ? /capturing on .* with 2 workers/ : /listening on/);
      try {
        assert.match(r.err(), new RegExp(`metrics on http://127\\.0\\.0\\.1:${port}/metrics`));
        const sent = frames(1500);
        const tx = new RawSender(a);
        tx.send(sent);
        tx.close();
        const text = await scrapeUntil(port, 'netring_packets_received_total', sent.length);
        const rx = metricSum(text, 'netring_packets_received_total');
        assert.equal(rx.sum, sent.length);
        assert.deepEqual(rx.labels.sort(), workers ? ['{worker="0"}', '{worker="1"}'] : ['{worker="0"}']);
        assert.equal(metricSum(text, 'netring_packets_dropped_total').sum, 0);
        assert.equal(metricSum(text, 'netring_ring_freezes_total').sum, 0);
      } finally {
        r.child.kill('SIGINT');
      }
      assert.equal(await r.exit, 0, r.err());
    });
  });
}

test('gen --metrics: packets and bytes sent are served while sending, promtool accepts them, and the end agrees with the summary', { skip: needRoot }, async () => {
  await withVeth(async ({ a }) => {
    const port = await freeTcpPort();
    const r = await start(['gen', '-i', a, '--rate', '2000pps', '--seconds', '60', '--size', '100', '--json', '-q', '--metrics', `127.0.0.1:${port}`], /metrics on http/);
    try {
      const first = await scrapeUntil(port, 'netring_packets_sent_total', 100);
      const n1 = metricSum(first, 'netring_packets_sent_total').sum;
      assert.ok(n1 >= 100, `${n1} sent at the first scrape`);
      assert.equal(metricSum(first, 'netring_sent_bytes_total').sum, n1 * 100, '100-byte frames');
      assert.equal(metricSum(first, 'netring_packets_send_failed_total').sum, 0);
      const second = await scrapeUntil(port, 'netring_packets_sent_total', n1 + 200);
      assert.ok(metricSum(second, 'netring_packets_sent_total').sum > n1, 'the counter grows while sending');
    } finally {
      r.child.kill('SIGINT');
    }
    assert.equal(await r.exit, 0, r.err());
    const summary = JSON.parse(r.out().trim().split('\n').pop()!);
    assert.ok(summary.sent > 0);
  });
});

test('xdp --metrics: the program\'s map counters (named and count_by) are served per interface, equal to the frames sent, promtool accepts them; a taken port attaches nothing', { skip: needRoot }, async () => {
  await withVeth(async ({ a, b }) => {
    const port = await freeTcpPort();
    const r = await start(['xdp', '-i', b, '--program', 'count_by src >-> when "udp dst port 7000" (count seven >-> drop)', '--metrics', `127.0.0.1:${port}`], /attached to/);
    try {
      assert.match(r.err(), new RegExp(`metrics on http://127\\.0\\.0\\.1:${port}/metrics`));
      // 300 frames to port 7000 from 10.70.0.1 (120 B), 200 to port 7001 from 10.70.0.3 (90 B)
      const seven = Array.from({ length: 300 }, (_, i) => buildFrame({ src: '10.70.0.1', dst: '10.70.0.2', sport: 1000 + i, dport: 7000, size: 120 }));
      const other = Array.from({ length: 200 }, (_, i) => buildFrame({ src: '10.70.0.3', dst: '10.70.0.2', sport: 1000 + i, dport: 7001, size: 90 }));
      const tx = new RawSender(a);
      tx.send([...seven, ...other]);
      tx.close();
      const text = await scrapeUntil(port, 'netring_xdp_keyed_packets_total', 500);
      const lbl = (extra: string): string => `{interface="${b}",${extra}}`;
      const seen = metricSum(text, 'netring_xdp_packets_total');
      assert.ok(seen.labels.includes(lbl('counter="seven"')), seen.labels.join(' '));
      const one = (name: string, labels: string): number => {
        const m = new RegExp(`^${name}${labels.replace(/[{}.]/g, '\\$&')} ([0-9.e+]+)$`, 'm').exec(text);
        assert.ok(m, `${name}${labels} in\n${text}`);
        return Number(m[1]);
      };
      assert.equal(one('netring_xdp_packets_total', lbl('counter="seven"')), 300);
      assert.equal(one('netring_xdp_bytes_total', lbl('counter="seven"')), 300 * 120);
      assert.equal(one('netring_xdp_keyed_packets_total', lbl('by="src",key="10.70.0.1"')), 300);
      assert.equal(one('netring_xdp_keyed_bytes_total', lbl('by="src",key="10.70.0.1"')), 300 * 120);
      assert.equal(one('netring_xdp_keyed_packets_total', lbl('by="src",key="10.70.0.3"')), 200);
      assert.equal(one('netring_xdp_keyed_bytes_total', lbl('by="src",key="10.70.0.3"')), 200 * 90);
      assert.equal(metricSum(text, 'netring_xdp_keyed_packets_total').sum, 500, 'no other frame crossed the veth');
      // the port is now taken: a second xdp --metrics on it fails with one line and attaches nothing
      const again = cli(['xdp', '-i', a, '-f', 'udp', '--metrics', `127.0.0.1:${port}`]);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, new RegExp(`--metrics: 127\\.0\\.0\\.1:${port} is already in use`));
      assert.doesNotMatch(run('ip', ['-d', 'link', 'show', 'dev', a]), /prog\/xdp/);
    } finally {
      r.child.kill('SIGINT');
    }
    assert.equal(await r.exit, 0, r.err());
  });
});

test('capture --metrics with -r is refused: metrics go with a live capture', () => {
  const r = cli(['capture', '-r', '/dev/null', '--metrics', '9100']);
  assert.equal(r.code, 2, 'a usage error');
  assert.match(r.stderr, /--metrics goes with a live capture \(-i IFACE\), not -r/);
});
