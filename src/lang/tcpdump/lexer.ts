/**
 * Lexer for the pcap-filter (tcpdump) expression language.
 *
 * It follows libpcap's flex scanner: at each position the longest match
 * among all rules wins, ties go to the rule listed first (keywords before
 * numbers before identifiers). Named constants such as `tcp-syn` lex as
 * numbers, `\name` lexes as an identifier (the way to use a keyword as a
 * protocol name, e.g. `ip proto \tcp`).
 */
import { LangError } from '../errors.js';

export type TokKind =
  | 'kw' // keyword; `text` holds the canonical keyword
  | 'num' // number or named constant; `value`
  | 'id' // identifier (host/port/protocol name); `text`
  | 'hid' // dotted IPv4 (1 to 4 parts); `text`
  | 'hid6' // IPv6 address; `text`
  | 'eid' // MAC address; `text`
  | 'op' // punctuation/operator; `text`
  | 'eof';

export interface Token {
  kind: TokKind;
  /** Canonical text: keyword name, operator, identifier or literal. */
  text: string;
  /** Numeric value for `num` tokens. */
  value: number;
  /** Start offset in the source. */
  pos: number;
  /** End offset (exclusive). */
  end: number;
}

/** Keyword spellings mapped to their canonical token name. */
const KEYWORDS: Record<string, string> = {
  dst: 'dst', src: 'src',
  link: 'link', ether: 'link', ppp: 'link', slip: 'link', fddi: 'link', tr: 'link', wlan: 'link',
  arp: 'arp', rarp: 'rarp', ip: 'ip', sctp: 'sctp', tcp: 'tcp', udp: 'udp', icmp: 'icmp',
  igmp: 'igmp', igrp: 'igrp', pim: 'pim', vrrp: 'vrrp', carp: 'carp', radio: 'radio',
  ip6: 'ip6', icmp6: 'icmp6', ah: 'ah', esp: 'esp',
  atalk: 'atalk', aarp: 'aarp', decnet: 'decnet', lat: 'lat', sca: 'sca', moprc: 'moprc', mopdl: 'mopdl',
  iso: 'iso', esis: 'esis', 'es-is': 'esis', isis: 'isis', 'is-is': 'isis', l1: 'l1', l2: 'l2',
  iih: 'iih', lsp: 'lsp', snp: 'snp', csnp: 'csnp', psnp: 'psnp', clnp: 'clnp', stp: 'stp',
  ipx: 'ipx', netbeui: 'netbeui',
  host: 'host', net: 'net', mask: 'mask', port: 'port', portrange: 'portrange', proto: 'proto',
  protochain: 'protochain', gateway: 'gateway',
  type: 'type', subtype: 'subtype', direction: 'dir', dir: 'dir',
  address1: 'addr1', addr1: 'addr1', address2: 'addr2', addr2: 'addr2',
  address3: 'addr3', addr3: 'addr3', address4: 'addr4', addr4: 'addr4', ra: 'ra', ta: 'ta',
  less: 'less', greater: 'greater', byte: 'byte', broadcast: 'broadcast', multicast: 'multicast',
  and: 'and', '&&': 'and', or: 'or', '||': 'or', not: 'not',
  len: 'len', length: 'len', inbound: 'inbound', outbound: 'outbound', ifindex: 'ifindex',
  vlan: 'vlan', mpls: 'mpls', pppoed: 'pppoed', pppoes: 'pppoes', geneve: 'geneve',
  lane: 'lane', llc: 'llc', metac: 'metac', bcc: 'bcc', oam: 'oam', oamf4: 'oamf4',
  oamf4ec: 'oamf4ec', oamf4sc: 'oamf4sc', sc: 'sc', ilmic: 'ilmic', vpi: 'vpi', vci: 'vci',
  connectmsg: 'connectmsg', metaconnect: 'metaconnect',
  on: 'ifname', ifname: 'ifname', rset: 'rset', ruleset: 'rset', rnr: 'rnr', rulenum: 'rnr',
  srnr: 'srnr', subrulenum: 'srnr', reason: 'reason', action: 'action',
  fisu: 'fisu', lssu: 'lssu', lsu: 'lssu', msu: 'msu', hfisu: 'hfisu', hlssu: 'hlssu', hmsu: 'hmsu',
  sio: 'sio', opc: 'opc', dpc: 'dpc', sls: 'sls', hsio: 'hsio', hopc: 'hopc', hdpc: 'hdpc', hsls: 'hsls',
};

/** Named numeric constants (libpcap lexes these as numbers). */
export const NAMED_NUMBERS: Record<string, number> = {
  icmptype: 0, icmpcode: 1,
  'icmp-echoreply': 0, 'icmp-unreach': 3, 'icmp-sourcequench': 4, 'icmp-redirect': 5,
  'icmp-echo': 8, 'icmp-routeradvert': 9, 'icmp-routersolicit': 10, 'icmp-timxceed': 11,
  'icmp-paramprob': 12, 'icmp-tstamp': 13, 'icmp-tstampreply': 14, 'icmp-ireq': 15,
  'icmp-ireqreply': 16, 'icmp-maskreq': 17, 'icmp-maskreply': 18,
  icmp6type: 0, icmp6code: 1,
  'icmp6-destinationunreach': 1, 'icmp6-packettoobig': 2, 'icmp6-timeexceeded': 3,
  'icmp6-parameterproblem': 4, 'icmp6-echo': 128, 'icmp6-echoreply': 129,
  'icmp6-multicastlistenerquery': 130, 'icmp6-multicastlistenerreportv1': 131,
  'icmp6-multicastlistenerdone': 132, 'icmp6-routersolicit': 133, 'icmp6-routeradvert': 134,
  'icmp6-neighborsolicit': 135, 'icmp6-neighboradvert': 136, 'icmp6-redirect': 137,
  'icmp6-routerrenum': 138, 'icmp6-nodeinformationquery': 139,
  'icmp6-nodeinformationresponse': 140, 'icmp6-ineighbordiscoverysolicit': 141,
  'icmp6-ineighbordiscoveryadvert': 142, 'icmp6-multicastlistenerreportv2': 143,
  'icmp6-homeagentdiscoveryrequest': 144, 'icmp6-homeagentdiscoveryreply': 145,
  'icmp6-mobileprefixsolicit': 146, 'icmp6-mobileprefixadvert': 147,
  'icmp6-certpathsolicit': 148, 'icmp6-certpathadvert': 149,
  'icmp6-multicastrouteradvert': 151, 'icmp6-multicastroutersolicit': 152,
  'icmp6-multicastrouterterm': 153,
  tcpflags: 13, 'tcp-fin': 0x01, 'tcp-syn': 0x02, 'tcp-rst': 0x04, 'tcp-push': 0x08,
  'tcp-ack': 0x10, 'tcp-urg': 0x20, 'tcp-ece': 0x40, 'tcp-cwr': 0x80,
};

const WORDS: string[] = [...Object.keys(KEYWORDS), ...Object.keys(NAMED_NUMBERS)]
  .sort((a, b) => b.length - a.length);
const WORD_RE = new RegExp(WORDS.map((w) => w.replace(/[|&\\.*+?()[\]{}^$-]/g, '\\$&')).join('|'), 'y');
const OP2_RE = /(>=|<=|!=|==|<<|>>)/y;
const OP1_RE = /[+\-*/%:[\]!<>()&|^=]/y;
const AID_RE = /\$[0-9A-Fa-f][0-9A-Fa-f]?/y;
const B = '[0-9A-Fa-f][0-9A-Fa-f]?';
const B2 = '[0-9A-Fa-f]{4}';
const MAC_RE = new RegExp(
  `(${B}:${B}:${B}:${B}:${B}:${B}|${B}-${B}-${B}-${B}-${B}-${B}|${B}\\.${B}\\.${B}\\.${B}\\.${B}\\.${B}|${B2}\\.${B2}\\.${B2}|${B2}${B2}${B2})`,
  'y',
);
const N = '(?:0[xX][0-9A-Fa-f]+|[0-9]+)';
const NUM_RE = new RegExp(N, 'y');
const HID_RE = new RegExp(`${N}\\.${N}(?:\\.${N}(?:\\.${N})?)?`, 'y');
const BOGUS_MAC_RE = new RegExp(`${B}:+(?:${B}:+)+`, 'y');
const ID_RE = /[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?/y;
const ESC_RE = /\\[^ !()\n\t]+/y;
const V6CHARS_RE = /[0-9A-Fa-f:.]+/y;

function matchLen(re: RegExp, src: string, pos: number): number {
  re.lastIndex = pos;
  const m = re.exec(src);
  return m ? m[0].length : 0;
}

/** True when `s` is a textual IPv6 address of the forms libpcap's scanner accepts. */
export function isIPv6Text(s: string): boolean {
  return parseIPv6(s) !== null;
}

/**
 * Parse an IPv6 address (RFC 4291 text forms, optional trailing dotted
 * IPv4) into 16 bytes, or null.
 */
export function parseIPv6(s: string): Uint8Array | null {
  if (!/^[0-9A-Fa-f:.]+$/.test(s)) return null;
  let v4: number[] | null = null;
  let text = s;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) >= 0) {
    const tail = s.slice(lastColon + 1);
    const parts = tail.split('.');
    if (parts.length !== 4 || parts.some((p) => !/^[0-9]{1,3}$/.test(p) || Number(p) > 255)) return null;
    v4 = parts.map(Number);
    text = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = text.indexOf('::');
  if (dbl >= 0 && text.indexOf('::', dbl + 1) >= 0) return null;
  const groups: number[] = [];
  const parseGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  if (dbl >= 0) {
    const head = parseGroups(text.slice(0, dbl));
    const tail = parseGroups(text.slice(dbl + 2));
    if (!head || !tail || head.length + tail.length > 7) return null;
    groups.push(...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail);
  } else {
    const all = parseGroups(text);
    if (!all || all.length !== 8) return null;
    groups.push(...all);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i] >> 8;
    out[2 * i + 1] = groups[i] & 0xff;
  }
  if (v4) out.set(v4, 12);
  return out;
}

function v6Len(src: string, pos: number): number {
  const run = matchLen(V6CHARS_RE, src, pos);
  if (run === 0) return 0;
  const text = src.slice(pos, pos + run);
  if (!text.includes(':')) return 0;
  for (let l = run; l >= 2; l--) {
    const cand = text.slice(0, l);
    if ((cand.match(/:/g) ?? []).length < 2) break;
    if (isIPv6Text(cand)) return l;
  }
  return 0;
}

/** Convert a NUM token text to a 32-bit unsigned value (libpcap rules: 0x hex, leading 0 octal). */
export function parseNumberText(t: string, src: string, pos: number): number {
  let v = 0;
  if (/^0[xX]/.test(t)) {
    for (const c of t.slice(2)) {
      if (v > 0x0fffffff) throw new LangError(`number ${t} overflows 32 bits`, src, pos, pos + t.length);
      v = v * 16 + parseInt(c, 16);
    }
  } else if (t.length > 1 && t[0] === '0') {
    for (const c of t.slice(1)) {
      if (c > '7') throw new LangError(`number ${t} contains non-octal digit`, src, pos, pos + t.length);
      if (v > 0o3777777777) throw new LangError(`number ${t} overflows 32 bits`, src, pos, pos + t.length);
      v = v * 8 + (c.charCodeAt(0) - 48);
    }
  } else {
    for (const c of t) {
      v = v * 10 + (c.charCodeAt(0) - 48);
      if (v > 0xffffffff) throw new LangError(`number ${t} overflows 32 bits`, src, pos, pos + t.length);
    }
  }
  return v >>> 0;
}

/** Bounds of the blank- and parenthesis-delimited word of `src` that holds offset `i`. */
function wordAround(src: string, i: number): [number, number] {
  const stop = (c: string | undefined): boolean => c === undefined || c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '(' || c === ')';
  let s = i;
  while (!stop(src[s - 1])) s--;
  let e = i;
  while (!stop(src[e])) e++;
  return [s, e];
}

/** Split `src` into tokens (the last one is `eof`). Throws LangError on a bad character. */
export function lex(src: string): Token[] {
  const toks: Token[] = [];
  let i = 0;
  const n = src.length;
  while (true) {
    while (i < n && (src[i] === ' ' || src[i] === '\t' || src[i] === '\n' || src[i] === '\r')) i++;
    if (i >= n) break;
    // Candidates in flex rule order; the longest wins, earliest on ties.
    const cands: Array<[string, number]> = [
      ['word', matchLen(WORD_RE, src, i)],
      ['op1', matchLen(OP1_RE, src, i)],
      ['op2', matchLen(OP2_RE, src, i)],
      ['aid', matchLen(AID_RE, src, i)],
      ['eid', matchLen(MAC_RE, src, i)],
      ['num', matchLen(NUM_RE, src, i)],
      ['hid', matchLen(HID_RE, src, i)],
      ['hid6', v6Len(src, i)],
      ['bogusmac', matchLen(BOGUS_MAC_RE, src, i)],
      ['id', matchLen(ID_RE, src, i)],
      ['esc', matchLen(ESC_RE, src, i)],
    ];
    let best = '';
    let bestLen = 0;
    for (const [k, l] of cands) {
      if (l > bestLen) {
        best = k;
        bestLen = l;
      }
    }
    if (bestLen === 0) {
      throw new LangError(`illegal character '${src[i]}'`, src, i, i + 1);
    }
    const text = src.slice(i, i + bestLen);
    const tok: Token = { kind: 'id', text, value: 0, pos: i, end: i + bestLen };
    switch (best) {
      case 'word':
        if (text in NAMED_NUMBERS) {
          tok.kind = 'num';
          tok.value = NAMED_NUMBERS[text];
        } else {
          tok.kind = 'kw';
          tok.text = KEYWORDS[text];
        }
        break;
      case 'op1':
      case 'op2':
        tok.kind = 'op';
        if (text === '==') tok.text = '=';
        break;
      case 'aid':
        throw new LangError('ARCnet addresses are not supported (Ethernet only)', src, i, i + bestLen);
      case 'eid':
        tok.kind = 'eid';
        break;
      case 'num':
        tok.kind = 'num';
        tok.value = parseNumberText(text, src, i);
        break;
      case 'hid':
        tok.kind = 'hid';
        break;
      case 'hid6':
        tok.kind = 'hid6';
        break;
      case 'bogusmac': {
        // quote the whole word the user typed (e.g. 0g:00:00:00:00:01), not the fragment the scanner stopped at
        const [ws, we] = wordAround(src, i);
        throw new LangError(`bogus ethernet address '${src.slice(ws, we)}'`, src, ws, we);
      }
      case 'id':
        break;
      case 'esc':
        tok.text = text.slice(1);
        break;
    }
    toks.push(tok);
    i += bestLen;
  }
  toks.push({ kind: 'eof', text: '', value: 0, pos: n, end: n });
  return toks;
}
