/**
 * netring flows -> Kafka against a real Kafka protocol endpoint: librdkafka's
 * mock cluster (a tiny C helper built here with cc against librdkafka-dev).
 * Records are consumed back with a kafkajs consumer group.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { trafficMix, writePcap } from '../helpers/flow-traffic.js';
import { MAIN } from '../helpers/cli.js';

const SRC = fileURLToPath(new URL('../../../test/helpers/kafka-mock.c', import.meta.url));
let dir = '';
let bin = '';
let pcap = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'netring-kafka-'));
  bin = join(dir, 'kafka-mock');
  execFileSync('cc', ['-O2', '-o', bin, SRC, '-lrdkafka']);
  pcap = join(dir, 'mix.pcap');
  writePcap(pcap, trafficMix().packets);
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function startMock(topic: string): Promise<{ p: ChildProcess; bootstrap: string }> {
  const p = spawn(bin, [topic, '2'], { stdio: ['pipe', 'pipe', 'ignore'] });
  let out = '';
  p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  for (let i = 0; i < 300 && !out.includes('\n'); i++) await new Promise((r) => setTimeout(r, 50));
  const bootstrap = out.split('\n')[0];
  assert.match(bootstrap, /^127\.0\.0\.1:\d+$/);
  return { p, bootstrap };
}

async function consumeAll(bootstrap: string, topic: string, want: number): Promise<Array<{ key: string; value: Record<string, unknown> }>> {
  const kafka = new Kafka({ clientId: 'netring-test', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const c = kafka.consumer({ groupId: `netring-test-${process.pid}-${topic}` });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  const got: Array<{ key: string; value: Record<string, unknown> }> = [];
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`consumed ${got.length} of ${want}`)), 30000);
    void c.run({
      eachMessage: async ({ message }) => {
        got.push({ key: message.key!.toString(), value: JSON.parse(message.value!.toString()) as Record<string, unknown> });
        if (got.length >= want) { clearTimeout(t); resolve(); }
      },
    });
  });
  await c.disconnect();
  return got;
}

function runFlows(bootstrap: string, topic: string, extra: string[] = [], log?: { err: string }): Promise<{ code: number | null; out: string }> {
  const p = spawn(process.execPath, [MAIN, 'flows', '-r', pcap, '-q', '--json', '--kafka', bootstrap, '--kafka-topic', topic, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  p.stderr.on('data', (d: Buffer) => { if (log) log.err += d.toString(); });
  return new Promise((r) => p.on('exit', (code) => r({ code, out })));
}

test('one JSON message per flow record, keyed by the flow key, consumed back by a consumer group', async () => {
  const m = await startMock('flows');
  try {
    const r = await runFlows(m.bootstrap, 'flows');
    assert.equal(r.code, 0);
    const s = JSON.parse(r.out.trim().split('\n').pop()!);
    assert.deepEqual([s.kafka.sent, s.kafka.dropped], [9, 0]);
    const got = await consumeAll(m.bootstrap, 'flows', 9);
    assert.equal(got.length, 9);
    const tcp = got.find((g) => g.key === '6 10.1.0.1:40001-10.2.0.1:80');
    assert.ok(tcp, got.map((g) => g.key).join(', '));
    assert.deepEqual([tcp.value.packets, tcp.value.bytes, tcp.value.rpackets, tcp.value.rbytes, tcp.value.end], [9, 1124, 7, 5122, 'end']);
    assert.ok(got.some((g) => g.key.startsWith('6 [fd00::1]:40002-[fd00::2]:443')));
  } finally {
    m.p.stdin!.end();
    m.p.kill();
  }
});

/** Send a command to the mock ("down" / "up") and wait for its "ok". */
async function mockCommand(m: { p: ChildProcess }, cmd: 'down' | 'up'): Promise<void> {
  let out = '';
  const on = (d: Buffer): void => { out += d.toString(); };
  m.p.stdout!.on('data', on);
  m.p.stdin!.write(`${cmd}\n`);
  for (let i = 0; i < 300 && !out.includes(`ok ${cmd}`); i++) await new Promise((r) => setTimeout(r, 50));
  m.p.stdout!.off('data', on);
  assert.match(out, new RegExp(`ok ${cmd}`));
}

test('broker down when the records are ready, back 3 s later: every record is retried and consumed, none dropped, the failures counted', async () => {
  const m = await startMock('restart');
  try {
    await mockCommand(m, 'down');
    const log = { err: '' };
    const run = runFlows(m.bootstrap, 'restart', [], log);
    // the broker comes back 3 s after the first failed attempt (a loaded machine may take
    // longer than that to start the command)
    for (let i = 0; i < 300 && !/kafka .*retried every 500 ms/.test(log.err); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(log.err, /netring flows: kafka 127\.0\.0\.1:\d+: .+; records are queued and retried every 500 ms/);
    await new Promise((r) => setTimeout(r, 3000));
    await mockCommand(m, 'up');
    const r = await run;
    assert.equal(r.code, 0);
    const s = JSON.parse(r.out.trim().split('\n').pop()!);
    assert.equal(s.kafka.sent, 9);
    assert.equal(s.kafka.dropped, 0);
    assert.ok(s.kafka.failures >= 1, `${s.kafka.failures} failed attempts while the broker was down`);
    assert.match(log.err, /kafka 127\.0\.0\.1:\d+: sending again/, 'one line when the broker is back');
    const got = await consumeAll(m.bootstrap, 'restart', 9);
    assert.equal(new Set(got.map((g) => g.key)).size, 9, 'each flow record once (at least once delivery: no duplicates here)');
  } finally {
    m.p.stdin!.end();
    m.p.kill();
  }
});

test('broker that never comes back: the run ends after --kafka-wait, every record counted as dropped, the last error reported', async () => {
  const m = await startMock('gone');
  try {
    await mockCommand(m, 'down');
    const r = await runFlows(m.bootstrap, 'gone', ['--kafka-wait', '2']);
    assert.equal(r.code, 0);
    const s = JSON.parse(r.out.trim().split('\n').pop()!);
    assert.deepEqual([s.kafka.sent, s.kafka.dropped], [0, 9]);
    assert.ok(s.kafka.failures >= 1);
    assert.notEqual(s.kafka.lastError, '');
  } finally {
    m.p.stdin!.end();
    m.p.kill();
  }
});
