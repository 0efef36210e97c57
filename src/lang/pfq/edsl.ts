/**
 * Typed TypeScript EDSL of the combinator language.
 *
 *     import { pipe, ip, udp, when, port, count, steerFlow, compileProgram } from 'netring/lang';
 *     const prog = compileProgram(pipe(ip, udp, when(port(53), count('dns')), steerFlow));
 *
 * Predicates (`Predicate`) can stand wherever a computation is expected:
 * in a pipeline a predicate is a filter. A string is a tcpdump expression.
 * Every builder comes from the same vocabulary as the text syntax.
 */
import type { CmpOp, CountKey, Fn, PPred, Prop } from './ast.js';
import { BUILTINS, compare, type Value } from './vocab.js';

export type Predicate = PPred;
export type Computation = Fn;
export type Property = Prop;
/** Anything usable as a pipeline stage: a computation, a predicate (filter) or a tcpdump expression. */
export type Stage = Fn | PPred | string;
/** A predicate or a tcpdump expression. */
export type PredLike = PPred | string;

function call(name: string, ...args: Value[]): Value {
  const b = BUILTINS.get(name);
  if (!b) throw new Error(`internal: no builtin ${name}`);
  return b.make(args);
}
const predOf = (name: string, ...args: Value[]): PPred => call(name, ...args).v as PPred;
const fnOf = (name: string, ...args: Value[]): Fn => call(name, ...args).v as Fn;
const propOf = (name: string): Prop => call(name).v as Prop;
const I = (n: number): Value => ({ t: 'int', v: n });
const C = (s: string): Value => ({ t: 'cidr', v: s });
const N = (s: string): Value => ({ t: 'name', v: s });

/** A tcpdump/pcap-filter expression as a predicate. */
export function tcpdump(expr: string): Predicate {
  return { k: 'pcap', text: expr };
}

function pred(p: PredLike): PPred {
  return typeof p === 'string' ? tcpdump(p) : p;
}

function stage(s: Stage): Fn {
  if (typeof s === 'string') return { k: 'filter', p: tcpdump(s) };
  if ('k' in s && ['pcap', 'meta', 'and', 'or', 'xor', 'not', 'const'].includes(s.k)) return { k: 'filter', p: s as PPred };
  return s as Fn;
}

/** Compose stages left to right (`>->`). */
export function pipe(...stages: Stage[]): Computation {
  return { k: 'seq', fs: stages.map(stage) };
}
/** Pass the packets `p` holds for. */
export function filter(p: PredLike): Computation {
  return { k: 'filter', p: pred(p) };
}
export function when(p: PredLike, f: Stage): Computation {
  return { k: 'when', p: pred(p), f: stage(f) };
}
export function unless(p: PredLike, f: Stage): Computation {
  return { k: 'when', p: { k: 'not', a: pred(p) }, f: stage(f) };
}
export function conditional(p: PredLike, f: Stage, g: Stage): Computation {
  return { k: 'cond', p: pred(p), f: stage(f), g: stage(g) };
}
/** Invert a filter. */
export function inv(f: Stage): Computation {
  return fnOf('inv', { t: 'fn', v: stage(f) });
}
/** Or of filters. */
export function par(...fs: Stage[]): Computation {
  return fnOf('par', { t: 'fns', v: fs.map(stage) });
}
export const unit: Computation = { k: 'unit' };

// Logic.
export function and(...ps: PredLike[]): Predicate {
  return ps.map(pred).reduce((a, b) => ({ k: 'and', a, b }));
}
export function or(...ps: PredLike[]): Predicate {
  return ps.map(pred).reduce((a, b) => ({ k: 'or', a, b }));
}
export function xor(a: PredLike, b: PredLike): Predicate {
  return { k: 'xor', a: pred(a), b: pred(b) };
}
export function not(a: PredLike): Predicate {
  return { k: 'not', a: pred(a) };
}

// Predicates (also usable as filters).
export const isIp = predOf('is_ip');
export const isIp6 = predOf('is_ip6');
export const isUdp = predOf('is_udp');
export const isTcp = predOf('is_tcp');
export const isSctp = predOf('is_sctp');
export const isIcmp = predOf('is_icmp');
export const isIcmp6 = predOf('is_icmp6');
export const isArp = predOf('is_arp');
export const isFlow = predOf('is_flow');
export const hasVlan = predOf('has_vlan');
export const isFrag = predOf('is_frag');
export const isFirstFrag = predOf('is_first_frag');
export const isMoreFrag = predOf('is_more_frag');
export const isBroadcast = predOf('is_broadcast');
export const isMulticast = predOf('is_multicast');
export const isIpBroadcast = predOf('is_ip_broadcast');
export const isIpMulticast = predOf('is_ip_multicast');
/** Short names, as filters in pipelines and as predicates in when/conditional. */
export const ip = isIp;
export const ip6 = isIp6;
export const udp = isUdp;
export const tcp = isTcp;
export const sctp = isSctp;
export const icmp = isIcmp;
export const icmp6 = isIcmp6;
export const arp = isArp;
export const flow = isFlow;
export const vlan = hasVlan;
export const hasVid = (n: number): Predicate => predOf('has_vid', I(n));
export const isL3Proto = (n: number): Predicate => predOf('is_l3_proto', I(n));
export const isL4Proto = (n: number): Predicate => predOf('is_l4_proto', I(n));
export const hasPort = (n: number): Predicate => predOf('has_port', I(n));
export const hasSrcPort = (n: number): Predicate => predOf('has_src_port', I(n));
export const hasDstPort = (n: number): Predicate => predOf('has_dst_port', I(n));
export const port = hasPort;
export const srcPort = hasSrcPort;
export const dstPort = hasDstPort;
export const hasAddr = (cidr: string): Predicate => predOf('has_addr', C(cidr));
export const hasSrcAddr = (cidr: string): Predicate => predOf('has_src_addr', C(cidr));
export const hasDstAddr = (cidr: string): Predicate => predOf('has_dst_addr', C(cidr));
export const addr = hasAddr;
export const hasMark = (n: number): Predicate => predOf('has_mark', I(n));
export const hasState = (n: number): Predicate => predOf('has_state', I(n));

// Properties and comparisons.
export const ipTos = propOf('ip_tos');
export const ipTotLen = propOf('ip_tot_len');
export const ipId = propOf('ip_id');
export const ipFrag = propOf('ip_frag');
export const ipTtl = propOf('ip_ttl');
export const ipProto = propOf('ip_proto');
export const tcpSource = propOf('tcp_source');
export const tcpDest = propOf('tcp_dest');
export const tcpHdrlen = propOf('tcp_hdrlen');
export const tcpFlags = propOf('tcp_flags');
export const udpSource = propOf('udp_source');
export const udpDest = propOf('udp_dest');
export const udpLen = propOf('udp_len');
export const icmpType = propOf('icmp_type');
export const icmpCode = propOf('icmp_code');
export const pktLen = propOf('pkt_len');
export const getMark = propOf('get_mark');
export const getState = propOf('get_state');
export const cmp = (p: Property, op: CmpOp, n: number): Predicate => compare(p, op, n);
export const lt = (p: Property, n: number): Predicate => compare(p, '<', n);
export const le = (p: Property, n: number): Predicate => compare(p, '<=', n);
export const eq = (p: Property, n: number): Predicate => compare(p, '==', n);
export const ne = (p: Property, n: number): Predicate => compare(p, '!=', n);
export const gt = (p: Property, n: number): Predicate => compare(p, '>', n);
export const ge = (p: Property, n: number): Predicate => compare(p, '>=', n);
export const anyBit = (p: Property, mask: number): Predicate => predOf('any_bit', { t: 'prop', v: p }, I(mask));
export const allBit = (p: Property, mask: number): Predicate => predOf('all_bit', { t: 'prop', v: p }, I(mask));

// Steering.
export const steerFlow = fnOf('steer_flow');
export const steerP2p = fnOf('steer_p2p');
export const steerIp = fnOf('steer_ip');
export const steerLink = fnOf('steer_link');
export const steerVlan = fnOf('steer_vlan');
export const steerRrobin = fnOf('steer_rrobin');
export const steerTo = (n: number): Computation => fnOf('steer_to', I(n));
export const steerField = (offset: number, size: number): Computation => fnOf('steer_field', I(offset), I(size));
export const steerFieldSymmetric = (off1: number, off2: number, size: number): Computation => fnOf('steer_field_symmetric', I(off1), I(off2), I(size));

// Actions.
export const drop = fnOf('drop');
export const pass = fnOf('pass');
export const broadcast = fnOf('broadcast');
export const logPacket = fnOf('log_packet');
export const classify = (n: number): Computation => fnOf('classify', I(n));
export const count = (name: string): Computation => fnOf('count', N(name));
export const inc = (name: string): Computation => fnOf('inc', N(name));
export const dec = (name: string): Computation => fnOf('dec', N(name));
export const mark = (n: number): Computation => fnOf('mark', I(n));
export const putState = (n: number): Computation => fnOf('put_state', I(n));
/** Packets and bytes per key (flow 5-tuple, source or destination address, VLAN id) in a hash map (XDP and tc programs). */
export const countBy = (key: CountKey): Computation => fnOf('count_by', N(key));
/** The frame leaves through interface `dev` (XDP and tc programs). */
export const forward = (dev: string): Computation => fnOf('forward', N(dev));
/** Forward to `dev`; attaching the program also attaches the mirror program on `dev` (XDP and tc programs). */
export const bridge = (dev: string): Computation => fnOf('bridge', N(dev));
/** A copy leaves through `dev`, the original goes on (tc programs). */
export const tee = (dev: string): Computation => fnOf('tee', N(dev));
/** The packet also goes to the kernel stack. */
export const kernel = fnOf('kernel');
/** Hand the packet to the kernel stack now. */
export const detour = fnOf('detour');
