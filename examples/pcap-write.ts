// examples/pcap-write.ts: capture into a pcapng file that stays valid on Ctrl-C, with the kernel's drops in its ISB
import { openCapture } from 'netring';
import { openCaptureWriter, installSignalFlush } from 'netring/pcap';

const cap = openCapture({ iface: 'eth0' });
const w = openCaptureWriter('out.pcapng', { name: 'eth0', snaplen: 262144 }); // format from the extension
installSignalFlush(w);                          // file stays valid on SIGINT/SIGTERM/SIGHUP/exit
w.setStatisticsSource(() => { const st = cap.stats(); return { received: st.kernelPackets, dropped: st.drops }; }); // ISB written by close()
setTimeout(() => cap.close(), 10_000);
for await (const batch of cap) {
  for (let p = batch.next(); p !== null; p = batch.next()) w.writePacket(p);   // any PacketLike: ring slot or file record
}
w.close();                                      // idempotent
