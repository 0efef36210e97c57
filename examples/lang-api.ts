// examples/lang-api.ts: the packet language from code: filters, programs, what `netring compile` prints
import { compileFilter, compileProgram, compile, formatReport } from 'netring/lang';

// tcpdump expression -> classic BPF + JavaScript
const f = compileFilter('vlan and tcp port 80', { target: 'kernel' }); // 'file' (default) or 'kernel'
console.log(f.insns.length, 'instructions');  // [{code, jt, jf, k}]: give to openCapture({ filter })
console.log(f.bytes.length, 'bytes');         // struct sock_filter records (SO_ATTACH_FILTER)
// f.match(packet): the generated JS, snaplen on a match, 0 otherwise (any PacketLike)

// combinator program -> socket filter + fan-out steering + JS residual
const p = compileProgram('ip >-> udp >-> when (has_port 53) (inc dns) >-> steer_flow');
console.log(p.socketFilter?.insns.length);   // kernel socket filter (null: every packet passes)
console.log(p.steering);                     // the steering (SteerSpec or classes with match programs)
console.log(p.fanoutProgram(4).length);      // PACKET_FANOUT_CBPF program for 4 sockets
console.log(p.counters);                     // counter names (values: p.full.state.counters)
console.log(p.explain());                    // where every stage runs and why

// what `netring compile -d` prints
const rep = compile('tcp port 80', { language: 'auto', target: 'kernel' });
console.log(formatReport(rep, 'd'));         // also 'dd', 'ddd', 'js', 'explain', 'all'
