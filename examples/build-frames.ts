// examples/build-frames.ts: frames with IPv4 options, IPv6 extension headers and ARP, decoded back
import { buildPacket } from 'netring/build';
import { Layers, summary } from 'netring/decode';

const frames = [
  buildPacket({ dst: '10.0.0.2', dport: 53, ipOptions: [148, 4, 0, 0] }),    // router alert: IHL 6
  buildPacket({ src: 'fd00::1', dst: 'fd00::2', proto: 'tcp', dport: 443,
    ipv6Ext: [{ type: 'hop-by-hop' }, { type: 'fragment', more: true, id: 7 }] }),
  buildPacket({ arp: { op: 'request' }, src: '10.0.0.1', dst: '10.0.0.2' }), // to ff:ff:ff:ff:ff:ff
];
const layers = new Layers();
for (const t of frames) {
  layers.decode(t.bytes, 0, t.length, 1);                                  // linktype 1: Ethernet
  console.log(`${t.length} bytes, l3 at ${t.l3Off}, l4 at ${t.l4Off}: ${summary(layers)}`);
}
