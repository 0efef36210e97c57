/**
 * IEEE 802.2 LLC and SNAP, after an 802.3 length field (an Ethernet
 * "EtherType" of 1500 or less). LLC: DSAP, SSAP and a control byte (3
 * bytes; I and S formats have a second control byte). SNAP (DSAP = SSAP =
 * 0xaa, control UI) adds a 3-byte OUI and a 2-byte protocol type (an
 * EtherType when the OUI is 0). Layout only: the filter compiler reads these
 * headers, the decoder does not decode them.
 */

/** Length of an LLC header with a one-byte control field (U format). */
export const LLC_HEADER_LEN = 3;
/** Length of an LLC header plus SNAP (OUI and protocol type). */
export const LLC_SNAP_HEADER_LEN = 8;
/**
 * Largest value of the Ethernet type/length field that is an 802.3 length
 * (libpcap's ETHERMTU): at or below it, LLC follows the length field.
 */
export const ETH_8023_MAX_LENGTH = 1500;
/** DSAP and SSAP of Novell "raw" 802.3 (IPX straight after the length field, no LLC). */
export const NOVELL_RAW_8023 = 0xffff;

/** Field offsets within the LLC header (and the SNAP fields that follow it). */
export const enum LlcField { Dsap = 0, Ssap = 1, Control = 2, SnapOui = 3, SnapType = 6 }

/** Service access point values (DSAP/SSAP). */
export const enum LlcSap {
  IP = 0x06,
  /** Spanning tree (802.1D BPDUs). */
  STP = 0x42,
  SNAP = 0xaa,
  IPX = 0xe0,
  NetBEUI = 0xf0,
  /** ISO network layer (CLNP, ES-IS, IS-IS). */
  ISONS = 0xfe,
}

/** SNAP organisation codes. */
export const enum SnapOui {
  /** EtherType encapsulation (RFC 1042): the protocol type is an EtherType. */
  Encapsulated = 0x000000,
  /** Apple: AppleTalk over SNAP. */
  Apple = 0x080007,
}

/**
 * The control byte (IEEE 802.2, libpcap llc.h): bit 0 clear is an I frame;
 * the low two bits are 01 for S, 11 for U frames. The command masks drop
 * the poll/final bit.
 */
export const enum LlcControl {
  /** Set in S and U frames, clear in I frames. */
  NotIFrame = 0x01,
  FormatMask = 0x03,
  SFormat = 0x01,
  UFormat = 0x03,
  SCommandMask = 0x0f,
  UCommandMask = 0xef,
  /** Unnumbered information (the control byte of SNAP). */
  UI = 0x03,
}

/** Supervisory commands (masked with {@link LlcControl.SCommandMask}). */
export const LlcSCommand: Readonly<Record<string, number>> = { rr: 0x01, rnr: 0x05, rej: 0x09 };
/** Unnumbered commands (masked with {@link LlcControl.UCommandMask}). */
export const LlcUCommand: Readonly<Record<string, number>> = {
  ui: 0x03, ua: 0x63, disc: 0x43, dm: 0x0f, sabme: 0x6f, test: 0xe3, xid: 0xaf, frmr: 0x87,
};

/** The 8 bytes of an LLC/SNAP header for `oui` and protocol type `ptype`. */
export function snapHeader(oui: number, ptype: number): Uint8Array {
  return Uint8Array.from([LlcSap.SNAP, LlcSap.SNAP, LlcControl.UI, oui >>> 16, (oui >>> 8) & 0xff, oui & 0xff, ptype >>> 8, ptype & 0xff]);
}
