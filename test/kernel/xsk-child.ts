/**
 * Child process for the AF_XDP tests: opens an AF_XDP capture on argv[2]
 * (queue argv[3], options as JSON in argv[4]), prints READY and waits to be
 * killed (or, with argv[5] = 'crash', dies of an uncaught exception); on an
 * error prints `ERROR <code> <message>` and exits 1.
 */
import { openCapture } from '../../src/index.js';

const [iface, queue, json, what] = process.argv.slice(2);
try {
  const cap = openCapture({ backend: 'xdp', iface, queue: Number(queue ?? 0), ...(json ? JSON.parse(json) : {}) });
  process.stdout.write(`READY ${cap.zeroCopy ? 'zerocopy' : 'copy'} ${cap.xdpMode}\n`);
  setInterval(() => { cap.tryBatch(); }, 50);
  if (what === 'crash') setTimeout(() => { throw new Error('xsk-child crashes on purpose'); }, 100);
} catch (e) {
  const err = e as { code?: string; message: string };
  process.stdout.write(`ERROR ${err.code ?? '?'} ${err.message.split('\n')[0]}\n`);
  process.exit(1);
}
