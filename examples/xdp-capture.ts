// examples/xdp-capture.ts: receive through an AF_XDP socket, the filter running in XDP
import { openCapture } from 'netring';

const cap = openCapture({ backend: 'xdp', iface: 'eth0', queue: 0, filter: 'udp port 53' });
console.log(cap.zeroCopy ? 'zero-copy' : 'copy mode', cap.xdpMode);
setTimeout(() => cap.close(), 10_000);
let bytes = 0;
for await (const batch of cap) {
  for (let p = batch.next(); p !== null; p = batch.next()) bytes += p.caplen;
}
console.log(bytes, 'bytes of DNS');
