/**
 * Frame crafters without native code, laid out by the protocol modules the
 * TX builder (src/build) uses, for frames the builder does not make.
 */
import { parseIPv4, parseMac } from '../../src/build/index.js';
import { writeArp, ArpOp } from '../../src/decode/arp.js';
import { put16, put32 } from '../../src/decode/bytes.js';
import { EtherType, writeEthernet } from '../../src/decode/ethernet.js';
import { VLAN_TAG_LEN, writeVlanTag } from '../../src/decode/vlan.js';

/** A MAC as text ("02:00:00:00:0a:01") or 6 bytes. */
type Mac = string | ArrayLike<number>;
const macOf = (m: Mac): ArrayLike<number> => (typeof m === 'string' ? parseMac(m) : m);
const ip4 = (a: string): Uint8Array => { const b = new Uint8Array(4); put32(b, 0, parseIPv4(a)); return b; };

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

/** An Ethernet (optionally VLAN-tagged) IPv4 ARP frame: headers and the 28-byte message, no padding. */
export function arpFrame(s: ArpFrameSpec = {}): Uint8Array {
  const tags = s.tags ?? [];
  const f = new Uint8Array(14 + VLAN_TAG_LEN * tags.length + 28);
  const src = macOf(s.srcMac ?? '02:00:00:00:0a:01');
  writeEthernet(f, 0, macOf(s.dstMac ?? 'ff:ff:ff:ff:ff:ff'), src, EtherType.ARP);
  let o = 12;
  for (const [tpid, tci] of tags) o = writeVlanTag(f, o, tpid, tci);
  put16(f, o, EtherType.ARP);
  writeArp(f, o + 2, { op: s.op ?? ArpOp.Request, sha: src, spa: ip4(s.spa ?? '10.0.0.1'), tha: macOf(s.tha ?? [0, 0, 0, 0, 0, 0]), tpa: ip4(s.tpa ?? '10.0.0.2') });
  return f;
}
