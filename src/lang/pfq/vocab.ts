/**
 * The vocabulary of the combinator language: predicates, properties,
 * filters, control combinators, steering functions and actions, each with
 * its argument types. The TypeScript EDSL (edsl.ts) and the text parser
 * (parser.ts) are both built from this table, so they cannot drift apart.
 *
 * Packet predicates and properties are defined as tcpdump expressions, so
 * they have exactly libpcap's meaning and compile to the same code.
 */
import type { SteerSpec } from '../steer/spec.js';
import { COUNT_KEYS, type Action, type CmpOp, type CountKey, type Fn, type PPred, type Prop } from './ast.js';

export type ParamType = 'int' | 'cidr' | 'str' | 'name' | 'pred' | 'fn' | 'prop' | 'fns';

/** A value of the language. */
export type Value =
  | { t: 'pred'; v: PPred }
  | { t: 'prop'; v: Prop }
  | { t: 'fn'; v: Fn }
  | { t: 'int'; v: number }
  | { t: 'str'; v: string }
  | { t: 'cidr'; v: string }
  | { t: 'name'; v: string }
  | { t: 'fns'; v: Fn[] };

export interface Builtin {
  name: string;
  params: ParamType[];
  /** What it returns, for error messages. */
  result: 'pred' | 'prop' | 'fn';
  doc: string;
  make(args: Value[]): Value;
}

/** Names PFQ has that netring refuses, with the reason. */
export const REFUSED: Record<string, string> = {
  steer_rss: 'steer_rss needs the NIC hash; use the fan-out group mode "hash" instead of a program',
  double_steer_ip: 'double steering (two sockets per packet) is not possible with PACKET_FANOUT, which delivers a packet to one socket',
  double_steer_mac: 'double steering (two sockets per packet) is not possible with PACKET_FANOUT, which delivers a packet to one socket',
  steer_local_ip: 'steer_local_ip needs the local addresses at run time; use conditional (has_src_addr NET) (steer_p2p) ...',
  steer_local_net: 'steer_local_net needs the local addresses at run time; use conditional (has_src_addr NET) ...',
  steer_key: 'steer_key is not implemented; use steer_field or steer_field_symmetric',
  tap: 'tap is not implemented; use tee DEV (tc programs)',
  link: 'link (several devices) is not implemented; use forward DEV',
  bloom: 'bloom filters are not implemented',
  bloom_src: 'bloom filters are not implemented',
  bloom_dst: 'bloom filters are not implemented',
  bloom_filter: 'bloom filters are not implemented',
  vlan_id_filter: 'use vlan_id N (one id) or par (vlan_id A) (vlan_id B)',
};

const pc = (name: string, text: string): PPred => ({ k: 'pcap', text, name });
const P = (v: PPred): Value => ({ t: 'pred', v });
const F = (v: Fn): Value => ({ t: 'fn', v });
const A = (act: Action): Value => F({ k: 'act', act });
const S = (s: SteerSpec, name: string): Value => F({ k: 'steer', s, name });
const int = (a: Value): number => a.v as number;
const str = (a: Value): string => String(a.v);
const filterOf = (name: string, text: string): Value => F({ k: 'filter', p: pc(name, text), name });

const table: Builtin[] = [];
function def(name: string, params: ParamType[], result: Builtin['result'], doc: string, make: (a: Value[]) => Value): void {
  table.push({ name, params, result, doc, make });
}

// ------------------------------------------------------------ predicates ---
const simplePreds: Array<[string, string, string]> = [
  ['is_ip', 'ip', 'IPv4'],
  ['is_ip6', 'ip6', 'IPv6'],
  ['is_udp', 'udp', 'UDP over IPv4 or IPv6'],
  ['is_tcp', 'tcp', 'TCP over IPv4 or IPv6'],
  ['is_sctp', 'sctp', 'SCTP over IPv4 or IPv6'],
  ['is_icmp', 'icmp', 'ICMP'],
  ['is_icmp6', 'icmp6', 'ICMPv6'],
  ['is_arp', 'arp', 'ARP'],
  ['is_flow', 'tcp or udp', 'TCP or UDP'],
  ['has_vlan', 'vlan', 'an 802.1Q/802.1ad tag (in the frame or in metadata)'],
  ['is_frag', 'ip[6:2] & 0x3fff != 0', 'an IPv4 fragment (first or later)'],
  ['is_first_frag', 'ip[6:2] & 0x1fff = 0 and ip[6] & 0x20 != 0', 'the first fragment of a fragmented IPv4 datagram'],
  ['is_more_frag', 'ip[6] & 0x20 != 0', 'an IPv4 fragment with more to follow'],
  ['is_broadcast', 'ether broadcast', 'Ethernet broadcast'],
  ['is_multicast', 'ether multicast', 'Ethernet multicast (or broadcast)'],
  ['is_ip_broadcast', 'ip and ip[16:4] = 0xffffffff', 'IPv4 to 255.255.255.255'],
  ['is_ip_multicast', 'ip multicast', 'IPv4 multicast'],
  ['is_ip6_multicast', 'ip6 multicast', 'IPv6 multicast'],
];
for (const [name, text, doc] of simplePreds) def(name, [], 'pred', doc, () => P(pc(name, text)));

const intPreds: Array<[string, (n: number) => string, string]> = [
  ['has_vid', (n) => `vlan ${n}`, 'VLAN id N'],
  ['is_l3_proto', (n) => `ether proto ${n}`, 'EtherType N'],
  ['is_l4_proto', (n) => `proto ${n}`, 'IP protocol N (IPv4 or IPv6)'],
  ['has_port', (n) => `port ${n}`, 'TCP/UDP/SCTP source or destination port N'],
  ['has_src_port', (n) => `src port ${n}`, 'source port N'],
  ['has_dst_port', (n) => `dst port ${n}`, 'destination port N'],
];
for (const [name, text, doc] of intPreds) def(name, ['int'], 'pred', doc, (a) => P(pc(`${name} ${int(a[0])}`, text(int(a[0])))));

const netPreds: Array<[string, string, string]> = [
  ['has_addr', 'net', 'source or destination address in CIDR'],
  ['has_src_addr', 'src net', 'source address in CIDR'],
  ['has_dst_addr', 'dst net', 'destination address in CIDR'],
];
for (const [name, kw, doc] of netPreds) def(name, ['cidr'], 'pred', doc, (a) => P(pc(`${name} ${str(a[0])}`, `${kw} ${cidrText(str(a[0]))}`)));

def('has_mark', ['int'], 'pred', 'the packet mark (set by mark N earlier) equals N', (a) => P({ k: 'meta', what: 'mark', op: '==', n: int(a[0]), name: `has_mark ${int(a[0])}` }));
def('has_state', ['int'], 'pred', 'the program state (put_state N) equals N', (a) => P({ k: 'meta', what: 'state', op: '==', n: int(a[0]), name: `has_state ${int(a[0])}` }));
def('tcpdump', ['str'], 'pred', 'any tcpdump/pcap-filter expression', (a) => P({ k: 'pcap', text: str(a[0]) }));
def('bpf', ['str'], 'pred', 'any tcpdump/pcap-filter expression', (a) => P({ k: 'pcap', text: str(a[0]) }));

/** A plain address is a /32 (or /128) network for has_addr. */
function cidrText(s: string): string {
  return s;
}

// ------------------------------------------------------------ properties ---
const props: Array<[string, string, string]> = [
  ['ip_tos', 'ip[1]', 'IPv4 TOS'],
  ['ip_tot_len', 'ip[2:2]', 'IPv4 total length'],
  ['ip_id', 'ip[4:2]', 'IPv4 identification'],
  ['ip_frag', 'ip[6:2]', 'IPv4 flags and fragment offset'],
  ['ip_ttl', 'ip[8]', 'IPv4 TTL'],
  ['ip_proto', 'ip[9]', 'IPv4 protocol'],
  ['tcp_source', 'tcp[0:2]', 'TCP source port (IPv4)'],
  ['tcp_dest', 'tcp[2:2]', 'TCP destination port (IPv4)'],
  ['tcp_hdrlen', '(tcp[12] & 0xf0) >> 2', 'TCP header length in bytes (IPv4)'],
  ['tcp_flags', 'tcp[13]', 'TCP flags (IPv4)'],
  ['udp_source', 'udp[0:2]', 'UDP source port (IPv4)'],
  ['udp_dest', 'udp[2:2]', 'UDP destination port (IPv4)'],
  ['udp_len', 'udp[4:2]', 'UDP length (IPv4)'],
  ['icmp_type', 'icmp[0]', 'ICMP type'],
  ['icmp_code', 'icmp[1]', 'ICMP code'],
  ['pkt_len', 'len', 'packet length on the wire'],
];
for (const [name, pcap, doc] of props) def(name, [], 'prop', doc, () => ({ t: 'prop', v: { k: 'prop', name, pcap } }));
def('get_mark', [], 'prop', 'the packet mark', () => ({ t: 'prop', v: { k: 'prop', name: 'get_mark', meta: 'mark' } }));
def('get_state', [], 'prop', 'the program state', () => ({ t: 'prop', v: { k: 'prop', name: 'get_state', meta: 'state' } }));

/** `prop OP n` as a predicate. */
export function compare(prop: Prop, op: CmpOp, n: number): PPred {
  const name = `${prop.name} ${op} ${n}`;
  if (prop.meta) return { k: 'meta', what: prop.meta, op, n: n >>> 0, name };
  const o = op === '==' ? '=' : op;
  return pc(name, `${prop.pcap} ${o} ${n >>> 0}`);
}
def('any_bit', ['prop', 'int'], 'pred', 'some bit of the mask is set in the property', (a) => {
  const p = a[0].v as Prop;
  if (!p.pcap) throw new TypeError('any_bit works on packet properties');
  return P(pc(`any_bit ${p.name} ${int(a[1])}`, `${p.pcap} & ${int(a[1]) >>> 0} != 0`));
});
def('all_bit', ['prop', 'int'], 'pred', 'every bit of the mask is set in the property', (a) => {
  const p = a[0].v as Prop;
  if (!p.pcap) throw new TypeError('all_bit works on packet properties');
  const m = int(a[1]) >>> 0;
  return P(pc(`all_bit ${p.name} ${m}`, `${p.pcap} & ${m} = ${m}`));
});

// --------------------------------------------------------------- filters ---
const simpleFilters: Array<[string, string]> = [
  ['ip', 'ip'], ['ip6', 'ip6'], ['udp', 'udp'], ['tcp', 'tcp'], ['sctp', 'sctp'], ['icmp', 'icmp'], ['icmp6', 'icmp6'],
  ['arp', 'arp'], ['flow', 'tcp or udp'], ['vlan', 'vlan'], ['no_frag', 'not (ip[6:2] & 0x3fff != 0)'],
  ['no_more_frag', 'not (ip[6] & 0x20 != 0)'],
];
for (const [name, text] of simpleFilters) def(name, [], 'fn', `filter: ${text}`, () => filterOf(name, text));
const intFilters: Array<[string, (n: number | string) => string]> = [
  ['l3_proto', (n) => `ether proto ${n}`], ['l4_proto', (n) => `proto ${n}`], ['port', (n) => `port ${n}`],
  ['src_port', (n) => `src port ${n}`], ['dst_port', (n) => `dst port ${n}`], ['vlan_id', (n) => `vlan ${n}`],
];
for (const [name, text] of intFilters) def(name, ['int'], 'fn', `filter: ${text('N')}`, (a) => filterOf(`${name} ${int(a[0])}`, text(int(a[0]))));
for (const [name, kw] of [['addr', 'net'], ['src_addr', 'src net'], ['dst_addr', 'dst net']] as const) {
  def(name, ['cidr'], 'fn', `filter: ${kw} CIDR`, (a) => filterOf(`${name} ${str(a[0])}`, `${kw} ${str(a[0])}`));
}
def('filter', ['pred'], 'fn', 'pass the packets the predicate holds for, drop the others', (a) => F({ k: 'filter', p: a[0].v as PPred }));

// --------------------------------------------------------------- control ---
def('when', ['pred', 'fn'], 'fn', 'apply the function when the predicate holds', (a) => F({ k: 'when', p: a[0].v as PPred, f: a[1].v as Fn }));
def('unless', ['pred', 'fn'], 'fn', 'apply the function unless the predicate holds', (a) => F({ k: 'when', p: { k: 'not', a: a[0].v as PPred }, f: a[1].v as Fn }));
def('conditional', ['pred', 'fn', 'fn'], 'fn', 'apply the first function if the predicate holds, else the second', (a) => F({ k: 'cond', p: a[0].v as PPred, f: a[1].v as Fn, g: a[2].v as Fn }));
def('inv', ['fn'], 'fn', 'invert a filter (pass what it drops)', (a) => F(invert(a[0].v as Fn)));
def('par', ['fns'], 'fn', 'or of filters: pass when any passes', (a) => F(parallel(a[0].v as Fn[])));
def('unit', [], 'fn', 'identity', () => F({ k: 'unit' }));

// -------------------------------------------------------------- steering ---
def('steer_flow', [], 'fn', 'symmetric 5-tuple hash (IP pair for other IP, MAC pair for non-IP)', () => S({ kind: 'flow' }, 'steer_flow'));
def('steer_p2p', [], 'fn', 'symmetric IP-pair hash', () => S({ kind: 'ip' }, 'steer_p2p'));
def('steer_ip', [], 'fn', 'symmetric IP-pair hash', () => S({ kind: 'ip' }, 'steer_ip'));
def('steer_link', [], 'fn', 'symmetric MAC-pair hash', () => S({ kind: 'mac' }, 'steer_link'));
def('steer_vlan', [], 'fn', 'VLAN id hash', () => S({ kind: 'vlan' }, 'steer_vlan'));
def('steer_rrobin', [], 'fn', 'spread evenly (random pick in the kernel program)', () => S({ kind: 'rrobin' }, 'steer_rrobin'));
def('steer_to', ['int'], 'fn', 'always socket N', (a) => S({ kind: 'to', index: int(a[0]) }, `steer_to ${int(a[0])}`));
def('steer_field', ['int', 'int'], 'fn', 'hash SIZE bytes at OFFSET', (a) => S({ kind: 'field', offset: int(a[0]), size: int(a[1]) }, `steer_field ${int(a[0])} ${int(a[1])}`));
def('steer_field_symmetric', ['int', 'int', 'int'], 'fn', 'symmetric hash of SIZE bytes at OFF1 and OFF2', (a) =>
  S({ kind: 'field', offset: int(a[0]), pairOffset: int(a[1]), size: int(a[2]) }, `steer_field_symmetric ${int(a[0])} ${int(a[1])} ${int(a[2])}`));

// --------------------------------------------------------------- actions ---
def('drop', [], 'fn', 'drop the packet', () => A({ a: 'drop' }));
def('pass', [], 'fn', 'keep the packet (identity)', () => A({ a: 'pass' }));
def('broadcast', [], 'fn', 'mark the packet for every class', () => A({ a: 'broadcast' }));
def('classify', ['int'], 'fn', 'set the packet class', (a) => A({ a: 'classify', n: int(a[0]) }));
def('class', ['int'], 'fn', 'set the packet class', (a) => A({ a: 'classify', n: int(a[0]) }));
def('inc', ['name'], 'fn', 'increment a counter', (a) => A({ a: 'count', name: str(a[0]), delta: 1 }));
def('dec', ['name'], 'fn', 'decrement a counter', (a) => A({ a: 'count', name: str(a[0]), delta: -1 }));
def('count', ['name'], 'fn', 'increment a counter', (a) => A({ a: 'count', name: str(a[0]), delta: 1 }));
def('mark', ['int'], 'fn', 'set the packet mark', (a) => A({ a: 'mark', n: int(a[0]) }));
def('put_state', ['int'], 'fn', 'set the program state', (a) => A({ a: 'state', n: int(a[0]) }));
def('log_packet', [], 'fn', 'flag the packet for logging', () => A({ a: 'log' }));
def('count_by', ['name'], 'fn', 'count packets and bytes per key in a hash map: flow (5-tuple), src or dst (address), vlan (VLAN id) (XDP and tc programs)', (a) => {
  const key = str(a[0]);
  if (!(COUNT_KEYS as readonly string[]).includes(key)) throw new TypeError(`count_by takes one of ${COUNT_KEYS.join(', ')}, not '${key}'`);
  return A({ a: 'count_by', key: key as CountKey });
});
def('forward', ['name'], 'fn', 'send the frame out of interface DEV, instead of to the kernel (XDP and tc programs)', (a) => A({ a: 'forward', dev: dev(a[0]) }));
def('bridge', ['name'], 'fn', 'forward to DEV, and attach the mirror program on DEV forwarding back (XDP and tc programs)', (a) => A({ a: 'bridge', dev: dev(a[0]) }));
def('tee', ['name'], 'fn', 'send a copy out of DEV and go on with the original (tc programs)', (a) => A({ a: 'tee', dev: dev(a[0]) }));
def('kernel', [], 'fn', 'the packet also goes to the kernel stack (what an XDP/tc program does at its end anyway)', () => A({ a: 'kernel' }));
def('detour', [], 'fn', 'hand the packet to the kernel stack now, skipping the rest of the program (XDP and tc programs)', () => A({ a: 'detour' }));

/** An interface name: 1..15 bytes, no '/', no whitespace (IFNAMSIZ). */
function dev(v: Value): string {
  const s = String(v.v);
  if (s.length === 0 || s.length > 15 || /[\s/:]/.test(s)) throw new TypeError(`'${s}' is not an interface name (1..15 characters, no '/', ':' or spaces)`);
  return s;
}

/** The predicate a pure filter computation passes on, or null when it is not a pure filter. */
export function filterPred(f: Fn): PPred | null {
  switch (f.k) {
    case 'filter':
      return f.p;
    case 'unit':
      return { k: 'const', v: true };
    case 'act':
      if (f.act.a === 'drop') return { k: 'const', v: false };
      if (f.act.a === 'pass') return { k: 'const', v: true };
      return null;
    case 'seq': {
      let p: PPred = { k: 'const', v: true };
      for (const g of f.fs) {
        const q = filterPred(g);
        if (!q) return null;
        p = p.k === 'const' && p.v ? q : { k: 'and', a: p, b: q };
      }
      return p;
    }
    case 'when': {
      const q = filterPred(f.f);
      return q ? { k: 'or', a: { k: 'not', a: f.p }, b: q } : null;
    }
    case 'cond': {
      const a = filterPred(f.f);
      const b = filterPred(f.g);
      return a && b ? { k: 'or', a: { k: 'and', a: f.p, b: a }, b: { k: 'and', a: { k: 'not', a: f.p }, b } } : null;
    }
    default:
      return null;
  }
}

function invert(f: Fn): Fn {
  const p = filterPred(f);
  if (!p) throw new TypeError('inv needs a filter (a computation that only passes or drops packets)');
  return { k: 'filter', p: { k: 'not', a: p }, name: `inv (${showInline(f)})` };
}

function parallel(fs: Fn[]): Fn {
  if (fs.length === 0) throw new TypeError('par needs at least one filter');
  let p: PPred | null = null;
  for (const f of fs) {
    const q = filterPred(f);
    if (!q) throw new TypeError(`par combines filters; ${showInline(f)} is not one`);
    p = p ? { k: 'or', a: p, b: q } : q;
  }
  return { k: 'filter', p: p!, name: `par ${fs.map((f) => `(${showInline(f)})`).join(' ')}` };
}

function showInline(f: Fn): string {
  return f.k === 'filter' && f.name ? f.name : f.k === 'steer' ? f.name : f.k;
}

/** Builtins by name. */
export const BUILTINS: ReadonlyMap<string, Builtin> = new Map(table.map((b) => [b.name, b]));
