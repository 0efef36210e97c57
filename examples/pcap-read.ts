// examples/pcap-read.ts: read a pcap or pcapng file record by record
import { openCaptureReader } from 'netring/pcap';

const r = openCaptureReader(process.argv[2] ?? 'in.pcapng');   // path, '-' (stdin), fd or Uint8Array
let packets = 0, bytes = 0;
for (const rec of r) { packets++; bytes += rec.wireLen; }     // rec: one reused FileRecord (PacketLike)
// or: for (let rec = r.next(); rec; rec = r.next()) {...}  /  r.forEach(rec => ...)
console.log(packets, 'packets,', bytes, 'bytes; kernel drops:', r.statistics[0]?.dropped ?? 'not recorded');
r.close();
