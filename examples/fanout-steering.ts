// examples/fanout-steering.ts: two sockets in one fan-out group steered by a generated classic BPF program
import { openCapture } from 'netring';
import { steeringProgram, fanoutSettingsOf } from 'netring/fanout';

const prog = steeringProgram({ kind: 'flow' }, 2, [1, 3]);   // flow hash, weights 1:3
const a = openCapture({ iface: 'eth0', fanout: { id: 42, mode: 'cbpf', program: prog } });
const b = openCapture({ iface: 'eth0', fanout: { id: 42, mode: 'cbpf' } });
console.log(fanoutSettingsOf(b.fd));   // { id: 42, mode: 'cbpf', defrag: false, ... }
a.close();
b.close();
