/** Flow records as text: one table line or one JSON line each (allocates; for output, not metering). */
import { readRecord, type FlowRecord, type RecordBuffer } from './record.js';

const PROTO: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmp6', 132: 'sctp' };

function flagText(f: number): string {
  const s = 'FSRPAUEC';
  let out = '';
  for (let i = 0; i < 8; i++) if (f & (1 << i)) out += s[i];
  return out || '-';
}

function endpoint(addr: string, port: number, v: number): string {
  return v === 6 ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** The header of the table format. */
export const TABLE_HEADER = 'start(UTC)               dur(s) proto src -> dst  pkts bytes <- rpkts rbytes flags end';

/** One record as a table line. */
export function recordLine(r: FlowRecord): string {
  const first = BigInt(r.firstNs);
  const last = [r.lastNs, r.rlastNs].filter((x) => x !== '').map(BigInt).reduce((a, b) => (b > a ? b : a), first);
  const start = new Date(Number(first / 1_000_000n)).toISOString().replace('T', ' ').replace('Z', '');
  const dur = (Number(last - first) / 1e9).toFixed(3);
  const proto = PROTO[r.proto] ?? String(r.proto);
  const vlan = r.vlan ? ` vlan ${r.vlan}` : '';
  return `${start} ${dur.padStart(9)} ${proto}${vlan} ${endpoint(r.src, r.sport, r.ipVersion)} -> ${endpoint(r.dst, r.dport, r.ipVersion)} ` +
    `${r.packets} ${r.bytes} <- ${r.rpackets} ${r.rbytes} ${flagText(r.tcpFlags)}/${flagText(r.rtcpFlags)} ${r.end}`;
}

/** Every record of `rb` as lines (table or JSON), joined with newlines (with a trailing one), '' when empty. */
export function recordLines(rb: RecordBuffer, json: boolean): string {
  let s = '';
  for (let i = 0; i < rb.count; i++) {
    const r = readRecord(rb, i);
    s += (json ? JSON.stringify(r) : recordLine(r)) + '\n';
  }
  return s;
}
