/**
 * Independent byte builders for pcap/pcapng test files (not using netring's
 * writers), in either byte order, so the readers are tested against bytes
 * laid out by hand from the format descriptions.
 */
import { prng as rng } from '../../src/util/random.js';

export { rng };

/** Growable byte builder with a fixed byte order. */
export class Bytes {
  private parts: number[] = [];
  constructor(readonly be: boolean) {}
  get length(): number { return this.parts.length; }
  u8(v: number): this { this.parts.push(v & 0xff); return this; }
  u16(v: number): this {
    if (this.be) this.parts.push((v >>> 8) & 0xff, v & 0xff);
    else this.parts.push(v & 0xff, (v >>> 8) & 0xff);
    return this;
  }
  u32(v: number): this {
    const b = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    if (!this.be) b.reverse();
    this.parts.push(...b);
    return this;
  }
  /** 64-bit as two 32-bit words, high first (pcapng timestamps). */
  hiLo(v: bigint): this { return this.u32(Number(v >> 32n)).u32(Number(v & 0xffffffffn)); }
  /** 64-bit integer in byte order (option values such as isb_ifdrop). */
  u64(v: bigint): this {
    return this.be ? this.u32(Number(v >> 32n)).u32(Number(v & 0xffffffffn)) : this.u32(Number(v & 0xffffffffn)).u32(Number(v >> 32n));
  }
  bytes(b: ArrayLike<number>): this { for (let i = 0; i < b.length; i++) this.parts.push(b[i] & 0xff); return this; }
  pad4(): this { while (this.parts.length % 4 !== 0) this.parts.push(0); return this; }
  build(): Uint8Array { return Uint8Array.from(this.parts); }
}

export function concat(...chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let p = 0;
  for (const c of chunks) { out.set(c, p); p += c.length; }
  return out;
}

export function randomBytes(n: number, r: () => number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

export interface CraftRecord { sec: number; sub: number; data: Uint8Array; orig?: number; caplen?: number }

/** A classic pcap file: magic for `nano`, byte order `be`. */
export function craftPcap(o: { be: boolean; nano: boolean; snaplen?: number; linkType?: number; version?: [number, number]; records: CraftRecord[] }): Uint8Array {
  const b = new Bytes(o.be);
  b.u32(o.nano ? 0xa1b23c4d : 0xa1b2c3d4).u16(o.version?.[0] ?? 2).u16(o.version?.[1] ?? 4).u32(0).u32(0)
    .u32(o.snaplen ?? 65535).u32(o.linkType ?? 1);
  for (const r of o.records) {
    b.u32(r.sec).u32(r.sub).u32(r.caplen ?? r.data.length).u32(r.orig ?? r.data.length).bytes(r.data);
  }
  return b.build();
}

/** Option list (code, value) with padding and opt_endofopt. */
function options(b: Bytes, opts: Array<[number, Uint8Array]>, end = true): void {
  for (const [code, val] of opts) b.u16(code).u16(val.length).bytes(val).pad4();
  if (end && opts.length > 0) b.u32(0);
}

/** Wraps a body into a pcapng block with both length fields. */
export function block(be: boolean, type: number, body: Uint8Array, lengthOverride?: number, trailerOverride?: number): Uint8Array {
  const len = 12 + body.length;
  return new Bytes(be).u32(type).u32(lengthOverride ?? len).bytes(body).u32(trailerOverride ?? lengthOverride ?? len).build();
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

export function shb(be: boolean, opts: Array<[number, Uint8Array]> = [], version: [number, number] = [1, 0]): Uint8Array {
  const b = new Bytes(be).u32(0x1a2b3c4d).u16(version[0]).u16(version[1]).u32(0xffffffff).u32(0xffffffff);
  options(b, opts);
  return block(be, 0x0a0d0d0a, b.build());
}

export function idb(be: boolean, linkType: number, snaplen: number, opts: Array<[number, Uint8Array]> = []): Uint8Array {
  const b = new Bytes(be).u16(linkType).u16(0).u32(snaplen);
  options(b, opts);
  return block(be, 1, b.build());
}

export function epb(be: boolean, ifid: number, ticks: bigint, data: Uint8Array, orig?: number, opts: Array<[number, Uint8Array]> = [], caplenOverride?: number): Uint8Array {
  const b = new Bytes(be).u32(ifid).hiLo(ticks).u32(caplenOverride ?? data.length).u32(orig ?? data.length).bytes(data).pad4();
  options(b, opts);
  return block(be, 6, b.build());
}

export function spb(be: boolean, orig: number, data: Uint8Array): Uint8Array {
  return block(be, 3, new Bytes(be).u32(orig).bytes(data).pad4().build());
}

export function pb(be: boolean, ifid: number, drops: number, ticks: bigint, data: Uint8Array, orig?: number): Uint8Array {
  return block(be, 2, new Bytes(be).u16(ifid).u16(drops).hiLo(ticks).u32(data.length).u32(orig ?? data.length).bytes(data).pad4().build());
}

export function isb(be: boolean, ifid: number, ticks: bigint, opts: Array<[number, Uint8Array]>): Uint8Array {
  const b = new Bytes(be).u32(ifid).hiLo(ticks);
  options(b, opts);
  return block(be, 5, b.build());
}

/** Option value helpers. */
export const opt = {
  u8: (v: number) => Uint8Array.of(v),
  u32: (be: boolean, v: number) => new Bytes(be).u32(v).build(),
  u64: (be: boolean, v: bigint) => new Bytes(be).u64(v).build(),
  hiLo: (be: boolean, v: bigint) => new Bytes(be).hiLo(v).build(),
};
