/**
 * The tcpdump flags of `netring capture` that only change what is printed or
 * are spelled differently from netring's own options: -n/-nn (accepted:
 * netring never resolves names), -v (accepted; lines stay the default form),
 * -l, -e, -x/-xx, -X/-XX, -A, -t.., -S, -p, -Q, -y, -L, -D, --count. Repeated
 * letters count (commander reads -tttt as -t four times).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { choiceArg, UsageError } from './args.js';
import type { PrintOptions } from './print.js';

const more = (_v: string, n: number): number => n + 1;

/** Register the flags on `capture`. */
export function addTcpdumpFlags(cmd: Command): Command {
  return cmd
    .option('-n', "don't resolve addresses or ports (netring never does; accepted as tcpdump's -n/-nn)", more, 0)
    .option('-v', 'verbose (accepted; lines keep their usual form)', more, 0)
    .option('-e', 'print the link-level header (MAC addresses, ethertype, VLAN tags)')
    .option('-x', 'print each packet in hex from the network header (-xx: from the link header)', more, 0)
    .option('-X', 'print each packet in hex and ASCII from the network header (-XX: from the link header)', more, 0)
    .option('-A', 'print each packet in ASCII from the network header')
    .option('-t', 'timestamps: -t none, -tt epoch seconds, -ttt delta to previous, -tttt date and time, -ttttt delta to first', more, 0)
.option('-l', 'line-buffered: write each line as it is formatted (default: once per ring batch)')
    .option('-S', 'print absolute TCP sequence numbers (default: relative, as tcpdump)')
    .option('-p', "don't put the interface in promiscuous mode (same as --no-promisc)")
    .option('-Q <dir>', 'direction: in, out or inout (same as --direction)', choiceArg('-Q', ['in', 'out', 'inout'] as const))
    .option('-y <type>', 'link type: only EN10MB (Ethernet) is supported')
    .option('-L', 'list the link types of the interface (-i) and exit')
    .option('-D', 'list the interfaces netring can capture on and exit')
    .option('--count', 'print only the number of matching packets (on stdout), like tcpdump --count');
}

/** The raw values commander produced for the flags above. */
export interface TcpdumpFlagValues {
  n?: number; v?: number; l?: boolean; e?: boolean; x?: number; X?: number; A?: boolean; t?: number; S?: boolean;
  p?: boolean; Q?: 'in' | 'out' | 'inout'; y?: string; L?: boolean; D?: boolean; count?: boolean;
}

/** Printing options from the flags. */
export function printOptions(f: TcpdumpFlagValues): PrintOptions {
  return { t: f.t ?? 0, absoluteSeq: f.S === true, link: f.e === true, x: f.x ?? 0, X: f.X ?? 0, A: f.A === true, lineBuffered: f.l === true };
}

/** -Q in|out|inout as netring's direction. */
export function direction(f: TcpdumpFlagValues, own?: 'in' | 'out' | 'both'): 'in' | 'out' | 'both' | undefined {
  if (f.Q === undefined) return own;
  if (own !== undefined) throw new UsageError('use one of -Q and --direction');
  return f.Q === 'inout' ? 'both' : f.Q;
}

/** Check -y: netring captures Ethernet only. */
export function checkLinkType(f: TcpdumpFlagValues): void {
  if (f.y !== undefined && f.y.toUpperCase() !== 'EN10MB') {
    throw new UsageError(`-y ${f.y}: netring captures link type EN10MB (Ethernet) only`);
  }
}

const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;

/** tcpdump -D's list: `1.eth0 [Up, Running]`, in interface-index order. */
export function interfaceList(): string {
  const rows = readdirSync('/sys/class/net').map((name) => {
    const read = (f: string): string => { try { return readFileSync(`/sys/class/net/${name}/${f}`, 'utf8').trim(); } catch { return ''; } };
    const flags = parseInt(read('flags'), 16) || 0;
    // IFF_RUNNING is not in the sysfs flags: the carrier file holds it (and cannot be read while the link is down)
    const running = (flags & IFF_UP) !== 0 && read('carrier') === '1';
    const words = [flags & IFF_UP ? 'Up' : '', running ? 'Running' : '', flags & IFF_LOOPBACK ? 'Loopback' : ''].filter(Boolean);
    return { name, index: Number(read('ifindex')) || 0, words };
  }).sort((a, b) => a.index - b.index);
  return rows.map((r, i) => `${i + 1}.${r.name}${r.words.length ? ` [${r.words.join(', ')}]` : ''}`).join('\n') + '\n';
}

/** tcpdump -L's list for one interface. */
export function linkTypeList(iface: string): string {
  try {
    readFileSync(`/sys/class/net/${iface}/ifindex`);
  } catch {
    throw new Error(`no interface named "${iface}"`);
  }
  return `Data link types for ${iface} (use option -y to set):\n  EN10MB (Ethernet)\n`;
}
