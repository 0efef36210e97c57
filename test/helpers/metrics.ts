/** Prometheus endpoint helpers for the tests: a free port, scraping, promtool, sums of samples. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';

/** A TCP port on 127.0.0.1 nobody listens on right now. */
export async function freeTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Sum of a metric's samples in an exposition text, and the label sets seen. */
export function metricSum(text: string, name: string): { sum: number; labels: string[] } {
  let sum = 0;
  const labels: string[] = [];
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(\\{[^}]*\\})? ([0-9.e+-]+)$`).exec(line);
    if (m) { sum += Number(m[2]); labels.push(m[1] ?? ''); }
  }
  return { sum, labels };
}

/** GET /metrics, assert HTTP 200 and that `promtool check metrics` accepts the exposition; returns the text. */
export async function scrapeChecked(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
  return text;
}
