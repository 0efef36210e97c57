/**
 * Payload fill patterns: what the bytes after the headers contain.
 *
 *   zero        all 0x00 (default)
 *   inc         0x00 0x01 0x02 ... (wrapping)
 *   random      seeded pseudo-random bytes
 *   0x5a / 90   one byte repeated
 *   hex:dead    the hex bytes repeated
 *   text:hello  the UTF-8 text repeated
 */
import { NetringError } from '../errors.js';
import { Rng } from '../util/random.js';

/** A parsed fill pattern. */
export type PayloadPattern =
  | { kind: 'zero' }
  | { kind: 'inc' }
  | { kind: 'random'; seed: number }
  | { kind: 'bytes'; bytes: Uint8Array };

/** Parse a pattern string (see the module doc). */
export function parsePayload(s: string | number | undefined, seed = 1): PayloadPattern {
  if (s === undefined || s === '' || s === 'zero' || s === 'zeros') return { kind: 'zero' };
  if (typeof s === 'number' || /^(0x[0-9a-fA-F]{1,2}|\d{1,3})$/.test(s)) {
    const v = typeof s === 'number' ? s : Number(s);
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new NetringError(`bad payload byte ${String(s)}: expected 0..255`, 'EINVAL');
    return { kind: 'bytes', bytes: Uint8Array.of(v) };
  }
  if (s === 'inc' || s === 'increment') return { kind: 'inc' };
  if (s === 'random' || s === 'rand') return { kind: 'random', seed };
  if (s.startsWith('hex:')) {
    const h = s.slice(4).replace(/[\s:]/g, '');
    if (h.length === 0 || h.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(h)) throw new NetringError(`bad payload "${s}": hex: needs an even number of hex digits`, 'EINVAL');
    return { kind: 'bytes', bytes: Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16))) };
  }
  if (s.startsWith('text:')) {
    const b = new TextEncoder().encode(s.slice(5));
    if (b.length === 0) throw new NetringError(`bad payload "${s}": empty text`, 'EINVAL');
    return { kind: 'bytes', bytes: b };
  }
  throw new NetringError(`bad payload "${s}": expected zero, inc, random, a byte (0x5a), hex:HEX or text:TEXT`, 'EINVAL');
}

/** Fill dst[off, off+len) with the pattern (position 0 is the first payload byte). */
export function fillPayload(dst: Uint8Array, off: number, len: number, p: PayloadPattern): void {
  switch (p.kind) {
    case 'zero':
      dst.fill(0, off, off + len);
      return;
    case 'inc':
      for (let i = 0; i < len; i++) dst[off + i] = i & 0xff;
      return;
    case 'random': {
      const r = new Rng(p.seed);
      for (let i = 0; i < len; i += 4) {
        const v = r.u32();
        for (let k = 0; k < 4 && i + k < len; k++) dst[off + i + k] = (v >>> (8 * k)) & 0xff;
      }
      return;
    }
    case 'bytes': {
      const b = p.bytes;
      for (let i = 0; i < len; i++) dst[off + i] = b[i % b.length];
      return;
    }
  }
}
