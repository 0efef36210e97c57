/**
 * TPACKET_V3 memory layout (linux/if_packet.h), as byte offsets.
 *
 * A ring is `blockCount` blocks of `blockSize` bytes. Each block starts with a
 * `tpacket_block_desc`; its packets are `tpacket3_hdr`s chained by
 * tp_next_offset, each followed by a `sockaddr_ll` and then the frame at
 * tp_mac.
 * @internal
 */

// struct tpacket_block_desc { u32 version; u32 offset_to_priv; struct tpacket_hdr_v1 hdr; }
/**
 * The block descriptor's offsets as a const enum, compiled to literals: the
 * ring walk uses these (a module constant costs a load and a hole check at
 * every use in optimized code). The BLK_* names below are the same numbers.
 */
export const enum Blk {
  Version = 0, OffsetToPriv = 4, Status = 8, NumPkts = 12, OffsetToFirst = 16, Len = 20,
  SeqNum = 24, TsFirstSec = 32, TsFirstNsec = 36, TsLastSec = 40, TsLastNsec = 44, HdrLen = 48,
}
export const BLK_VERSION = Blk.Version;
export const BLK_OFFSET_TO_PRIV = Blk.OffsetToPriv;
export const BLK_STATUS = Blk.Status;
export const BLK_NUM_PKTS = Blk.NumPkts;
export const BLK_OFFSET_TO_FIRST = Blk.OffsetToFirst;
export const BLK_LEN = Blk.Len;
export const BLK_SEQ_NUM = Blk.SeqNum; // u64
export const BLK_TS_FIRST_SEC = Blk.TsFirstSec;
export const BLK_TS_FIRST_NSEC = Blk.TsFirstNsec;
export const BLK_TS_LAST_SEC = Blk.TsLastSec;
export const BLK_TS_LAST_NSEC = Blk.TsLastNsec;
export const BLK_HDR_LEN = Blk.HdrLen;

// struct tpacket3_hdr
/** The packet header's offsets as a const enum (literals in the per-packet accessors); the PKT_* names are the same numbers. */
export const enum Tp3 {
  NextOffset = 0, Sec = 4, Nsec = 8, Snaplen = 12, Len = 16, Status = 20, Mac = 24 /* u16 */, Net = 26 /* u16 */,
  RxHash = 28, VlanTci = 32, VlanTpid = 36 /* u16 */, HdrLen = 48 /* TPACKET_ALIGN(sizeof(struct tpacket3_hdr)) */,
}
export const PKT_NEXT_OFFSET = Tp3.NextOffset;
export const PKT_SEC = Tp3.Sec;
export const PKT_NSEC = Tp3.Nsec;
export const PKT_SNAPLEN = Tp3.Snaplen;
export const PKT_LEN = Tp3.Len;
export const PKT_STATUS = Tp3.Status;
export const PKT_MAC = Tp3.Mac; // u16
export const PKT_NET = Tp3.Net; // u16
export const PKT_RXHASH = Tp3.RxHash;
export const PKT_VLAN_TCI = Tp3.VlanTci;
export const PKT_VLAN_TPID = Tp3.VlanTpid; // u16
export const PKT_HDR_LEN = Tp3.HdrLen;
// struct sockaddr_ll right after the aligned header
/** sockaddr_ll fields' offsets from the tpacket3_hdr (literals in the accessors); the SLL_* names are the same numbers. */
export const enum Sll {
  Protocol = Tp3.HdrLen + 2 /* u16, network order */, Ifindex = Tp3.HdrLen + 4 /* i32 */, Hatype = Tp3.HdrLen + 8 /* u16 */, PktType = Tp3.HdrLen + 10 /* u8 */,
}
export const SLL_PROTOCOL = Sll.Protocol;
export const SLL_IFINDEX = Sll.Ifindex;
export const SLL_HATYPE = Sll.Hatype;
export const SLL_PKTTYPE = Sll.PktType;
/** TPACKET3_HDRLEN: header + sockaddr_ll (the minimum frame_size ingredient). */
export const TPACKET3_HDRLEN = PKT_HDR_LEN + 20;
export const TPACKET_ALIGNMENT = 16;

/** Round up to TPACKET_ALIGNMENT. */
export function tpacketAlign(n: number): number {
  return (n + TPACKET_ALIGNMENT - 1) & ~(TPACKET_ALIGNMENT - 1);
}
