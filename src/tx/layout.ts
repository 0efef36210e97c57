/**
 * TPACKET_V2 frame layout of a TX ring (linux/if_packet.h), as byte offsets
 * from the start of a frame slot. The frame data starts right after the
 * aligned header: TPACKET2_HDRLEN - sizeof(struct sockaddr_ll) = 32.
 * @internal
 */

// struct tpacket2_hdr
export const TX_STATUS = 0; // u32
export const TX_LEN = 4; // u32
export const TX_SNAPLEN = 8; // u32
export const TX_MAC = 12; // u16
export const TX_NET = 14; // u16
export const TX_SEC = 16; // u32 (completion timestamp when the kernel was asked for one)
export const TX_NSEC = 20; // u32
export const TX_VLAN_TCI = 24; // u16
export const TX_VLAN_TPID = 26; // u16
/** TPACKET_ALIGN(sizeof(struct tpacket2_hdr)): where the kernel reads the frame. */
export const TX_DATA = 32;
/** TPACKET2_HDRLEN: the smallest frame slot the kernel accepts. */
export const TPACKET2_HDRLEN = 52;

/** Low status bits that mean "not yours": SEND_REQUEST | SENDING | WRONG_FORMAT. */
export const TX_BUSY_MASK = 0x7;

/** SOL_PACKET option: a virtio_net_hdr precedes every frame (linux/if_packet.h). */
export const PACKET_VNET_HDR = 15;
/** sizeof(struct virtio_net_hdr): flags, gso_type, hdr_len, gso_size, csum_start, csum_offset. */
export const VNET_HDR_LEN = 10;
