/**
 * What `netring top` shows, computed from a flow table once a second (allocates
 * per refresh, never per packet): top flows, talkers, ports and protocols by
 * bytes or packets, rendered as plain text lines that fit a given width.
 */
import { addrText } from './record.js';
import type { FlowTable } from './table.js';

/** Sort key of the view. */
export type TopSort = 'bytes' | 'packets';

/** One line of a list: what (a flow, an address, a port, a protocol) and its counts. */
export interface TopRow { label: string; packets: number; bytes: number }
type Row = TopRow;

/** What the view shows, aggregated over one table or merged over several. */
export interface TopRows { flows: Row[]; talkers: Row[]; ports: Row[]; protos: Row[] }

const PROTO: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmp6', 132: 'sctp' };

function human(n: number, unit: string): string {
  const u = ['', 'k', 'M', 'G', 'T'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return `${n >= 100 || i === 0 ? n.toFixed(0) : n.toFixed(1)}${u[i]}${unit}`;
}

function add(m: Map<string, Row>, label: string, p: number, b: number): void {
  const r = m.get(label);
  if (r) { r.packets += p; r.bytes += b; } else m.set(label, { label, packets: p, bytes: b });
}

/** A snapshot of the table's flows, aggregated. */
export function topRows(table: FlowTable): TopRows {
  const flows: Row[] = [];
  const talkers = new Map<string, Row>();
  const ports = new Map<string, Row>();
  const protos = new Map<string, Row>();
  table.forEachFlow((id) => {
    const k = table.flowKey(id);
    const c = table.flowCounts(id);
    const rev = table.flowReversed(id);
    const v = (k[0] >>> 12) & 0xf;
    const proto = (k[0] >>> 16) & 0xff;
    // initiator first
    const [ia, ra] = rev ? [5, 1] : [1, 5];
    const ip = rev ? k[9] & 0xffff : k[9] >>> 16;
    const rp = rev ? k[9] >>> 16 : k[9] & 0xffff;
    const src = addrText(k, ia, v);
    const dst = addrText(k, ra, v);
    const pk = c[0] + c[1];
    const by = c[2] + c[3];
    const pn = PROTO[proto] ?? String(proto);
    const ep = (a: string, p: number): string => (v === 6 ? `[${a}]:${p}` : `${a}:${p}`);
    flows.push({ label: `${pn} ${ep(src, ip)} > ${ep(dst, rp)}`, packets: pk, bytes: by });
    add(talkers, src, c[0], c[2]);
    add(talkers, dst, c[1], c[3]);
    add(ports, `${pn}/${rp}`, pk, by);
    add(protos, pn, pk, by);
  });
  return { flows, talkers: [...talkers.values()], ports: [...ports.values()], protos: [...protos.values()] };
}

/**
 * The rows worth sending from a worker: the `n` heaviest of each list by bytes
 * and by packets. Flows of different workers are disjoint (symmetric steering),
 * so the top `n` of the merged flows is exact; talkers, ports and protocols are
 * summed over workers and exact while each worker has at most `n` of them.
 */
export function trimTopRows(r: TopRows, n: number): TopRows {
  const top = (rows: Row[]): Row[] => {
    if (rows.length <= n) return rows;
    const keep = new Set([...rows].sort((a, b) => b.bytes - a.bytes).slice(0, n));
    for (const x of [...rows].sort((a, b) => b.packets - a.packets).slice(0, n)) keep.add(x);
    return [...keep];
  };
  return { flows: top(r.flows), talkers: top(r.talkers), ports: top(r.ports), protos: top(r.protos) };
}

/** Merge the rows of several workers: flows side by side, the rest summed by label. */
export function mergeTopRows(parts: TopRows[]): TopRows {
  const sum = (lists: Row[][]): Row[] => {
    const m = new Map<string, Row>();
    for (const l of lists) for (const r of l) add(m, r.label, r.packets, r.bytes);
    return [...m.values()];
  };
  return {
    flows: parts.flatMap((p) => p.flows),
    talkers: sum(parts.map((p) => p.talkers)),
    ports: sum(parts.map((p) => p.ports)),
    protos: sum(parts.map((p) => p.protos)),
  };
}

/** Live rates and counters shown in the header. */
export interface TopHeader { iface: string; pps: number; bps: number; drops: number; freezes: number; flows: number; evicted: number; workers?: number }

/** Render the view of a table (or of rows already aggregated) as `height` lines of at most `width` characters. */
export function renderTop(h: TopHeader, from: FlowTable | TopRows, sort: TopSort, width: number, height: number): string[] {
  const { flows, talkers, ports, protos } = 'flows' in from ? from : topRows(from);
  const by = (a: Row, b: Row): number => (sort === 'bytes' ? b.bytes - a.bytes : b.packets - a.packets);
  const fit = (s: string): string => (s.length > width ? s.slice(0, width) : s);
  const num = (r: Row): string => `${human(r.bytes, 'B').padStart(7)} ${human(r.packets, 'p').padStart(7)}`;
  const lines: string[] = [];
  lines.push(fit(`netring top ${h.iface} ${human(h.pps, 'pps')} ${human(h.bps * 8, 'bps')} drops ${h.drops} freezes ${h.freezes} flows ${h.flows} evicted ${h.evicted}`));
  lines.push(fit(`${h.workers ? `${h.workers} workers, ` : ''}sorted by ${sort} (b: bytes, p: packets, q: quit)`));
  const rest = Math.max(4, height - 2);
  const nFlows = Math.max(1, Math.floor(rest * 0.45) - 1);
  const nSmall = Math.max(1, Math.floor((rest - nFlows - 4) / 2));
  lines.push(fit(`${'FLOW'.padEnd(width - 16)} ${'BYTES'.padStart(7)} ${'PKTS'.padStart(7)}`));
  for (const r of flows.sort(by).slice(0, nFlows)) lines.push(fit(`${r.label.slice(0, width - 16).padEnd(width - 16)}${num(r)}`));
  const half = Math.floor(width / 2) - 1;
  const col = (rows: Row[], title: string): string[] => [
    `${title.padEnd(half - 16)}${'BYTES'.padStart(8)}${'PKTS'.padStart(8)}`,
    ...rows.sort(by).slice(0, nSmall).map((r) => `${r.label.slice(0, half - 17).padEnd(half - 16)}${num(r)}`.slice(0, half)),
  ];
  const left = col(talkers, 'TALKER');
  const right = col(ports, 'PORT');
  for (let i = 0; i < Math.max(left.length, right.length); i++) lines.push(fit(`${(left[i] ?? '').padEnd(half)}  ${right[i] ?? ''}`));
  lines.push(fit(`PROTO ${protos.sort(by).map((r) => `${r.label} ${human(sort === 'bytes' ? r.bytes : r.packets, sort === 'bytes' ? 'B' : 'p')}`).join('  ')}`));
  return lines.slice(0, height);
}
