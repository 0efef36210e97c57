/**
 * 32-bit flow hashes over the 5-tuple of a decoded packet (addresses,
 * ports, upper-layer protocol), for steering and fan-out. No allocation.
 *
 * - {@link flowHash} is directional: A->B and B->A usually differ.
 * - {@link flowHashSymmetric} is the same for both directions of a
 *   conversation (endpoints are put in a canonical order before hashing).
 *
 * IP fragments hash without ports (non-first fragments have none), so all
 * fragments of a datagram land together. Non-IP packets hash the link-layer
 * addresses (Ethernet) and the EtherType; packets without a decoded link or
 * network layer hash to the EtherType alone.
 */
import { u16, u32 } from './bytes.js';
import type { Layers } from './layers.js';

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mix(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Word `i` (0-based, 32 bits) of an address of `len` bytes (4, 6 or 16) at `off`. */
function word(d: Uint8Array, off: number, len: number, i: number): number {
  if (len === 6) return i === 0 ? u32(d, off) : u16(d, off + 4);
  return u32(d, off + 4 * i);
}

/** Compare the endpoints (a, pa) and (b, pb): <0, 0 or >0. */
function compare(d: Uint8Array, a: number, b: number, len: number, pa: number, pb: number): number {
  const words = len === 16 ? 4 : len === 6 ? 2 : 1;
  for (let i = 0; i < words; i++) {
    const x = word(d, a, len, i);
    const y = word(d, b, len, i);
    if (x !== y) return x < y ? -1 : 1;
  }
  return pa - pb;
}

/**
 * The hash {@link flowHash} / {@link flowHashSymmetric} compute for an IPv4
 * packet, from the tuple itself (addresses as unsigned 32-bit numbers), for
 * code that has the numbers but no decoded packet (e.g. a fan-out table).
 * Pass ports 0 for fragments, as the packet versions do.
 */
export function flowHashIpv4(src: number, dst: number, sport: number, dport: number, proto: number, symmetric = false, seed = 0): number {
  let x = src >>> 0;
  let y = dst >>> 0;
  let pa = sport & 0xffff;
  let pb = dport & 0xffff;
  if (symmetric && (x > y || (x === y && pa > pb))) {
    x = y;
    y = src >>> 0;
    pa = pb;
    pb = sport & 0xffff;
  }
  return fmix(mix(mix(mix(mix(seed | 0, x | 0), y | 0), (pa << 16) | pb), proto | (4 << 16)));
}

function hashTuple(l: Layers, symmetric: boolean, seed: number): number {
  const d = l.data;
  let a: number;
  let b: number;
  let len: number;
  let pa = 0;
  let pb = 0;
  let proto: number;
  if (l.ipVersion !== 0) {
    a = l.srcAddrOffset;
    b = l.dstAddrOffset;
    len = l.addrLength;
    proto = l.ipProto;
    if (l.isFragment === 0) {
      pa = l.srcPort;
      pb = l.dstPort;
    }
  } else if (l.linkType === 1 && l.l2Offset >= 0) {
    a = l.l2Offset + 6;
    b = l.l2Offset;
    len = 6;
    proto = l.etherType;
  } else {
    return fmix(mix(seed, l.etherType));
  }
  if (len === 4) return flowHashIpv4(u32(d, a), u32(d, b), pa, pb, proto, symmetric, seed);
  if (symmetric && compare(d, a, b, len, pa, pb) > 0) {
    const t = a;
    a = b;
    b = t;
    const tp = pa;
    pa = pb;
    pb = tp;
  }
  const words = len === 16 ? 4 : len === 6 ? 2 : 1;
  let h = seed;
  for (let i = 0; i < words; i++) h = mix(h, word(d, a, len, i));
  for (let i = 0; i < words; i++) h = mix(h, word(d, b, len, i));
  h = mix(h, (pa << 16) | pb);
  h = mix(h, proto | (len << 16));
  return fmix(h);
}

/** Directional 5-tuple hash (unsigned 32-bit) of the packet last decoded into `l`. */
export function flowHash(l: Layers, seed = 0): number {
  return hashTuple(l, false, seed | 0);
}

/** Direction-independent 5-tuple hash (unsigned 32-bit): A->B equals B->A. */
export function flowHashSymmetric(l: Layers, seed = 0): number {
  return hashTuple(l, true, seed | 0);
}
