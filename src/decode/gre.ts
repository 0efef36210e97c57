/**
 * GRE (RFC 2784/2890, and the PPTP "enhanced GRE" version 1 of RFC 2637).
 * Base header: flags+version (2 bytes), protocol type (2 bytes), then
 * optional checksum+reserved (C), key (K), sequence (S) and, for version 1,
 * acknowledgment (A) words.
 */
import { put16, put32, u16, u32 } from './bytes.js';

/** Length of the base GRE header. */
export const GRE_BASE_LEN = 4;

/** Flag bits of the first 16 bits. */
export const GreFlag = { C: 0x8000, R: 0x4000, K: 0x2000, S: 0x1000, A: 0x0080 } as const;

/** Field offsets within the base GRE header; optional words follow at {@link GreField.Optional}. */
export const enum GreField { Flags = 0, Protocol = 2, Optional = 4 }

/** Flags and version word. */
export function greFlags(d: Uint8Array, off: number): number {
  return u16(d, off);
}
/** Version (0 = GRE, 1 = PPTP enhanced GRE). */
export function greVersion(d: Uint8Array, off: number): number {
  return d[off + 1]! & 7;
}
/** Protocol type: EtherType of the payload (0x6558 = Ethernet, 0x880b = PPP). */
export function greProtocol(d: Uint8Array, off: number): number {
  return u16(d, off + 2);
}

/**
 * Header length implied by the flags (4..16 bytes), or -1 for what netring
 * does not decode: the routing bit (RFC 1701 source routes) or a version
 * other than 0 and 1.
 */
export function greHeaderLength(d: Uint8Array, off: number): number {
  const f = u16(d, off);
  const ver = f & 7;
  if ((f & GreFlag.R) !== 0 || ver > 1) return -1;
  let n = GRE_BASE_LEN;
  if ((f & GreFlag.C) !== 0) n += 4;
  if ((f & GreFlag.K) !== 0) n += 4;
  if ((f & GreFlag.S) !== 0) n += 4;
  if (ver === 1 && (f & GreFlag.A) !== 0) n += 4;
  return n;
}

/** Key (K flag set), or -1. For version 1 this is payload length << 16 | call id. */
export function greKey(d: Uint8Array, off: number): number {
  const f = u16(d, off);
  if ((f & GreFlag.K) === 0) return -1;
  return u32(d, off + ((f & GreFlag.C) !== 0 ? 8 : 4));
}

/** Fields of a version-0 GRE header to write (optional words present when given). */
export interface GreHeader {
  protocol: number;
  /** Write the checksum word (value as given, 0 = to be filled). */
  checksum?: number;
  key?: number;
  seq?: number;
}

/** Write a GRE header at `off`; returns the offset of the payload. */
export function writeGre(d: Uint8Array, off: number, h: GreHeader): number {
  const f = (h.checksum !== undefined ? GreFlag.C : 0) | (h.key !== undefined ? GreFlag.K : 0) | (h.seq !== undefined ? GreFlag.S : 0);
  put16(d, off + GreField.Flags, f);
  put16(d, off + GreField.Protocol, h.protocol);
  let o = off + GreField.Optional;
  if (h.checksum !== undefined) { put16(d, o, h.checksum); put16(d, o + 2, 0); o += 4; }
  if (h.key !== undefined) { put32(d, o, h.key); o += 4; }
  if (h.seq !== undefined) { put32(d, o, h.seq); o += 4; }
  return o;
}
