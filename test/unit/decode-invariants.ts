/** Checks shared by the decoder tests (not a test file itself). */
import assert from 'node:assert/strict';
import type { Layers } from '../../src/decode/index.js';

/** Offsets recorded by a decode always lie inside the captured range. */
export function assertInRange(l: Layers, what: string): void {
  const { start, end } = l;
  assert.ok(l.payloadOffset === -1 || (l.payloadOffset >= start && l.payloadOffset + l.payloadLength <= end && l.payloadLength >= 0), `${what}: payload range`);
  for (const k of ['l2Offset', 'l3Offset', 'l4Offset', 'tunnelOffset', 'innerOffset'] as const) {
    const v = l[k];
    assert.ok(v === -1 || (v >= start && v <= end), `${what}: ${k}=${v} outside [${start}, ${end}]`);
  }
  for (const k of ['srcAddrOffset', 'dstAddrOffset'] as const) {
    const v = l[k];
    assert.ok(v === -1 || (v >= start && v + l.addrLength <= end), `${what}: ${k}`);
  }
  assert.ok(l.ipEnd === -1 || l.ipEnd <= end, `${what}: ipEnd`);
}

/** Every public number field of `l` (reading them decodes the whole packet). */
export function fields(l: Layers): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ['start', 'end', 'linkType', 'vxlanPort'] as const) out[k] = l[k];
  const proto = Object.getPrototypeOf(l) as object;
  for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
    if (d.get === undefined) continue;
    const v = (l as unknown as Record<string, unknown>)[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

/** Fields whose value is an absolute index into `data` (-1 = absent). */
const POSITIONS = new Set(['start', 'end', 'l2Offset', 'l3Offset', 'ipEnd', 'srcAddrOffset', 'dstAddrOffset', 'l4Offset', 'payloadOffset', 'tunnelOffset', 'innerOffset']);

/** All public number fields of `l` with positions made relative to `l.start`, as one string. */
export function relativeFields(l: Layers): string {
  let s = '';
  for (const [k, v] of Object.entries(fields(l))) s += `${k}=${POSITIONS.has(k) && v >= 0 ? v - l.start : v} `;
  return s;
}
