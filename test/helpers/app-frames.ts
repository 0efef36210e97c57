/**
 * Crafted Ethernet frames with application payloads tcpdump summarises (DNS
 * query/answers/NXDOMAIN/EDNS, DHCP, NTP, an HTTP exchange over a full TCP
 * conversation, ICMP errors), for comparing printed lines with tcpdump's.
 */
import * as c from '../unit/decode-craft.js';

const text = (s: string): number[] => [...Buffer.from(s, 'latin1')];
const dnsName = (n: string): number[] => n.split('.').flatMap((p) => [p.length, ...text(p)]).concat([0]);

function dhcp(op: number, type: number, xid: number): number[] {
  const b = new Array<number>(240).fill(0);
  b[0] = op; b[1] = 1; b[2] = 6;
  b.splice(4, 4, ...c.be32(xid));
  b.splice(28, 6, 2, 0, 0, 0, 0, 0x11);
  b.splice(236, 4, 99, 130, 83, 99);
  return [...b, 53, 1, type, 255];
}

function ntp(mode: number, version = 4): number[] {
  const b = new Array<number>(48).fill(0);
  b[0] = (version << 3) | mode;
  return b;
}

/** The frames, in conversation order. */
export function appFrames(): number[][] {
  const dnsq = [...c.be16(0x1234), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...dnsName('example.com'), 0, 1, 0, 1];
  const dnsr = [...c.be16(0x1234), 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0, ...dnsName('example.com'), 0, 1, 0, 1,
    0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12,
    0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, 184, 216, 34];
  const dnsnx = [...c.be16(7), 0x81, 0x83, 0, 1, 0, 0, 0, 1, 0, 0, ...dnsName('nope.example'), 0, 28, 0, 1];
  const dns6 = [...c.be16(9), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1, ...dnsName('ipv6.example.org'), 0, 28, 0, 1, 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0];
  const dnsaaaa = [...c.be16(10), 0x85, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, ...dnsName('v6.example'), 0, 28, 0, 1,
    0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, ...c.ip6('2001:db8::53')];
  const http = text('GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n');
  const httpr = text('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  const E = (ip: number[]): number[] => c.eth(0x0800, ip);
  const U = (sp: number, dp: number, p: number[], src = '10.0.0.1', dst = '10.0.0.2'): number[] => E(c.ipv4({ proto: 17, src, dst }, c.udp(sp, dp, p)));
  const T = (o: c.TcpOpts, p: number[] = [], src = '10.0.0.1', dst = '10.0.0.2'): number[] => E(c.ipv4({ proto: 6, src, dst }, c.tcp(o, p)));
  const T6 = (o: c.TcpOpts, rev = false): number[] => c.eth(0x86dd, c.ipv6({ nh: 6, src: rev ? '2001:db8::2' : '2001:db8::1', dst: rev ? '2001:db8::1' : '2001:db8::2' }, c.tcp(o)));
  return [
    U(40000, 53, dnsq), U(53, 40000, dnsr, '10.0.0.2', '10.0.0.1'), U(53, 40001, dnsnx, '10.0.0.2', '10.0.0.1'), U(40002, 53, dns6),
    U(53, 40003, dnsaaaa, '10.0.0.2', '10.0.0.1'),
    U(68, 67, dhcp(1, 1, 0xabcd), '0.0.0.0', '255.255.255.255'), U(67, 68, dhcp(2, 2, 0xabcd)), U(68, 67, dhcp(1, 3, 0xabcd)), U(67, 68, dhcp(2, 5, 0xabcd)),
    U(123, 123, ntp(3)), U(123, 123, ntp(4), '10.0.0.2', '10.0.0.1'), U(123, 123, ntp(1, 3)),
    T({ sp: 40000, dp: 80, flags: 0x02, seq: 1000000 }), T({ sp: 80, dp: 40000, flags: 0x12, seq: 4000000000, ack: 1000001 }, [], '10.0.0.2', '10.0.0.1'),
    T({ sp: 40000, dp: 80, flags: 0x10, seq: 1000001, ack: 4000000001 }),
    T({ sp: 40000, dp: 80, flags: 0x18, seq: 1000001, ack: 4000000001 }, http),
    T({ sp: 80, dp: 40000, flags: 0x18, seq: 4000000001, ack: 1000001 + http.length }, httpr, '10.0.0.2', '10.0.0.1'),
    T({ sp: 40000, dp: 80, flags: 0x11, seq: 1000001 + http.length, ack: 4000000001 + httpr.length }),
    T({ sp: 80, dp: 40000, flags: 0x04, seq: 4000000001 + httpr.length }, [], '10.0.0.2', '10.0.0.1'),
    T({ sp: 5000, dp: 5000, flags: 0x10, seq: 77, ack: 99 }), T({ sp: 5000, dp: 5000, flags: 0x10, seq: 177, ack: 199 }, [], '10.0.0.2', '10.0.0.1'),
    T({ sp: 5000, dp: 5000, flags: 0x10, seq: 87, ack: 299 }),
    T6({ sp: 443, dp: 50000, flags: 0x12, seq: 10, ack: 20 }, true), T6({ sp: 50000, dp: 443, flags: 0x10, seq: 20, ack: 11 }),
    E(c.ipv4({ proto: 1 }, c.icmp(3, 3, 0, 0, c.ipv4({ proto: 17 }, c.udp(1, 2, []))))),
    E(c.ipv4({ proto: 1 }, c.icmp(3, 1, 0, 0, c.ipv4({ proto: 6 }, c.udp(1, 2, []))))),
    E(c.ipv4({ proto: 1 }, c.icmp(11, 0, 0, 0, c.ipv4({ proto: 17 }, c.udp(1, 2, []))))),
    c.ethVlan([[0x8100, 0x2005]], 0x0800, c.ipv4({ proto: 17 }, c.udp(40000, 53, dnsq))),
  ];
}
