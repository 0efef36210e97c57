// examples/lang-edsl.ts: the program 'ip >-> udp >-> when (has_port 53) (inc dns) >-> steer_flow' built in TypeScript
import { pfq, compileProgram } from 'netring/lang';
const { pipe, ip, udp, when, port, count, steerFlow } = pfq;
const prog = compileProgram(pipe(ip, udp, when(port(53), count('dns')), steerFlow));
console.log(prog.explain());
