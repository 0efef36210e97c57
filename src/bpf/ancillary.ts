/**
 * Linux's negative load offsets for classic BPF, defined once: ancillary
 * data (SKF_AD_OFF + field reads skb metadata), the network header
 * (SKF_NET_OFF) and the link-layer header (SKF_LL_OFF).
 */

/** Ancillary data base (linux/filter.h SKF_AD_OFF), as a signed offset. */
export const SKF_AD_OFF = -0x1000;
/** Loads relative to the network header. */
export const SKF_NET_OFF = -0x100000;
/** Loads relative to the link-layer (MAC) header. */
export const SKF_LL_OFF = -0x200000;

/** Ancillary fields (added to SKF_AD_OFF), linux/filter.h SKF_AD_*. */
export const AD = Object.freeze({
  PROTOCOL: 0, PKTTYPE: 4, IFINDEX: 8, NLATTR: 12, NLATTR_NEST: 16, MARK: 20, QUEUE: 24, HATYPE: 28,
  RXHASH: 32, CPU: 36, ALU_XOR_X: 40, VLAN_TAG: 44, VLAN_TAG_PRESENT: 48, PAY_OFFSET: 52, RANDOM: 56, VLAN_TPID: 60,
});
/** One past the last ancillary field (SKF_AD_MAX). */
export const AD_MAX = 64;

/** Names tcpdump -d prints for ancillary loads (`ld [vlan_tci]`). */
export const AD_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: 'proto', 4: 'type', 8: 'ifidx', 12: 'nla', 16: 'nlan', 20: 'mark', 24: 'queue', 28: 'hatype',
  32: 'rxhash', 36: 'cpu', 44: 'vlan_tci', 48: 'vlanp', 52: 'poff', 56: 'random', 60: 'vlan_tpid',
});

/** k (unsigned) of an ancillary load. */
export const ad = (field: number): number => (SKF_AD_OFF + field) >>> 0;
/** k (unsigned) of a load relative to the link-layer header (works on both receive and send paths). */
export const ll = (off: number): number => (SKF_LL_OFF + off) >>> 0;
/** k (unsigned) of a load relative to the network header. */
export const net = (off: number): number => (SKF_NET_OFF + off) >>> 0;

/** The ancillary field an absolute-load offset names, or null when it is not an ancillary load. */
export function ancillaryField(k: number): number | null {
  const s = k | 0;
  return s >= SKF_AD_OFF && s < 0 ? s - SKF_AD_OFF : null;
}
