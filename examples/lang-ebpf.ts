// examples/lang-ebpf.ts: a tcpdump filter as an XDP program (the eBPF listing)
import { lowerFilter, generateEbpf } from 'netring/lang';
const { dag } = lowerFilter('tcp port 80', { target: 'file' }); // 'kernel' for tc and socket
const prog = generateEbpf(dag, { hook: 'xdp' });
console.log(prog.insns.length, 'eBPF instructions');           // encodeEbpf() / progLoad() from netring/bpf
