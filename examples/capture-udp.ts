// examples/capture-udp.ts: count UDP packets on an interface for a while, keep copies of the first ten
import { openCapture } from 'netring';

const iface = process.argv[2] ?? 'eth0';
const seconds = Number(process.argv[3] ?? 10);
const cap = openCapture({ iface, blockSize: 1 << 20, blockCount: 64 });
const saved: Uint8Array[] = [];
let udp = 0;
setTimeout(() => cap.close(), seconds * 1000);   // stop: the loop below ends
for await (const batch of cap) {                 // one retired block per batch
  for (let p = batch.next(); p !== null; p = batch.next()) {
    // p is ONE reused view: fields are loads from the ring, nothing is copied
    if (p.caplen >= 34 && p.data[p.offset + 23] === 17) udp++;
    if (saved.length < 10) saved.push(p.copy());   // copying is explicit
  }
}                                                // the block goes back to the kernel here
console.log(udp, 'UDP packets;', saved.length, 'kept');
