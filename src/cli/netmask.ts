/**
 * The IPv4 netmask `ip broadcast` is compiled with on a live interface, as
 * tcpdump gets it from pcap_lookupnet(): the mask of the interface's first
 * IPv4 address, or 0 when it has none (tcpdump then warns and uses 0 too).
 */
import { networkInterfaces } from 'node:os';

/** Netmask of `iface` as an unsigned 32-bit number (0 when it has no IPv4 address). */
export function interfaceNetmask(iface: string): number {
  const a = networkInterfaces()[iface]?.find((x) => x.family === 'IPv4');
  if (!a) return 0;
  return a.netmask.split('.').reduce((v, p) => ((v << 8) | Number(p)) >>> 0, 0);
}
