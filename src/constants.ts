/** Kernel constants netring uses (Linux UAPI values). @internal */

export const AF_PACKET = 17;
export const SOCK_RAW = 3;
export const SOCK_DGRAM = 2;
export const ETH_P_ALL = 0x0003;

export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const SO_DETACH_FILTER = 27;
export const SO_LOCK_FILTER = 44;
export const SO_BUSY_POLL = 46;

export const SOL_PACKET = 263;
export const PACKET_ADD_MEMBERSHIP = 1;
export const PACKET_DROP_MEMBERSHIP = 2;
export const PACKET_RX_RING = 5;
export const PACKET_STATISTICS = 6;
export const PACKET_VERSION = 10;
export const PACKET_HDRLEN = 11;
export const PACKET_RESERVE = 12;
export const PACKET_TX_RING = 13;
export const PACKET_LOSS = 14;
export const PACKET_TIMESTAMP = 17;
export const PACKET_FANOUT = 18;
export const PACKET_QDISC_BYPASS = 20;
export const PACKET_ROLLOVER_STATS = 21;
export const PACKET_FANOUT_DATA = 22;
export const PACKET_IGNORE_OUTGOING = 23;

export const PACKET_MR_PROMISC = 1;

export const TPACKET_V2 = 1;
export const TPACKET_V3 = 2;

// tp_status bits (RX)
/** The RX status bits as a const enum, compiled to literals in the per-packet accessors; the TP_STATUS_* names are the same numbers. */
export const enum TpStatus {
  Kernel = 0, User = 1 << 0, Copy = 1 << 1, Losing = 1 << 2, CsumNotReady = 1 << 3, VlanValid = 1 << 4, BlkTmo = 1 << 5,
  VlanTpidValid = 1 << 6, CsumValid = 1 << 7, TsSoftware = 1 << 29, TsSysHardware = 1 << 30, TsRawHardware = 1 << 31,
}
export const TP_STATUS_KERNEL = TpStatus.Kernel;
export const TP_STATUS_USER = TpStatus.User;
export const TP_STATUS_COPY = TpStatus.Copy;
export const TP_STATUS_LOSING = TpStatus.Losing;
export const TP_STATUS_CSUMNOTREADY = TpStatus.CsumNotReady;
export const TP_STATUS_VLAN_VALID = TpStatus.VlanValid;
export const TP_STATUS_BLK_TMO = TpStatus.BlkTmo;
export const TP_STATUS_VLAN_TPID_VALID = TpStatus.VlanTpidValid;
export const TP_STATUS_CSUM_VALID = TpStatus.CsumValid;
export const TP_STATUS_TS_SOFTWARE = TpStatus.TsSoftware;
export const TP_STATUS_TS_SYS_HARDWARE = TpStatus.TsSysHardware;
export const TP_STATUS_TS_RAW_HARDWARE = TpStatus.TsRawHardware;
// tp_status bits (TX)
export const TP_STATUS_AVAILABLE = 0;
export const TP_STATUS_SEND_REQUEST = 1 << 0;
export const TP_STATUS_SENDING = 1 << 1;
export const TP_STATUS_WRONG_FORMAT = 1 << 2;

// SOF_TIMESTAMPING_*
export const SOF_TIMESTAMPING_TX_HARDWARE = 1 << 0;
export const SOF_TIMESTAMPING_TX_SOFTWARE = 1 << 1;
export const SOF_TIMESTAMPING_RX_HARDWARE = 1 << 2;
export const SOF_TIMESTAMPING_RX_SOFTWARE = 1 << 3;
export const SOF_TIMESTAMPING_SOFTWARE = 1 << 4;
export const SOF_TIMESTAMPING_SYS_HARDWARE = 1 << 5;
export const SOF_TIMESTAMPING_RAW_HARDWARE = 1 << 6;
export const HWTSTAMP_TX_OFF = 0;
export const HWTSTAMP_TX_ON = 1;
export const HWTSTAMP_FILTER_NONE = 0;
export const HWTSTAMP_FILTER_ALL = 1;

// PACKET_FANOUT modes and flags
export const PACKET_FANOUT_HASH = 0;
export const PACKET_FANOUT_LB = 1;
export const PACKET_FANOUT_CPU = 2;
export const PACKET_FANOUT_ROLLOVER = 3;
export const PACKET_FANOUT_RND = 4;
export const PACKET_FANOUT_QM = 5;
export const PACKET_FANOUT_CBPF = 6;
export const PACKET_FANOUT_EBPF = 7;
export const PACKET_FANOUT_FLAG_ROLLOVER = 0x1000;
export const PACKET_FANOUT_FLAG_UNIQUEID = 0x2000;
export const PACKET_FANOUT_FLAG_IGNORE_OUTGOING = 0x4000;
export const PACKET_FANOUT_FLAG_DEFRAG = 0x8000;

// sll_pkttype
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;
export const PACKET_OUTGOING = 4;

export const POLLIN = 0x001;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const MSG_DONTWAIT = 0x40;

// bpf(2)
export const BPF_MAP_LOOKUP_ELEM = 1;
export const BPF_MAP_UPDATE_ELEM = 2;
export const BPF_MAP_DELETE_ELEM = 3;
export const BPF_PROG_TYPE_SOCKET_FILTER = 1;
export const BPF_MAP_TYPE_ARRAY = 2;

/** Page size of every Linux platform netring runs on (x86-64, arm64 4K kernels). */
export const PAGE_SIZE = 4096;
