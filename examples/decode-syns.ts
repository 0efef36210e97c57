// examples/decode-syns.ts: decode headers in place, count TCP SYNs, print one tcpdump-like line per SYN
import { openCapture } from 'netring';
import { Layers, summary } from 'netring/decode';

const cap = openCapture({ iface: process.argv[2] ?? 'eth0' });
setTimeout(() => cap.close(), 10_000);       // stop after 10 s
const l = new Layers();                      // reused across packets
let syns = 0;
for await (const batch of cap) {
  for (let p = batch.next(); p !== null; p = batch.next()) {
    if (l.decodePacket(p) !== 0) continue;   // Ethernet/VLAN/ARP/IPv4/IPv6/TCP/UDP/ICMP/GRE/VXLAN
    if (l.ipProto === 6 && (l.tcpFlags & 0x02) !== 0) {
      syns++;
      console.log(summary(l, p.data));       // tcpdump-like line (allocates; not for hot loops)
    }
  }
}
console.log(syns, 'SYNs');
