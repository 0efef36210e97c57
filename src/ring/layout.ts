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
export const BLK_VERSION = 0;
export const BLK_OFFSET_TO_PRIV = 4;
export const BLK_STATUS = 8;
export const BLK_NUM_PKTS = 12;
export const BLK_OFFSET_TO_FIRST = 16;
export const BLK_LEN = 20;
export const BLK_SEQ_NUM = 24; // u64
export const BLK_TS_FIRST_SEC = 32;
export const BLK_TS_FIRST_NSEC = 36;
export const BLK_TS_LAST_SEC = 40;
export const BLK_TS_LAST_NSEC = 44;
export const BLK_HDR_LEN = 48;

// struct tpacket3_hdr
export const PKT_NEXT_OFFSET = 0;
export const PKT_SEC = 4;
export const PKT_NSEC = 8;
export const PKT_SNAPLEN = 12;
export const PKT_LEN = 16;
export const PKT_STATUS = 20;
export const PKT_MAC = 24; // u16
export const PKT_NET = 26; // u16
export const PKT_RXHASH = 28;
export const PKT_VLAN_TCI = 32;
export const PKT_VLAN_TPID = 36; // u16
export const PKT_HDR_LEN = 48; // TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
// struct sockaddr_ll right after the aligned header
export const SLL_PROTOCOL = PKT_HDR_LEN + 2; // u16, network order
export const SLL_IFINDEX = PKT_HDR_LEN + 4; // i32
export const SLL_HATYPE = PKT_HDR_LEN + 8; // u16
export const SLL_PKTTYPE = PKT_HDR_LEN + 10; // u8
/** TPACKET3_HDRLEN: header + sockaddr_ll (the minimum frame_size ingredient). */
export const TPACKET3_HDRLEN = PKT_HDR_LEN + 20;
export const TPACKET_ALIGNMENT = 16;

/** Round up to TPACKET_ALIGNMENT. */
export function tpacketAlign(n: number): number {
  return (n + TPACKET_ALIGNMENT - 1) & ~(TPACKET_ALIGNMENT - 1);
}
