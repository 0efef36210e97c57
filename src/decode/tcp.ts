/**
 * TCP header (RFC 9293): 20 bytes plus options up to a 60-byte header.
 * Accessors take the offset of the header; the caller checks bounds.
 * Options are read with the reusable {@link TcpOptionIterator} or the
 * scanning helpers ({@link tcpMss}, ...), neither of which allocates.
 */
import { TlvOptionIterator } from './tlv.js';
import { put16, put32, u16, u32 } from './bytes.js';

/** Minimum TCP header length (data offset 5). */
export const TCP_MIN_HEADER_LEN = 20;

/** Field offsets within the TCP header. */
export const enum TcpField {
  SrcPort = 0, DstPort = 2, Seq = 4, Ack = 8, DataOffset = 12, Flags = 13, Window = 14, Checksum = 16, Urgent = 18, Options = 20,
}

/** TCP flag bits as found in byte 13 (plus NS from byte 12 as 0x100). */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
  /** Historic ECN nonce (RFC 3540), bit 0 of byte 12. */
  NS: 0x100,
} as const;

/** TCP option kinds. */
export const TcpOption = {
  End: 0,
  Nop: 1,
  MSS: 2,
  WindowScale: 3,
  SackPermitted: 4,
  Sack: 5,
  Timestamps: 8,
  MD5: 19,
  UserTimeout: 28,
  AuthOption: 29,
  MPTCP: 30,
  FastOpen: 34,
} as const;

/** Source port. */
export function tcpSrcPort(d: Uint8Array, off: number): number {
  return u16(d, off);
}
/** Destination port. */
export function tcpDstPort(d: Uint8Array, off: number): number {
  return u16(d, off + 2);
}
/** Sequence number (unsigned 32-bit). */
export function tcpSeq(d: Uint8Array, off: number): number {
  return u32(d, off + 4);
}
/** Acknowledgment number (unsigned 32-bit). */
export function tcpAck(d: Uint8Array, off: number): number {
  return u32(d, off + 8);
}
/** Header length in bytes (data offset * 4). */
export function tcpHeaderLength(d: Uint8Array, off: number): number {
  return (d[off + 12]! >> 4) << 2;
}
/** Flags: byte 13 plus NS as 0x100 (see {@link TcpFlag}). */
export function tcpFlags(d: Uint8Array, off: number): number {
  return ((d[off + 12]! & 1) << 8) | d[off + 13]!;
}
/** Receive window (unscaled). */
export function tcpWindow(d: Uint8Array, off: number): number {
  return u16(d, off + 14);
}
/** Checksum as stored. */
export function tcpChecksum(d: Uint8Array, off: number): number {
  return u16(d, off + 16);
}
/** Urgent pointer. */
export function tcpUrgent(d: Uint8Array, off: number): number {
  return u16(d, off + 18);
}

/**
 * Reusable, non-allocating iterator over TCP options.
 *
 * ```ts
 * const it = new TcpOptionIterator();
 * for (it.reset(data, tcpOff, end); it.next(); ) if (it.kind === TcpOption.MSS) ...
 * ```
 * After `next()` returns true: `kind`, `length` (whole option; 1 for NOP)
 * and `valueOffset` (first value byte). `malformed` becomes true when a
 * length byte is < 2 or runs past the header or the captured bytes.
 */
export class TcpOptionIterator extends TlvOptionIterator {
  /** Kind of the current option (the same as `type`). */
  get kind(): number { return this.type; }

  /**
   * Start at the options of the TCP header at `off`. `end` is the first
   * byte that may not be read (e.g. offset + caplen); the header's own data
   * offset bounds the options too. The 13th byte (`off + 12`) must be readable.
   */
  reset(d: Uint8Array, off: number, end: number): this {
    const hend = off + ((d[off + 12]! >> 4) << 2);
    this.start(d, off + TCP_MIN_HEADER_LEN, hend < end ? hend : end);
    return this;
  }
}

const scratch = new TcpOptionIterator();

/**
 * Offset of the value of the first option of `kind` whose total length is
 * `len`, or -1. Scans the options of the TCP header at `off`, never past `end`.
 */
export function tcpFindOption(d: Uint8Array, off: number, end: number, kind: number, len: number): number {
  if (off + TCP_MIN_HEADER_LEN > end) return -1;
  const it = scratch.reset(d, off, end);
  while (it.next()) if (it.kind === kind && it.length === len) return it.valueOffset;
  return -1;
}

/** MSS option value, or -1 when absent. */
export function tcpMss(d: Uint8Array, off: number, end: number): number {
  const v = tcpFindOption(d, off, end, TcpOption.MSS, 4);
  return v < 0 ? -1 : u16(d, v);
}
/** Window scale shift count, or -1 when absent. */
export function tcpWindowScale(d: Uint8Array, off: number, end: number): number {
  const v = tcpFindOption(d, off, end, TcpOption.WindowScale, 3);
  return v < 0 ? -1 : d[v]!;
}
/** True when the SACK-permitted option is present. */
export function tcpSackPermitted(d: Uint8Array, off: number, end: number): boolean {
  return tcpFindOption(d, off, end, TcpOption.SackPermitted, 2) >= 0;
}
/** Timestamp value (TSval), or -1 when the option is absent. */
export function tcpTsVal(d: Uint8Array, off: number, end: number): number {
  const v = tcpFindOption(d, off, end, TcpOption.Timestamps, 10);
  return v < 0 ? -1 : u32(d, v);
}
/** Timestamp echo reply (TSecr), or -1 when the option is absent. */
export function tcpTsEcr(d: Uint8Array, off: number, end: number): number {
  const v = tcpFindOption(d, off, end, TcpOption.Timestamps, 10);
  return v < 0 ? -1 : u32(d, v + 4);
}
/**
 * Number of SACK blocks in the SACK option (0 when absent). Block `i` is
 * at `tcpFindOption(d, off, end, 5, 2 + 8 * n) + 8 * i` (left edge, right edge).
 */
export function tcpSackBlocks(d: Uint8Array, off: number, end: number): number {
  if (off + TCP_MIN_HEADER_LEN > end) return 0;
  const it = scratch.reset(d, off, end);
  while (it.next()) if (it.kind === TcpOption.Sack) return (it.length - 2) >> 3;
  return 0;
}

/** Fields of a TCP header to write. */
export interface TcpHeader {
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  /** Flags incl. NS as 0x100 ({@link TcpFlag}). */
  flags: number;
  window?: number;
  checksum?: number;
  urgent?: number;
  /** Header length in bytes (20 + options; the options are the caller's). Default 20. */
  headerLength?: number;
}

/** Write the fixed 20 bytes of a TCP header at `off`; returns the offset after the whole header. */
export function writeTcp(d: Uint8Array, off: number, h: TcpHeader): number {
  const hl = h.headerLength ?? TCP_MIN_HEADER_LEN;
  put16(d, off + TcpField.SrcPort, h.sport);
  put16(d, off + TcpField.DstPort, h.dport);
  put32(d, off + TcpField.Seq, h.seq ?? 0);
  put32(d, off + TcpField.Ack, h.ack ?? 0);
  d[off + TcpField.DataOffset] = ((hl >> 2) << 4) | ((h.flags >> 8) & 1);
  d[off + TcpField.Flags] = h.flags;
  put16(d, off + TcpField.Window, h.window ?? 65535);
  put16(d, off + TcpField.Checksum, h.checksum ?? 0);
  put16(d, off + TcpField.Urgent, h.urgent ?? 0);
  return off + hl;
}
