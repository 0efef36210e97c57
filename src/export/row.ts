/**
 * One flow record seen from one direction (or as a biflow), as the export
 * encoders need it: a reused object filled from a {@link RecordBuffer}
 * record. No allocation per record.
 */
import { R_COUNTS, R_DOMAIN, R_FLAGS, R_FWD_TIME, R_REV_TIME, RECORD_BYTES, RECORD_WORDS, type RecordBuffer } from '../flow/record.js';

export class FlowRow {
  version = 4;
  proto = 0;
  vlan = 0;
  /** Source and destination address words (IPv4: [0] only). */
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  sport = 0;
  dport = 0;
  packets = 0;
  bytes = 0;
  rpackets = 0;
  rbytes = 0;
  tcpFlags = 0;
  rtcpFlags = 0;
  /** Milliseconds since the epoch. */
  startMs = 0;
  endMs = 0;
  rstartMs = 0;
  rendMs = 0;
  reason = 0;
  domain = 0;
}

function ms(w: Uint32Array, i: number): number { return w[i] * 1000 + Math.floor(w[i + 1] / 1e6); }

/** Records that give rows in `mode`: biflow 1 per record; unidirectional 1 or 2 (no empty reverse row). */
export function rowsOf(rb: RecordBuffer, i: number, biflow: boolean): number {
  if (biflow) return 1;
  return rb.f64[i * (RECORD_BYTES >>> 3) + R_COUNTS + 1] > 0 ? 2 : 1;
}

/**
 * Fill `row` from record `i`. `part` 0 = the forward direction (with the
 * reverse counters when `biflow`), 1 = the reverse direction as its own row.
 */
export function fillRow(row: FlowRow, rb: RecordBuffer, i: number, part: 0 | 1, biflow: boolean): void {
  const w = rb.u32;
  const b = i * RECORD_WORDS;
  const c = i * (RECORD_BYTES >>> 3) + R_COUNTS;
  const f = rb.f64;
  const k0 = w[b];
  row.version = (k0 >>> 12) & 0xf;
  row.proto = (k0 >>> 16) & 0xff;
  row.vlan = k0 & 0xfff;
  const fl = w[b + R_FLAGS];
  row.reason = (fl >>> 16) & 0xff;
  row.domain = w[b + R_DOMAIN];
  const a = part === 0 ? 1 : 5;
  const z = part === 0 ? 5 : 1;
  for (let j = 0; j < 4; j++) { row.src[j] = w[b + a + j]; row.dst[j] = w[b + z + j]; }
  const ports = w[b + 9];
  const icmp = row.proto === 1 || row.proto === 58;
  if (part === 0 || icmp) { row.sport = ports >>> 16; row.dport = ports & 0xffff; } else { row.sport = ports & 0xffff; row.dport = ports >>> 16; }
  const ft = R_FWD_TIME;
  const rt = R_REV_TIME;
  const hasRev = f[c + 1] > 0;
  if (part === 0) {
    row.packets = f[c]; row.bytes = f[c + 2];
    row.tcpFlags = fl & 0xff;
    row.startMs = ms(w, b + ft);
    row.endMs = ms(w, b + ft + 2);
    if (biflow) {
      row.rpackets = f[c + 1]; row.rbytes = f[c + 3];
      row.rtcpFlags = (fl >>> 8) & 0xff;
      row.rstartMs = hasRev ? ms(w, b + rt) : 0;
      row.rendMs = hasRev ? ms(w, b + rt + 2) : 0;
      if (hasRev && row.rendMs > row.endMs) row.endMs = row.rendMs;
    } else {
      row.rpackets = 0; row.rbytes = 0; row.rtcpFlags = 0; row.rstartMs = 0; row.rendMs = 0;
    }
  } else {
    row.packets = f[c + 1]; row.bytes = f[c + 3];
    row.tcpFlags = (fl >>> 8) & 0xff;
    row.startMs = ms(w, b + rt);
    row.endMs = ms(w, b + rt + 2);
    row.rpackets = 0; row.rbytes = 0; row.rtcpFlags = 0; row.rstartMs = 0; row.rendMs = 0;
  }
}
