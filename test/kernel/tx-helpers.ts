/** Helpers of the TX kernel tests: receive frames (VLAN tags put back) while a sender runs. */
import type { Capture } from '../../src/index.js';
import type { PacketView } from '../../src/ring/index.js';
import { sleep } from '../helpers/netns.js';

/** Seconds subtracted from RX times so ns values stay exact in a double. */
const BASE_SEC = Math.floor(Date.now() / 1000) - 60;

/** A received frame: bytes with a metadata VLAN tag re-inserted, and the kernel RX time in ns since a recent base. */
export interface Rx {
  bytes: Uint8Array;
  tNs: number;
}

/** Copy a packet, putting a VLAN tag the device moved into metadata back in the frame. */
export function frameOf(p: PacketView): Uint8Array {
  const c = p.copy();
  if (!p.vlanValid) return c;
  const f = new Uint8Array(c.length + 4);
  f.set(c.subarray(0, 12));
  const tpid = p.vlanTpid || 0x8100;
  f[12] = tpid >> 8; f[13] = tpid & 255; f[14] = p.vlanTci >> 8; f[15] = p.vlanTci & 255;
  f.set(c.subarray(12), 16);
  return f;
}

/** Drain a capture until n frames arrived or ms passed. */
export async function collectFrames(cap: Capture, n: number, ms = 3000): Promise<Uint8Array[]> {
  return (await collect(cap, () => false, n, ms)).map((r) => r.bytes);
}

/**
 * Receive until `done()` is true and then `graceMs` more (or n frames, or ms
 * in total): frames with their RX times. Polls so the event loop stays free
 * for worker messages.
 */
export async function collect(cap: Capture, done: () => boolean, n = Infinity, ms = 30000, graceMs = 150): Promise<Rx[]> {
  const out: Rx[] = [];
  const deadline = Date.now() + ms;
  let doneAt = 0;
  while (out.length < n && Date.now() < deadline) {
    if (doneAt === 0 && done()) doneAt = Date.now();
    if (doneAt !== 0 && Date.now() - doneAt > graceMs) break;
    const b = cap.tryBatch();
    if (b === null) { await sleep(2); continue; }
    for (let p = b.next(); p !== null; p = b.next()) out.push({ bytes: frameOf(p), tNs: (p.sec - BASE_SEC) * 1e9 + p.nsec });
  }
  cap.tryBatch();
  return out;
}
