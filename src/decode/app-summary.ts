/**
 * Short application summaries in tcpdump's default (non-verbose) words, for
 * the line printer: DNS (UDP port 53), DHCP/BOOTP (UDP 67/68), NTP (UDP 123)
 * and the first line of HTTP (TCP 80/8080). Each reads only [off, end) and
 * returns null when the bytes do not hold what the port suggests, so the
 * caller falls back to the plain transport text. Allocates (printing only).
 */
import { u16 } from './bytes.js';
import { ipv4ToString, ipv6ToString, macToString } from './format.js';

const DNS_TYPES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV',
  35: 'NAPTR', 39: 'DNAME', 41: 'OPT', 43: 'DS', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 64: 'SVCB', 65: 'HTTPS',
  99: 'SPF', 251: 'IXFR', 252: 'AXFR', 255: 'ANY', 257: 'CAA',
};
const DNS_OPS = ['', ' inv_q', ' stat', ' op3', ' notify', ' update', ' op6', ' op7', ' op8', ' updateA', ' updateD', ' updateDA', ' updateM', ' updateMA', ' zoneInit', ' zoneRef'];
const DNS_RCODES = ['', ' FormErr', ' ServFail', ' NXDomain', ' NotImp', ' Refused', ' YXDomain', ' YXRRSet', ' NXRRSet', ' NotAuth', ' NotZone'];
const NTP_MODES = ['unspecified', 'symmetric active', 'symmetric passive', 'Client', 'Server', 'Broadcast', 'Control Message', 'Reserved'];

class Trunc extends Error {}

/** A DNS name at `p` (following compression pointers) as tcpdump prints it; returns [text, offset after the name]. */
function dnsName(d: Uint8Array, msg: number, p: number, end: number): [string, number] {
  let out = '';
  let after = -1;
  let hops = 0;
  for (;;) {
    if (p >= end) throw new Trunc();
    const len = d[p]!;
    if ((len & 0xc0) === 0xc0) {
      if (p + 1 >= end || ++hops > 32) throw new Trunc();
      if (after < 0) after = p + 2;
      p = msg + (((len & 0x3f) << 8) | d[p + 1]!);
      continue;
    }
    if (len === 0) {
      if (after < 0) after = p + 1;
      return [out === '' ? '.' : out, after];
    }
    if (p + 1 + len > end) throw new Trunc();
    for (let i = 1; i <= len; i++) {
      const c = d[p + i]!;
      out += c > 0x20 && c < 0x7f && c !== 0x2e ? String.fromCharCode(c) : c === 0x2e ? '\\.' : `\\${c.toString(8).padStart(3, '0')}`;
    }
    out += '.';
    p += 1 + len;
  }
}

function dnsType(t: number): string {
  return DNS_TYPES[t] ?? `Type${t}`;
}

/** One answer record in tcpdump's non-verbose form (" A 1.2.3.4"); returns [text, next offset]. */
function dnsRecord(d: Uint8Array, msg: number, p: number, end: number): [string, number] {
  p = dnsName(d, msg, p, end)[1];
  if (p + 10 > end) throw new Trunc();
  const type = u16(d, p);
  const cls = u16(d, p + 2);
  const rdlen = u16(d, p + 8);
  const r = p + 10;
  if (r + rdlen > end) throw new Trunc();
  let t = cls !== 1 && type !== 41 ? ` (Class ${cls})` : '';
  t += ` ${dnsType(type)}`;
  if (type === 1 && rdlen === 4) t += ` ${ipv4ToString(d, r)}`;
  else if (type === 28 && rdlen === 16) t += ` ${ipv6ToString(d, r)}`;
  else if (type === 2 || type === 5 || type === 12 || type === 39) t += ` ${dnsName(d, msg, r, end)[0]}`;
  else if (type === 15 && rdlen >= 3) t += ` ${dnsName(d, msg, r + 2, end)[0]} ${u16(d, r)}`;
  return [t, r + rdlen];
}

/** DNS message at [off, end) (UDP payload); `length` is the UDP payload length tcpdump prints in parentheses. */
export function dnsText(d: Uint8Array, off: number, end: number, length: number): string | null {
  if (end - off < 12) return null;
  const id = u16(d, off);
  const b2 = u16(d, off + 2);
  const qd = u16(d, off + 4);
  const an = u16(d, off + 6);
  const ns = u16(d, off + 8);
  const ar = u16(d, off + 10);
  const op = (b2 >> 11) & 15;
  let t = '';
  try {
    let p = off + 12;
    if (b2 & 0x8000) {
      const rc = b2 & 15;
      t = `${id}${DNS_OPS[op]}${DNS_RCODES[rc] ?? ` Resp${rc}`}${b2 & 0x0400 ? '*' : ''}${b2 & 0x0080 ? '' : '-'}${b2 & 0x0200 ? '|' : ''}`;
      if (qd !== 1) t += ` [${qd}q]`;
      for (let i = 0; i < qd; i++) p = dnsName(d, off, p, end)[1] + 4;
      t += ` ${an}/${ns}/${ar}`;
      for (let i = 0; i < an; i++) {
        if (p >= end) throw new Trunc();
        const [r, next] = dnsRecord(d, off, p, end);
        t += (i > 0 ? ',' : '') + r;
        p = next;
      }
    } else {
      t = `${id}${DNS_OPS[op]}${b2 & 0x0100 ? '+' : ''}${b2 & 0x0010 ? '%' : ''}`;
      if (b2 & 0x6cf) t += ` [b2&3=0x${b2.toString(16)}]`;
      if (op === 1) {
        if (qd) t += ` [${qd}q]`;
        if (an !== 1) t += ` [${an}a]`;
      } else {
        if (an) t += ` [${an}a]`;
        if (qd !== 1) t += ` [${qd}q]`;
      }
      if (ns) t += ` [${ns}n]`;
      if (ar) t += ` [${ar}au]`;
      for (let i = 0; i < qd && (i === 0 || p < end); i++) { // the first question is always read, as tcpdump does
        const [name, after] = dnsName(d, off, p, end);
        if (after + 4 > end) throw new Trunc();
        const cls = u16(d, after + 2);
        t += ` ${dnsType(u16(d, after))}${cls !== 1 ? ` (Class ${cls})` : ''}? ${name}`;
        p = after + 4;
      }
    }
  } catch (e) {
    if (!(e instanceof Trunc)) throw e;
    return `${t} [|domain]`;
  }
  return `${t} (${length})`;
}

/** DHCP/BOOTP message at [off, end); `length` is the UDP payload length. */
export function bootpText(d: Uint8Array, off: number, end: number, length: number): string | null {
  if (end - off < 1) return null;
  const op = d[off]!;
  let t = `BOOTP/DHCP, ${op === 1 ? 'Request' : op === 2 ? 'Reply' : `unknown (0x${op.toString(16).padStart(2, '0')})`}`;
  if (op === 1 && end - off >= 34 && d[off + 1] === 1 && d[off + 2] === 6) t += ` from ${macToString(d, off + 28)}`;
  return `${t}, length ${length}`;
}

/** NTP message at [off, end); `length` is the UDP payload length. */
export function ntpText(d: Uint8Array, off: number, end: number, length: number): string | null {
  if (end - off < 1) return null;
  const b = d[off]!;
  return `NTPv${(b >> 3) & 7}, ${NTP_MODES[b & 7]}, length ${length}`;
}

const HTTP_METHODS = ['GET', 'PUT', 'COPY', 'HEAD', 'LOCK', 'MOVE', 'POLL', 'POST', 'BCOPY', 'BMOVE', 'MKCOL', 'TRACE', 'LABEL', 'MERGE', 'DELETE', 'SEARCH', 'UNLOCK', 'REPORT', 'UPDATE', 'NOTIFY', 'BDELETE', 'CONNECT', 'OPTIONS', 'CHECKIN', 'PROPFIND', 'CHECKOUT', 'CCM_POST', 'SUBSCRIBE', 'PROPPATCH', 'BPROPFIND', 'BPROPPATCH', 'UNCHECKOUT', 'MKACTIVITY', 'MKWORKSPACE', 'UNSUBSCRIBE', 'RPC_CONNECT', 'VERSION-CONTROL', 'BASELINE-CONTROL'];

/** The HTTP text after a TCP segment's `length N` (port 80/8080 with payload): `: HTTP: GET / HTTP/1.1`, or `: HTTP` when it is not a request/status line. */
export function httpText(d: Uint8Array, off: number, end: number): string {
  let eol = off;
  while (eol < end && d[eol] !== 0x0a) eol++;
  if (eol >= end) return ': HTTP';
  let stop = eol;
  if (stop > off && d[stop - 1] === 0x0d) stop--;
  let line = '';
  for (let i = off; i < stop; i++) {
    const c = d[i]!;
    if (c < 0x20 && c !== 0x09) return ': HTTP';
    if (c >= 0x7f) return ': HTTP';
    line += String.fromCharCode(c);
  }
  const first = line.split(' ', 1)[0]!;
  const isReq = HTTP_METHODS.includes(first) && line.length > first.length && line[first.length] === ' ';
  const isResp = /^HTTP\/\d\.\d /.test(line);
  return isReq || isResp ? `: HTTP: ${line}` : ': HTTP';
}

/** UDP application text by port, or null for plain `UDP, length N`. */
export function udpAppText(d: Uint8Array, sport: number, dport: number, off: number, end: number, length: number): string | null {
  if (off < 0) return null;
  if (sport === 53 || dport === 53) return dnsText(d, off, end, length);
  if (sport === 67 || dport === 67 || sport === 68 || dport === 68) return bootpText(d, off, end, length);
  if (sport === 123 || dport === 123) return ntpText(d, off, end, length);
  return null;
}
