// examples/pcap-ring-writer.ts: write each retired ring block to the file straight from ring memory
import { openCapture } from 'netring';
import { RingFileWriter } from 'netring/pcap';

const capture = openCapture({ iface: 'eth0' });
const w = new RingFileWriter(capture.ring, {
  path: 'out.pcapng', format: 'pcapng', linkType: 1, snaplen: 262144, name: 'eth0',
  blockSize: capture.geometry.blockSize,
  rotate: { sizeBytes: 100e6, count: 10 },            // optional: tcpdump's -C/-W (or seconds: -G)
  statistics: () => ({ received: capture.stats().kernelPackets, dropped: capture.stats().drops }),
});
setTimeout(() => capture.close(), 10_000);
for await (const batch of capture) await w.writeBlockAsync(batch);   // or writeBlock(batch) on a worker thread
w.close();
