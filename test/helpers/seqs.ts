/**
 * Reading tagged frames back from a set of captures: each test frame carries
 * a sequence number in its last 4 bytes (big-endian), and the captures'
 * share of them tells where the kernel (fan-out, XDP steering) put each one.
 */
import type { Capture } from '../../src/index.js';
import { sleep } from './netns.js';

/**
 * Read every capture until `total` frames arrived (or `timeoutMs` passed),
 * then `settleMs` more, so a frame too many shows up as a count mismatch:
 * the sequence numbers each capture got, in arrival order.
 */
export async function gatherSeqs(caps: Capture[], total: number, timeoutMs = 30_000, settleMs = 300): Promise<number[][]> {
  const got: number[][] = caps.map(() => []);
  let n = 0;
  const take = (): boolean => {
    let any = false;
    caps.forEach((c, i) => {
      for (let b = c.tryBatch(); b !== null; b = c.tryBatch()) {
        any = true;
        for (let p = b.next(); p !== null; p = b.next()) {
          const end = p.offset + p.caplen;
          got[i].push(new DataView(p.data.buffer, end - 4, 4).getUint32(0));
          n++;
        }
      }
    });
    return any;
  };
  const deadline = Date.now() + timeoutMs;
  while (n < total && Date.now() < deadline) if (!take()) await sleep(5);
  const settle = Date.now() + settleMs;
  while (Date.now() < settle) if (!take()) await sleep(20);
  return got;
}
