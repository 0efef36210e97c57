/**
 * Frame size sequences: a fixed size, IMIX, a uniform random range or a
 * list cycled in order. Sizes are frame bytes handed to the device (no FCS).
 * `at(i)` is random access so several workers can share one sequence.
 *
 *   64          every frame 64 bytes
 *   imix        simple IMIX 7:4:1 of 60, 590 and 1514 bytes (64/594/1518 with FCS)
 *   100-1500    uniform over the range, seeded
 *   64,128,256  cycled in order
 */
import { NetringError } from '../errors.js';
import { MAX_FRAME, MIN_FRAME } from '../build/index.js';
import { hash32 } from '../util/random.js';

/** IMIX cycle (12 frames: 7 x 60, 4 x 590, 1 x 1514, interleaved). */
export const IMIX: readonly number[] = Object.freeze([60, 590, 60, 60, 590, 60, 1514, 60, 590, 60, 60, 590]);

/** A size sequence. */
export class SizeSeq {
  /** Smallest and largest size the sequence yields. */
  readonly min: number;
  readonly max: number;
  /** True when every frame has the same size. */
  readonly fixed: boolean;
  /** The text it was parsed from (for summaries). */
  readonly text: string;
  private readonly cycle: Int32Array | null;
  private readonly seed: number;

  constructor(text: string, min: number, max: number, cycle: number[] | null, seed: number) {
    this.text = text;
    this.min = min;
    this.max = max;
    this.fixed = min === max;
    this.cycle = cycle === null ? null : Int32Array.from(cycle);
    this.seed = seed >>> 0;
  }

  /** Size of frame number i (i >= 0). */
  at(i: number): number {
    if (this.fixed) return this.min;
    const c = this.cycle;
    if (c !== null) return c[i % c.length];
    return this.min + (hash32(this.seed, i) % (this.max - this.min + 1));
  }

  /** Mean size (exact for fixed/cycles, expected value for ranges). */
  get mean(): number {
    if (this.cycle !== null) return this.cycle.reduce((a, b) => a + b, 0) / this.cycle.length;
    return (this.min + this.max) / 2;
  }
}

function checkSize(v: number, text: string): number {
  if (!Number.isInteger(v)) throw new NetringError(`bad size "${text}": ${v} is not a whole number of bytes`, 'EINVAL');
  if (v < MIN_FRAME || v > MAX_FRAME) throw new NetringError(`bad size "${text}": ${v} is outside ${MIN_FRAME}..${MAX_FRAME} bytes (frame without FCS)`, 'EINVAL');
  return v;
}

/** Parse a size spec (see the module doc). */
export function parseSize(spec: string | number | undefined, seed = 1): SizeSeq {
  if (spec === undefined) return new SizeSeq('60', MIN_FRAME, MIN_FRAME, null, seed);
  const text = String(spec).trim();
  if (typeof spec === 'number' || /^\d+$/.test(text)) {
    const v = checkSize(Number(text), text);
    return new SizeSeq(text, v, v, null, seed);
  }
  if (text.toLowerCase() === 'imix') return new SizeSeq('imix', 60, 1514, [...IMIX], seed);
  let m = /^(\d+)\s*-\s*(\d+)$/.exec(text);
  if (m) {
    const lo = checkSize(Number(m[1]), text);
    const hi = checkSize(Number(m[2]), text);
    if (lo > hi) throw new NetringError(`bad size "${text}": the range is empty (${lo} > ${hi})`, 'EINVAL');
    return new SizeSeq(text, lo, hi, null, seed);
  }
  m = /^\d+(\s*,\s*\d+)+$/.exec(text);
  if (m) {
    const list = text.split(',').map((x) => checkSize(Number(x.trim()), text));
    return new SizeSeq(text, Math.min(...list), Math.max(...list), list, seed);
  }
  throw new NetringError(`bad size "${text}": expected a number (64), imix, a range (100-1500) or a list (64,128,256)`, 'EINVAL');
}
