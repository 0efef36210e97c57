/**
 * A crafted traffic mix for the flow tests, with what a flow meter must find
 * in it: TCP (handshake, data, FIN both ways, last ACK), UDP request/response
 * pairs, ICMP echo, IPv6 TCP and UDP, a VLAN-tagged flow. Written as a
 * classic pcap (microsecond timestamps) so other tools (softflowd) read the
 * very same packets.
 */
import { writeFileSync } from 'node:fs';
import { buildFrame, type PacketSpec } from '../../src/build/index.js';

export interface CraftedPacket { frame: Uint8Array; sec: number; usec: number }

/** The expected flows, unidirectional view: one entry per direction with packets and IP bytes. */
export interface ExpectedDir { src: string; dst: string; sport: number; dport: number; proto: number; packets: number; bytes: number }

const T0 = 1_700_000_000;

/** Build the packets (time-ordered) and the per-direction expectations. */
export function trafficMix(): { packets: CraftedPacket[]; dirs: ExpectedDir[] } {
  const packets: CraftedPacket[] = [];
  const dirs = new Map<string, ExpectedDir>();
  let t = 0; // microseconds since T0
  const put = (spec: PacketSpec, gapUs = 1000): void => {
    const frame = buildFrame(spec);
    t += gapUs;
    packets.push({ frame, sec: T0 + Math.floor(t / 1e6), usec: t % 1e6 });
    const proto = spec.proto === 'tcp' ? 6 : spec.proto === 'icmp' ? ((spec.dst ?? '').includes(':') ? 58 : 1) : 17;
    const icmp = proto === 1 || proto === 58;
    const sport = icmp ? 0 : spec.sport ?? 10000;
    const dport = icmp ? ((spec.icmpType ?? 8) << 8) | (spec.icmpCode ?? 0) : spec.dport ?? 5001;
    const k = `${proto} ${spec.src} ${sport} ${spec.dst} ${dport}`;
    const d = dirs.get(k) ?? { src: spec.src!, dst: spec.dst!, sport, dport, proto, packets: 0, bytes: 0 };
    const vlanBytes = spec.vlan !== undefined ? 4 : 0;
    d.packets++;
    d.bytes += frame.length - 14 - vlanBytes;
    dirs.set(k, d);
  };
  // TCP v4 connection with data and a clean close
  const c = { src: '10.1.0.1', dst: '10.2.0.1', sport: 40001, dport: 80, proto: 'tcp' as const };
  const s = { src: '10.2.0.1', dst: '10.1.0.1', sport: 80, dport: 40001, proto: 'tcp' as const };
  put({ ...c, tcpFlags: 'S' });
  put({ ...s, tcpFlags: 'SA' });
  put({ ...c, tcpFlags: 'A' });
  for (let i = 0; i < 5; i++) { put({ ...c, tcpFlags: 'PA', size: 200 + i }); put({ ...s, tcpFlags: 'PA', size: 1000 + 10 * i }); }
  put({ ...c, tcpFlags: 'FA' });
  put({ ...s, tcpFlags: 'FA' });
  put({ ...c, tcpFlags: 'A' });
  // UDP request/response pairs on three source ports
  for (let p = 0; p < 3; p++) {
    for (let i = 0; i <= p; i++) {
      put({ src: '10.1.0.2', dst: '10.2.0.2', sport: 5300 + p, dport: 53, size: 80 + p });
      put({ src: '10.2.0.2', dst: '10.1.0.2', sport: 53, dport: 5300 + p, size: 120 + p });
    }
  }
  // ICMP echo request / reply
  for (let i = 0; i < 3; i++) {
    put({ src: '10.1.0.3', dst: '10.2.0.3', proto: 'icmp', icmpType: 8, icmpSeq: i, size: 98 });
    put({ src: '10.2.0.3', dst: '10.1.0.3', proto: 'icmp', icmpType: 0, icmpSeq: i, size: 98 });
  }
  // IPv6 TCP and UDP
  const c6 = { src: 'fd00::1', dst: 'fd00::2', sport: 40002, dport: 443, proto: 'tcp' as const };
  const s6 = { src: 'fd00::2', dst: 'fd00::1', sport: 443, dport: 40002, proto: 'tcp' as const };
  put({ ...c6, tcpFlags: 'S' });
  put({ ...s6, tcpFlags: 'SA' });
  for (let i = 0; i < 4; i++) { put({ ...c6, tcpFlags: 'PA', size: 300 }); put({ ...s6, tcpFlags: 'A' }); }
  for (let i = 0; i < 6; i++) put({ src: 'fd00::10', dst: 'fd00::20', sport: 7000, dport: 7001, size: 150 + i });
  // a UDP flow lasting 4 seconds (inside every timeout)
  for (let i = 0; i < 5; i++) put({ src: '10.1.0.4', dst: '10.2.0.4', sport: 9000, dport: 9001, size: 500 }, 1_000_000);
  return { packets, dirs: [...dirs.values()] };
}

/** A VLAN-tagged variant of a packet spec (kept separate: softflowd does not key on VLAN by default). */
export function vlanPacket(id: number): Uint8Array {
  return buildFrame({ src: '10.9.0.1', dst: '10.9.0.2', sport: 1, dport: 2, vlan: id });
}

/** Write packets as a classic pcap (LINKTYPE_ETHERNET, microseconds). */
export function writePcap(path: string, packets: CraftedPacket[]): void {
  const parts: Uint8Array[] = [];
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0); h.writeUInt16LE(2, 4); h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16); h.writeUInt32LE(1, 20);
  parts.push(h);
  for (const p of packets) {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(p.sec, 0); r.writeUInt32LE(p.usec, 4); r.writeUInt32LE(p.frame.length, 8); r.writeUInt32LE(p.frame.length, 12);
    parts.push(r, p.frame);
  }
  writeFileSync(path, Buffer.concat(parts));
}
