/**
 * Copying a frame into a writer's buffer, with the VLAN tag re-inserted the
 * way libpcap does on Linux when the device moved it into metadata.
 */

/**
 * Frames up to this length are copied 16 bytes per loop step through
 * DataViews (no allocation, faster than a memcpy through a fresh subarray
 * view below ~200 bytes); longer ones with one `set()` of a subarray view.
 */
const SMALL_COPY = 192;

let srcCache: Uint8Array | null = null;
let srcView: DataView | null = null;

function viewOf(a: Uint8Array): DataView {
  if (a !== srcCache) {
    srcCache = a;
    srcView = new DataView(a.buffer, a.byteOffset, a.byteLength);
  }
  return srcView as DataView;
}

/** Copies `src[so, so+n)` into `dst` at `d` (dv is `dst`'s DataView). */
export function copyBytes(dst: Uint8Array, dv: DataView, d: number, src: Uint8Array, so: number, n: number): void {
  if (n > SMALL_COPY) {
    dst.set(src.subarray(so, so + n), d);
    return;
  }
  const sv = viewOf(src);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    dv.setUint32(d + i, sv.getUint32(so + i, true), true);
    dv.setUint32(d + i + 4, sv.getUint32(so + i + 4, true), true);
    dv.setUint32(d + i + 8, sv.getUint32(so + i + 8, true), true);
    dv.setUint32(d + i + 12, sv.getUint32(so + i + 12, true), true);
  }
  for (; i + 4 <= n; i += 4) dv.setUint32(d + i, sv.getUint32(so + i, true), true);
  for (; i < n; i++) dst[d + i] = src[so + i];
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
