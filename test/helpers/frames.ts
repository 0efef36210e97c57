/**
 * Frame crafters for tests, without native code: every frame (IP with
 * options or extension headers, ARP) by the TX builder (src/build), whose
 * headers the protocol modules of src/decode lay out.
 */
import { buildPacket, type PacketSpec } from '../../src/build/index.js';
import { ArpOp } from '../../src/decode/arp.js';

/** A MAC as text ("02:00:00:00:0a:01") or 6 bytes. */
type Mac = string | ArrayLike<number>;
const macOf = (m: Mac): string | Uint8Array => (typeof m === 'string' ? m : Uint8Array.from(m));

export interface ArpFrameSpec {
  /** Ethernet source and ARP sender hardware address (default 02:00:00:00:0a:01). */
  srcMac?: Mac;
  /** Ethernet destination (default ff:ff:ff:ff:ff:ff). */
  dstMac?: Mac;
  /** VLAN tags before the ARP EtherType, outermost first: [tpid, tci]. */
  tags?: Array<[number, number]>;
  /** Operation (default 1, request). */
  op?: number;
  /** Sender protocol address (default 10.0.0.1). */
  spa?: string;
  /** Target protocol address (default 10.0.0.2). */
  tpa?: string;
  /** Target hardware address (default 00:00:00:00:00:00). */
  tha?: Mac;
}

/** An Ethernet (optionally VLAN-tagged) IPv4 ARP frame by the TX builder: headers and the 28-byte message, no padding. */
export function arpFrame(s: ArpFrameSpec = {}): Uint8Array {
  const t = buildPacket({
    srcMac: macOf(s.srcMac ?? '02:00:00:00:0a:01'), dstMac: macOf(s.dstMac ?? 'ff:ff:ff:ff:ff:ff'),
    vlan: (s.tags ?? []).map(([tpid, tci]) => tagOf(tpid, tci)),
    src: s.spa ?? '10.0.0.1', dst: s.tpa ?? '10.0.0.2',
    arp: { op: s.op ?? ArpOp.Request, targetMac: macOf(s.tha ?? [0, 0, 0, 0, 0, 0]) },
  });
  return t.bytes.slice(0, t.payloadOff);
}

/** A builder VLAN tag from a TPID and a TCI. */
export function tagOf(tpid: number, tci: number): { id: number; pcp: number; dei: boolean; tpid: number } {
  return { id: tci & 0xfff, pcp: tci >>> 13, dei: (tci & 0x1000) !== 0, tpid };
}

export interface UdpFrameSpec {
  srcMac?: string;
  dstMac?: string;
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  payload?: Uint8Array;
  /** Insert an 802.1Q tag with this TCI. */
  vlanTci?: number;
  vlanTpid?: number;
  ttl?: number;
}

/**
 * A frame made by the TX builder (src/build: the same protocol modules the
 * transmit path uses), with correct checksums, that ends where its IP packet
 * ends: shorter than the Ethernet minimum when headers and payload are (the
 * builder would pad it with a zero trailer, which is cut off here).
 */
export function packetFrame(spec: Omit<PacketSpec, 'payload' | 'size'> & { payload?: Uint8Array } = {}): Uint8Array {
  const payload = spec.payload ?? new Uint8Array(0);
  const t = buildPacket({ ...spec, payload });
  return t.trailer ? t.bytes.slice(0, t.payloadOff + payload.length) : t.bytes;
}

/**
 * An Ethernet/IPv4/UDP frame (optionally 802.1Q tagged) by {@link packetFrame}:
 * correct checksums, and the frame ends with the payload.
 */
export function udpFrame(s: UdpFrameSpec = {}): Uint8Array {
  const tci = s.vlanTci;
  return packetFrame({
    srcMac: s.srcMac ?? '02:00:00:00:0a:01', dstMac: s.dstMac ?? '02:00:00:00:ff:02',
    src: s.src ?? '10.99.0.1', dst: s.dst ?? '10.99.1.1', sport: s.sport ?? 10000, dport: s.dport ?? 5001, ttl: s.ttl ?? 64,
    vlan: tci === undefined ? undefined : tagOf(s.vlanTpid ?? 0x8100, tci),
    payload: s.payload ?? new Uint8Array(18),
  });
}
