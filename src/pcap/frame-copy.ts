/**
 * Copying a frame into a writer's buffer, with the VLAN tag re-inserted the
 * way libpcap does on Linux when the device moved it into metadata.
 *
 * Frames are copied 8 bytes per step as float64 words: stores through the
 * destination's DataView (setFloat64, unaligned), loads through a DataView
 * below 128 bytes (64 bytes per loop turn) and, from 128 bytes on, as
 * aligned Float64Array elements over the source's whole buffer after one
 * unaligned first word; the last 8 bytes are written once more from `n - 8`
 * instead of a byte tail. Nothing is allocated per frame: a
 * `set()` from a `subarray()` (or Node 20's `Buffer.copy` with offsets,
 * which makes the same view inside) is a memcpy, faster above a few hundred
 * bytes, but every call allocates a view object and the collector runs.
 * V8 carries a float64 through registers as its bits (NaN payloads and
 * signalling NaNs included); the module checks that once at load and, on an
 * engine that would rewrite a NaN, copies 4-byte words instead.
 */

let srcCache: Uint8Array | null = null;
let srcView: DataView | null = null;
/** The source's whole buffer as float64 words (aligned loads), and where the source starts in it. */
let srcWords: Float64Array | null = null;
let srcBase = 0;

function viewOf(a: Uint8Array): DataView {
  if (a !== srcCache) {
    srcCache = a;
    srcView = new DataView(a.buffer, a.byteOffset, a.byteLength);
    srcWords = new Float64Array(a.buffer, 0, a.buffer.byteLength >>> 3);
    srcBase = a.byteOffset;
  }
  return srcView as DataView;
}

/** From this length on, the source is read in aligned Float64Array words (a DataView load costs more). */
const ALIGNED_FROM = 128;

/** True when a float64 load and store through DataViews keeps every NaN bit pattern. */
function float64CopyIsExact(): boolean {
  const a = new DataView(new ArrayBuffer(64)), b = new DataView(new ArrayBuffer(64));
  const hi = [0x7ff00000, 0x7ff40000, 0x7ff80001, 0xfff00000, 0xfff7ffff, 0xffffffff];
  for (let k = 0; k < hi.length; k++) {
    a.setUint32(8 * k, 0x00000001 + k, true);
    a.setUint32(8 * k + 4, hi[k], true);
  }
  const w = new Float64Array(a.buffer);
  for (let r = 0; r < 2; r++) {
    b.setUint32(0, 0, true);
    for (let i = 0; i < 48; i += 8) b.setFloat64(i, r === 0 ? a.getFloat64(i, true) : w[i >> 3], true);
    for (let i = 0; i < 48; i += 4) if (b.getUint32(i, true) !== a.getUint32(i, true)) return false;
  }
  return true;
}

const WORD8 = float64CopyIsExact();

/** Copies `src[so, so+n)` into `dst` at `d` (dv is `dst`'s DataView). */
export function copyBytes(dst: Uint8Array, dv: DataView, d: number, src: Uint8Array, so: number, n: number): void {
  if (n < 8) {
    for (let i = 0; i < n; i++) dst[d + i] = src[so + i];
    return;
  }
  const sv = viewOf(src);
  if (!WORD8) { copyWords4(dv, d, sv, so, n); return; }
  const e = n - 8;
  if (n >= ALIGNED_FROM) {
    // the first word unaligned, then the source in aligned words from its next 8-byte boundary
    dv.setFloat64(d, sv.getFloat64(so, true), true);
    const words = srcWords as Float64Array;
    const at = srcBase + so;
    let j = (8 - (at & 7)) & 7;
    let k = (at + j) >>> 3;
    for (; j + 32 <= e; j += 32, k += 4) {
      dv.setFloat64(d + j, words[k], true);
      dv.setFloat64(d + j + 8, words[k + 1], true);
      dv.setFloat64(d + j + 16, words[k + 2], true);
      dv.setFloat64(d + j + 24, words[k + 3], true);
    }
    for (; j < e; j += 8, k++) dv.setFloat64(d + j, words[k], true);
    dv.setFloat64(d + e, sv.getFloat64(so + e, true), true);
    return;
  }
  let i = 0;
  for (; i + 64 <= n; i += 64) {
    dv.setFloat64(d + i, sv.getFloat64(so + i, true), true);
    dv.setFloat64(d + i + 8, sv.getFloat64(so + i + 8, true), true);
    dv.setFloat64(d + i + 16, sv.getFloat64(so + i + 16, true), true);
    dv.setFloat64(d + i + 24, sv.getFloat64(so + i + 24, true), true);
    dv.setFloat64(d + i + 32, sv.getFloat64(so + i + 32, true), true);
    dv.setFloat64(d + i + 40, sv.getFloat64(so + i + 40, true), true);
    dv.setFloat64(d + i + 48, sv.getFloat64(so + i + 48, true), true);
    dv.setFloat64(d + i + 56, sv.getFloat64(so + i + 56, true), true);
  }
  for (; i < e; i += 8) dv.setFloat64(d + i, sv.getFloat64(so + i, true), true);
  dv.setFloat64(d + e, sv.getFloat64(so + e, true), true); // overlaps what is already copied when n % 8 != 0
}

/** @internal The 4-byte word copy (n >= 8), for an engine whose float64 moves are not bit-exact. */
export function copyWords4(dv: DataView, d: number, sv: DataView, so: number, n: number): void {
  const e = n - 4;
  let i = 0;
  for (; i < e; i += 4) dv.setUint32(d + i, sv.getUint32(so + i, true), true);
  dv.setUint32(d + e, sv.getUint32(so + e, true), true);
}

/**
 * Offset at which libpcap re-inserts a VLAN tag for a link type (the
 * EtherType position): 12 for Ethernet, 14 for Linux SLL; -1 for others.
 */
export function vlanInsertOffset(linkType: number): number {
  if (linkType === 1) return 12;
  if (linkType === 113) return 14;
  return -1;
}

/**
 * Writes `outLen` bytes of the frame at `src[so]` (caplen `caplen`) to
 * `dst[d]`; when `tagAt >= 0`, the 4 bytes TPID/TCI go in at `tagAt` and
 * the frame bytes after it move 4 bytes on. `outLen` is already clamped to
 * the snapshot length.
 */
export function writeFrame(
  dst: Uint8Array, dv: DataView, d: number, src: Uint8Array, so: number,
  outLen: number, tagAt: number, tpid: number, tci: number,
): void {
  if (tagAt < 0) { copyBytes(dst, dv, d, src, so, outLen); return; }
  const head = Math.min(tagAt, outLen);
  copyBytes(dst, dv, d, src, so, head);
  if (outLen <= tagAt) return;
  const tag = ((tpid & 0xffff) * 65536 + (tci & 0xffff)) >>> 0;
  const tagBytes = Math.min(4, outLen - tagAt);
  for (let i = 0; i < tagBytes; i++) dst[d + tagAt + i] = (tag >>> (24 - 8 * i)) & 0xff;
  const rest = outLen - tagAt - 4;
  if (rest > 0) copyBytes(dst, dv, d + tagAt + 4, src, so + tagAt, rest);
}
