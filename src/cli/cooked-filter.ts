/**
 * A kernel filter for the cooked capture of `any`. The filter compiler emits
 * programs for Ethernet frames (kernel target: VLAN tags in metadata, the
 * network header at offset 14). A SOCK_DGRAM socket runs its filter on the
 * packet from the network header, with no link header at all, so, as
 * libpcap does for a cooked socket: the EtherType load (`ldh [12]`) becomes
 * the skb's protocol (`ld #proto`, SKF_AD_PROTOCOL), every other packet load
 * moves back by the 14 bytes of the Ethernet header, and a load from the
 * Ethernet header itself (MAC addresses: `ether host ...`) is refused, since
 * a cooked packet has none.
 */
import type { BpfInsn, BpfProgram } from '../bpf/classic.js';
import { UsageError } from './args.js';

const LD = 0x00, LDX = 0x01;
const W = 0x00, H = 0x08;
const ABS = 0x20, IND = 0x40, MSH = 0xa0;
const SKF_AD_OFF = 0xfffff000; // -0x1000 as u32
const SKF_AD_PROTOCOL = 0;
const ETH_HLEN = 14;

/** Rewrite an Ethernet kernel-target program for a cooked (`any`) socket; throws UsageError for link-header loads. */
export function cookedFilter(prog: BpfProgram | undefined, expression: string): BpfProgram | undefined {
  if (prog === undefined) return undefined;
  return prog.map((ins): BpfInsn => {
    const cls = ins.code & 0x07;
    if (cls !== LD && cls !== LDX) return ins;
    const mode = ins.code & 0xe0;
    if (mode !== ABS && mode !== IND && mode !== MSH) return ins;
    const k = ins.k >>> 0;
    if (mode === ABS && k >= SKF_AD_OFF) return ins; // ancillary data (VLAN tag, pkttype...): the same on every socket
    if (mode === ABS && cls === LD && (ins.code & 0x18) === H && k === 12) {
      return { code: LD | W | ABS, jt: ins.jt, jf: ins.jf, k: (SKF_AD_OFF + SKF_AD_PROTOCOL) >>> 0 };
    }
    if (k < ETH_HLEN) {
      throw new UsageError(`-i any: "${expression}" reads the Ethernet header (MAC addresses), which a cooked capture of every interface does not have; capture one interface with -i IFACE`);
    }
    return { ...ins, k: k - ETH_HLEN };
  });
}
