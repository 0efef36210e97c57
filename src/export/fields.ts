/**
 * The information elements netring exports (IANA "IPFIX Information
 * Elements" registry numbers; NetFlow v9 field types share the numbers for
 * the ones used here) and the template of each record kind.
 */
import type { FlowRow } from './row.js';

/** RFC 5103 reverse information elements: same number, this enterprise number. */
export const REVERSE_PEN = 29305;

/** One field of a template. */
export interface Field {
  /** Information element id (without the enterprise bit). */
  id: number;
  /** Encoded length in bytes. */
  len: number;
  /** Private enterprise number (RFC 5103 reverse elements), 0 for IANA. */
  pen: number;
  /** Write the value at `o`. */
  put(dv: DataView, o: number, r: FlowRow): void;
}

function u64(dv: DataView, o: number, v: number): void {
  dv.setUint32(o, Math.floor(v / 0x1_0000_0000));
  dv.setUint32(o + 4, v >>> 0);
}

const f = (id: number, len: number, put: Field['put'], pen = 0): Field => ({ id, len, pen, put });

/** IANA IE numbers used. */
export const IE = {
  octetDeltaCount: 1, packetDeltaCount: 2, protocolIdentifier: 4, tcpControlBits: 6, sourceTransportPort: 7,
  sourceIPv4Address: 8, destinationTransportPort: 11, destinationIPv4Address: 12, lastSwitched: 21, firstSwitched: 22,
  sourceIPv6Address: 27, destinationIPv6Address: 28, vlanId: 58, flowEndReason: 136, flowStartMilliseconds: 152,
  flowEndMilliseconds: 153, icmpTypeCodeIPv4: 32, icmpTypeCodeIPv6: 139,
} as const;

function addrFields(v6: boolean): Field[] {
  return v6
    ? [
      f(IE.sourceIPv6Address, 16, (dv, o, r) => { for (let j = 0; j < 4; j++) dv.setUint32(o + 4 * j, r.src[j]); }),
      f(IE.destinationIPv6Address, 16, (dv, o, r) => { for (let j = 0; j < 4; j++) dv.setUint32(o + 4 * j, r.dst[j]); }),
    ]
    : [
      f(IE.sourceIPv4Address, 4, (dv, o, r) => dv.setUint32(o, r.src[0])),
      f(IE.destinationIPv4Address, 4, (dv, o, r) => dv.setUint32(o, r.dst[0])),
    ];
}

const common = (tcpLen: number): Field[] => [
  f(IE.sourceTransportPort, 2, (dv, o, r) => dv.setUint16(o, r.sport)),
  f(IE.destinationTransportPort, 2, (dv, o, r) => dv.setUint16(o, r.dport)),
  f(IE.protocolIdentifier, 1, (dv, o, r) => dv.setUint8(o, r.proto)),
  tcpLen === 2 ? f(IE.tcpControlBits, 2, (dv, o, r) => dv.setUint16(o, r.tcpFlags)) : f(IE.tcpControlBits, 1, (dv, o, r) => dv.setUint8(o, r.tcpFlags)),
  f(IE.vlanId, 2, (dv, o, r) => dv.setUint16(o, r.vlan)),
];

/** ICMP type << 8 | code (also in the destination port, as NetFlow v5 did; some collectors read only this field). */
const icmpField = (v6: boolean): Field =>
  f(v6 ? IE.icmpTypeCodeIPv6 : IE.icmpTypeCodeIPv4, 2, (dv, o, r) => dv.setUint16(o, r.proto === 1 || r.proto === 58 ? r.dport : 0));

/** IPFIX template fields for IPv4 or IPv6 records, biflow (RFC 5103 reverse counters and flags) or not. */
export function ipfixFields(v6: boolean, biflow: boolean): Field[] {
  const fields = [
    ...addrFields(v6), ...common(2), icmpField(v6),
    f(IE.flowEndReason, 1, (dv, o, r) => dv.setUint8(o, r.reason)),
    f(IE.flowStartMilliseconds, 8, (dv, o, r) => u64(dv, o, r.startMs)),
    f(IE.flowEndMilliseconds, 8, (dv, o, r) => u64(dv, o, r.endMs)),
    f(IE.packetDeltaCount, 8, (dv, o, r) => u64(dv, o, r.packets)),
    f(IE.octetDeltaCount, 8, (dv, o, r) => u64(dv, o, r.bytes)),
  ];
  if (biflow) {
    fields.push(
      f(IE.packetDeltaCount, 8, (dv, o, r) => u64(dv, o, r.rpackets), REVERSE_PEN),
      f(IE.octetDeltaCount, 8, (dv, o, r) => u64(dv, o, r.rbytes), REVERSE_PEN),
      f(IE.tcpControlBits, 2, (dv, o, r) => dv.setUint16(o, r.rtcpFlags), REVERSE_PEN),
    );
    // no reverse flowStart/End: flowStart/End already span both directions, and
    // collectors (nfdump) take reverse times of one-sided flows (0) as the flow's times
  }
  return fields;
}

/**
 * NetFlow v9 template fields (unidirectional). FIRST/LAST_SWITCHED are
 * milliseconds of "system uptime": `bootMs` is the epoch time uptime 0 stands for.
 */
export function netflow9Fields(v6: boolean, bootMs: () => number): Field[] {
  return [
    ...addrFields(v6), ...common(1), icmpField(v6),
    f(IE.firstSwitched, 4, (dv, o, r) => dv.setUint32(o, Math.max(0, r.startMs - bootMs()) >>> 0)),
    f(IE.lastSwitched, 4, (dv, o, r) => dv.setUint32(o, Math.max(0, r.endMs - bootMs()) >>> 0)),
    f(IE.packetDeltaCount, 8, (dv, o, r) => u64(dv, o, r.packets)),
    f(IE.octetDeltaCount, 8, (dv, o, r) => u64(dv, o, r.bytes)),
  ];
}

/** Bytes of one data record of these fields. */
export function recordLength(fields: Field[]): number {
  return fields.reduce((n, x) => n + x.len, 0);
}
