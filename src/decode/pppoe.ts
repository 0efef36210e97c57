/**
 * PPPoE (RFC 2516): a 6-byte header after EtherType 0x8863 (discovery) or
 * 0x8864 (session): version and type (4 bits each, both 1), code, session id
 * and payload length. A session frame carries PPP: a 2-byte protocol field,
 * then the packet it names.
 */
import { put16, u16 } from './bytes.js';
import { EtherType } from './ethernet.js';
import { LlcSap } from './llc.js';

/** Length of the PPPoE header. */
export const PPPOE_HEADER_LEN = 6;
/** Length of the PPP protocol field that follows it in a session frame. */
export const PPP_PROTOCOL_LEN = 2;

/** Field offsets within the PPPoE header. */
export const enum PppoeField { VersionType = 0, Code = 1, SessionId = 2, Length = 4 }
/** Version and type byte of RFC 2516 (both 1). */
export const PPPOE_VERSION_TYPE = 0x11;
/** PPPoE codes (discovery stage; 0 in session frames). */
export const enum PppoeCode { Session = 0x00, PADO = 0x07, PADI = 0x09, PADR = 0x19, PADS = 0x65, PADT = 0xa7 }
/** Largest session id. */
export const PPPOE_MAX_SESSION = 0xffff;

/** PPP protocol numbers (the field after the PPPoE header). */
export const enum PppProto {
  IP = 0x0021, OSI = 0x0023, NS = 0x0025, DECnet = 0x0027, AppleTalk = 0x0029, IPX = 0x002b,
  BridgePdu = 0x0031, IPv6 = 0x0057, MplsUnicast = 0x0281, MplsMulticast = 0x0283,
}

/**
 * The PPP protocol number of an EtherType (or LLC SAP) as libpcap maps it
 * (ethertype_to_ppptype): IPv4, IPv6, DECnet, AppleTalk, XNS (0x0600), OSI
 * (SAP 0xfe), spanning tree (SAP 0x42) and IPX (SAP 0xe0); any other value
 * as it is.
 */
export function pppProtoOf(etherType: number): number {
  switch (etherType) {
    case EtherType.IPv4: return PppProto.IP;
    case EtherType.IPv6: return PppProto.IPv6;
    case EtherType.DECnet: return PppProto.DECnet;
    case EtherType.AppleTalk: return PppProto.AppleTalk;
    case EtherType.XNS: return PppProto.NS;
    case LlcSap.ISONS: return PppProto.OSI;
    case LlcSap.STP: return PppProto.BridgePdu;
    case LlcSap.IPX: return PppProto.IPX;
    default: return etherType;
  }
}

/** Session id of the PPPoE header at `off`. */
export function pppoeSessionId(d: Uint8Array, off: number): number {
  return u16(d, off + PppoeField.SessionId);
}
/** PPP protocol of the session frame whose PPPoE header is at `off`. */
export function pppoePppProtocol(d: Uint8Array, off: number): number {
  return u16(d, off + PPPOE_HEADER_LEN);
}

/**
 * Write a PPPoE header at `off` (`length`: bytes after it, the PPP protocol
 * field included); returns the offset after it.
 */
export function writePppoe(d: Uint8Array, off: number, code: number, session: number, length: number): number {
  d[off + PppoeField.VersionType] = PPPOE_VERSION_TYPE;
  d[off + PppoeField.Code] = code;
  put16(d, off + PppoeField.SessionId, session);
  put16(d, off + PppoeField.Length, length);
  return off + PPPOE_HEADER_LEN;
}
