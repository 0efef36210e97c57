// examples/tx-ring.ts: send 1000 DNS-port frames from a TX ring, copying the frame once per slot
import { openTxRing } from 'netring/tx';
import { buildPacket } from 'netring/build';
const ring = openTxRing({ iface: process.argv[2] ?? 'veth0', maxFrameLen: 64 });
const frame = buildPacket({ dst: '10.0.0.2', dport: 53, size: 64 }).bytes;
for (let i = 0; i < 1000; i++) {
  const off = ring.next();                 // free slot: offset of its frame data in ring.u8
  if (off < 0) { ring.wait(10); i--; continue; }
  if (ring.tags[ring.slot] !== 1) { ring.u8.set(frame, off); ring.tags[ring.slot] = 1; }  // copy once per slot
  ring.commit(frame.length);               // slot -> TP_STATUS_SEND_REQUEST
  if (i % 256 === 255) ring.flush();       // one send(fd, NULL, 0) for the batch
}
ring.drain();
console.log(ring.stats());                 // { queued, sent, failed, inFlight, kicks, pressure }
ring.close();
