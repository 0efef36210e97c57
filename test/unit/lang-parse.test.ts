/**
 * pcap-filter front end: lexing, libpcap's grammar quirks, and the error
 * message table (position, caret, reason) for malformed input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lex } from '../../src/lang/tcpdump/lexer.js';
import { parsePcap } from '../../src/lang/tcpdump/parser.js';
import type { Arth, Expr } from '../../src/lang/tcpdump/ast.js';
import { compileFilter } from '../../src/lang/filter.js';
import { LangError } from '../../src/lang/errors.js';
import { runBpf } from '../../src/bpf/index.js';

function shape(e: Expr | null): string {
  if (!e) return '';
  switch (e.k) {
    case 'and':
    case 'or':
      return `(${shape(e.l)} ${e.k} ${shape(e.r)})`;
    case 'not':
      return `!${shape(e.e)}`;
    case 'prim':
      return `${e.q.proto}/${e.q.dir}/${e.q.addr}:${'v' in e.id ? e.id.v : 's' in e.id ? e.id.s : ''}`;
    case 'abbrev':
      return e.proto;
    case 'rel':
      return `${arth(e.l)}${e.op}${arth(e.r)}`;
    default:
      return e.k;
  }
}
function arth(a: Arth): string {
  switch (a.k) {
    case 'num':
      return String(a.v);
    case 'len':
      return 'len';
    case 'neg':
      return `-${arth(a.e)}`;
    case 'load':
      return `${a.proto}[${arth(a.index)}:${a.size}]`;
    case 'bin':
      return `(${arth(a.l)}${a.op}${arth(a.r)})`;
  }
}

test('lexer: keywords, named numbers, escapes, addresses, longest match', () => {
  const t = lex('tcp-syn tcp-synx \\tcp ip6 ip6x 10.0.0.1 10.0.1 2001:db8::1 ::ffff:1.2.3.4 00:11:22:33:44:55 0011.2233.4455 1-100 0x1F 010 == >= <<');
  const got = t.map((x) => `${x.kind}:${x.kind === 'num' ? x.value : x.text}`);
  assert.deepEqual(got, [
    'num:2', 'id:tcp-synx', 'id:tcp', 'kw:ip6', 'id:ip6x', 'hid:10.0.0.1', 'hid:10.0.1', 'hid6:2001:db8::1',
    'hid6:::ffff:1.2.3.4', 'eid:00:11:22:33:44:55', 'eid:0011.2233.4455', 'id:1-100', 'num:31', 'num:8',
    'op:=', 'op:>=', 'op:<<', 'eof:',
  ]);
  assert.equal(lex('ether')[0].text, 'link');
  assert.equal(lex('&&')[0].text, 'and');
  assert.equal(lex('icmp6-echo')[0].value, 128);
});

test('and/or have equal precedence and associate left (libpcap)', () => {
  assert.equal(shape(parsePcap('ip or ip6 and tcp')), '((ip or ip6) and tcp)');
  assert.equal(shape(parsePcap('tcp and udp or icmp')), '((tcp and udp) or icmp)');
  assert.equal(shape(parsePcap('not tcp and udp')), '(!tcp and udp)');
  assert.equal(shape(parsePcap('! (tcp || udp)')), '!(tcp or udp)');
});

test('a bare identifier after and/or reuses the previous qualifiers', () => {
  assert.equal(shape(parsePcap('host 10.0.0.1 or 10.0.0.2')), '(default/default/host:10.0.0.1 or default/default/host:10.0.0.2)');
  assert.equal(shape(parsePcap('tcp dst port 80 or 443 and not 8080')), '((tcp/dst/port:80 or tcp/dst/port:443) and !tcp/dst/port:8080)');
  assert.equal(shape(parsePcap('src net 10.0.0.0/8 or (192.168.0.0/16 and 172.16.0.0/12)')).split(' or ')[0], '(default/src/net:10.0.0.0');
  // A relation after `or` is a term, not an identifier.
  assert.equal(shape(parsePcap('port 80 or 81 = 1')), '(default/default/port:80 or 81=1)');
});

test('accessor arithmetic: yacc precedence, % and ^ take everything to their right', () => {
  assert.equal(arth((parsePcap('ip[0] + 1 * 2 = 3') as { l: Arth }).l), '(ip[0:1]+(1*2))');
  assert.equal(arth((parsePcap('ip[0] - 1 - 2 = 3') as { l: Arth }).l), '((ip[0:1]-1)-2)');
  assert.equal(arth((parsePcap('ip[0] * 4 % 3 = 1') as { l: Arth }).l), '(ip[0:1]*(4%3))');
  assert.equal(arth((parsePcap('ip[0] & 1 ^ 3 | 4 = 7') as { l: Arth }).l), '(ip[0:1]&(1^(3|4)))');
  assert.equal(arth((parsePcap('ip[0] | 1 & 2 = 3') as { l: Arth }).l), '(ip[0:1]|(1&2))');
  assert.equal(arth((parsePcap('-ip[0] + 1 = 3') as { l: Arth }).l), '(-ip[0:1]+1)');
  assert.equal(arth((parsePcap('tcp[2:2] >> 1 << 2 = 0') as { l: Arth }).l), '((tcp[2:2]>>1)<<2)');
});

test('the arithmetic quirks match what the program computes', () => {
  // ip[0]*4%3 is ip[0]*(4%3) = ip[0]: the filter matches a 0x45 first byte with "= 0x45".
  const pkt = new Uint8Array([...new Array(12).fill(0), 0x08, 0x00, 0x45, ...new Array(19).fill(0)]);
  const f = compileFilter('ip[0] * 4 % 3 = 0x45');
  assert.notEqual(runBpf(f.insns, pkt, 0, pkt.length, pkt.length), 0);
  const g = compileFilter('ip[0] * 4 % 3 = 1');
  assert.equal(runBpf(g.insns, pkt, 0, pkt.length, pkt.length), 0);
});

/** Malformed inputs: [expression, start, end, reason fragment]. */
const ERRORS: Array<[string, number, number, string]> = [
  ['tcp port', 8, 9, 'expected an address, port, number or name; found end of expression'],
  ['port 80 and', 11, 12, 'a primitive (such as host, net, port, ip, tcp, vlan)'],
  ['(tcp', 4, 5, "expected ')'"],
  ['tcp)', 3, 4, "found ')'"],
  ['host 10.0.0.1 2', 14, 15, 'found number 2'],
  ['tcp[13 = 2', 7, 8, "expected ']'; found '='"],
  ['tcp[13] &', 9, 10, "expected a number, 'len' or an accessor"],
  ['ip[0:3] = 1', 0, 7, 'data size must be 1, 2, or 4'],
  ['ip[0] / 0 = 1', 8, 9, 'division by zero'],
  ['ip[0] % 0 = 1', 8, 9, 'modulus by zero'],
  ['udp port http', 9, 13, "port 'http' is tcp"],
  ['tcp port domainx', 9, 16, "unknown port 'domainx'"],
  ['port 70000', 5, 10, 'illegal port number 70000 > 65535'],
  ['net 10.1.2.3/8', 4, 14, 'non-network bits set in "10.1.2.3/8"'],
  ['net 10.0.0.0/33', 4, 15, 'mask length must be <= 32'],
  ['host 10.0.0.0/8', 5, 15, 'Mask syntax for networks only'],
  ['ip6 host 10.0.0.1', 9, 17, "'ip6' modifier applied to ip host"],
  ['tcp host 10.0.0.1', 9, 17, "'tcp' modifier applied to host"],
  ['host foo.example.com', 5, 20, 'is a host name; netring does not resolve names (by design: no DNS lookups'],
  ['net foonet', 4, 10, 'network name'],
  ['ether host foohost', 11, 18, 'use a MAC address'],
  ['gateway foo', 8, 11, 'needs host name resolution'],
  ['geneve 16777216', 0, 15, 'Geneve VNI 16777216 greater than maximum 16777215'],
  ['geneve and pppoes and ether host 1:2:3:4:5:6', 33, 44, 'ethernet addresses not supported on PPP'],
  ['llc foo', 0, 7, 'unknown LLC type name "foo"'],
  ['pppoes and vlan', 11, 15, 'VLAN not supported on PPP'],
  ['pppoes 70000', 0, 12, 'PPPoE session number 70000 greater than maximum 65535'],
  ['inbound', 0, 7, 'needs packet metadata'],
  ['vlan 4096', 0, 9, 'greater than maximum 4095'],
  ['mpls and vlan', 9, 13, 'no VLAN match after MPLS'],
  ['mpls and arp', 9, 12, 'unsupported protocol over mpls'],
  ['ip proto \\foo', 9, 13, "unknown ip proto 'foo'"],
  ['tcp proto 6', 10, 11, "'tcp proto' is bogus"],
  ['ip and not ip', 0, 13, 'expression rejects all packets'],
  ['tcp or 80', 7, 9, 'no qualifier to take'],
  ['ip # x', 3, 4, "illegal character '#'"],
  ['byte 3 & 4', 0, 10, 'write \'ether[3] & 4 != 0\''],
  ['port 09', 5, 7, 'number 09 contains non-octal digit'],
  ['host 300.1.1.1', 5, 14, "invalid IPv4 address '300.1.1.1'"],
  ['99999999999 = 1', 0, 11, 'overflows 32 bits'],
  ['ether host 00:11:22:33:44', 11, 25, "bogus ethernet address '00:11:22:33:44'"],
  ['ether host 0g:00:00:00:00:01', 11, 28, "bogus ethernet address '0g:00:00:00:00:01'"],
  ['(ether src 1:2:3:4:5:6:7)', 11, 24, "bogus ethernet address '1:2:3:4:5:6:7'"],
];

test('error table: position, span and reason for malformed inputs', () => {
  for (const [src, pos, end, frag] of ERRORS) {
    let err: unknown = null;
    try {
      compileFilter(src);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof LangError, `${src}: no LangError`);
    assert.equal(err.pos, pos, `${src}: position`);
    assert.equal(err.end, end, `${src}: end`);
    assert.ok(err.reason.includes(frag), `${src}: "${err.reason}" lacks "${frag}"`);
  }
});

test('errors render the source line with a caret under the span', () => {
  try {
    compileFilter('tcp port 8o80');
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof LangError);
    const lines = e.pretty().split('\n');
    assert.equal(lines[0], 'tcp port 8o80');
    assert.equal(lines[1], '         ^^^^');
    assert.match(lines[2], /unknown port '8o80' \(at column 10\)/);
  }
});

test('empty expression matches everything', () => {
  const f = compileFilter('');
  assert.equal(f.insns.length, 1);
  assert.equal(runBpf(f.insns, new Uint8Array(1), 0, 1, 1), 262144);
  assert.equal(compileFilter('', { snaplen: 96 }).match({ data: new Uint8Array(0), offset: 0, caplen: 0, wireLen: 0, sec: 0, nsec: 0, vlanValid: false, vlanTci: 0, vlanTpid: 0, ifindex: 0, pktType: 0, linkType: 1 }), 96);
});
