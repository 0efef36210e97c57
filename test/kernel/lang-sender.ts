/**
 * Frame sender for test/kernel/lang-kernel.test.ts, run as a child process
 * inside the test's network namespace: reads length-prefixed frames from the
 * file in NETRING_LANG_FRAMES, and sends all of them on NETRING_LANG_IFACE
 * each time a line arrives on stdin, answering "sent N". Inert unless
 * NETRING_LANG_SENDER=1 (the test runner also loads this file).
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { RawSender } from '../helpers/lab.js';

if (process.env.NETRING_LANG_SENDER === '1') {
  const buf = readFileSync(process.env.NETRING_LANG_FRAMES!);
  const frames: Uint8Array[] = [];
  for (let o = 0; o + 4 <= buf.length; ) {
    const n = buf.readUInt32LE(o);
    frames.push(new Uint8Array(buf.subarray(o + 4, o + 4 + n)));
    o += 4 + n;
  }
  const tx = new RawSender(process.env.NETRING_LANG_IFACE!);
  const rl = createInterface({ input: process.stdin });
  // Bursts overflow the receive backlog (netdev_max_backlog): send in small slices with pauses.
  let busy: Promise<void> = Promise.resolve();
  rl.on('line', () => {
    busy = busy.then(async () => {
      let n = 0;
      for (let i = 0; i < frames.length; i += 64) {
        n += tx.send(frames.slice(i, i + 64));
        await new Promise((r) => setTimeout(r, 1));
      }
      process.stdout.write(`sent ${n}\n`);
    });
  });
  rl.on('close', () => void busy.then(() => tx.close()));
}
